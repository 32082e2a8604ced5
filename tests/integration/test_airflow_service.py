"""Airflow as a local service: a client logs in, triggers extract_credit through the REST API as a
data engineer's tool would, and waits for the run to succeed; nothing of Airflow outlives `down`.

The tests use the session's Airflow stack (``airflow_stack`` in conftest: ``test-<pid>-airflow``,
purged at the end) so that its seeded sources and Airflow's metadata never meet the session
stack's other tests.
"""

from __future__ import annotations

import json
import os
import stat
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from govlake import airflow_service, services
from govlake.lake import Lake, Partition
from tests.conftest import DAY
from tests.integration import airflow_client

pytestmark = pytest.mark.services

VAR_DIR = Path(__file__).resolve().parents[2] / "var"
DAG_ID = "extract_credit"


@pytest.fixture
def stack(airflow_stack: services.ServiceStack) -> services.ServiceStack:
    """The session's stack with Airflow (conftest), shared with the backfill tests."""
    return airflow_stack


def test_api_refuses_anonymous_and_wrong_password(stack):
    url = stack.airflow.url
    assert httpx.get(f"{url}/api/v2/dags", timeout=30).status_code == 401
    assert airflow_client.token(url, "admin", "not-the-password").status_code == 401
    # Health is public, as load balancers need it.
    assert httpx.get(f"{url}/api/v2/monitor/health", timeout=30).status_code == 200


def test_triggered_run_of_extract_credit_succeeds(stack, airflow_api, airflow_settings):
    api = airflow_api
    airflow_client.unpause(api, DAG_ID)

    # Day D's run has the logical date D+1 00:00 local: its data interval is day D.
    run_id = f"it_{uuid.uuid4().hex[:12]}"
    logical = f"{(DAY + timedelta(days=1)).isoformat()}T00:00:00+08:00"
    started = time.monotonic()
    response = api.post(
        f"/dags/{DAG_ID}/dagRuns",
        json={"dag_run_id": run_id, "logical_date": logical, "conf": {"full": True}},
    )
    assert response.status_code == 200, response.text

    run = airflow_client.wait_for_run(api, DAG_ID, run_id)
    print(f"{DAG_ID} run took {time.monotonic() - started:.1f} s")
    if run["state"] != "success":
        failed = airflow_client.failed_tasks(api, DAG_ID, run_id)
        pytest.fail(f"run {run_id} {run['state']}: {failed}; logs in {stack.airflow.home}")
    assert run["conf"] == {"full": True}
    assert run["data_interval_start"].startswith(f"{(DAY - timedelta(days=1)).isoformat()}T16:00")

    tasks = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    assert tasks and {t["state"] for t in tasks} == {"success"}
    manifest = Lake.from_settings(airflow_settings).read_manifest(
        Partition("raw", "credit.enterprise_register", DAY)
    )
    assert manifest is not None and manifest["rows"] > 0


def test_up_again_returns_the_running_airflow(stack):
    started = time.monotonic()
    again = services.up(stack.name, VAR_DIR, airflow=True)
    assert time.monotonic() - started < 15
    assert (again.airflow.port, again.airflow.pids) == (stack.airflow.port, stack.airflow.pids)
    # Without the flag, a running Airflow is left alone.
    services.up(stack.name, VAR_DIR)
    assert services.status(stack.name, VAR_DIR)["airflow"]["pids"] == stack.airflow.pids


def test_status_reports_health_and_no_secret(stack):
    report = services.status(stack.name, VAR_DIR)["airflow"]
    assert report["running"] is True
    assert report["url"] == stack.airflow.url
    assert set(report["health"].values()) == {"healthy"}
    shown = json.dumps(report)
    secrets = json.loads((stack.state_dir / "secrets.json").read_text())
    for key in airflow_service.SECRET_KEYS:
        assert secrets[key] not in shown
        assert secrets[key] not in repr(stack)
    for private in (stack.airflow.password_file, stack.airflow.env_file):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    # The password file existed before the API server started: it never printed a password.
    logs = "".join(p.read_text(errors="replace") for p in stack.airflow.home.glob("*.log"))
    assert secrets["airflow_admin_password"] not in logs
    assert stack.pg_password not in logs


def _listening_sockets() -> dict[int, str]:
    """Inode -> local address (hex, as in /proc/net) of every listening TCP socket."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                found[int(fields[9])] = fields[1].rsplit(":", 1)[0]
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    with_fds = Path(f"/proc/{pid}/fd")
    try:
        for fd in with_fds.iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def test_airflow_listens_on_loopback_only(stack):
    loopback = {"0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F"}
    listening = _listening_sockets()
    members = [m for pid in stack.airflow.pids.values() for m in airflow_service._session(pid)]
    ours = {inode for pid in members for inode in _socket_inodes(pid)} & listening.keys()
    assert ours, "the API server listens"
    assert {listening[inode] for inode in ours} <= loopback


@pytest.mark.stops_airflow
def test_down_stops_every_airflow_process(stack):
    members = [m for pid in stack.airflow.pids.values() for m in airflow_service._session(pid)]
    assert len(members) >= len(airflow_service.PROCESSES)
    services.down(stack.name, VAR_DIR)
    assert not [pid for pid in stack.airflow.pids.values() if airflow_service._session(pid)]
    assert services.status(stack.name, VAR_DIR)["airflow"]["running"] is False
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stack.airflow.url}/api/v2/monitor/health", timeout=5)
