-- Conform: the latest clean version of every key of one table's change log (`versions`, shaped
-- by govlake.reference.sources.change_log). The latest version has the greatest watermark, then
-- the later partition (a version seen twice through the look-back), then the held copy (a
-- quarantined version is never outranked by the same version's clean copy); a key whose latest
-- version is held is left out. Flags are joined to one sorted, comma-separated string.
SELECT * EXCLUDE (_key, _key_text, _watermark, _dt, _held, _reasons, _rank)
    REPLACE (CASE WHEN len(dq_flags) > 0 THEN array_to_string(list_sort(dq_flags), ',') END AS dq_flags)
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY _key ORDER BY _watermark DESC NULLS LAST, _dt DESC NULLS LAST, _held DESC
    ) AS _rank
    FROM versions
)
WHERE _rank = 1 AND NOT _held
