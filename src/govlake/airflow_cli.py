"""Runs the Airflow command line against govlake's DAGs (``airflow dags test`` for the embedded
profile and the tests). Airflow's home, metadata database and logs live under ``var/airflow``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from govlake.config import Settings
from govlake.errors import GovlakeError


class AirflowRunError(GovlakeError):
    pass


def airflow_env(settings: Settings) -> dict[str, str]:
    from govlake import lineage

    home = settings.var_dir / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.project_dir / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": os.environ.get(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}"
        ),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        **lineage.airflow_env(settings),  # the OpenLineage provider's transport and namespace
        "GX_ANALYTICS_ENABLED": "false",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "GOVLAKE_VAR_DIR": str(settings.var_dir),
        "GOVLAKE_PROFILE": settings.profile.value,
        **{f"GOVLAKE_DAG__{k.upper()}": str(v) for k, v in settings.dag.model_dump().items()},
        **{f"GOVLAKE_GATES__{k.upper()}": str(v) for k, v in settings.gates.model_dump().items()},
    }


def airflow(settings: Settings, *args: str, log: Path | None = None) -> str:
    """Run ``airflow ARGS``; on failure raise with the tail of its output."""
    command = [str(Path(sys.executable).with_name("airflow")), *args]
    done = subprocess.run(
        command, env=airflow_env(settings), capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(output)
    if done.returncode != 0:
        where = f" (full log: {log})" if log else ""
        raise AirflowRunError(f"`airflow {' '.join(args[:3])}` failed: {_reason(output)}{where}")
    return output


def _reason(output: str) -> str:
    """The last exception message in Airflow's output: the task's own error, not the traceback."""
    errors = re.findall(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", output, re.MULTILINE)
    return f"{errors[-1][0]}: {errors[-1][1]}" if errors else output.strip().splitlines()[-1]


def migrate_metadata(settings: Settings) -> None:
    airflow(settings, "db", "migrate")


def dags_test(settings: Settings, dag_id: str, day: date, conf: dict | None = None) -> str:
    """One real run of a DAG for ``day`` (its data interval is that local day)."""
    # A manual run gets the last whole interval before its logical date: the day ending at the
    # next local midnight is ``day``.
    args = ["dags", "test", dag_id, f"{(day + timedelta(days=1)).isoformat()}T00:00:00+08:00"]
    if conf:
        args += ["--conf", json.dumps(conf)]
    log = settings.var_dir / "airflow" / "runs" / f"{dag_id}-{day.isoformat()}.log"
    return airflow(settings, *args, log=log)
