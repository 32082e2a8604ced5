-- The tables every domain reads: the staged register, the withheld keys, the calendar and the
-- regions (govlake.transform.build).

-- The register's latest versions but for personal data: the legal representative's ID number
-- lives only in restricted.person_identity.
INSERT INTO core.stg_enterprise_register BY NAME
SELECT * EXCLUDE (legal_rep_id_number) FROM credit_enterprise_register;

-- The keys whose latest version (conform's ranking, over every table's change log) is
-- quarantined: held out until a clean version arrives. Keys with a NULL part are not named.
INSERT INTO dq.withheld_keys BY NAME
SELECT dataset, key, _dt::DATE AS dt, watermark, array_to_string(list_sort(_reasons), ',') AS reasons
FROM (
    SELECT dataset, _key_text AS key, _watermark::TIMESTAMP AS watermark, _dt, _held, _reasons,
        row_number() OVER (
            PARTITION BY dataset, _key_text
            ORDER BY watermark DESC NULLS LAST, _dt DESC NULLS LAST, _held DESC
        ) AS _rank
    FROM change_log
    WHERE _key_text IS NOT NULL
)
WHERE _rank = 1 AND _held;

INSERT INTO core.dim_date BY NAME SELECT * FROM calendar;

INSERT INTO core.dim_region BY NAME SELECT * FROM regions;
