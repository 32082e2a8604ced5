"""Writes simulated rows into a department database (SQLite or PostgreSQL, through SQLAlchemy).

Tables come from the contracts with their loose source types: no foreign keys, no unique business
keys, dates typed in as text, so both databases hold exactly the same dirty rows. PostgreSQL is
loaded with COPY, SQLite with ``executemany``; both in one transaction per table.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import sqlalchemy as sa

from govlake.contracts import Contract

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DATETIME in SQLite


class SqlSink:
    def __init__(self, url: str):
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def _table(self, contract: Contract) -> sa.Table:
        return contract.source_table(sa.MetaData())

    def replace(self, contract: Contract, rows: pd.DataFrame) -> None:
        """Drop and recreate the table with ``rows`` (the history)."""
        table = self._table(contract)
        with self.engine.begin() as conn:
            table.drop(conn, checkfirst=True)
            table.create(conn)
            self._insert(conn, contract, rows)

    def upsert(self, contract: Contract, rows: pd.DataFrame, deletes: Iterable = ()) -> None:
        """Replace rows by primary key, insert new ones, hard-delete ``deletes``."""
        table = self._table(contract)
        (key,) = contract.primary_key
        gone = [int(k) for k in (*rows[key].tolist(), *deletes)]
        with self.engine.begin() as conn:
            table.create(conn, checkfirst=True)
            for start in range(0, len(gone), 5_000):
                conn.execute(table.delete().where(table.c[key].in_(gone[start : start + 5_000])))
            self._insert(conn, contract, rows)

    def read(self, contract: Contract, keys: Iterable) -> pd.DataFrame:
        """Current rows with the given primary keys, in key order."""
        table = self._table(contract)
        (key,) = contract.primary_key
        wanted = [int(k) for k in keys]  # numpy integers do not bind as integers in sqlite3
        stmt = sa.select(table).where(table.c[key].in_(wanted)).order_by(table.c[key])
        with self.engine.connect() as conn:  # numerics come back as floats, as they went in
            return pd.read_sql(stmt, conn, coerce_float=True)[contract.column_names]

    def keys(self, contract: Contract) -> np.ndarray:
        table = self._table(contract)
        (key,) = contract.primary_key
        with self.engine.connect() as conn:
            return np.array(
                conn.execute(sa.select(table.c[key]).order_by(table.c[key])).scalars().all(),
                dtype=np.int64,
            )

    def _insert(self, conn: sa.Connection, contract: Contract, rows: pd.DataFrame) -> None:
        if rows.empty:
            return
        rows = rows[contract.column_names]
        raw = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            _copy(raw, contract, rows)
        else:
            statement = self._table(contract).insert().compile(dialect=conn.dialect)
            raw.executemany(str(statement), _python_rows(rows))


def _python_rows(rows: pd.DataFrame) -> list[tuple]:
    text = rows.copy()
    for name in text.columns:
        if pd.api.types.is_datetime64_any_dtype(text[name]):
            text[name] = text[name].dt.strftime(TIMESTAMP_FORMAT)
    return list(text.astype(object).where(text.notna(), None).itertuples(index=False, name=None))


def _copy(raw, contract: Contract, rows: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from psycopg import sql

    # Arrow's CSV writer quotes every string and leaves NULL unquoted and empty: how COPY's CSV
    # format tells '' from NULL.
    table = pa.Table.from_pandas(rows, preserve_index=False)
    buffer = pa.BufferOutputStream()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(contract.table),
        sql.SQL(", ").join(sql.Identifier(c) for c in contract.column_names),
    )
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue().to_pybytes())
