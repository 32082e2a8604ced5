"""Extraction when a service fails mid-run, on a stack of its own (the session's stack is shared):
the task fails with a one-line, retryable cause that carries no secret, no partial partition
becomes visible, and a re-run after the service is back lands the same partition as before.
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator

import pytest

from govlake import services, steps
from govlake.airflow_cli import AirflowRunError, dags_test, migrate_metadata
from govlake.config import DagSettings, Settings
from govlake.errors import GovlakeError
from govlake.lake import Lake, Partition
from govlake.sources import sql
from tests.conftest import DAY, REGISTER
from tests.integration.conftest import VAR_DIR, own_stack

PART = Partition("raw", REGISTER.name, DAY)


@pytest.fixture(scope="module")
def stack() -> Iterator[services.ServiceStack]:
    yield from own_stack("faults")


@pytest.fixture(scope="module")
def seeded(stack, tmp_path_factory) -> Settings:
    """Settings on the faults stack, its sources seeded and the register landed once."""
    from govlake import pipeline

    with pytest.MonkeyPatch.context() as env:
        for key, value in stack.env().items():
            env.setenv(key, value)
        settings = Settings(
            var_dir=tmp_path_factory.mktemp("faults"),
            dag=DagSettings(task_retries=0),
            _env_file=None,
        )
        pipeline.seed_sources(settings, DAY, "tiny")
        steps.extract(settings, REGISTER.name, DAY, full=True)
        yield settings


@pytest.fixture
def restart(stack):
    """Brings the stack back up after a test broke it (same ports, same data)."""
    yield
    services.up(stack.name, VAR_DIR)


def _landed(settings: Settings) -> tuple[str, str]:
    """The committed run of the register's raw partition and a digest of its data."""
    lake = Lake.from_settings(settings)
    manifest = lake.read_manifest(PART)
    data = b"".join(lake.store.get_bytes(f["key"]) for f in manifest["files"])
    return manifest["run"], hashlib.sha256(data).hexdigest()


def _assert_one_clean_line(error: GovlakeError, stack: services.ServiceStack) -> None:
    message = str(error)
    assert error.retryable and "\n" not in message
    assert stack.pg_password not in message and stack.s3_secret_key not in message


def test_s3_killed_while_the_partition_is_written(seeded, stack, restart, monkeypatch):
    before = _landed(seeded)
    original = sql.read_batches

    def then_kill_s3(*args, **kwargs):
        for number, batch in enumerate(original(*args, **kwargs)):
            if number == 0:
                os.kill(services.status(stack.name, VAR_DIR)["s3"]["pid"], signal.SIGKILL)
            yield batch

    monkeypatch.setattr(sql, "read_batches", then_kill_s3)
    with pytest.raises(GovlakeError, match="cannot reach S3") as caught:
        steps.extract(seeded, REGISTER.name, DAY, full=True)
    _assert_one_clean_line(caught.value, stack)
    monkeypatch.undo()
    services.up(stack.name, VAR_DIR)
    assert _landed(seeded) == before  # the old partition stayed whole and visible
    steps.extract(seeded, REGISTER.name, DAY, full=True)
    run, data = _landed(seeded)
    assert run != before[0] and data == before[1]


def test_postgres_stopped_between_the_rows_and_the_key_set(seeded, stack, restart, monkeypatch):
    before = _landed(seeded)
    original = sql.read_keys

    def stop_postgres_first(*args, **kwargs):
        services._stop_postgres(stack.pg_dir, fast=True)
        return original(*args, **kwargs)

    monkeypatch.setattr(sql, "read_keys", stop_postgres_first)
    with pytest.raises(GovlakeError, match="reading credit.enterprise_register from") as caught:
        steps.extract(seeded, REGISTER.name, DAY, full=True)
    _assert_one_clean_line(caught.value, stack)
    assert _landed(seeded) == before


def test_an_unreachable_source_fails_the_airflow_task_with_its_cause(seeded, stack, restart):
    migrate_metadata(seeded)
    services._stop_postgres(stack.pg_dir, fast=True)
    with pytest.MonkeyPatch.context() as env:
        for key, value in stack.env().items():
            env.setenv(key, value)
        with pytest.raises(AirflowRunError) as caught:
            dags_test(seeded, "extract_credit", DAY, {"full": True})
    message = str(caught.value)
    assert "SourceError" in message and "src_credit" in message, message
    assert "\n" not in message and stack.pg_password not in message
    log = seeded.var_dir / "airflow" / "runs" / f"extract_credit-{DAY.isoformat()}.log"
    assert "Connection refused" in log.read_text() and stack.pg_password not in log.read_text()
