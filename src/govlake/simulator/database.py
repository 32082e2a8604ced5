"""Writes a source table, shaped by its contract, into any SQLAlchemy database."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from govlake.contracts import Contract


def replace_table(url: str, contract: Contract, rows: Iterable[dict], chunk: int = 5_000) -> int:
    """Drop and recreate the contract's table, then insert ``rows``. Returns the row count."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = contract.source_table(metadata)
    count = 0
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        table.create(conn)
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                conn.execute(table.insert(), batch)
                count, batch = count + len(batch), []
        if batch:
            conn.execute(table.insert(), batch)
            count += len(batch)
    engine.dispose()
    return count
