"""Incremental conform: a table ranked from its ranked state of an earlier day and the partitions
since gives what ranking its whole change log gives, and a state is reused only while every
partition it ranked is still the one it saw."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pyarrow as pa
import pytest

from govlake import contracts
from govlake.lake import Lake, Partition
from govlake.quality.split import clean_schema, quarantine_schema
from govlake.storage import LocalStore
from govlake.transform import state
from govlake.transform.conform import (
    clean_rows,
    latest_versions,
    live_versions,
    newest_versions,
    withheld_keys,
)
from govlake.transform.run import BuildRun, sources

DEPARTMENTS = contracts.get("approval.departments")
D1, D2, D3 = date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 23)
T1, T2, T3 = (datetime(2026, 11, d, 9) for d in (1, 2, 3))
CLEAN = {  # day -> (department_id, name, updated_at, dq_flags)
    D1: [(1, "v1", T1, []), (2, "first copy", T1, []), (5, "deleted later", T1, [])],
    D2: [(1, "v2", T2, ["b", "a"]), (2, "look-back copy", T1, []), (3, "clean copy", T1, [])],
    D3: [(1, "v3", T3, []), (6, "new", T3, []), (7, "clean again", T3, [])],
}
HELD = {  # day -> (department_id, updated_at): 3, the same version's held copy; 4, 7: held
    D1: [(4, T1)],
    D2: [(3, T1), (7, T2)],
}
LIVE = {D1: [1, 2, 4, 5], D2: [1, 2, 3, 4, 5, 7], D3: [1, 2, 3, 4, 6, 7]}  # 5: hard-deleted


def _clean(rows: list[tuple]) -> pa.Table:
    names = ("department_id", "name", "updated_at", "dq_flags")
    return pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows])


def _held(rows: list[tuple]) -> pa.Table:
    held = [{"department_id": k, "updated_at": t, "dq_reasons": ["rule"]} for k, t in rows]
    return pa.Table.from_pylist(held)


def _put(lake: Lake, zone: str, day: date, rows: pa.Table, schema: pa.Schema) -> None:
    """Commits ``rows`` (the missing columns NULL) as ``zone``'s partition of ``day``."""
    full = pa.table(
        {
            f.name: rows.column(f.name) if f.name in rows.column_names else pa.nulls(len(rows))
            for f in schema
        }
    ).cast(schema)
    with lake.write(Partition(zone, DEPARTMENTS.name, day), schema) as writer:
        writer.write(full)


def _land(lake: Lake, day: date, clean: list[tuple] | None = None) -> None:
    """A day's extraction as validation leaves it: clean and quarantined partitions and the
    source's key set (attached to the raw partition)."""
    _put(lake, "clean", day, _clean(clean or CLEAN[day]), clean_schema(DEPARTMENTS))
    if day in HELD:
        _put(lake, "quarantine", day, _held(HELD[day]), quarantine_schema(DEPARTMENTS))
    raw = DEPARTMENTS.raw_schema()
    with lake.write(Partition("raw", DEPARTMENTS.name, day), raw) as writer:
        writer.attach("keys", pa.table({"department_id": pa.array(LIVE[day], pa.int64())}))


@pytest.fixture
def lake(tmp_path) -> Lake:
    lake = Lake(LocalStore(tmp_path))
    _land(lake, D1)
    _land(lake, D2)
    return lake


def _build(lake: Lake, spark, day: date) -> tuple[list, list, str | None]:
    """A build's latest rows and withheld keys of the table, and the state day it ranked on."""
    run = BuildRun(lake, spark, day)
    rows = run.latest(DEPARTMENTS.name)
    held = withheld_keys([(DEPARTMENTS, run.ranking(DEPARTMENTS.name))])
    manifest = lake.read_manifest(state.partition(DEPARTMENTS, day))
    return _sorted(rows), _sorted(held), manifest["since"]


def _full(lake: Lake, spark, day: date) -> tuple[list, list]:
    """The same from the whole change log, no state."""
    contract, clean, held, live = sources(lake, DEPARTMENTS.name, day)
    ranked = live_versions(spark, newest_versions(spark, contract, clean, held), contract, live)
    rows = latest_versions(spark, contract, clean, held, live)
    assert _sorted(clean_rows(ranked, contract)) == _sorted(rows)
    return _sorted(rows), _sorted(withheld_keys([(contract, ranked)]))


def _sorted(frame) -> list:
    return [frame.schema.simpleString(), *sorted(map(tuple, frame.collect()), key=str)]


def test_the_whole_log_ranking(lake, spark):
    rows, held = _full(lake, spark, D2)
    assert [(r[0], r[2], r[6]) for r in rows[1:]] == [
        (1, "v2", "a,b"),  # the greatest watermark, its flags joined
        (2, "look-back copy", None),  # a tie on the watermark: the later partition
        (5, "deleted later", None),
    ]
    # 3: the held copy of its latest version wins; 4, 7: their latest versions are held
    assert [(r[1], r[2], r[4]) for r in held[1:]] == [
        ("3", D2, "rule"),
        ("4", D1, "rule"),
        ("7", D2, "rule"),
    ]


def test_a_state_and_the_partitions_since_give_the_whole_log_ranking(lake, spark):
    assert _build(lake, spark, D1)[2] is None  # no earlier state: the whole log
    assert _build(lake, spark, D2)[2] == D1.isoformat()
    _land(lake, D3)
    *built, since = _build(lake, spark, D3)
    assert since == D2.isoformat()
    assert built == list(_full(lake, spark, D3))
    assert [r[2] for r in built[0][1:]] == ["v3", "look-back copy", "new", "clean again"]
    assert [r[1] for r in built[1][1:]] == ["3", "4"]  # 5 hard-deleted, 7 clean again


def test_a_rewritten_partition_invalidates_the_state(lake, spark):
    _build(lake, spark, D1)
    _land(lake, D1, clean=[(1, "v1 again", T1, []), (2, "first copy", T1, [])])  # a re-run
    *built, since = _build(lake, spark, D2)
    assert since is None
    assert built == list(_full(lake, spark, D2))


def test_a_partition_appearing_at_an_earlier_day_invalidates_the_state(lake, spark):
    _build(lake, spark, D2)
    _put(
        lake, "quarantine", D1 - timedelta(days=1), _held([(2, T3)]), quarantine_schema(DEPARTMENTS)
    )
    _land(lake, D3)
    *built, since = _build(lake, spark, D3)
    assert since is None
    assert built == list(_full(lake, spark, D3))
    assert "2" in {r[1] for r in built[1][1:]}  # its newest version: the late partition's


def test_a_rerun_of_a_day_does_not_rank_on_its_own_state(lake, spark):
    _build(lake, spark, D1)
    assert _build(lake, spark, D2)[2] == D1.isoformat()
    assert _build(lake, spark, D2)[2] == D1.isoformat()  # not D2's state
    assert _build(lake, spark, D1)[2] is None


def test_the_first_clean_day_of_each_key_carries_through_the_states(lake, spark):
    """The day a key's first clean version landed: the first build that held it (publication
    compliance counts to it), the same from a chain of states as from the whole log."""
    _build(lake, spark, D1)
    _build(lake, spark, D2)
    _land(lake, D3)
    run = BuildRun(lake, spark, D3)
    first = {r[0]: r[1] for r in run.first_published(DEPARTMENTS.name).collect()}
    assert lake.read_manifest(state.partition(DEPARTMENTS, D3))["since"] == D2.isoformat()
    # 4 was never clean; 5 was hard-deleted; 7 was held on D2 and clean on D3
    assert first == {1: D1, 2: D1, 3: D2, 6: D3, 7: D3}
