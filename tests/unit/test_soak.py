"""The soak's plan and report (the runs themselves are `make soak`'s, not the suite's)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import duckdb
import pytest
from rich.console import Console

from govlake import soak

FIRST = date(2026, 11, 1)


def test_thirty_days_rerun_every_seventh_day_and_backfill_a_week_twice():
    runs = soak.schedule(FIRST, 30)
    daily = [r.day for r in runs if r.kind == soak.DAILY]
    assert daily == [FIRST + timedelta(days=i) for i in range(30)]
    assert runs[0] == soak.Run(FIRST, soak.DAILY, full=True)  # the seeded history's snapshot
    assert not any(r.full for r in runs[1:])
    reruns = Counter(r.day.day for r in runs if r.kind == soak.RERUN)
    assert reruns == {3: 2, 10: 2, 17: 2, 24: 2}  # three runs in all
    backfilled = Counter(r.day.day for r in runs if r.kind == soak.BACKFILL)
    assert backfilled == {day: 2 for day in range(2, 9)}


def test_each_backfill_is_followed_by_later_daily_runs():
    for days in (3, 5, 30):
        kinds = [r.kind for r in soak.schedule(FIRST, days)]
        last_backfill = max(i for i, kind in enumerate(kinds) if kind == soak.BACKFILL)
        assert soak.DAILY in kinds[last_backfill:]
    with pytest.raises(ValueError, match="at least 3 days"):
        soak.schedule(FIRST, 2)


def test_the_comparison_names_every_difference_and_what_it_left_out():
    daily = {"core.fct_case": "a", "dq.withheld_keys": "b", "core.entity": "c"}
    clean = {"core.fct_case": "a", "dq.withheld_keys": "B", "portal.v1": "d"}
    verdicts = {v.relation: (v.outcome, v.detail) for v in soak.compare(daily, clean)}
    assert verdicts["core.fct_case"] == (soak.SAME, "")
    assert verdicts["dq.withheld_keys"] == (soak.DIFFERENT, "")
    assert verdicts["core.entity"] == (soak.DIFFERENT, "only after the daily runs")
    assert verdicts["portal.v1"] == (soak.DIFFERENT, "only in the clean build")
    assert verdicts["dq.table_runs"][0] == soak.LEFT_OUT
    result = soak.SoakResult(5, soak.schedule(FIRST, 5), soak.compare(daily, clean))
    assert not result.converged
    assert soak.SoakResult(5, [], soak.compare(daily, daily)).converged


def test_the_report_has_a_row_per_relation():
    result = soak.SoakResult(5, soak.schedule(FIRST, 5), soak.compare({"a.x": "1"}, {"a.x": "2"}))
    console = Console(record=True, width=200)
    console.print(soak.table(result))
    text = console.export_text()
    assert "soak over 5 days (5 daily, 2 re-run, 4 backfill runs)" in text
    assert "a.x" in text and "different" in text and "dq.rule_counts" in text


def test_checksums_cover_every_schema_but_the_run_metadata(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for schema in ("core", "dq", "elsewhere"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute("CREATE TABLE core.fct_case (case_id INTEGER)")
        con.execute("CREATE VIEW core.v AS SELECT * FROM core.fct_case")
        con.execute("CREATE TABLE dq.table_runs (dt DATE)")
        con.execute("CREATE TABLE elsewhere.t (x INTEGER)")
    assert sorted(soak.checksums(f"duckdb:///{path}")) == ["core.fct_case", "core.v"]
