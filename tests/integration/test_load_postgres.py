"""Warehouse migrations and bulk load on the real PostgreSQL, and checksums equal to DuckDB's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from govlake import load
from govlake.errors import WarehouseError
from tests.conftest import REGISTER_SCHEMA, SCHEMAS, TABLE
from tests.unit.test_load_duckdb import WITHHELD, _withheld

pytestmark = pytest.mark.services

NAMES = ("上海某某科技有限公司", 'A,"B"\n公司', "", "x\\.y", "\\.", "a\n\\.\nb", "tab\tand 'quote'")
CAPITALS = (
    Decimal("1000.5"),
    Decimal("0"),
    Decimal("-0.0001"),
    None,
    Decimal("9999999999999999.9999"),
)


def register(n: int, first_id: int = 1) -> pa.Table:
    """``n`` register rows with the values text formats trip over: NULL next to empty text,
    quotes, commas, newlines, COPY's end marker, extreme decimals, microseconds, old dates."""
    rows = [
        {
            "enterprise_id": i,
            "uscc": f"91310000MA1FL{i:05d}",
            "name": NAMES[i % len(NAMES)],
            "entity_type": "企业",
            "legal_rep_name": (None, "张三", "")[i % 3],
            "legal_rep_id_number": "11010119900307123X",
            "region_code": None if i % 5 == 0 else "310115",
            "registered_capital": CAPITALS[i % len(CAPITALS)],
            "established_on": None if i % 4 == 0 else date(1949, 10, 1) + timedelta(days=97 * i),
            "status": "存续",
            "updated_at": datetime(2026, 11, 23, 8, 30) + timedelta(microseconds=123457 * i),
            "dq_flags": "name_untrimmed,region_unknown" if i % 5 == 0 else None,
        }
        for i in range(first_id, first_id + n)
    ]
    return pa.Table.from_pylist(rows, schema=REGISTER_SCHEMA)


@pytest.fixture(scope="module")
def pg_url(services_env: dict[str, str]) -> str:
    url = services_env["GOVLAKE_WAREHOUSE_URL"]
    load.migrate(url)
    return url


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def test_migrate_on_postgres(pg_url: str) -> None:
    load.migrate(pg_url)  # already at head: a no-op
    assert load.current_revision(pg_url) == load.head_revision()
    with psycopg.connect(_libpq(pg_url)) as conn:
        schemas = {s for (s,) in conn.execute("select nspname from pg_namespace")}
        columns = dict(
            conn.execute(
                "select column_name, col_description(c.oid, a.ordinal_position::int) "
                "from information_schema.columns a join pg_class c on c.relname = a.table_name "
                "where a.table_schema = 'core' and a.table_name = 'stg_enterprise_register'"
            ).fetchall()
        )
    assert SCHEMAS <= schemas
    assert "legal_rep_id_number" not in columns
    assert columns["uscc"] == "统一社会信用代码" and len(columns) == 13


def test_same_data_gives_the_same_checksum_in_postgres_and_duckdb(
    pg_url: str, tmp_path: Path
) -> None:
    duck_url = f"duckdb:///{tmp_path / 'govlake.duckdb'}"
    load.migrate(duck_url)
    data = register(500)
    assert load.replace_table(pg_url, TABLE, data) == 500
    assert load.replace_table(duck_url, TABLE, data.take(list(range(499, -1, -1)))) == 500
    assert load.row_count(pg_url, TABLE) == load.row_count(duck_url, TABLE) == 500
    assert load.table_checksum(pg_url, TABLE) == load.table_checksum(duck_url, TABLE)
    load.replace_table(duck_url, TABLE, register(499))
    assert load.table_checksum(pg_url, TABLE) != load.table_checksum(duck_url, TABLE)


def test_postgres_applies_the_same_difference_as_duckdb(pg_url: str, tmp_path: Path) -> None:
    duck_url = f"duckdb:///{tmp_path / 'govlake.duckdb'}"
    load.migrate(duck_url)
    load.replace_table(pg_url, TABLE, register(0))  # what earlier tests left
    for data in (register(40), register(40, first_id=5), register(40, first_id=5)[:30]):
        published = {url: load.publish(url, {TABLE: data})[TABLE] for url in (pg_url, duck_url)}
        assert published[pg_url] == published[duck_url]
        assert load.table_checksum(pg_url, TABLE) == load.table_checksum(duck_url, TABLE)
    assert published[pg_url] == load.Published(30, 0, 10)


def test_replace_is_atomic_on_postgres(pg_url: str, monkeypatch) -> None:
    load.replace_table(pg_url, TABLE, register(5))
    before = load.table_checksum(pg_url, TABLE)
    seen = []
    copy = load._copy_postgres

    def copy_then_look(conn, target, data):
        copy(conn, target, data)
        seen.append(load.row_count(pg_url, TABLE))  # another session, before the commit

    monkeypatch.setattr(load, "_copy_postgres", copy_then_look)
    load.replace_table(pg_url, TABLE, register(3, first_id=10))
    assert seen == [5] and load.row_count(pg_url, TABLE) == 3

    monkeypatch.setattr(load, "_copy_postgres", copy)
    load.replace_table(pg_url, TABLE, register(5))
    no_uscc = register(3).set_column(1, "uscc", pa.array(["X", None, "Y"], pa.string()))
    with pytest.raises(WarehouseError, match="not-null") as failed:
        load.replace_table(pg_url, TABLE, no_uscc)
    # One line: the driver's DETAIL line ("Failing row contains ...") quotes personal data.
    assert "\n" not in str(failed.value) and "Failing row" not in str(failed.value)
    assert load.table_checksum(pg_url, TABLE) == before


def test_a_build_is_published_in_one_transaction_on_postgres(pg_url: str) -> None:
    load.replace_tables(pg_url, {TABLE: register(5), WITHHELD: _withheld(["7", "8"])})
    before = {t: load.table_checksum(pg_url, t) for t in (TABLE, WITHHELD)}
    with pytest.raises(WarehouseError, match=f"loading {WITHHELD}"):
        load.replace_tables(pg_url, {TABLE: register(2, first_id=100), WITHHELD: _withheld([None])})
    assert {t: load.table_checksum(pg_url, t) for t in (TABLE, WITHHELD)} == before


def test_unreachable_postgres_raises_without_the_password() -> None:
    url = "postgresql+psycopg://govlake:hunter2secret@127.0.0.1:1/govlake"
    calls = [
        lambda: load.migrate(url),
        lambda: load.current_revision(url),
        lambda: load.row_count(url, TABLE),
        lambda: load.table_checksum(url, TABLE),
        lambda: load.replace_table(url, TABLE, register(1)),
    ]
    for call in calls:
        with pytest.raises(WarehouseError) as failed:
            call()
        message = str(failed.value)
        assert message.startswith(
            "cannot connect to the warehouse at postgresql+psycopg://govlake:***@127.0.0.1:1/govlake"
        )
        assert "\n" not in message and "make up" in message
        shown = "".join(traceback.format_exception(failed.value))
        assert "hunter2secret" not in shown


# A loader that stops, for good, in the middle of publishing: after the first table's rows are
# copied, inside the open transaction.
_KILLED_LOADER = """
import os, pathlib, sys, time
from govlake import load
from tests.integration.test_load_postgres import TABLE, WITHHELD, _withheld, register
copy = load._copy_postgres
def copy_then_hang(conn, target, data):
    copy(conn, target, data)
    pathlib.Path(sys.argv[1]).touch()
    time.sleep(600)
load._copy_postgres = copy_then_hang
url = os.environ["GOVLAKE_WAREHOUSE_URL"]
load.replace_tables(url, {TABLE: register(2, first_id=100), WITHHELD: _withheld(["9"])})
"""


def test_a_load_killed_midway_leaves_the_previous_build(pg_url: str, tmp_path: Path) -> None:
    load.replace_tables(pg_url, {TABLE: register(5), WITHHELD: _withheld(["7", "8"])})
    before = {t: load.table_checksum(pg_url, t) for t in (TABLE, WITHHELD)}
    copied = tmp_path / "copied"
    env = {**os.environ, "GOVLAKE_WAREHOUSE_URL": pg_url}  # not on the command line
    loader = subprocess.Popen([sys.executable, "-c", _KILLED_LOADER, str(copied)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not copied.exists():
            assert loader.poll() is None and time.monotonic() < deadline, "the loader never copied"
            time.sleep(0.2)
        assert load.row_count(pg_url, TABLE) == 5  # readers see the previous build meanwhile
    finally:
        loader.send_signal(signal.SIGKILL)
        loader.wait()
    assert {t: load.table_checksum(pg_url, t) for t in (TABLE, WITHHELD)} == before
    assert load.replace_tables(pg_url, {TABLE: register(3)}) == {TABLE: 3}  # nothing left locked
