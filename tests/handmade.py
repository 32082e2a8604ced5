"""Hand-made warehouses for the tests of marts and views: an embedded DuckDB warehouse migrated to
head and filled with a few rows per table, queried directly, published as a publish run would."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from govlake import load
from govlake.config import CreditScoringSettings, PublicitySettings
from govlake.publish import grading, publicity

# What a NOT NULL column the rows leave out holds, by type; text gets "x".
PLACEHOLDERS = {
    "BIGINT": 0,
    "BOOLEAN": False,
    "DATE": date(2026, 6, 1),
    "TIMESTAMP": datetime(2026, 5, 31, 18),
}


def filled(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> pa.Table:
    """``rows`` with a placeholder in every other NOT NULL column of ``table`` (the views under
    test read only the columns the rows give)."""
    schema, name = table.split(".")
    required = con.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and "
        "table_name = ? and not is_nullable",
        [schema, name],
    ).fetchall()
    return pa.Table.from_pylist(
        [{n: PLACEHOLDERS.get(t, "x") for n, t in required} | row for row in rows]
    )


def warehouse(path: Path, rows: Mapping[str, list[dict] | pa.Table]) -> str:
    """The URL of a DuckDB warehouse under ``path``, migrated to head, whose tables hold
    ``rows`` (an Arrow table as it is; dicts :func:`filled`)."""
    url = f"duckdb:///{path / 'w.duckdb'}"
    load.migrate(url)
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        tables = {t: r if isinstance(r, pa.Table) else filled(con, t, r) for t, r in rows.items()}
    load.replace_tables(url, tables)
    return url


def query(url: str, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def read(url: str, table: str) -> pa.Table:
    with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as con:
        return con.table(table).to_arrow_table()


def publish(
    url: str,
    day: date,
    rules: PublicitySettings | None = None,
    model: CreditScoringSettings | None = None,
) -> None:
    """What a publish run of ``day`` writes: the day, the publicity rules, the scoring model."""
    tables = publicity.rule_tables(rules or PublicitySettings(), day)
    load.replace_tables(url, tables | grading.scoring_tables(model or CreditScoringSettings()))
