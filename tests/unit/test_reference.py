"""The reference build's SQL without Spark: conform on a hand-made change log of two
partitions, and the person key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govlake import contracts, load
from govlake.quality.split import clean_schema, quarantine_schema
from govlake.reference.sources import change_log, conformed, register_person_key, sql
from govlake.transform.entities import person_key

DEPARTMENTS = contracts.get("approval.departments")
T1, T2 = datetime(2026, 11, 1, 9), datetime(2026, 11, 2, 9)
DT1, DT2 = "2026-11-22", "2026-11-23"
CLEAN = {  # dt -> (department_id, name, updated_at, dq_flags)
    DT1: [
        (1, "v1", T1, []),
        (2, "first copy", T1, []),
        (4, "clean", T1, []),
        (5, "deleted at the source", T1, []),
        (6, "clean, held copy older", T2, ["b", "a"]),
    ],
    DT2: [
        (1, "v2", T2, []),
        (2, "look-back copy", T1, []),  # the same version again, a later partition
        (3, "clean copy", T1, []),
    ],
}
HELD = {  # dt -> (department_id, updated_at)
    DT1: [(6, T1)],
    DT2: [(3, T1), (4, T2)],  # 3: the same version's held copy; 4: a newer version, held
}
LIVE_KEYS = [1, 2, 3, 4, 6]  # 5 was hard-deleted


def _files(root: Path, zone: str, partitions: dict, row, schema: pa.Schema) -> list[tuple]:
    """The partitions as the lake lays them out, ``(dt, [file])`` each."""
    files = []
    for dt, rows in partitions.items():
        folder = root / zone / DEPARTMENTS.name / f"dt={dt}" / "run=1"
        folder.mkdir(parents=True)
        rows = pa.Table.from_pylist([row(*r) for r in rows], schema)
        pq.write_table(rows, folder / "part-0.parquet")
        files.append((dt, [str(folder / "part-0.parquet")]))
    return files


@pytest.fixture
def latest(tmp_path):
    clean = _files(tmp_path, "clean", CLEAN, _clean_row, clean_schema(DEPARTMENTS))
    held = _files(tmp_path, "quarantine", HELD, _held_row, quarantine_schema(DEPARTMENTS))
    keys = tmp_path / "keys.parquet"
    pq.write_table(pa.table({"department_id": LIVE_KEYS}), keys)
    with duckdb.connect() as con:
        rows = conformed(change_log(con, DEPARTMENTS, clean, held, str(keys)))
        yield {r["department_id"]: r for r in rows.to_dicts()}, rows.columns


def _clean_row(key: int, name: str, at: datetime, flags: list[str]) -> dict:
    return {"department_id": key, "name": name, "updated_at": at, "dq_flags": flags}


def _held_row(key: int, at: datetime) -> dict:
    return {"department_id": key, "name": "held", "updated_at": at, "dq_reasons": ["rule"]}


def test_each_live_key_keeps_its_latest_clean_version(latest):
    rows, _ = latest
    assert {k: r["name"] for k, r in rows.items()} == {
        1: "v2",  # the greatest watermark
        2: "look-back copy",  # a tie on the watermark: the later partition
        6: "clean, held copy older",  # an older held version does not hide a newer clean one
    }  # 3: the held copy of its latest version wins; 4: its latest is held; 5: hard-deleted


def test_the_latest_rows_have_the_clean_columns_and_their_flags_joined(latest):
    rows, columns = latest
    assert columns == [*DEPARTMENTS.column_names, "dq_flags"]
    assert rows[6]["dq_flags"] == "a,b"
    assert rows[1]["dq_flags"] is None


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> str:
    """An empty warehouse: the macros name its tables."""
    path = tmp_path_factory.mktemp("warehouse") / "govlake.duckdb"
    load.migrate(f"duckdb:///{path}")
    return str(path)


@pytest.mark.parametrize("secret", [b"s3cret", b"k" * 64, bytes(range(200))])  # short, block, long
def test_the_sql_person_key_is_the_python_hmac(warehouse, secret):
    numbers = ["370202199001011234", "11010119900307123X", "护照E12345678", None, ""]
    with duckdb.connect(warehouse) as con:
        register_person_key(con, secret)
        con.execute(sql("macros"))
        rows = con.execute("SELECT person_key(n) FROM unnest(?) AS t(n)", [numbers]).fetchall()
    assert [key for (key,) in rows] == [person_key(secret, n) if n else None for n in numbers]


def test_the_sql_match_key_is_the_spark_one(warehouse, spark):
    from pyspark.sql import functions as F

    from govlake.transform.entities import match_key

    names = ["青岛海湾物流（青岛）有限公司", " 青岛\u3000海湾 物流\t(青岛)有限公司\n", None]
    rows = spark.createDataFrame([(n,) for n in names], "name string")
    spark_keys = [r.k for r in rows.select(match_key(F.col("name")).alias("k")).collect()]
    with duckdb.connect(warehouse) as con:
        con.execute(sql("macros"))
        found = con.execute("SELECT match_key(n) FROM unnest(?) AS t(n)", [names]).fetchall()
    assert [key for (key,) in found] == spark_keys
    assert spark_keys[:2] == ["青岛海湾物流(青岛)有限公司"] * 2
