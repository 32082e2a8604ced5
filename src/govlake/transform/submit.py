"""Runs a job from ``jobs/`` with spark-submit and checks the job's own result.

The job must write its result file; an exit code of 0 without it is a failure too (a cluster
manager can report success for a job that did not finish its work).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from govlake.config import Settings
from govlake.errors import GovlakeError


class SparkJobError(GovlakeError):
    pass


def submit(settings: Settings, job: str, args: list[str]) -> dict:
    script = settings.project_dir / "jobs" / f"{job}.py"
    spark_submit = Path(sys.executable).with_name("spark-submit")
    with tempfile.TemporaryDirectory(prefix="govlake-job-") as scratch:
        result_file = Path(scratch) / "result.json"
        command = [
            str(spark_submit),
            "--master",
            settings.spark_master,
            "--driver-memory",
            settings.spark_driver_memory,
            str(script),
            *args,
            "--result-file",
            str(result_file),
        ]
        env = {
            **os.environ,
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not result_file.exists():
            raise SparkJobError(
                f"Spark job {job} failed (exit {done.returncode}):\n{_reason(done.stderr)}"
            )
        return json.loads(result_file.read_text())


def _reason(stderr: str) -> str:
    """The job's own Python error (its traceback's last lines, not Spark's shutdown log that
    follows it), else the tail of the output."""
    lines = stderr.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback")]
    if starts:
        block = lines[starts[-1] :]
        ends = [i for i, line in enumerate(block) if i and not line.startswith((" ", "\t"))]
        return "\n".join(block[: ends[0] + 1][-15:]) if ends else "\n".join(block[-15:])
    return "\n".join(lines[-15:])
