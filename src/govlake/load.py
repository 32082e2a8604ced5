"""Bulk load into the warehouse (PostgreSQL or DuckDB) and atomic publish.

The warehouse model belongs to the Alembic migrations in ``warehouse/migrations``; this module runs
them (:func:`migrate`), replaces the whole content of a build's tables in one transaction
(:func:`publish`: DuckDB scans the registered Arrow table, PostgreSQL takes ``COPY ...
FROM STDIN``; a table with content gets only the rows that differ; a publish of a day older than
the one the warehouse holds is refused, :class:`OlderDay`), and computes an
order-independent content checksum that is the same for the same content in both engines
(:func:`table_checksum`).

Errors come out as :class:`~govlake.errors.WarehouseError` with one line to act on; URLs in them
are shown with the password hidden, and driver messages are cut to their first line, because
their details can quote row values (personal data).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from govlake.config import PROJECT_DIR, redact_url
from govlake.errors import WarehouseError

MIGRATIONS_DIR = PROJECT_DIR / "warehouse" / "migrations"
VERSION_SCHEMA = "ops"  # Alembic's version table lives here (created by the migrations' env.py)
VERSION_TABLE = "alembic_version"
COPY_BATCH_ROWS = 50_000
CONNECT_TIMEOUT_S = 10
# DuckDB takes 80% of the machine by default; a publish stages whole tables, so it is held to
# this and spills to disk past it (``?memory_limit=`` in the warehouse URL overrides it).
DUCKDB_MEMORY_LIMIT = "1500MB"


# --- connections -----------------------------------------------------------------------------


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


def _engine(url: str) -> sa.Engine:
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:  # its message quotes the whole URL, password included
        raise WarehouseError(
            f"invalid warehouse URL {redact_url(url)}: check GOVLAKE_WAREHOUSE_URL"
        ) from None
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S  # fail fast, not after TCP's minutes
    if parsed.get_backend_name() == "duckdb" and "memory_limit" not in parsed.query:
        connect_args["config"] = {"memory_limit": DUCKDB_MEMORY_LIMIT}
    # NullPool: every connection is closed when done, so a DuckDB file is not left locked.
    return sa.create_engine(parsed, poolclass=sa.pool.NullPool, connect_args=connect_args)


def _first_line(exc: BaseException, url: str) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    line = text.splitlines()[0] if text else type(orig).__name__
    password = make_url(url).password
    return line.replace(str(password), "***") if password else line


@contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    engine = _engine(url)
    try:
        try:
            _make_duckdb_dir(engine.url)
            conn = engine.connect()
        except Exception as exc:  # any failure to connect is the same problem for the user
            raise WarehouseError(_connect_message(url, exc)) from None
        with conn:
            yield conn
    finally:
        engine.dispose()


def _make_duckdb_dir(url: sa.URL) -> None:
    if url.get_backend_name() == "duckdb" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _connect_message(url: str, exc: BaseException) -> str:
    where = redact_url(url)
    reason = _first_line(exc, url)
    if backend(url) == "duckdb":
        hint = "check GOVLAKE_WAREHOUSE_URL, and that no other process holds the file open"
        return f"cannot open the warehouse at {where}: {reason}; {hint}"
    hint = "is it running? (`make up`, or check GOVLAKE_WAREHOUSE_URL)"
    return f"cannot connect to the warehouse at {where}: {reason}; {hint}"


def _driver_errors(url: str) -> tuple[type[BaseException], ...]:
    if backend(url) == "duckdb":
        import duckdb

        return (sa.exc.DBAPIError, duckdb.Error)
    import psycopg

    return (sa.exc.DBAPIError, psycopg.Error)


@contextmanager
def failing_as(url: str, doing: str) -> Iterator[None]:
    """Turn a database error into a WarehouseError; not chained, as the driver's detail may
    quote row values."""
    try:
        yield
    except _driver_errors(url) as exc:
        raise WarehouseError(
            f"{doing} at {redact_url(url)} failed: {_first_line(exc, url)}"
        ) from None


# --- migrations ------------------------------------------------------------------------------


def _alembic(conn: sa.Connection):  # -> alembic.config.Config
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


def _run_alembic(url: str, direction: str, revision: str, doing: str) -> None:
    from alembic import command
    from alembic.util import CommandError

    with connect(url) as conn, failing_as(url, doing):
        try:
            getattr(command, direction)(_alembic(conn), revision)
        except CommandError as exc:  # e.g. an unknown revision
            raise WarehouseError(f"{doing} at {redact_url(url)} failed: {exc}") from None


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the warehouse at ``url`` to ``revision``; a no-op when it is there already."""
    _run_alembic(url, "upgrade", revision, f"migrating the warehouse to {revision}")


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the warehouse at ``url`` to ``revision`` (``base``: drop the whole model)."""
    _run_alembic(url, "downgrade", revision, f"downgrading the warehouse to {revision}")


def head_revision() -> str:
    """The newest revision of the migrations shipped with this version of govlake."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(url: str) -> str | None:
    """The warehouse's Alembic revision, or None before the first migration."""
    with connect(url) as conn, failing_as(url, "reading the warehouse revision"):
        if not _columns(conn, VERSION_SCHEMA, VERSION_TABLE):
            return None
        version = sa.table(VERSION_TABLE, sa.column("version_num"), schema=VERSION_SCHEMA)
        heads = conn.execute(sa.select(version.c.version_num)).scalars().all()
    return ",".join(sorted(heads)) or None


# --- tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    data_type: str


def _split(table: str) -> tuple[str, str]:
    schema, _, name = table.rpartition(".")
    if not schema or not name:
        raise ValueError(f"table name {table!r} must be qualified by its schema, e.g. core.x")
    return schema, name


def _columns(conn: sa.Connection, schema: str, name: str) -> list[_Column]:
    # information_schema, not SQLAlchemy's inspector: on duckdb-engine 0.17 with SQLAlchemy 2.1
    # the PostgreSQL reflection query fails (DuckDB has no pg_catalog.pg_collation).
    cols = _information_schema(
        "columns", "table_schema", "table_name", "column_name", "data_type", "ordinal_position"
    ).c
    stmt = (
        sa.select(cols.column_name, cols.data_type)
        .where(cols.table_schema == schema, cols.table_name == name)
        .order_by(cols.ordinal_position)
    )
    return [_Column(n, t) for n, t in conn.execute(stmt)]


def _table_columns(conn: sa.Connection, url: str, table: str) -> list[_Column]:
    columns = _columns(conn, *_split(table))
    if not columns:
        raise WarehouseError(
            f"no table {table} in the warehouse at {redact_url(url)}: run the migrations first"
        )
    return columns


def column_names(url: str, table: str) -> list[str]:
    """The warehouse table's columns, in order (what a load can fill)."""
    with connect(url) as conn:
        return [c.name for c in _table_columns(conn, url, table)]


def _table(table: str, names: list[str]) -> sa.TableClause:
    schema, name = _split(table)
    return sa.table(name, *(sa.column(n) for n in names), schema=schema)


def row_count(url: str, table: str) -> int:
    with connect(url) as conn, failing_as(url, f"counting {table}"):
        _table_columns(conn, url, table)
        return conn.execute(sa.select(sa.func.count()).select_from(_table(table, []))).scalar_one()


def group_counts(url: str, table: str, columns: list[str]) -> list[dict]:
    """The rows of ``table`` (or view) counted per value of ``columns``, as dicts with ``rows``."""
    with connect(url) as conn, failing_as(url, f"counting {table}"):
        _table_columns(conn, url, table)
        target = _table(table, columns)
        stmt = sa.select(*target.c, sa.func.count().label("rows")).group_by(*target.c)
        return [dict(r._mapping) for r in conn.execute(stmt.order_by(*target.c))]


# --- bulk load -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """One table's publish: the rows it now holds, and the rows the load wrote and removed to
    get there (a key whose row changed counts in both)."""

    rows: int
    written: int
    removed: int


def replace_table(url: str, table: str, data: pa.Table) -> int:
    """Replace the whole content of ``table`` with ``data`` (see :func:`publish`)."""
    return publish(url, {table: data})[table].rows


def replace_tables(url: str, tables: Mapping[str, pa.Table]) -> dict[str, int]:
    """:func:`publish`, returning only the rows each table now holds."""
    return {table: done.rows for table, done in publish(url, tables).items()}


@dataclass(frozen=True)
class AsOf:
    """The day a publish is of, and where the warehouse keeps the day it holds: ``column`` of
    the one-row ``table`` (which the publish itself replaces)."""

    table: str
    column: str
    day: date


class OlderDay(Exception):  # noqa: N818 (not an error: the publish is skipped on purpose)
    """A publish refused because the warehouse already holds a later day (``newest``): a
    backfill of a past day never takes the warehouse or the portal back in time."""

    def __init__(self, as_of: AsOf, newest: date) -> None:
        super().__init__(f"{as_of.table} holds {newest}, later than {as_of.day}")
        self.as_of, self.newest = as_of, newest


def publish(
    url: str, tables: Mapping[str, pa.Table], as_of: AsOf | None = None
) -> dict[str, Published]:
    """Replace the whole content of every table with its data in ONE transaction (the atomic
    publish of a build). Readers see every table's old content or every table's new content,
    never a mix or an empty table, and a failure leaves all of them as they were. Only the
    columns a table has are loaded, matched by name; others in its data are ignored.

    A table with content gets only the difference: the data is staged in a temporary table,
    and only the rows it does not hold identically are removed and written, so a day that
    changes little writes little (index upkeep, not the scan, is what a big rewrite costs).

    With ``as_of``, the day the warehouse holds is read in the same transaction first: if it is
    later than ``as_of.day``, nothing is written and :class:`OlderDay` is raised. The same day
    again (a re-run) is published as usual."""
    published = {}
    publishing = f"publishing {', '.join(tables)}"
    with connect(url) as conn, failing_as(url, publishing), conn.begin():
        if as_of is not None:
            newest = _newest_day(conn, url, as_of)
            if newest is not None and newest > as_of.day:
                raise OlderDay(as_of, newest)
        for table, data in tables.items():
            with failing_as(url, f"loading {table}"):
                published[table] = _replace(conn, url, table, data)
    return published


def _newest_day(conn: sa.Connection, url: str, as_of: AsOf) -> date | None:
    _table_columns(conn, url, as_of.table)
    target = _table(as_of.table, [as_of.column])
    newest = conn.execute(sa.select(sa.func.max(target.c[as_of.column]))).scalar_one()
    return newest.date() if isinstance(newest, datetime) else newest


def _replace(conn: sa.Connection, url: str, table: str, data: pa.Table) -> Published:
    existing = {c.name for c in _table_columns(conn, url, table)}
    names = [n for n in data.column_names if n in existing]
    if not names:
        raise WarehouseError(f"loading {table}: the data has none of the table's columns")
    data = _naive_timestamps(data.select(names))
    target = _table(table, names)
    key = _primary_key(conn, *_split(table))
    if not key or not conn.execute(sa.select(sa.exists().select_from(target))).scalar_one():
        # DELETE, not TRUNCATE: under MVCC, readers keep seeing the old rows until commit.
        removed = conn.execute(sa.delete(target)).rowcount
        _bulk_insert(conn, target, data)
        return Published(data.num_rows, data.num_rows, max(removed, 0))
    return _apply_difference(conn, table, target, key, data)


def _apply_difference(
    conn: sa.Connection, table: str, target: sa.TableClause, key: list[str], data: pa.Table
) -> Published:
    stage = _temporary(conn, sa.select(*target.c).where(sa.false()))
    _bulk_insert(conn, stage, data)
    if conn.execute(
        sa.select(*(stage.c[k] for k in key)).group_by(*key).having(sa.func.count() > 1).limit(1)
    ).first():
        raise WarehouseError(f"loading {table}: the data holds a key ({', '.join(key)}) twice")
    stale = _temporary(conn, sa.select(*target.c).except_all(sa.select(*stage.c)))
    fresh = _temporary(conn, sa.select(*stage.c).except_all(sa.select(*target.c)))
    same_key = sa.and_(*(stale.c[k] == target.c[k] for k in key))
    removed = conn.execute(sa.delete(target).where(sa.exists().where(same_key))).rowcount
    conn.execute(sa.insert(target).from_select(data.column_names, sa.select(*fresh.c)))
    written = conn.execute(sa.select(sa.func.count()).select_from(fresh)).scalar_one()
    for temporary in (stage, stale, fresh):
        conn.execute(sa.schema.DropTable(temporary))
    return Published(data.num_rows, written, removed)


def _temporary(conn: sa.Connection, rows: sa.Select | sa.CompoundSelect) -> sa.Table:
    """A temporary table holding ``rows`` (with their columns' types), for this transaction."""
    created = sa.schema.CreateTableAs(rows, f"govlake_{uuid.uuid4().hex}", temporary=True)
    conn.execute(created)
    return created.table


def _primary_key(conn: sa.Connection, schema: str, name: str) -> list[str]:
    """The table's primary-key columns in key order (empty when it has none)."""
    where = ("table_schema", "table_name", "constraint_name")
    constraint_table = _information_schema("table_constraints", *where, "constraint_type")
    usage = _information_schema("key_column_usage", *where, "column_name", "ordinal_position").c
    constraints = constraint_table.c
    stmt = (
        sa.select(usage.column_name)
        .join(constraint_table, sa.and_(*(usage[c] == constraints[c] for c in where)))
        .where(
            constraints.table_schema == schema,
            constraints.table_name == name,
            constraints.constraint_type == "PRIMARY KEY",
        )
        .order_by(usage.ordinal_position)
    )
    return list(conn.execute(stmt).scalars())


def _information_schema(view: str, *columns: str) -> sa.TableClause:
    return sa.table(view, *(sa.column(c) for c in columns), schema="information_schema")


def _bulk_insert(conn: sa.Connection, target: sa.TableClause, data: pa.Table) -> None:
    if conn.dialect.name == "duckdb":
        _insert_duckdb(conn, target, data)
    else:
        _copy_postgres(conn, target, data)


def _naive_timestamps(data: pa.Table) -> pa.Table:
    """Timestamp columns with a time zone become that zone's wall-clock time (the warehouse
    keeps local times without zone), so both engines store the same value."""
    import pyarrow.compute as pc

    for i, field in enumerate(data.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            data = data.set_column(i, field.name, pc.local_timestamp(data.column(i)))
    return data


def _insert_duckdb(conn: sa.Connection, target: sa.TableClause, data: pa.Table) -> None:
    raw = conn.connection.driver_connection  # duckdb-engine's wrapper of the DuckDB connection
    view = f"govlake_load_{uuid.uuid4().hex}"
    raw.register(view, data)
    try:
        source = sa.table(view, *(sa.column(n) for n in data.column_names))
        conn.execute(sa.insert(target).from_select(data.column_names, sa.select(*source.c)))
    finally:
        # After a failed INSERT the transaction is aborted and unregister would fail too, hiding
        # the real error; the view is local to this connection, which is closed right after.
        with suppress(Exception):
            raw.unregister(view)


def _copy_postgres(conn: sa.Connection, target: sa.TableClause, data: pa.Table) -> None:
    import pyarrow.csv as pacsv
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv, ENCODING 'UTF8')").format(
        sql.Identifier(*(part for part in (target.schema, target.name) if part)),
        sql.SQL(", ").join(sql.Identifier(n) for n in data.column_names),
    )
    # Arrow's CSV writer quotes every string and leaves NULL unquoted and empty, which is how
    # COPY's CSV format tells an empty string from NULL.
    options = pacsv.WriteOptions(include_header=False)
    raw = conn.connection.driver_connection  # the psycopg connection, in the open transaction
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for batch in data.to_batches(max_chunksize=COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, options)
            copy.write(buffer.getbuffer())


# --- held days and gate overrides (ops) ------------------------------------------------------

HELD_DAYS = "ops.held_days"
GATE_OVERRIDES = "ops.gate_overrides"


def read_rows(url: str, table: str) -> list[dict]:
    """Every row of a (small) table as dicts, e.g. the gate overrides."""
    with connect(url) as conn, failing_as(url, f"reading {table}"):
        names = [c.name for c in _table_columns(conn, url, table)]
        return [dict(r._mapping) for r in conn.execute(sa.select(*_table(table, names).c))]


def read_arrow(url: str, table: str, schema: pa.Schema) -> pa.Table:
    """``schema``'s columns of every row of ``table`` (or view), typed by it."""
    with connect(url) as conn, failing_as(url, f"reading {table}"):
        _table_columns(conn, url, table)
        return fetch_arrow(conn, sa.select(*_table(table, schema.names).c), schema)


def fetch_arrow(
    conn: sa.Connection, stmt: sa.Select, schema: pa.Schema, batch_rows: int = 50_000
) -> pa.Table:
    """The rows of ``stmt`` as an Arrow table of ``schema``, fetched ``batch_rows`` at a time so
    a large result is never all Python objects at once."""
    result = conn.execute(stmt.execution_options(yield_per=batch_rows))  # this query only
    batches = [
        pa.RecordBatch.from_pylist([dict(r._mapping) for r in rows], schema)
        for rows in result.partitions()
    ]
    return pa.Table.from_batches(batches, schema)


def replace_held_days(url: str, rows: list[dict], until: date) -> int:
    """Make ``ops.held_days`` up to ``until`` exactly ``rows`` (dataset, dt, gate, reason), in
    one transaction; later days are left as they are (a backfill does not erase them)."""
    target = _table(HELD_DAYS, ["dataset", "dt", "gate", "reason"])
    with connect(url) as conn, failing_as(url, f"writing {HELD_DAYS}"), conn.begin():
        _table_columns(conn, url, HELD_DAYS)
        conn.execute(sa.delete(target).where(target.c.dt <= until))
        if rows:
            conn.execute(sa.insert(target), rows)
    return len(rows)


def record_override(url: str, dataset: str, dt: date, reason: str, by: str, at: datetime) -> None:
    """Record that an operator released ``dataset``'s day ``dt`` (replacing an earlier record)."""
    names = ["dataset", "dt", "reason", "overridden_by", "overridden_at"]
    target = _table(GATE_OVERRIDES, names)
    row = dict(zip(names, (dataset, dt, reason, by, at), strict=True))
    with connect(url) as conn, failing_as(url, f"writing {GATE_OVERRIDES}"), conn.begin():
        _table_columns(conn, url, GATE_OVERRIDES)
        conn.execute(sa.delete(target).where(target.c.dataset == dataset, target.c.dt == dt))
        conn.execute(sa.insert(target), [row])


# --- checksums -------------------------------------------------------------------------------


def table_checksum(url: str, table: str) -> str:
    """An order-independent checksum of ``table``'s content, the same in PostgreSQL and DuckDB.

    Each row becomes canonical text (columns by name; integers and fixed-scale decimals as
    plain digits, dates ``YYYY-MM-DD``, timestamps ``YYYY-MM-DDTHH:MM:SS.ffffff`` without zone,
    booleans ``true``/``false``, every value prefixed with ``:`` and NULL as the empty string,
    joined by U+001F); the md5 hashes of the rows are sorted and hashed together with the
    column names and row count.
    """
    with connect(url) as conn, failing_as(url, f"checksumming {table}"):
        columns = sorted(_table_columns(conn, url, table), key=lambda c: c.name)
        target = _table(table, [c.name for c in columns])
        parts = [_canonical(conn.dialect.name, target.c[c.name], c, table) for c in columns]
        line = parts[0]
        for part in parts[1:]:
            line = line + _const("\x1f") + part
        rows = sa.select(sa.func.md5(line).label("h")).select_from(target).subquery("rows")
        hashes = sa.func.string_agg(rows.c.h, _const("")).aggregate_order_by(rows.c.h)
        digest = sa.func.md5(sa.func.coalesce(hashes, _const("")))
        db_digest, count = conn.execute(sa.select(digest, sa.func.count()).select_from(rows)).one()
    header = ",".join(c.name for c in columns)
    return hashlib.sha256(f"{header}\n{count}\n{db_digest}".encode()).hexdigest()


def _const(text: str) -> sa.ColumnElement[str]:
    return sa.literal(text, sa.Text, literal_execute=True)


_INTEGER_TYPES = {
    "smallint",
    "integer",
    "bigint",
    "tinyint",
    "hugeint",
    "usmallint",
    "uinteger",
    "ubigint",
    "utinyint",
}
_TEXT_TYPES = {"character varying", "varchar", "text"}


def _canonical(engine: str, col: sa.ColumnClause, column: _Column, table: str) -> sa.ColumnElement:
    kind = column.data_type.lower()
    if kind in _INTEGER_TYPES or kind.startswith(("numeric", "decimal")) or kind == "boolean":
        text = sa.cast(col, sa.Text)  # fixed-scale decimals print all their digits in both
    elif kind in _TEXT_TYPES:
        text = col
    elif kind == "date":
        text = _format_time(engine, col, "YYYY-MM-DD", "%Y-%m-%d")
    elif kind in ("timestamp", "timestamp without time zone"):
        text = _format_time(engine, col, 'YYYY-MM-DD"T"HH24:MI:SS.US', "%Y-%m-%dT%H:%M:%S.%f")
    else:
        raise WarehouseError(
            f"checksumming {table}: column {column.name} has type {column.data_type}, which has "
            "no canonical text form yet (extend govlake.load._canonical)"
        )
    return sa.func.coalesce(_const(":") + text, _const(""))


def _format_time(engine: str, col: sa.ColumnClause, pg_format: str, duckdb_format: str):
    if engine == "duckdb":
        return sa.func.strftime(col, _const(duckdb_format))
    return sa.func.to_char(col, _const(pg_format))
