"""The feed into the city credit database (信用信息归集): its target tables and the push.

The credit database is not govlake's: the tables below are the contract govlake writes to
(a push creates them where they are missing: SQLite embedded, PostgreSQL in services).
Every push is one transaction of idempotent upserts that writes only what differs, so a second
push of the same day changes nothing:

- ``credit_record``: one row per credit record (行政处罚 while publishable, 行政许可, 纳税信用等级,
  经营异常名录, 严重失信主体名单, 失信被执行人), keyed by its source record. A record that leaves
  publicity, ends, is revoked or repaired is marked ``withdrawn`` with the day and reason, never
  deleted; one that disappears from the source is withdrawn as ``removed_at_source``. A record
  is sent first while in force: one withdrawn before it was ever sent is not sent.
- Organisations are keyed by 统一社会信用代码, or 工商注册号 without one. Natural persons are keyed
  by the credit system's own person key (人员编号), matched inside the warehouse's ``restricted``
  schema by ID number; a person the credit system does not know is sent in ``new_person`` with
  the ID number over this trusted connection, and the record names that number.
- ``credit_grade`` and ``credit_grade_point``: every enterprise's score and grade A–D under the
  model named, and the records and points that produced it (``graded_on``: the day it last
  changed), so an objection (异议) is answered from the rows.
- ``feed_run``: the days pushed and the model of each. A push of a day older than the newest
  pushed is refused, so a backfill never takes the credit database back in time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import duckdb
import pyarrow as pa
import sqlalchemy as sa
from duckdb import CoalesceOperator, Expression
from duckdb import ColumnExpression as Col
from duckdb import ConstantExpression as Const
from sqlalchemy.dialects import postgresql, sqlite

from govlake import load
from govlake.config import redact_url
from govlake.errors import CreditFeedError
from govlake.publish import grading

TARGET = sa.MetaData()


def _text(name: str, length: int, comment: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.String(length), comment=comment, **kwargs)


def _subject() -> list[sa.Column]:
    return [
        _text("uscc", 18, "统一社会信用代码"),
        _text("registration_number", 20, "工商注册号(无统一社会信用代码时)"),
    ]


RECORDS = sa.Table(
    "credit_record",
    TARGET,
    _text("record_key", 80, "来源记录(来源表:记录编号)", primary_key=True),
    _text("record_type", 20, "信用记录类别", nullable=False),
    _text("subject_kind", 20, "主体类别 organisation / person", nullable=False),
    *_subject(),
    _text("person_id", 20, "信用系统自然人编号"),
    _text("new_person_id_number", 18, "信用系统尚无的自然人的身份证号码(见 new_person)"),
    _text("document_number", 128, "文书号或记录编号"),
    sa.Column("record_on", sa.Date, comment="决定、评定或列入日期"),
    sa.Column("ends_on", sa.Date, comment="公示截止、有效期至或移出日期"),
    _text("authority", 200, "决定或认定机关"),
    _text("summary", 400, "事由摘要"),
    sa.Column("fine_amount_wan", sa.Numeric(18, 4), comment="罚款金额(万元)"),
    _text("level", 4, "纳税信用级别"),
    _text("status", 10, "active / withdrawn", nullable=False),
    sa.Column("withdrawn_on", sa.Date, comment="撤下日期"),
    _text("withdrawn_reason", 40, "撤下原因(expired/revoked/repaired/ended/...)"),
    sa.Column("first_sent_on", sa.Date, nullable=False, comment="首次推送的业务日"),
    sa.Column("updated_on", sa.Date, nullable=False, comment="最近一次变更的业务日"),
    comment="govlake 推送的信用记录",
)
NEW_PERSONS = sa.Table(
    "new_person",
    TARGET,
    _text("id_number", 18, "公民身份号码", primary_key=True),
    _text("name", 200, "姓名"),
    sa.Column("first_sent_on", sa.Date, nullable=False, comment="首次推送的业务日"),
    comment="信用系统尚无的自然人(由信用系统分配人员编号)",
)
GRADES = sa.Table(
    "credit_grade",
    TARGET,
    _text("subject_key", 20, "统一社会信用代码(或工商注册号)", primary_key=True),
    *_subject(),
    _text("name", 200, "主体名称"),
    sa.Column("score", sa.Integer, nullable=False, comment="信用分"),
    _text("grade", 1, "信用等级 A-D", nullable=False),
    _text("override_reason", 20, "直接评为D级的记录类别"),
    _text("model_version", 40, "评分模型版本", nullable=False),
    sa.Column("graded_on", sa.Date, nullable=False, comment="本评价首次得出的业务日"),
    comment="企业公共信用综合评价",
)
GRADE_POINTS = sa.Table(
    "credit_grade_point",
    TARGET,
    _text("subject_key", 20, "主体(credit_grade)", primary_key=True),
    _text("record_key", 80, "记录(credit_record)", primary_key=True),
    _text("record_type", 20, "信用记录类别", nullable=False),
    _text("rule", 40, "评分规则", nullable=False),
    sa.Column("points", sa.Integer, nullable=False, comment="加减分"),
    sa.Column("grades_d", sa.Boolean, nullable=False, comment="直接评为D级"),
    comment="每个信用评价的得分明细",
)
FEED_RUNS = sa.Table(
    "feed_run",
    TARGET,
    sa.Column("as_of", sa.Date, primary_key=True, comment="推送的业务日"),
    _text("model_version", 40, "评分模型版本", nullable=False),
    comment="govlake 的推送记录",
)

FEED_RECORDS = "restricted.credit_feed_records"  # warehouse side, the loader's role only
FEED_NEW_PERSONS = "restricted.credit_feed_new_persons"
SOURCES = (FEED_RECORDS, FEED_NEW_PERSONS, grading.GRADES, grading.POINTS, grading.SCORING)
BATCH_ROWS = 50_000  # rows per read and per executemany
STAMPS = ("first_sent_on", "updated_on")  # a record's days in the credit database
WITHDRAWN = ("withdrawn_on", "withdrawn_reason")
# A record as the warehouse has it now: sent while in force, and kept (withdrawn) once sent;
# one sent before and gone from the warehouse is withdrawn as removed at the source.
DESIRED_RECORDS = """
SELECT s.* EXCLUDE (in_force, withdrawn_on, withdrawn_reason),
       CASE WHEN s.in_force THEN 'active' ELSE 'withdrawn' END AS status,
       CASE WHEN NOT s.in_force THEN s.withdrawn_on END AS withdrawn_on,
       CASE WHEN NOT s.in_force THEN s.withdrawn_reason END AS withdrawn_reason
FROM source s
LEFT JOIN target t USING (record_key)
WHERE s.in_force OR t.record_key IS NOT NULL
UNION ALL BY NAME
SELECT t.* EXCLUDE (status, withdrawn_on, withdrawn_reason, first_sent_on, updated_on),
       'withdrawn' AS status, COALESCE(t.withdrawn_on, $day) AS withdrawn_on,
       COALESCE(t.withdrawn_reason, 'removed_at_source') AS withdrawn_reason
FROM target t
ANTI JOIN source s USING (record_key)
"""
Stamp = Callable[[date], Expression]  # a written row's stamp, from its row now and the day


def _today(day: date) -> Expression:
    return Const(day)


def _first_sent(day: date) -> Expression:
    return CoalesceOperator(Col("first_sent_on"), Const(day))  # kept from the first push


SENT = {"first_sent_on": _first_sent}


def push(warehouse_url: str, credit_url: str, day: date) -> dict:
    """Push the warehouse's credit records and grades as of ``day`` (its last publish) into the
    credit database, in one transaction; returns the rows written and removed per table."""
    engine = sa.create_engine(credit_url, poolclass=sa.pool.NullPool)
    try:
        TARGET.create_all(engine)
        with engine.begin() as conn:
            newest = conn.scalar(sa.select(sa.func.max(FEED_RUNS.c.as_of)))
            if newest is not None and newest > day:
                return {"day": day.isoformat(), "skipped": f"{newest} is already pushed"}
            written = _push(conn, warehouse_url, day)
    except sa.exc.DBAPIError as exc:  # its text may quote row values: not chained
        raise CreditFeedError(
            f"pushing to the credit database at {redact_url(credit_url)} failed: "
            f"{str(exc.orig).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    return {"day": day.isoformat(), "credit_db": redact_url(credit_url), "tables": written}


def counts(credit_url: str) -> dict[str, dict[str, int]]:
    """What the credit database holds of govlake's feed: records per status, grades per grade."""
    engine = sa.create_engine(credit_url, poolclass=sa.pool.NullPool)
    try:
        if not sa.inspect(engine).has_table(RECORDS.name):
            return {"records": {}, "grades": {}}
        with engine.connect() as conn:
            return {
                name: dict(conn.execute(sa.select(col, sa.func.count()).group_by(col)).all())
                for name, col in (("records", RECORDS.c.status), ("grades", GRADES.c.grade))
            }
    finally:
        engine.dispose()


def _push(conn: sa.Connection, warehouse_url: str, day: date) -> dict:
    def source(view: str, table: sa.Table, *stamps: str) -> pa.Table:
        return load.read_arrow(warehouse_url, view, _schema(table, exclude=stamps))

    model = source(grading.SCORING, FEED_RUNS, "as_of")["model_version"][0].as_py()
    records = load.read_arrow(warehouse_url, FEED_RECORDS, _feed_schema())
    feed = (  # table, its source, what it should hold, stamps, delete what is not desired
        (NEW_PERSONS, source(FEED_NEW_PERSONS, NEW_PERSONS, *SENT), None, SENT, False),
        (RECORDS, records, DESIRED_RECORDS, {"updated_on": _today, **SENT}, False),
        (GRADES, source(grading.GRADES, GRADES, "graded_on"), None, {"graded_on": _today}, True),
        (GRADE_POINTS, source(grading.POINTS, GRADE_POINTS), None, {}, True),
    )
    done = {table.name: _sync(conn, table, *rest, day=day) for table, *rest in feed}
    conn.execute(
        _dialect(conn).insert(FEED_RUNS).on_conflict_do_nothing(),
        [{"as_of": day, "model_version": model}],
    )
    return done


def _feed_schema() -> pa.Schema:
    """The warehouse's feed view: a record's columns, whether it is in force, and if not since
    when and why."""
    record = _schema(RECORDS, exclude=("status", *STAMPS))
    return record.insert(record.get_field_index(WITHDRAWN[0]), pa.field("in_force", pa.bool_()))


def _sync(
    conn: sa.Connection,
    table: sa.Table,
    source: pa.Table,
    desired: str | None,
    stamps: dict[str, Stamp],
    delete_stale: bool,
    day: date,
) -> dict[str, int]:
    """Make ``table`` hold ``desired`` (SQL over ``source`` and ``target``, the table's rows
    now, and ``$day``; default: all of ``source``), writing only the rows that differ, each with
    its ``stamps`` (made from its row now and the day); with ``delete_stale``, rows whose key is
    not desired are deleted."""
    keys = ", ".join(c.name for c in table.primary_key)
    compared = [c.name for c in table.c if c.name not in stamps]
    with duckdb.connect() as con:
        con.register("source", source)
        con.register("target", _read_target(conn, table))
        if desired:  # a query with parameters runs at once: keep its result
            con.register("desired", con.sql(desired, params={"day": day}).to_arrow_table())
        rows = con.view("desired" if desired else "source")
        target = con.view("target")
        changed = rows.select(*compared).except_(target.select(*compared))
        now = changed.join(
            target.select(*(c.name for c in table.primary_key), *stamps), keys, how="left"
        )
        written = now.select(
            *(Col(c) for c in compared), *(stamp(day).alias(name) for name, stamp in stamps.items())
        ).to_arrow_table()
        stale = target.select(keys).join(rows.select(keys), keys, how="anti").to_arrow_table()
    _upsert(conn, table, written)
    if delete_stale:
        _delete(conn, table, stale)
    return {"written": written.num_rows, "removed": stale.num_rows if delete_stale else 0}


def _schema(table: sa.Table, exclude: tuple[str, ...] = ()) -> pa.Schema:
    """``table``'s columns as Arrow types, the one typing of both sides of a comparison."""
    return pa.schema([(c.name, _arrow_type(c.type)) for c in table.c if c.name not in exclude])


def _arrow_type(kind: sa.types.TypeEngine) -> pa.DataType:
    if isinstance(kind, sa.Numeric):
        return pa.decimal128(kind.precision, kind.scale)
    types = {
        sa.String: pa.string(),
        sa.Date: pa.date32(),
        sa.Integer: pa.int64(),
        sa.Boolean: pa.bool_(),
    }
    return next(arrow for sa_type, arrow in types.items() if isinstance(kind, sa_type))


def _read_target(conn: sa.Connection, table: sa.Table) -> pa.Table:
    return load.fetch_arrow(conn, sa.select(table), _schema(table), BATCH_ROWS)


def _dialect(conn: sa.Connection):  # the module with the dialect's INSERT .. ON CONFLICT
    return postgresql if conn.dialect.name == "postgresql" else sqlite


def _upsert(conn: sa.Connection, table: sa.Table, rows: pa.Table) -> None:
    stmt = _dialect(conn).insert(table)
    keys = [c.name for c in table.primary_key]
    others = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=others)
    for batch in rows.to_batches(BATCH_ROWS):
        if batch.num_rows:  # an empty executemany is no statement at all
            conn.execute(stmt, batch.to_pylist())


def _delete(conn: sa.Connection, table: sa.Table, keys: pa.Table) -> None:
    match = [table.c[k] == sa.bindparam(f"key_{k}") for k in keys.column_names]
    for batch in keys.to_batches(BATCH_ROWS):
        if not batch.num_rows:
            continue
        rows = [{f"key_{k}": v for k, v in row.items()} for row in batch.to_pylist()]
        conn.execute(sa.delete(table).where(*match), rows)
