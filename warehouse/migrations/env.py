"""Alembic environment of the govlake warehouse, for PostgreSQL and DuckDB (duckdb-engine).

Driven programmatically by ``govlake.load.migrate``, which hands over an open connection in
``config.attributes["connection"]``. Run by hand, it takes the URL from ``-x url=...`` or from the
settings (``GOVLAKE_WAREHOUSE_URL``). No alembic.ini is needed.

Alembic's version table lives in the ``ops`` schema, which is therefore created here, before
Alembic looks for the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from alembic.ddl.postgresql import PostgresqlImpl

from govlake.load import VERSION_SCHEMA, VERSION_TABLE


class DuckDBImpl(PostgresqlImpl):
    """duckdb-engine 0.17 registers no Alembic implementation (Alembic fails with KeyError
    'duckdb'); its dialect derives from PostgreSQL's, so PostgreSQL's DDL implementation fits.
    DuckDB's DDL is transactional. Not usable for autogenerate: SQLAlchemy 2.1's PostgreSQL
    column reflection queries pg_catalog.pg_collation, which DuckDB lacks; write migrations by
    hand (DuckDB can ALTER little anyway: prefer adding tables and columns)."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from govlake.config import get_settings

    secret = get_settings().warehouse_url
    if secret is None:
        raise RuntimeError("no warehouse URL: pass -x url=... or set GOVLAKE_WAREHOUSE_URL")
    return secret.get_secret_value()


def _run(connection: sa.Connection) -> None:
    # Committed on its own: the caller hands over a connection outside any transaction.
    connection.execute(sa.schema.CreateSchema(VERSION_SCHEMA, if_not_exists=True))
    connection.commit()
    context.configure(
        connection=connection,
        version_table=VERSION_TABLE,
        version_table_schema=VERSION_SCHEMA,
        transaction_per_migration=False,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: run migrations against a database")
run_online()
