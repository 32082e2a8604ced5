"""Recovery (``govlake.backup``): a warehouse backed up with pg_dump and restored into a fresh
PostgreSQL instance has every table's and view's content checksum, its grants and its schema
revision; a lake backed up from one S3 server and restored into another has every object byte
for byte; a damaged backup file is refused before anything is written. DuckDB's file backup
round-trips too."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from govlake import backup, load, services
from govlake.config import Settings
from govlake.errors import GovlakeError
from govlake.storage import open_store
from tests import handmade
from tests.integration.conftest import VAR_DIR, fresh_bucket, fresh_database
from tests.unit.test_credit_grades import DAY, warehouse_rows

SCHEMAS = ("core", "mart", "portal", "dq", "ops", "restricted")


@pytest.fixture(scope="module")
def other_instance():
    """A second PostgreSQL and S3 server, as on the machine a backup is restored to."""
    name = f"restore-{os.getpid()}"
    try:
        yield services.up(name, VAR_DIR)
    finally:
        services.down(name, VAR_DIR, purge=True)


@pytest.fixture(scope="module")
def warehouse(services_stack, tmp_path_factory) -> str:
    duck = handmade.warehouse(tmp_path_factory.mktemp("duck"), warehouse_rows())
    tables = {t: handmade.read(duck, t) for t in warehouse_rows()}
    url = fresh_database(services_stack, "backup_source")
    load.migrate(url)
    load.replace_tables(url, tables)
    handmade.publish(url, DAY)
    return url


def _relations(url: str) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema = ANY(:schemas) ORDER BY 1"
            ),
            {"schemas": list(SCHEMAS)},
        )
        names = [name for (name,) in rows]
    engine.dispose()
    return names


def _checksums(url: str) -> dict[str, str]:
    return {name: load.table_checksum(url, name) for name in _relations(url)}


def test_a_warehouse_restored_into_a_fresh_instance_has_the_same_content(
    warehouse, other_instance, tmp_path
):
    dump = tmp_path / "warehouse.dump"
    backup.backup_warehouse(warehouse, dump)
    restored = fresh_database(other_instance, "restored")
    backup.restore_warehouse(restored, dump)
    before = _checksums(warehouse)
    assert len(before) >= 60 and load.row_count(warehouse, "mart.credit_grade") == 5
    assert _checksums(restored) == before
    assert load.current_revision(restored) == load.current_revision(warehouse)
    assert _grantees(restored) == _grantees(warehouse)


def _grantees(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT grantee, table_schema, table_name, privilege_type "
                "FROM information_schema.role_table_grants "
                "WHERE grantee LIKE 'govlake\\_%' ORDER BY 1, 2, 3, 4"
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_a_restore_never_goes_over_a_warehouse(warehouse, tmp_path):
    dump = tmp_path / "warehouse.dump"
    backup.backup_warehouse(warehouse, dump)
    with pytest.raises(GovlakeError, match="not empty"):
        backup.restore_warehouse(warehouse, dump)


def test_a_duckdb_warehouse_round_trips(tmp_path):
    url = handmade.warehouse(tmp_path, warehouse_rows())
    handmade.publish(url, DAY)
    backup.backup_warehouse(url, tmp_path / "backup" / "w.duckdb")
    restored = f"duckdb:///{tmp_path / 'restored' / 'w.duckdb'}"
    backup.restore_warehouse(restored, tmp_path / "backup" / "w.duckdb")
    views = ("mart.credit_grade", "mart.credit_records", "portal.v1_penalty_publicity")
    assert {v: load.table_checksum(restored, v) for v in views} == {
        v: load.table_checksum(url, v) for v in views
    }


def _store(stack: services.ServiceStack, bucket: str):
    env = stack.env() | {"GOVLAKE_S3_BUCKET": fresh_bucket(stack, bucket)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return open_store(Settings(_env_file=None))


def _fill(store) -> dict[str, bytes]:
    objects = {
        "raw/credit/persons/dt=2026-12-01/part-0.parquet": os.urandom(70_000),
        "clean/credit/persons/dt=2026-12-01/_manifest.json": b'{"rows": 3}',
        "exchange/transaction/dt=2026-12-01/awards.jsonl": "中标\n".encode(),
    }
    for key, data in objects.items():
        store.put_bytes(data, key)
    return objects


def test_a_lake_restored_into_another_s3_server_has_every_object(
    services_stack, other_instance, tmp_path
):
    source, target = _store(services_stack, "backup-src"), _store(other_instance, "restored")
    objects = _fill(source)
    assert backup.backup_lake(source, tmp_path / "lake")["objects"] == len(objects)
    assert backup.restore_lake(target, tmp_path / "lake")["objects"] == len(objects)
    assert sorted(target.list("")) == sorted(objects)
    assert {k: target.get_bytes(k) for k in objects} == objects


def test_a_damaged_lake_backup_is_refused_before_anything_is_written(
    services_stack, other_instance, tmp_path
):
    source, target = _store(services_stack, "backup-src2"), _store(other_instance, "damaged")
    objects = _fill(source)
    backup.backup_lake(source, tmp_path / "lake")
    damaged = tmp_path / "lake" / next(iter(objects))
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\0")
    with pytest.raises(GovlakeError, match="differs"):
        backup.restore_lake(target, tmp_path / "lake")
    assert target.list("") == []
