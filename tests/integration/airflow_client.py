"""What the Airflow service tests do as a client would: log in over REST, run the `airflow`
command against the instance with its ``airflow.env``, and wait for DAG runs and backfills."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx

from govlake.airflow_service import AirflowService

T = TypeVar("T")
PARSE_TIMEOUT = 120.0
RUN_TIMEOUT = 300.0
FINISHED = ("success", "failed")


def token(url: str, user: str, password: str) -> httpx.Response:
    """POST /auth/token: the simple auth manager's login."""
    return httpx.post(
        f"{url}/auth/token", json={"username": user, "password": password}, timeout=30
    )


def login(airflow: AirflowService, password: str) -> httpx.Client:
    """A REST client for ``/api/v2``, logged in as ``airflow.user``."""
    response = token(airflow.url, airflow.user, password)
    assert response.status_code == 201, response.text
    return httpx.Client(
        base_url=f"{airflow.url}/api/v2",
        headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        timeout=30,
    )


def wait_for(what: str, timeout: float, probe: Callable[[], T], every: float = 1.0) -> T:
    """``probe()``'s first truthy result, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f} s")
        time.sleep(every)


def unpause(api: httpx.Client, dag_id: str) -> None:
    """Unpause ``dag_id`` once the DAG processor has parsed it (DAGs are paused at creation)."""
    wait_for(f"DAG {dag_id}", PARSE_TIMEOUT, lambda: api.get(f"/dags/{dag_id}").status_code == 200)
    response = api.patch(f"/dags/{dag_id}", json={"is_paused": False})
    assert response.status_code == 200, response.text


def failed_tasks(api: httpx.Client, dag_id: str, run_id: str) -> dict[str, str]:
    """Task id -> state of the run's task instances that did not succeed."""
    tasks = api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    return {t["task_id"]: t["state"] for t in tasks if t["state"] != "success"}


def wait_for_run(api: httpx.Client, dag_id: str, run_id: str, timeout: float = RUN_TIMEOUT) -> dict:
    """The run once it has finished (success or failed)."""

    def finished() -> dict | None:
        run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
        return run if run["state"] in FINISHED else None

    return wait_for(f"finished run {run_id}", timeout, finished)


def wait_for_backfill(api: httpx.Client, backfill_id: int, timeout: float) -> dict:
    """The backfill once the scheduler has marked it complete (all its runs finished)."""

    def completed() -> dict | None:
        backfill = api.get(f"/backfills/{backfill_id}").json()
        return backfill if backfill["completed_at"] else None

    return wait_for(f"completed backfill {backfill_id}", timeout, completed, every=2.0)


def env_of(airflow: AirflowService) -> dict[str, str]:
    """The environment the instance's processes run with, from its ``airflow.env``."""
    env = dict(os.environ)
    for line in airflow.env_file.read_text().splitlines():
        if line.strip():
            key, _, value = shlex.split(line)[0].partition("=")
            env[key] = value
    return env


def cli(airflow: AirflowService, *args: str, timeout: float = 300) -> str:
    """``airflow ARGS`` against the running instance; its output, or a failed assertion."""
    env = env_of(airflow)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *args], env=env, capture_output=True,
        text=True, timeout=timeout, cwd=env["GOVLAKE_PROJECT_DIR"], check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`airflow {shlex.join(args)}` failed:\n{output[-3000:]}"
    return output
