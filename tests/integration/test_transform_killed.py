"""The Spark job killed (SIGKILL of its whole process group, the JVM included) after it wrote
some of the day's curated tables: the build is committed whole or not at all (one build manifest,
put last), so the load still publishes the previous build, the warehouse is unchanged and nothing
is duplicated; a re-run completes the build, and the warehouse equals the uninterrupted one.
It runs on the suite's built lake (``built_warehouse``), so only the killed build and its re-run
are paid here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from govlake import load, steps
from govlake.config import Settings
from govlake.lake import Lake
from govlake.transform.build import CURATED
from tests.conftest import DAY
from tests.integration.conftest import fresh_database

pytestmark = pytest.mark.services

_TRANSFORM = """\
import sys
from datetime import date

from govlake import steps
from govlake.config import Settings

steps.transform(Settings(_env_file=None), date.fromisoformat(sys.argv[1]))
"""


def _checksums(url: str) -> dict[str, str]:
    return {table: load.table_checksum(url, table) for table in CURATED}


def _written_runs(lake: Lake) -> set[str]:
    """The curated runs whose Spark write finished (their ``_SUCCESS`` marker is there)."""
    return {
        key.rsplit("/", 1)[0] for key in lake.store.list("curated/") if key.endswith("/_SUCCESS")
    }


def _kill_after_first_table(settings: Settings, script: Path, committed: set[str]) -> set[str]:
    """Runs ``steps.transform`` in a process group of its own and SIGKILLs the group once the
    build wrote its first curated table; returns the runs it left."""
    env = os.environ | settings.as_env()
    transform = subprocess.Popen(  # noqa: S603
        [sys.executable, str(script), DAY.isoformat()], env=env, start_new_session=True
    )
    lake, deadline = Lake.from_settings(settings), time.monotonic() + 600  # a busy machine is slow
    try:
        while not (left := _written_runs(lake) - committed):
            assert transform.poll() is None, "the transform ended before it was killed"
            assert time.monotonic() < deadline, "the transform wrote no curated table"
            time.sleep(0.2)
    finally:
        os.killpg(transform.pid, signal.SIGKILL)
        transform.wait()
    _wait_group_gone(transform.pid)
    return left


def _wait_group_gone(group: int, timeout: float = 30) -> None:
    """Until no process of the group is left (spark-submit, the JVM, the Python driver)."""
    deadline = time.monotonic() + timeout
    while _group_alive(group):
        assert time.monotonic() < deadline, f"processes of the killed group {group} linger"
        time.sleep(0.1)


def _group_alive(group: int) -> bool:
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.getpgid(int(proc.name)) == group:
                return True
        except ProcessLookupError:
            continue  # ended meanwhile
    return False


def _build_runs(build: dict) -> set[str]:
    return {f["key"].rsplit("/", 1)[0] for m in build["tables"].values() for f in m["files"]}


def test_spark_killed_mid_transform_keeps_the_previous_build(
    built_warehouse, services_stack, tmp_path
):
    """On the suite's built lake (its build uninterrupted, loaded into ``built_warehouse``'s
    database: the reference), with a database of its own. The rebuild leaves that lake's
    curated tables as they were."""
    reference = _checksums(built_warehouse["pg_url"])
    url = fresh_database(services_stack, "transform_killed")
    settings = built_warehouse["settings"].model_copy(update={"warehouse_url": SecretStr(url)})
    lake = Lake.from_settings(settings)
    build = lake.read_build(DAY)
    steps.migrate(settings)
    rows = {t: steps.load_warehouse(settings, DAY)["loaded"][t] for t in CURATED}
    assert {t: m["rows"] for t, m in build["tables"].items()} == rows
    assert _checksums(url) == reference

    script = tmp_path / "transform.py"  # a python -c importing pyspark can exit early
    script.write_text(_TRANSFORM)
    left = _kill_after_first_table(settings, script, _written_runs(lake))
    assert lake.read_build(DAY) == build  # the killed build committed nothing
    assert len(left) < len(CURATED)  # killed midway: some tables written, not all

    reloaded = steps.load_warehouse(settings, DAY)  # the previous build, whole
    assert not any(p["written"] or p["removed"] for p in reloaded["changed"].values())
    assert _checksums(url) == reference

    steps.transform(settings, DAY)  # the re-run completes the build
    rebuilt = lake.read_build(DAY)
    assert not _build_runs(rebuilt) & (left | _build_runs(build))  # its own runs only
    loaded = steps.load_warehouse(settings, DAY)
    assert _checksums(url) == reference
    assert {t: loaded["loaded"][t] for t in CURATED} == rows  # nothing duplicated
