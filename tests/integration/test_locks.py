"""The locks two runs of the same work take turns on (govlake.locks), on both backends: a file
under var/locks (embedded) and a PostgreSQL advisory lock (the warehouse of the services stack)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from govlake import locks, pipeline, steps
from govlake.config import Settings
from govlake.errors import LockTimeout
from govlake.lake import Lake, Partition
from govlake.sources import sql
from tests.conftest import DAY

pytestmark = pytest.mark.services
ZONES = ("raw", "clean", "quarantine")
NAME = locks.partition("credit.enterprise_register", DAY)
HOLDER = """
import sys, time
from govlake import locks, pipeline, steps
from govlake.config import Settings
with locks.held(Settings(_env_file=None), sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture(params=["embedded", "services_settings"])
def settings(request) -> Settings:
    return request.getfixturevalue(request.param)


def _impatient(settings: Settings) -> Settings:
    return settings.model_copy(update={"lock_timeout_seconds": 0.5})


def _in_thread(settings: Settings, name: str, taken: threading.Event, **kind) -> threading.Thread:
    def take() -> None:
        with locks.held(settings, name, **kind):
            taken.set()

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


def test_a_second_run_waits_for_the_first_then_takes_the_lock(settings):
    taken = threading.Event()
    with locks.held(settings, NAME):
        waiter = _in_thread(settings, NAME, taken)
        assert not taken.wait(1.0)  # still waiting while the first holds it
    assert taken.wait(10.0)
    waiter.join(5.0)


def test_other_work_does_not_wait(settings):
    taken = threading.Event()
    with locks.held(settings, NAME):
        _in_thread(settings, locks.BUILD, taken).join(10.0)
    assert taken.is_set()


def test_a_wait_past_the_timeout_fails_and_names_the_lock(settings):
    with locks.held(settings, NAME), pytest.raises(LockTimeout, match=NAME):
        with locks.held(_impatient(settings), NAME):
            pass


def test_readers_share_the_lock_and_a_writer_waits_for_them(settings):
    name = locks.file_set("transaction", DAY)
    reader, writer = threading.Event(), threading.Event()
    with locks.held(settings, name, shared=True):
        _in_thread(settings, name, reader, shared=True).join(10.0)
        assert reader.is_set()
        _in_thread(settings, name, writer)
        assert not writer.wait(1.0)
    assert writer.wait(10.0)


@pytest.fixture
def holder(settings: Settings, tmp_path_factory) -> Iterator[subprocess.Popen]:
    """Another process holding the lock NAME until it is killed."""
    env = {
        **os.environ,
        "GOVLAKE_PROFILE": settings.profile.value,
        "GOVLAKE_VAR_DIR": str(settings.var_dir),
    }
    if settings.warehouse_url is not None:
        env["GOVLAKE_WAREHOUSE_URL"] = settings.warehouse_url.get_secret_value()
    # A script file, run from a folder of its own: under ``python -c`` pyspark (imported on the
    # way) takes the process for a doctest run and exits.
    script = tmp_path_factory.mktemp("holder") / "holder.py"
    script.write_text(HOLDER)
    command = [sys.executable, str(script), NAME]
    process = subprocess.Popen(
        command, cwd=script.parent, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_holder_that_dies_releases_its_lock(settings, holder):
    with pytest.raises(LockTimeout):
        with locks.held(_impatient(settings), NAME):
            pass
    holder.kill()  # SIGKILL: no clean-up of its own runs
    holder.wait()
    with locks.held(settings.model_copy(update={"lock_timeout_seconds": 10.0}), NAME):
        pass


def test_the_same_interval_twice_at_once_runs_one_after_the_other(embedded, monkeypatch):
    """Two runs of one day's extraction and validation at once (a daily run and a backfill):
    the second waits while the first reads its source, then does the work again; the lake holds
    one whole, reconciled copy of the day."""
    pipeline.seed_sources(embedded, DAY, "tiny")
    dataset, reading, go, readers = (
        "credit.enterprise_register",
        threading.Event(),
        threading.Event(),
        [],
    )
    unpaused = sql.read_batches

    def paused(*args, **kwargs):  # the first run stops inside its read until told to go on
        readers.append(threading.current_thread().name)
        if len(readers) == 1:
            reading.set()
            go.wait(30.0)
        yield from unpaused(*args, **kwargs)

    monkeypatch.setattr(sql, "read_batches", paused)
    summaries = {}

    def run(name: str) -> None:
        summaries[name] = (
            steps.extract(embedded, dataset, DAY),
            steps.validate(embedded, dataset, DAY),
        )

    first = threading.Thread(target=run, args=("first",), name="first")
    first.start()
    assert reading.wait(30.0)
    second = threading.Thread(target=run, args=("second",), name="second")
    second.start()
    second.join(1.5)
    assert readers == ["first"]  # the second waits for the partition's lock
    go.set()
    first.join(60.0), second.join(60.0)
    assert readers == ["first", "second"] and set(summaries) == {"first", "second"}

    lake = Lake.from_settings(embedded)
    raw = {zone: lake.read_manifest(Partition(zone, dataset, DAY)) for zone in ZONES}
    assert {s[0]["raw_rows"] for s in summaries.values()} == {raw["raw"]["rows"]}
    assert raw["clean"]["rows"] + raw["quarantine"]["rows"] == raw["raw"]["rows"] > 0
    for zone, manifest in raw.items():  # one committed run each, its files all there
        prefix = Partition(zone, dataset, DAY).prefix
        assert {k.split("/")[4] for k in lake.store.list(f"{prefix}/run=")} == {manifest["run"]}
        assert lake.read_table(Partition(zone, dataset, DAY)).num_rows == manifest["rows"]
