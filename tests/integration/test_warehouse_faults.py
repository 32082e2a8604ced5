"""The warehouse's PostgreSQL server killed (SIGKILL, as in a crash) in the middle of a publish,
on a stack of its own (the session's stack is shared): the load is one transaction, so after the
server's crash recovery the warehouse holds the previous build whole, nothing is duplicated, and
a re-run publishes the complete new build.

``tests/integration/test_load_postgres.py`` kills the loading *client*; this kills the server.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from govlake import load, services
from govlake.errors import WarehouseError
from tests.conftest import TABLE
from tests.integration.conftest import VAR_DIR, own_stack
from tests.integration.test_load_postgres import register
from tests.unit.test_load_duckdb import WITHHELD, _withheld

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def stack() -> Iterator[services.ServiceStack]:
    yield from own_stack("warehouse-faults")


@pytest.fixture(scope="module")
def url(stack: services.ServiceStack) -> str:
    warehouse = stack.env()["GOVLAKE_WAREHOUSE_URL"]
    load.migrate(warehouse)
    return warehouse


def _server_processes(postmaster: int) -> list[int]:
    """The postmaster and every process it forked (backends, checkpointer, WAL writer...)."""
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue  # the process ended meanwhile
        if fields.get("PPid", "").strip() == str(postmaster):
            children.append(int(status.parent.name))
    return [postmaster, *children]


def _wait_gone(pids: list[int], timeout: float = 30) -> None:
    """Until every process is gone and reaped: PostgreSQL refuses to start while its lock file
    names a pid that still exists, even as a zombie."""
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() for pid in pids):
        assert time.monotonic() < deadline, f"the killed server processes linger: {pids}"
        time.sleep(0.05)


def _checksums(url: str) -> dict[str, str]:
    return {table: load.table_checksum(url, table) for table in (TABLE, WITHHELD)}


def test_postgres_killed_mid_publish_keeps_the_previous_build(stack, url, monkeypatch):
    previous = {TABLE: register(5), WITHHELD: _withheld(["7", "8"])}
    new = {TABLE: register(4, first_id=100), WITHHELD: _withheld(["9"])}
    load.replace_tables(url, new)
    complete = _checksums(url)  # the new build, published on an undisturbed server
    load.replace_tables(url, previous)
    before = _checksums(url)
    copy, killed = load._copy_postgres, []

    def copy_then_crash(conn: sa.Connection, target, data) -> None:
        copy(conn, target, data)  # the first table's new rows are in the open transaction
        if not killed:
            postmaster = services.status(stack.name, VAR_DIR)["postgres"]["pid"]
            processes = _server_processes(postmaster)
            for pid in processes:
                os.kill(pid, signal.SIGKILL)
            _wait_gone(processes)
            killed.append(postmaster)

    monkeypatch.setattr(load, "_copy_postgres", copy_then_crash)
    with pytest.raises(WarehouseError) as failed:
        load.replace_tables(url, new)
    assert killed and "\n" not in str(failed.value) and stack.pg_password not in str(failed.value)
    monkeypatch.undo()
    assert not services.status(stack.name, VAR_DIR)["postgres"]["running"]

    services.up(stack.name, VAR_DIR)  # crash recovery replays the WAL; the open load is gone
    assert _checksums(url) == before  # the previous build, whole: nothing lost, nothing partial
    assert load.row_count(url, TABLE) == 5

    assert load.replace_tables(url, new) == {TABLE: 4, WITHHELD: 1}  # the re-run completes
    ids = [row["enterprise_id"] for row in load.read_rows(url, TABLE)]
    assert sorted(ids) == list(range(100, 104))  # nothing duplicated, nothing of the old build
    assert _checksums(url) == complete
