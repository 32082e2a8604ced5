"""A session-wide DagBag check, after mozilla/telemetry-airflow and Airflow's own example tests."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from govlake.config import PROJECT_DIR
from govlake.contracts import CONTRACTS


@pytest.fixture(scope="session")
def parsed(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_DIR / "dags"),
    }
    probe = Path(__file__).with_name("dagbag_probe.py")
    done = subprocess.run(
        [sys.executable, str(probe), str(PROJECT_DIR / "dags")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_import_errors(parsed):
    assert parsed["import_errors"] == {}


def test_one_extract_dag_per_system_with_a_task_pair_per_table(parsed):
    tables = CONTRACTS.values()
    others = {"build_warehouse", "publish"}
    assert set(parsed["dags"]) == {f"extract_{c.system}" for c in tables} | others
    for system in {c.system for c in tables}:
        mine = [c for c in tables if c.system == system]
        files = any(c.channel == "exchange" for c in mine)
        around = ["archive_files", "wait_for_files"] if files else []
        assert parsed["dags"][f"extract_{system}"]["tasks"] == sorted(
            [f"{c.table}.{step}" for c in mine for step in ("extract", "validate")]
            + around
            + ["data_docs"]
        )


def test_every_dag_has_owner_tags_retries_timeouts_alerts_and_a_daily_interval(parsed):
    for dag_id, dag in parsed["dags"].items():
        assert dag["owner"] == "data-engineering", dag_id
        assert "govlake" in dag["tags"], dag_id
        assert all(r >= 1 for r in dag["retries"]), dag_id
        assert all(dag["timeouts"]), dag_id
        assert all(dag["alerts"]), dag_id  # failures reach the alert webhook
        assert dag["timetable"] == "CronDataIntervalTimetable", dag_id


def test_parsing_is_cheap(parsed):
    assert parsed["queries"] == []
    assert parsed["connection_lookups"] == []
    assert parsed["heavy_modules"] == []


def test_the_build_checks_the_day_before_transforming(parsed):
    tasks = parsed["dags"]["build_warehouse"]["tasks"]
    assert {"migrate", "check_day", "transform", "load"} <= set(tasks)


def test_the_publish_dag_waits_for_the_build(parsed):
    assert parsed["dags"]["publish"]["tasks"] == ["feed_credit", "publish", "wait_for_build"]
