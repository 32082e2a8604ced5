"""Warehouse migrations, bulk load and checksums on the embedded DuckDB warehouse."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govlake import load, steps
from govlake.errors import LakeError, WarehouseError
from govlake.lake import Lake, Partition
from tests.conftest import DAY, REGISTER_SCHEMA, SCHEMAS, TABLE

CAPITALS = (Decimal("1000.5"), Decimal("0"), Decimal("-0.0001"), None)
# The checksum of register(5) (the table since migration 0012): pinned, because checksums are
# compared across engines and builds.
REGISTER_5_CHECKSUM = "f98fb20e9b7024e65db7e0a2ab2fccbc720d0446f85d47ff5fc99f7cda12ed56"


def register(n: int, first_id: int = 1) -> pa.Table:
    """``n`` register rows with the awkward values: NULLs, empty text, quotes, commas, newlines,
    negative and zero capital, microseconds."""
    rows = []
    for i in range(first_id, first_id + n):
        rows.append(
            {
                "enterprise_id": i,
                "uscc": f"91310000MA1FL{i:05d}",
                "name": ["上海某某科技有限公司", 'A,"B"\n公司', "", "x\\.y"][i % 4],
                "entity_type": "企业",
                "legal_rep_name": [None, "张三", ""][i % 3],
                "legal_rep_id_number": "11010119900307123X",
                "region_code": None if i % 5 == 0 else "310115",
                "registered_capital": CAPITALS[i % 4],
                "established_on": None if i % 4 == 0 else date(2000, 1, 1) + timedelta(days=97 * i),
                "status": "存续",
                "updated_at": datetime(2026, 11, 23, 8, 30) + timedelta(microseconds=123457 * i),
                "dq_flags": "name_untrimmed,region_unknown" if i % 5 == 0 else None,
            }
        )
    return pa.Table.from_pylist(rows, schema=REGISTER_SCHEMA)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'warehouse' / 'govlake.duckdb'}"
    load.migrate(url)
    return url


def _query(url: str, sql: str) -> list[tuple]:
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        return con.execute(sql).fetchall()


def test_migrate_creates_the_model_and_is_idempotent(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'new' / 'w.duckdb'}"  # the directory does not exist yet
    assert load.current_revision(url) is None
    load.migrate(url)
    assert load.current_revision(url) == load.head_revision()
    load.replace_table(url, TABLE, register(3))
    load.migrate(url)  # already at head: changes nothing
    assert load.current_revision(url) == load.head_revision()
    assert load.row_count(url, TABLE) == 3
    schemas = {s for (s,) in _query(url, "select schema_name from information_schema.schemata")}
    assert SCHEMAS <= schemas
    assert _query(url, "select version_num from ops.alembic_version") == [(load.head_revision(),)]
    columns = dict(
        _query(
            url,
            "select column_name, comment from duckdb_columns() where "
            "schema_name = 'core' and table_name = 'stg_enterprise_register'",
        )
    )
    assert "legal_rep_id_number" not in columns  # ID numbers go to `restricted` only
    assert columns["uscc"] == "统一社会信用代码"
    assert len(columns) == 13 and all(columns.values())


def test_downgrade_to_base_removes_the_model(url: str) -> None:
    load.downgrade(url, "base")
    assert load.current_revision(url) is None
    schemas = {s for (s,) in _query(url, "select schema_name from information_schema.schemata")}
    # `ops` stays: it holds Alembic's (now empty) version table.
    assert not (SCHEMAS - {"ops"}) & schemas
    assert _query(
        url,
        "select count(*) from information_schema.tables "
        "where table_schema <> 'ops' and table_schema <> 'main'",
    ) == [(0,)]
    load.migrate(url)
    assert load.current_revision(url) == load.head_revision()


def test_replace_table_replaces_the_whole_content(url: str) -> None:
    assert load.replace_table(url, TABLE, register(5)) == 5
    assert load.replace_table(url, TABLE, register(2, first_id=100)) == 2
    ids = _query(url, "select enterprise_id from core.stg_enterprise_register order by 1")
    assert ids == [(100,), (101,)]
    stored = _query(
        url,
        "select name, legal_rep_name, registered_capital, updated_at "
        "from core.stg_enterprise_register where enterprise_id = 101",
    )
    assert stored == [
        (
            'A,"B"\n公司',
            "",
            Decimal("0"),
            datetime(2026, 11, 23, 8, 30) + timedelta(microseconds=123457 * 101),
        )
    ]
    assert load.replace_table(url, TABLE, register(0)) == 0
    assert load.row_count(url, TABLE) == 0


def test_a_table_with_content_gets_only_the_rows_that_differ(url: str) -> None:
    assert load.publish(url, {TABLE: register(5)})[TABLE] == load.Published(5, 5, 0)
    assert load.publish(url, {TABLE: register(5)})[TABLE] == load.Published(5, 0, 0)
    changed = register(6)  # rows 1-5 as before but row 3's name; row 6 is new
    names = changed.column("name").to_pylist()
    names[2] = "青岛某某有限公司"
    changed = changed.set_column(changed.schema.get_field_index("name"), "name", pa.array(names))
    assert load.publish(url, {TABLE: changed})[TABLE] == load.Published(6, 2, 1)
    assert _query(url, "select name from core.stg_enterprise_register where enterprise_id = 3") == [
        (names[2],)
    ]
    # Rows 1 and 2 are gone, rows 3-6 are kept as they are.
    assert load.publish(url, {TABLE: changed.slice(2)})[TABLE] == load.Published(4, 0, 2)
    fresh = f"duckdb:///{Path(url.removeprefix('duckdb:///')).parent / 'fresh.duckdb'}"
    load.migrate(fresh)
    load.replace_table(fresh, TABLE, changed.slice(2))
    assert load.table_checksum(url, TABLE) == load.table_checksum(fresh, TABLE)


def test_a_failing_load_keeps_the_old_content(url: str) -> None:
    load.replace_table(url, TABLE, register(5))
    before = load.table_checksum(url, TABLE)
    no_uscc = register(3).set_column(1, "uscc", pa.array([None, "X", "Y"], pa.string()))
    with pytest.raises(WarehouseError, match="NOT NULL"):
        load.replace_table(url, TABLE, no_uscc)
    duplicate = pa.concat_tables([register(2), register(1)])  # row 1 twice, as it is stored
    with pytest.raises(WarehouseError, match=f"loading {TABLE}: .* key .* twice"):
        load.replace_table(url, TABLE, duplicate)
    assert load.row_count(url, TABLE) == 5
    assert load.table_checksum(url, TABLE) == before


WITHHELD = "dq.withheld_keys"


def _withheld(keys: list[str | None]) -> pa.Table:
    return pa.table(
        {
            "dataset": ["credit.enterprise_register"] * len(keys),
            "key": pa.array(keys, pa.string()),
            "dt": pa.array([date(2026, 11, 23)] * len(keys), pa.date32()),
            "reasons": ["uscc_valid"] * len(keys),
        }
    )


def test_a_build_is_published_in_one_transaction(url: str) -> None:
    loaded = load.replace_tables(url, {TABLE: register(5), WITHHELD: _withheld(["7", "8"])})
    assert loaded == {TABLE: 5, WITHHELD: 2}
    before = {t: load.table_checksum(url, t) for t in (TABLE, WITHHELD)}
    # The second table fails (a key is NULL) after the first was replaced: neither changes.
    with pytest.raises(WarehouseError, match=f"loading {WITHHELD}"):
        load.replace_tables(url, {TABLE: register(2, first_id=100), WITHHELD: _withheld([None])})
    assert {t: load.table_checksum(url, t) for t in (TABLE, WITHHELD)} == before


def test_readers_see_the_old_content_while_a_load_runs(url: str, monkeypatch) -> None:
    load.replace_table(url, TABLE, register(5))
    seen = []
    insert = load._insert_duckdb

    def insert_then_look(conn, target, data):
        insert(conn, target, data)
        seen.append(load.row_count(url, TABLE))  # another connection, before the commit

    monkeypatch.setattr(load, "_insert_duckdb", insert_then_look)
    load.replace_table(url, TABLE, register(2, first_id=50))
    assert seen == [5]
    assert load.row_count(url, TABLE) == 2


def test_checksum_is_order_independent_and_content_sensitive(url: str) -> None:
    data = register(5)
    load.replace_table(url, TABLE, data)
    checksum = load.table_checksum(url, TABLE)
    assert checksum == REGISTER_5_CHECKSUM
    load.replace_table(url, TABLE, data.take([4, 2, 0, 3, 1]))
    assert load.table_checksum(url, TABLE) == checksum

    def changed(column: str, row: int, value) -> str:
        values = data.column(column).to_pylist()
        values[row] = value
        index = data.schema.get_field_index(column)
        load.replace_table(
            url,
            TABLE,
            data.set_column(index, column, pa.array(values, data.schema.field(column).type)),
        )
        return load.table_checksum(url, TABLE)

    assert changed("registered_capital", 0, Decimal("1000.5001")) != checksum
    assert changed("legal_rep_name", 1, None) != checksum  # "" and NULL differ
    assert changed("updated_at", 1, datetime(2026, 11, 23, 8, 30, 0, 246915)) != checksum
    assert changed("legal_rep_id_number", 0, "other") == checksum  # not a warehouse column


def test_errors_are_warehouse_errors(tmp_path: Path, url: str) -> None:
    with pytest.raises(WarehouseError, match="no table core.nope"):
        load.replace_table(url, "core.nope", register(1))
    (tmp_path / "file").write_text("")
    with pytest.raises(WarehouseError, match="cannot open the warehouse at duckdb:///"):
        load.row_count(f"duckdb:///{tmp_path / 'file' / 'w.duckdb'}", TABLE)
    with pytest.raises(WarehouseError, match="migrating the warehouse to 9999 .* failed"):
        load.migrate(url, "9999")


def test_the_migrations_head_is_the_newest_file() -> None:
    newest = sorted((load.MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))[-1]
    assert load.head_revision() == newest.name.split("_", 1)[0]


def test_a_publish_of_an_older_day_is_refused_and_changes_nothing(url: str) -> None:
    build_day = "ops.warehouse_build"
    newer, older = date(2026, 11, 24), date(2026, 11, 23)

    def build(day: date, rows: int) -> dict[str, pa.Table]:
        return {TABLE: register(rows), build_day: pa.table({"day": pa.array([day], pa.date32())})}

    load.publish(url, build(newer, 5), load.AsOf(build_day, "day", newer))
    before = load.table_checksum(url, TABLE)
    with pytest.raises(load.OlderDay) as refused:
        load.publish(url, build(older, 2), load.AsOf(build_day, "day", older))
    assert refused.value.newest == newer
    assert load.table_checksum(url, TABLE) == before
    assert _query(url, f"select day from {build_day}") == [(newer,)]  # noqa: S608
    load.publish(url, build(newer, 3), load.AsOf(build_day, "day", newer))  # a re-run: loaded
    assert load.row_count(url, TABLE) == 3


def test_a_day_whose_build_was_not_committed_fails_the_load_leaving_the_warehouse(embedded):
    """A transform killed midway leaves curated runs but no build manifest: the load step fails
    with a one-line, retryable error naming the day, and publishes nothing."""
    url = steps.warehouse_url(embedded)
    load.migrate(url)
    load.replace_tables(url, {TABLE: register(3)})
    before = load.table_checksum(url, TABLE)
    lake = Lake.from_settings(embedded)
    killed = lake.new_run_prefix(Partition("curated", TABLE, DAY))  # the killed build's table
    sink = pa.BufferOutputStream()
    pq.write_table(register(5), sink)
    lake.store.put_bytes(sink.getvalue().to_pybytes(), f"{killed}/part-00000.parquet")
    with pytest.raises(LakeError, match="no committed build of 2026-11-23") as failed:
        steps.load_warehouse(embedded, DAY)
    assert failed.value.retryable and "re-run the transform of 2026-11-23" in str(failed.value)
    assert load.table_checksum(url, TABLE) == before
