"""Extraction when a service fails mid-run, on a stack of its own (the session's stack is shared):
the task fails with a one-line, retryable cause that carries no secret, no partial partition
becomes visible, and a re-run after the service is back lands the same partition as before.
An exchange file set delivered twice is landed once (the partition's bytes unchanged), and a
set that arrives after its day's run is picked up by the next run with every record counted.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from govlake import services, steps
from govlake.airflow_cli import AirflowRunError, dags_test, migrate_metadata
from govlake.config import DagSettings, Settings
from govlake.contracts import for_system
from govlake.errors import GovlakeError, WarehouseError
from govlake.lake import Lake, Partition
from govlake.simulator import run as simulator
from govlake.sources import exchange, sql
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


def _landed(settings: Settings, part: Partition = PART) -> tuple[str, str]:
    """The committed run of a raw partition (the register's) and a digest of its data."""
    lake = Lake.from_settings(settings)
    manifest = lake.read_manifest(part)
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_source_fails_the_airflow_task_with_its_cause(seeded, stack):
    """The credit system's server is down (nothing listens at its address); the lake and the
    warehouse are up."""
    migrate_metadata(seeded)
    down = sa.make_url(stack.pg_url("src_credit")).set(port=_free_port())
    with pytest.MonkeyPatch.context() as env:
        for key, value in stack.env().items():
            env.setenv(key, value)
        env.setenv("GOVLAKE_SOURCE_URLS__CREDIT", down.render_as_string(hide_password=False))
        with pytest.raises(AirflowRunError) as caught:
            dags_test(seeded, "extract_credit", DAY, {"full": True})
    message = str(caught.value)
    assert "SourceError" in message and "src_credit" in message, message
    assert "\n" not in message and stack.pg_password not in message
    log = seeded.var_dir / "airflow" / "runs" / f"extract_credit-{DAY.isoformat()}.log"
    assert "Connection refused" in log.read_text() and stack.pg_password not in log.read_text()


def test_a_warehouse_down_fails_the_step_at_its_lock(seeded, stack, restart):
    """Steps take their locks on the warehouse's PostgreSQL: with it down, a step fails before
    it touches the lake, with a one-line cause."""
    before = _landed(seeded)
    services._stop_postgres(stack.pg_dir, fast=True)
    with pytest.raises(WarehouseError, match="cannot connect to the warehouse") as caught:
        steps.extract(seeded, REGISTER.name, DAY, full=True)
    _assert_one_clean_line(caught.value, stack)
    assert _landed(seeded) == before


def _counted(result: dict) -> int:
    """Records the files of an extract declared, against which nothing may go missing."""
    return result["raw_rows"] + result["resends_merged"] + result["rejected_records"]


def test_an_exchange_file_set_delivered_twice_is_landed_once(seeded):
    contract = for_system("transaction")[0]
    part = Partition("raw", contract.name, DAY)
    first = steps.extract(seeded, contract.name, DAY)
    landed = _landed(seeded, part)
    steps.archive_files(seeded, contract.system, DAY)
    store = Lake.from_settings(seeded).store
    archived = store.list(f"{exchange.archive_prefix(contract.system, DAY)}/")
    assert archived and not steps.files_ready(seeded, contract.system, DAY + timedelta(days=1))
    for key in sorted(archived, key=lambda k: k.endswith(exchange.READY)):  # marker last
        store.put_bytes(store.get_bytes(key), key.removeprefix(f"{exchange.ARCHIVE}/"))
    again = steps.extract(seeded, contract.name, DAY)  # the set is in the inbox and the archive
    assert again["raw_rows"] == first["raw_rows"] and again["source_files"] == first["source_files"]
    run, data = _landed(seeded, part)
    assert run != landed[0] and data == landed[1]  # replaced whole, nothing doubled


def test_an_exchange_file_set_arriving_after_the_run_is_picked_up(seeded):
    contract = for_system("transaction")[0]
    late = DAY + timedelta(days=1)
    assert not steps.files_ready(seeded, contract.system, late)  # the sensor keeps waiting
    with pytest.raises(GovlakeError):
        steps.extract(seeded, contract.name, late)  # a run that does not wait lands nothing
    assert Lake.from_settings(seeded).read_manifest(Partition("raw", contract.name, late)) is None
    simulator.day(seeded, late)  # the trading centre delivers, late
    assert steps.files_ready(seeded, contract.system, late)
    result = steps.extract(seeded, contract.name, late)
    marker = exchange.ready(Lake.from_settings(seeded).store, contract.system, late)
    declared = sum(e["rows"] for e in marker["files"] if e["table"] == contract.table)
    assert result["rejected_files"] == [] and _counted(result) == declared  # nothing lost
