"""Reads a source table's changed rows from any SQLAlchemy database into Arrow record batches.

SQLite and PostgreSQL use their ADBC drivers (columnar, several times faster than a DB-API cursor);
any other SQLAlchemy URL (Oracle, 达梦, KingbaseES) goes through ``fetchmany`` into Arrow batches.
Either way the query is built by SQLAlchemy from the contract with bound parameters, rows come in
batches and are cast to the contract's raw schema, so memory stays bounded. A changed-rows read
runs a couple of batches ahead in a thread, so the driver decodes the next batch while the caller
writes this one (both release the GIL).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from govlake.config import redact_url
from govlake.contracts import Contract
from govlake.errors import SourceError


@dataclass(frozen=True)
class Window:
    """Watermark bounds in source local time (Asia/Shanghai): start inclusive, end exclusive."""

    start: datetime
    end: datetime


def select_changes(contract: Contract, window: Window | None) -> sa.Select:
    """The rows of ``contract``'s table, or only those whose watermark falls in ``window``."""
    table = contract.source_table(sa.MetaData())
    stmt = sa.select(*(table.c[name] for name in contract.column_names))
    if window is not None:
        mark = table.c[contract.watermark]
        stmt = stmt.where(mark >= window.start, mark < window.end)
    # A stable order makes re-extracting an unchanged interval give an identical partition.
    return stmt.order_by(*(table.c[k] for k in contract.primary_key))


def select_keys(contract: Contract) -> sa.Select:
    """Every primary key the source holds now: compared day by day, they reveal hard deletes."""
    table = contract.source_table(sa.MetaData())
    keys = [table.c[k] for k in contract.primary_key]
    return sa.select(*keys).order_by(*keys)


def read_keys(url: str, contract: Contract) -> pa.Table:
    schema = pa.schema([contract.raw_schema().field(k) for k in contract.primary_key])
    batches = _read(url, contract, select_keys(contract), schema, batch_rows=1_000_000)
    return pa.Table.from_batches(list(batches), schema)


def read_batches(
    url: str, contract: Contract, window: Window | None, batch_rows: int = 50_000
) -> Iterator[pa.RecordBatch]:
    """Yield the selected rows as record batches in the contract's raw schema."""
    yield from _read_ahead(
        _read(url, contract, select_changes(contract, window), contract.raw_schema(), batch_rows)
    )


_END = object()


def _read_ahead(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """``batches``, pulled in a thread up to ``depth`` ahead of the caller; an error there is
    raised here. Closing this generator stops the thread and closes ``batches`` (its connection)
    before it returns."""
    ahead: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pull() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_END)
        except BaseException as exc:  # handed to the caller's thread
            put(exc)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=pull, name="govlake-read-ahead", daemon=True)
    thread.start()
    try:
        while (item := ahead.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def _read(
    url: str, contract: Contract, stmt: sa.Select, schema: pa.Schema, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    backend = make_url(url).get_backend_name()
    reader = _adbc_batches if backend in ("sqlite", "postgresql") else _sqlalchemy_batches
    try:
        for batch in reader(url, stmt, batch_rows):
            yield to_raw_schema(batch, schema)
    except SourceError:
        raise
    except Exception as exc:  # driver errors differ by database; say where and what
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(
            f"reading {contract.name} from {redact_url(url)} failed: {first_line}"
        ) from exc


def to_raw_schema(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    columns = []
    for field in schema:
        column = batch.column(field.name)
        # Drivers that hand numerics over as floats get their shortest round-trip text.
        columns.append(column.cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _adbc_batches(url: str, stmt: sa.Select, batch_rows: int) -> Iterator[pa.RecordBatch]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        from adbc_driver_sqlite import dbapi
        from sqlalchemy.dialects import sqlite

        connect = lambda: dbapi.connect(parsed.database)  # noqa: E731
        dialect = sqlite.dialect(paramstyle="qmark")
    else:
        from adbc_driver_postgresql import dbapi
        from sqlalchemy.dialects import postgresql

        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        connect = lambda: dbapi.connect(libpq)  # noqa: E731
        dialect = postgresql.dialect(paramstyle="numeric_dollar")
    compiled = stmt.compile(dialect=dialect)
    params = [
        _bind(compiled.params[name], parsed.get_backend_name())
        for name in compiled.positiontup or ()
    ]
    with closing(connect()) as conn, closing(conn.cursor()) as cursor:
        cursor.adbc_statement.set_options(**_batch_option(parsed.get_backend_name(), batch_rows))
        cursor.execute(str(compiled), parameters=params or None)
        yield from cursor.fetch_record_batch()


def _batch_option(backend: str, batch_rows: int) -> dict[str, str]:
    if backend == "sqlite":
        return {"adbc.sqlite.query.batch_rows": str(batch_rows)}
    return {}


def _bind(value: object, backend: str) -> object:
    # SQLite keeps DATETIME as ISO text; compare text with text.
    if backend == "sqlite" and isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def _sqlalchemy_batches(url: str, stmt: sa.Select, batch_rows: int) -> Iterator[pa.RecordBatch]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execution_options(stream_results=True).execute(stmt)
            names = list(result.keys())
            while rows := result.fetchmany(batch_rows):
                columns = list(zip(*rows, strict=True))
                yield pa.RecordBatch.from_pydict(
                    {n: pa.array(_plain(c)) for n, c in zip(names, columns, strict=True)}
                )
    finally:
        engine.dispose()


def _plain(values: tuple) -> list:
    from decimal import Decimal

    return [str(v) if isinstance(v, Decimal) else v for v in values]
