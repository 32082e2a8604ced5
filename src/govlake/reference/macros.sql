-- Helpers of the domain scripts, for this connection only.

-- A fact's party column: the entity the match table resolved `of_role` of `of_dataset`'s records
-- to, keyed by the record's integer primary key (`record_key`).
CREATE OR REPLACE TEMP MACRO entity_of(of_dataset, of_role) AS TABLE
    SELECT source_key::BIGINT AS record_key, entity_id
    FROM core.entity_match
    WHERE dataset = of_dataset AND role = of_role;

-- A red flag as a fact column: whether `rule` is among the row's comma-joined dq_flags.
CREATE OR REPLACE TEMP MACRO flagged(flags, rule) AS
    coalesce(list_contains(string_split(flags, ','), rule), false);

-- A name as other systems retype it, made comparable: brackets half-width, no white space (the
-- characters of Java's \s and the ideographic space U+3000, as the Spark build removes them).
CREATE OR REPLACE TEMP MACRO match_key(name) AS
    regexp_replace(translate(name, '（）', '()'), '[ \t\n\x0B\f\r\x{3000}]+', '', 'g');

-- A credit event's key: the record's table (without its system) and id, `table:id`.
CREATE OR REPLACE TEMP MACRO event_key(record_table, id) AS record_table || ':' || id::VARCHAR;

-- Whether something ending on `end_day` (its first day no longer in force) still holds on the
-- build day.
CREATE OR REPLACE TEMP MACRO not_ended(end_day) AS
    end_day IS NULL OR end_day > getvariable('build_day');

-- A natural person's warehouse key (govlake.transform.entities.person_key): "P" and the first 32
-- hex digits of the HMAC-SHA256 of the ID number, with the pads of the person-key secret; NULL
-- for no number.
CREATE OR REPLACE TEMP MACRO person_key(id_number) AS
    CASE WHEN id_number <> '' THEN 'P' || left(sha256(getvariable('outer_pad')
        || unhex(sha256(getvariable('inner_pad') || encode(id_number)))), 32) END;
