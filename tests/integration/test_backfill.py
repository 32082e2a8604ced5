"""Backfilling extract_credit on the Airflow service: `airflow backfill create` over three days,
then a second backfill of the same days through the REST API with
``reprocess_behavior=completed``. The source is unchanged in between, so the second one rewrites
every partition with identical content: same rows, same data bytes; only the manifest's own run
names and times differ.

Uses the session's Airflow stack (``airflow_stack`` in conftest), shared with
test_airflow_service.py.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date, datetime, timedelta

import httpx
import pendulum
import pytest

from govlake import contracts
from govlake.lake import Lake, Partition
from govlake.orchestration import LOCAL_TZ
from tests.conftest import DAY
from tests.integration import airflow_client

pytestmark = pytest.mark.services

DAG_ID = "extract_credit"
DAYS = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
DATASETS = [c.name for c in contracts.CONTRACTS.values() if c.system == "credit"]
ZONES = ("raw", "clean", "quarantine")
BACKFILL_TIMEOUT = 900.0  # 3 runs of 2 tasks per table, one run at a time, on 2 cores


def _midnight(day: date) -> str:
    """Local midnight starting ``day``: the logical date of the run whose interval is ``day``.

    Backfill dates without an offset are read as UTC (Airflow's default timezone), and UTC midnight
    is 08:00 here: ``--from-date DAY-2`` would start at the next local midnight and skip DAY-2."""
    return f"{day.isoformat()}T00:00:00+08:00"


def _runs(api: httpx.Client) -> list[dict]:
    """The DAG's backfill runs with a logical date in DAYS, oldest first."""
    response = api.get(
        f"/dags/{DAG_ID}/dagRuns",
        params={
            "run_type": "backfill",
            "logical_date_gte": _midnight(DAYS[0]),
            "logical_date_lte": _midnight(DAYS[-1]),
            "order_by": "logical_date",
        },
    )
    assert response.status_code == 200, response.text
    return list(response.json()["dag_runs"])


def _local(timestamp: str) -> datetime:
    return pendulum.parse(timestamp).in_timezone(LOCAL_TZ)


def _finish(api: httpx.Client, backfill: dict, airflow_home) -> list[dict]:
    """Wait for ``backfill``; its runs, which must all have succeeded."""
    started = time.monotonic()
    done = airflow_client.wait_for_backfill(api, backfill["id"], BACKFILL_TIMEOUT)
    print(
        f"backfill {done['id']} ({done['reprocess_behavior']}): {time.monotonic() - started:.0f} s"
    )
    runs = _runs(api)
    failed = {
        run["dag_run_id"]: airflow_client.failed_tasks(api, DAG_ID, run["dag_run_id"])
        for run in runs
        if run["state"] != "success"
    }
    assert not failed, f"backfill runs did not succeed: {failed}; logs in {airflow_home}/logs"
    return runs


def _intervals(runs: list[dict]) -> dict[date, str]:
    """Local day of each run's data interval -> run id; the interval is that whole day."""
    found = {}
    for run in runs:
        start, end = _local(run["data_interval_start"]), _local(run["data_interval_end"])
        assert (start.time(), end - start) == (datetime.min.time(), timedelta(days=1)), run
        assert _local(run["logical_date"]) == start, run  # a backfill run's logical date
        found[start.date()] = run["dag_run_id"]
    return found


def _partitions(lake: Lake) -> dict[tuple[str, str, date], dict]:
    """Per (zone, dataset, day): the manifest, its content without the write's own run name and
    times, and a digest of the bytes of its data files and attachments, in manifest order."""
    found = {}
    for day in DAYS:
        for dataset in DATASETS:
            for zone in ZONES:
                manifest = lake.read_manifest(Partition(zone, dataset, day))
                assert manifest is not None, f"{zone}/{dataset} of {day} was not written"
                attached = manifest.get("attachments", {}).values()
                digest = hashlib.sha256()
                for entry in [*manifest["files"], *attached]:
                    digest.update(lake.store.get_bytes(entry["key"]))
                content = json.loads(json.dumps(manifest).replace(manifest["run"], "<run>"))
                for volatile in ("run", "written_at", "timings"):
                    content.pop(volatile)
                found[zone, dataset, day] = {
                    "manifest": manifest,
                    "content": content,
                    "data": digest.hexdigest(),
                }
    return found


@pytest.fixture(scope="module")
def backfilled(airflow_stack, airflow_api, airflow_settings) -> dict:
    """Both backfills done: the runs and partitions after each."""
    api, airflow = airflow_api, airflow_stack.airflow
    lake = Lake.from_settings(airflow_settings)
    airflow_client.unpause(api, DAG_ID)  # queued runs of a paused DAG never start

    # The first with the command line, as an operator would.
    airflow_client.cli(
        airflow, "backfill", "create", "--dag-id", DAG_ID,
        "--from-date", _midnight(DAYS[0]), "--to-date", _midnight(DAYS[-1]),
        "--max-active-runs", "1",
    )  # fmt: skip
    listed = api.get("/backfills", params={"dag_id": DAG_ID}).json()["backfills"]
    assert len(listed) == 1, listed
    first_runs = _finish(api, listed[0], airflow.home)
    first = _partitions(lake)

    # The second through the REST API, re-running the completed runs.
    response = api.post(
        "/backfills",
        json={
            "dag_id": DAG_ID,
            "from_date": _midnight(DAYS[0]),
            "to_date": _midnight(DAYS[-1]),
            "reprocess_behavior": "completed",
            "max_active_runs": 1,
        },
    )
    assert response.status_code == 200, response.text
    second_backfill = response.json()
    second_runs = _finish(api, second_backfill, airflow.home)
    return {
        "first_runs": first_runs,
        "first": first,
        "second_backfill": second_backfill,
        "second_runs": second_runs,
        "second": _partitions(lake),
    }


def test_backfill_runs_one_run_per_local_day(backfilled):
    first = _intervals(backfilled["first_runs"])
    print("data intervals:", {d.isoformat(): r for d, r in first.items()})
    assert list(first) == DAYS
    # Each partition was written by the run whose interval is its day.
    for (_, dataset, day), found in backfilled["first"].items():
        assert found["manifest"]["airflow"] == {"dag_id": DAG_ID, "run_id": first[day]}, dataset
    # The backfill ran the default: each day's changes, not full snapshots.
    assert {(r["conf"] or {}).get("full", False) for r in backfilled["first_runs"]} == {False}
    raw = [backfilled["first"]["raw", d, day]["manifest"] for d in DATASETS for day in DAYS]
    assert {m["mode"] for m in raw} == {"incremental"}
    for day in DAYS:  # not vacuous: every day has changes
        assert sum(backfilled["first"]["raw", d, day]["manifest"]["rows"] for d in DATASETS), day


def test_reprocessing_completed_runs_reruns_every_day(backfilled):
    # The completed runs are cleared and run again, over the same intervals.
    assert _intervals(backfilled["second_runs"]) == _intervals(backfilled["first_runs"])
    created = _local(backfilled["second_backfill"]["created_at"])
    assert all(_local(r["end_date"]) > created for r in backfilled["second_runs"])


def test_second_backfill_rewrites_every_partition_identically(backfilled):
    first, second = backfilled["first"], backfilled["second"]
    assert first.keys() == second.keys()
    for part, before in first.items():
        after = second[part]
        assert after["manifest"]["run"] != before["manifest"]["run"], part  # rewritten
        assert after["manifest"]["rows"] == before["manifest"]["rows"], part
        assert after["data"] == before["data"], part
        assert after["content"] == before["content"], part
