"""Runs a job from ``jobs/`` with spark-submit and checks the job's own result.

The job reads the caller's settings from its environment (secrets included: never on its command
line, where other users of the machine could read them); on S3 the s3a jars go on the command line
so that the driver starts with them. The job must write its result file; an exit code of 0 without
it is a failure too (a cluster manager can report success for a job that did not finish its work).
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
from govlake.transform.session import jars_conf


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
            *_jar_options(settings),
            str(script),
            *args,
            "--result-file",
            str(result_file),
        ]
        done = subprocess.run(
            command, env=_job_env(settings), capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or not result_file.exists():
            raise SparkJobError(
                f"Spark job {job} failed (exit {done.returncode}):\n{_reason(done.stderr)}"
            )
        return json.loads(result_file.read_text())


def _job_env(settings: Settings) -> dict[str, str]:
    """This process's environment with ``settings`` in place of its own GOVLAKE_* variables."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("GOVLAKE_")}
    return (
        inherited
        | settings.as_env()
        | {
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
    )


def _jar_options(settings: Settings) -> list[str]:
    conf = jars_conf(settings) if settings.uses_s3 else {}
    return [option for key, value in conf.items() for option in ("--conf", f"{key}={value}")]


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
