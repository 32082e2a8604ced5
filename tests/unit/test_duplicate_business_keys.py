"""A business key entered for two primary keys: the later one is withheld however the days were
batched. Daily runs validate a duplicate arriving on a later day alone; a clean build validates
every day's rows together; both must withhold the same keys and publish the same rows."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pandas as pd
import pyarrow as pa

from govlake import contracts
from govlake.lake import Lake, Partition
from govlake.quality.split import validate_and_split
from govlake.reference.sources import change_log, conformed, duplicates_held
from govlake.sources.sql import to_raw_schema
from govlake.storage import LocalStore
from govlake.transform.conform import withheld_keys
from govlake.transform.run import BuildRun, sources

DEPARTMENTS = contracts.get("approval.departments")
D1, D2 = date(2026, 11, 21), date(2026, 11, 22)
T1, T2 = datetime(2026, 11, 21, 9), datetime(2026, 11, 22, 9)
ARRIVALS = {  # day -> (department_id, department_code, updated_at)
    D1: [(371, "A1", T1), (4, "C1", T1)],
    # 372 repeats 371's code: withheld. 4 gives up C1, so 5 may hold it: published.
    D2: [(372, "A1", T2), (4, "C2", T2), (5, "C1", T2)],
}
LIVE = [4, 5, 371, 372]


def _raw(rows: list[tuple]) -> pa.Table:
    frame = pd.DataFrame(rows, columns=["department_id", "department_code", "updated_at"])
    frame = frame.assign(name="实施部门", uscc="91110000000000000A", region_code="110000")
    batch = pa.RecordBatch.from_pandas(frame[DEPARTMENTS.column_names], preserve_index=False)
    return pa.Table.from_batches([to_raw_schema(batch, DEPARTMENTS.raw_schema())])


def _validate(lake: Lake, day: date, rows: list[tuple], rules) -> None:
    """The day's batch validated (the structural rules only) and landed as validation leaves it."""
    split = validate_and_split(_raw(rows), DEPARTMENTS, rules)
    for zone, table in (("clean", split.clean), ("quarantine", split.quarantine)):
        with lake.write(Partition(zone, DEPARTMENTS.name, day), table.schema) as writer:
            writer.write(table)
    with lake.write(Partition("raw", DEPARTMENTS.name, day), DEPARTMENTS.raw_schema()) as writer:
        writer.attach("keys", pa.table({"department_id": pa.array(LIVE, pa.int64())}))


def _build(lake: Lake, spark, day: date) -> tuple[list, list]:
    """The build's latest rows and withheld keys of the table."""
    run = BuildRun(lake, spark, day)
    held = withheld_keys([(DEPARTMENTS, run.ranking(DEPARTMENTS.name))])
    return _sorted(run.latest(DEPARTMENTS.name).collect()), _sorted(held.collect())


def _reference_keys(lake: Lake, day: date) -> list[int]:
    """The keys the DuckDB reference publishes from the same lake."""
    con = duckdb.connect()
    log = duplicates_held(change_log(con, *sources(lake, DEPARTMENTS.name, day)), DEPARTMENTS)
    return sorted(k for (k,) in conformed(log).select("department_id").fetchall())


def _sorted(rows) -> list:
    return sorted(map(tuple, rows), key=lambda row: row[:2])  # the key


def test_a_duplicate_arriving_a_day_later_is_withheld_as_in_a_clean_build(tmp_path, spark):
    rules = tmp_path / "no-domain-rules"  # the structural rules, from the contract, only
    daily = Lake(LocalStore(tmp_path / "daily"))
    for day, rows in ARRIVALS.items():
        _validate(daily, day, rows, rules)
        daily_rows, daily_held = _build(daily, spark, day)  # day 2 ranks on day 1's state
    clean = Lake(LocalStore(tmp_path / "clean"))
    _validate(clean, D2, [row for rows in ARRIVALS.values() for row in rows], rules)
    clean_rows, clean_held = _build(clean, spark, D2)

    assert [(r[0], r[1]) for r in daily_rows] == [(4, "C2"), (5, "C1"), (371, "A1")]
    assert [(r[1], r[2], r[4]) for r in daily_held] == [("372", D2, "department_code_duplicate")]
    assert (daily_rows, daily_held) == (clean_rows, clean_held)
    assert _reference_keys(daily, D2) == _reference_keys(clean, D2) == [4, 5, 371]
