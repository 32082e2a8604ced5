"""The walking skeleton through real Airflow runs (`airflow dags test`), embedded profile.

Day 1 loads a full snapshot; day 2 loads the changes of an edited source incrementally. The
warehouse must hold exactly the source's rows minus the quarantined ones, follow every change,
withhold a key whose latest version is bad, and converge to what a clean full build of the same
source state gives.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import duckdb
import pytest

from govlake import load, pipeline
from govlake.config import DagSettings, Settings
from govlake.contracts import get
from govlake.simulator.credit import enterprise_register
from govlake.simulator.database import replace_table
from tests.conftest import DAY

pytestmark = pytest.mark.e2e
REGISTER = get("credit.enterprise_register")
TABLE = "core.stg_enterprise_register"
DAY2 = DAY + timedelta(days=1)


def _settings(var_dir) -> Settings:
    (var_dir / "sources").mkdir(parents=True, exist_ok=True)
    return Settings(
        profile="embedded", var_dir=var_dir, dag=DagSettings(task_retries=0), _env_file=None
    )


def _warehouse(settings: Settings) -> dict[int, dict]:
    path = settings.warehouse_url.get_secret_value().removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        cursor = con.execute(f"select * from {TABLE}")  # noqa: S608 (a constant)
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _checksum(settings: Settings) -> str:
    return load.table_checksum(settings.warehouse_url.get_secret_value(), TABLE)


def _day2_edits(rows: list[dict], truth) -> tuple[list[dict], dict]:
    """Rename two clean rows, break one, repair one quarantined row; all changed on day 2."""
    at = datetime.combine(DAY2, time(9, 30))
    clean_ids = [
        r["enterprise_id"] for r in rows if r["enterprise_id"] not in truth.quarantine | truth.flags
    ]
    missing_name = next(i for i, rules in truth.quarantine.items() if rules == {"name_not_null"})
    edits = {"renamed": clean_ids[:2], "broken": clean_ids[2], "repaired": missing_name}
    edited = []
    for row in rows:
        row = dict(row)
        if row["enterprise_id"] in edits["renamed"]:
            row.update(name=row["name"] + "(更名)", updated_at=at)
        elif row["enterprise_id"] == edits["broken"]:
            row.update(
                uscc=row["uscc"][:17] + ("0" if row["uscc"][17] != "0" else "1"), updated_at=at
            )
        elif row["enterprise_id"] == edits["repaired"]:
            row.update(name="青岛补录有限公司", updated_at=at)
        edited.append(row)
    return edited, edits


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    rows, truth = enterprise_register(300, DAY, seed=11)
    settings = _settings(tmp_path_factory.mktemp("incremental"))
    replace_table(settings.source_url("credit"), REGISTER, rows)
    day1 = pipeline.run_day(settings, DAY, full=True, progress=lambda _: None)
    after_day1 = _warehouse(settings)

    edited, edits = _day2_edits(rows, truth)
    replace_table(settings.source_url("credit"), REGISTER, edited)
    day2 = pipeline.run_day(settings, DAY2, full=False, progress=lambda _: None)
    after_day2, checksum_day2 = _warehouse(settings), _checksum(settings)
    pipeline.run_day(settings, DAY2, full=False, progress=lambda _: None)  # a re-run
    rerun_checksum = _checksum(settings)

    rebuilt = _settings(tmp_path_factory.mktemp("full-rebuild"))
    replace_table(rebuilt.source_url("credit"), REGISTER, edited)
    pipeline.run_day(rebuilt, DAY2, full=True, progress=lambda _: None)
    return {
        "rows": rows,
        "truth": truth,
        "edits": edits,
        "day1": day1,
        "day2": day2,
        "after_day1": after_day1,
        "after_day2": after_day2,
        "checksum_day2": checksum_day2,
        "rerun_checksum": rerun_checksum,
        "full_rebuild_checksum": _checksum(rebuilt),
    }


def test_day1_warehouse_is_source_minus_quarantined(runs):
    source_ids = {r["enterprise_id"] for r in runs["rows"]}
    assert set(runs["after_day1"]) == source_ids - set(runs["truth"].quarantine)
    table = runs["day1"]["tables"][0]
    assert table["raw_rows"] == len(runs["rows"])
    assert table["clean_rows"] + table["quarantined_rows"] == table["raw_rows"]
    assert runs["day1"]["warehouse"][TABLE] == len(runs["after_day1"])


def test_flags_reach_the_warehouse_and_values_are_normalised(runs):
    flagged = {i: r["dq_flags"] for i, r in runs["after_day1"].items() if r["dq_flags"]}
    assert flagged == {i: ",".join(sorted(f)) for i, f in runs["truth"].flags.items()}
    for enterprise_id in runs["truth"].normalised:
        row = runs["after_day1"][enterprise_id]
        assert row["uscc"] == row["uscc"].strip().upper() and len(row["uscc"]) == 18


def test_no_person_id_number_in_the_warehouse_table(runs):
    assert "legal_rep_id_number" not in next(iter(runs["after_day1"].values()))


def test_day2_follows_every_change(runs):
    edits, after = runs["edits"], runs["after_day2"]
    for enterprise_id in edits["renamed"]:
        assert after[enterprise_id]["name"].endswith("(更名)")
    assert edits["broken"] not in after  # its latest version is quarantined: withheld
    assert after[edits["repaired"]]["name"] == "青岛补录有限公司"
    assert runs["day2"]["tables"][0]["raw_rows"] < len(runs["rows"])  # only the changes


def test_rerun_and_full_rebuild_converge(runs):
    assert runs["rerun_checksum"] == runs["checksum_day2"]
    assert runs["full_rebuild_checksum"] == runs["checksum_day2"]
