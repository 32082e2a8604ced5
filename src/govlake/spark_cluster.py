"""A Spark standalone cluster on loopback: a master and workers started with pyspark's own
``spark-class`` (the wheel has no sbin scripts; DESIGN.md), for the cluster test and for trying
the cluster path on one machine. Production runs its own cluster
(infra/production/spark-cluster.md); a build reaches either through ``GOVLAKE_SPARK_MASTER``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from govlake import services
from govlake.errors import GovlakeError

MASTER, WORKER = "org.apache.spark.deploy.master.Master", "org.apache.spark.deploy.worker.Worker"
START_TIMEOUT = 90  # seconds for the master and every worker to register


class SparkClusterError(GovlakeError):
    retryable = False


@dataclass(frozen=True)
class Cluster:
    master_url: str  # spark://127.0.0.1:<port>, what GOVLAKE_SPARK_MASTER takes
    ui_url: str  # the master's web UI


@contextmanager
def running(
    work_dir: Path, workers: int = 2, cores: int = 1, memory: str = "1g"
) -> Iterator[Cluster]:
    """A master and ``workers`` workers of ``cores`` cores each, on free loopback ports, for as
    long as the context lasts; their logs are under ``work_dir``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    taken: set[int] = set()
    port, ui = (services._free_port([preferred], taken) for preferred in (7077, 8080))
    master_url = f"spark://127.0.0.1:{port}"
    started = [
        _start(
            work_dir,
            "master",
            [MASTER, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)],
        )
    ]
    try:
        for n in range(workers):
            worker_ui = services._free_port([None], taken)
            args = [WORKER, "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory]
            args += ["--webui-port", str(worker_ui), "--work-dir", str(work_dir / f"work-{n}")]
            started.append(_start(work_dir, f"worker-{n}", [*args, master_url]))
        _wait_for_workers(f"http://127.0.0.1:{ui}", workers, started, work_dir)
        yield Cluster(master_url, f"http://127.0.0.1:{ui}")
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def _start(work_dir: Path, name: str, args: list[str]) -> subprocess.Popen:
    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    env = os.environ | {"SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}
    log = (work_dir / f"{name}.log").open("w")
    return subprocess.Popen(
        [str(spark_class), *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work_dir
    )


def _wait_for_workers(ui_url: str, workers: int, started: list, work_dir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in started):
            break
        if _alive_workers(ui_url) >= workers:
            return
        time.sleep(1)
    raise SparkClusterError(
        f"the Spark cluster did not start {workers} workers in {START_TIMEOUT} s: "
        f"read the logs in {work_dir}"
    )


def _alive_workers(ui_url: str) -> int:
    try:
        with urllib.request.urlopen(f"{ui_url}/json/", timeout=2) as response:  # nosec B310 # http
            return int(json.loads(response.read()).get("aliveworkers", 0))
    except (OSError, ValueError):
        return 0
