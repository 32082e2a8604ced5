-- Business-key duplicates of one table's change log (`versions`, shaped by
-- govlake.reference.sources.change_log, with `_business`, the business key as one value, and
-- `_complete`, whether it names a code): the latest version of every key whose business key a
-- smaller primary key's clean latest version holds (govlake.transform.conform.duplicates_held).
SELECT * EXCLUDE (_rank, _business, _complete) REPLACE (true AS _held)
FROM (
    SELECT *, row_number() OVER (
        PARTITION BY _key ORDER BY _watermark DESC NULLS LAST, _dt DESC NULLS LAST, _held DESC
    ) AS _rank
    FROM versions
)
WHERE _rank = 1 AND NOT _held AND _complete
QUALIFY _key > min(_key) OVER (PARTITION BY _business)
