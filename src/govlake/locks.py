"""Locks across processes, so that two runs of the same work at once take turns instead of
interleaving (a scheduled run and a backfill of the same interval, two ``govlake run``s).

A step holds its lock from reading its input to committing its output: two extractions or
validations of one partition, two warehouse builds or loads, never overlap, and an extraction of
an exchange file set never reads it while it is being moved to the archive. The one that waits
then does the work again on what the first left, which gives the same content (every step is
idempotent), so the warehouse converges.

On the warehouse's PostgreSQL when it has one: an advisory lock, shared by every Airflow worker
that reaches the warehouse and released with its session if its holder dies. Otherwise (the
embedded profile, one machine) an ``flock`` on a file under ``var/locks/``, which the kernel
releases with the process. A waiter polls; past ``lock_timeout_seconds`` it fails, naming the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from govlake.config import Settings
from govlake.errors import LockTimeout

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2
BUILD = "warehouse build"  # the Spark build (clean/ to curated/) and the warehouse load


def partition(dataset: str, day: date) -> str:
    """The lock of a dataset's day in the lake (its raw, clean and quarantine partitions)."""
    return f"partition {dataset} {day.isoformat()}"


def file_set(system: str, day: date) -> str:
    """The lock of a system's exchange file set of a day: shared by readers, exclusive to the
    move into the archive."""
    return f"file set {system} {day.isoformat()}"


@contextmanager
def held(settings: Settings, name: str, *, shared: bool = False) -> Iterator[None]:
    """Hold the lock ``name`` for the block, waiting for it (up to the settings' timeout)."""
    from govlake import load  # here: a DAG file's import of steps stays free of SQLAlchemy

    url = settings.warehouse_url.get_secret_value() if settings.warehouse_url else None
    timeout = settings.lock_timeout_seconds
    if url and load.backend(url) == "postgresql":
        lock = _advisory(url, name, shared, timeout)
    else:
        path = settings.var_dir / "locks" / f"{re.sub(r'[^0-9A-Za-z.-]+', '_', name)}.lock"
        lock = file_lock(path, shared=shared, timeout=timeout, name=name)
    with lock:
        yield


@contextmanager
def file_lock(
    path: Path, *, shared: bool = False, timeout: float | None = None, name: str | None = None
) -> Iterator[None]:
    """``flock`` on ``path`` (created if need be); ``timeout`` None waits as long as it takes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    with path.open("a") as handle:
        _wait(lambda: _try_flock(handle.fileno(), mode), name or str(path), timeout)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def _advisory(url: str, name: str, shared: bool, timeout: float | None) -> Iterator[None]:
    """A session-level advisory lock on a connection of its own, held for the block. A
    warehouse that cannot be reached fails the step with a WarehouseError saying so."""
    import sqlalchemy as sa

    from govlake import load

    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    take, release = (
        (sa.func.pg_try_advisory_lock_shared, sa.func.pg_advisory_unlock_shared)
        if shared
        else (sa.func.pg_try_advisory_lock, sa.func.pg_advisory_unlock)
    )
    with load.connect(url) as con:
        con.execution_options(isolation_level="AUTOCOMMIT")
        with load.failing_as(url, f"taking the lock {name!r}"):
            _wait(lambda: bool(con.execute(sa.select(take(key))).scalar()), name, timeout)
        try:
            yield
        finally:
            # A server gone since has ended the session, and so released the lock already.
            with contextlib.suppress(sa.exc.DBAPIError):
                con.execute(sa.select(release(key)))


def _wait(take: Callable[[], bool], name: str, timeout: float | None) -> None:
    started = time.monotonic()
    if take():
        return
    log.info("waiting for the lock %r: another run holds it", name)
    while not take():
        if timeout is not None and time.monotonic() - started > timeout:
            raise LockTimeout(
                f"the lock {name!r} was still held by another run after {timeout:.0f} s: "
                "wait for that run to end (or stop it), then run again"
            )
        time.sleep(POLL_SECONDS)
    log.info("took the lock %r after %.1f s", name, time.monotonic() - started)
