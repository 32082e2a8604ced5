"""The reference build's inputs, registered on its DuckDB connection as relations.

Each source table is read from the same files the Spark build reads
(:func:`govlake.transform.run.sources`): its change log (clean and quarantined versions, the
live key set) is shaped here into the columns the SQL ranks on, and ``conform.sql`` picks each
key's latest version. The relation of dataset ``system.table`` is named ``system_table``. The
calendar and the region list are computed in Python, as the Spark build computes them: they are
inputs, not transforms.
"""

from __future__ import annotations

import operator
from datetime import date
from functools import reduce
from importlib import resources

import duckdb
import pyarrow as pa
from duckdb import CaseExpression, StarExpression
from duckdb import ColumnExpression as Col
from duckdb import ConstantExpression as Const
from duckdb import FunctionExpression as Fn

from govlake import contracts, regions
from govlake.identifiers import USCC_PLACEHOLDER
from govlake.lake import Lake
from govlake.quality.releases import SEPARATOR
from govlake.quality.split import FLAGS, REASONS
from govlake.transform import dates
from govlake.transform.conform import Files, duplicate_rule, judges_duplicates
from govlake.transform.entities import hmac_pads
from govlake.transform.run import sources

PARTITION_DAY = r"/dt=(\d{4}-\d{2}-\d{2})/"  # a file's partition day, from its folder
REGISTER = "credit.enterprise_register"  # its every clean version feeds the entity history
# Tables whose keys' first clean day is a column of their facts (publication compliance).
FIRST_PUBLISHED = ("approval.licence_decisions", "enforcement.penalty_decisions")
# What dq.withheld_keys ranks, every table's versions in one relation (``change_log``).
WITHHELD_INPUT = ("_key_text", "_watermark", "_dt", "_held", "_reasons")


def sql(name: str) -> str:
    """The constant SQL text of ``<name>.sql`` in this package."""
    return resources.files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def relation_name(dataset: str) -> str:
    return dataset.replace(".", "_")


def register_sources(con: duckdb.DuckDBPyConnection, lake: Lake, day: date) -> None:
    """Every source table's latest versions, the register's every clean version
    (``credit_enterprise_register_versions``) and all tables' change logs (``change_log``)."""
    logs = []
    for name in contracts.CONTRACTS:
        history = change_log(con, *sources(lake, name, day))
        log = duplicates_held(history, contracts.get(name))
        con.register(relation_name(name), conformed(log))
        if name in FIRST_PUBLISHED:
            con.register(f"{relation_name(name)}_first_published", first_published(log))
        if name == REGISTER:  # a version is a key and a watermark
            # Every clean version, as the Spark build's history reads it: the duplicate rule
            # judges the latest versions only.
            versions = history.with_columns(_key=Fn("row", Col("_key"), Col("_watermark")))
            con.register(f"{relation_name(name)}_versions", conformed(versions))
        logs.append(log.select(Const(name).alias("dataset"), *map(Col, WITHHELD_INPUT)))
    con.register("change_log", reduce(lambda a, b: a.union_by_name(b), logs))


def conformed(versions: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The latest clean version per ``_key`` of a :func:`change_log` (conform.sql), computed
    once: several tables read it."""
    return versions.query("versions", sql("conform")).materialize()


def first_published(versions: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """``_key`` -> ``first_published_on``: the day of the key's first clean version in a
    :func:`change_log` (the first build that held it)."""
    return versions.query(
        "versions",
        "SELECT _key, min(_dt) FILTER (WHERE NOT _held)::DATE AS first_published_on "
        "FROM versions GROUP BY _key HAVING first_published_on IS NOT NULL",
    ).materialize()


def change_log(
    con: duckdb.DuckDBPyConnection,
    contract: contracts.Contract,
    clean_files: Files,
    quarantine_files: Files,
    live_keys: str | None,
) -> duckdb.DuckDBPyRelation:
    """Every version of every key the source still holds, clean or held: the clean columns
    and ``_key`` (the primary key as one value), ``_key_text`` (as releases name rows, NULL
    unless every key column is set), ``_watermark``, ``_dt`` (the partition day), ``_held`` and
    the held version's ``_reasons``."""
    keys = list(contract.primary_key)
    clean = _read(con, clean_files)
    types = dict(zip(clean.columns, clean.types, strict=True))
    versions = clean.select(
        *map(Col, [*contract.column_names, FLAGS, "filename"]),
        Const(False).alias("_held"),
        Const(None).cast(duckdb.list_type(duckdb.sqltype("VARCHAR"))).alias("_reasons"),
    )
    if quarantine_files:  # quarantined rows are raw-typed: their keys get the clean types
        held = _read(con, quarantine_files).select(
            *(Col(c).cast(types[c]).alias(c) for c in (*keys, contract.watermark)),
            Col("filename"),
            Const(True).alias("_held"),
            Col(REASONS).alias("_reasons"),
        )
        versions = versions.union_by_name(held)
    if live_keys:  # a key missing from the source's newest key set was hard-deleted
        live = con.read_parquet(live_keys).select(*(Col(k).cast(types[k]).alias(k) for k in keys))
        versions = versions.join(live, keys, how="semi")
    return versions.select(
        StarExpression(exclude=["filename"]),
        Fn("row", *map(Col, keys)).alias("_key"),
        _key_text(keys).alias("_key_text"),
        Col(contract.watermark).alias("_watermark"),
        Fn("regexp_extract", Col("filename"), Const(PARTITION_DAY), Const(1)).alias("_dt"),
    )


def duplicates_held(
    versions: duckdb.DuckDBPyRelation, contract: contracts.Contract
) -> duckdb.DuckDBPyRelation:
    """A :func:`change_log` with a held copy of the latest version of every key whose complete
    business key a smaller primary key's clean latest version holds (duplicates.sql; the held
    copy outranks the clean one, as a quarantined copy of one version does): the Spark build's
    :func:`govlake.transform.conform.duplicates_held`."""
    if not judges_duplicates(contract):
        return versions
    business = contract.business_keys
    named = (
        Col(c).isnotnull() & (Col(c).cast("VARCHAR") != Const(USCC_PLACEHOLDER)) for c in business
    )
    judged = versions.select(
        StarExpression(),
        Fn("row", *map(Col, business)).alias("_business"),
        reduce(operator.and_, named).alias("_complete"),
    )
    duplicates = judged.query("versions", sql("duplicates")).select(
        StarExpression(exclude=["_reasons"]),
        Fn("list_value", Const(duplicate_rule(contract))).alias("_reasons"),
    )
    return versions.union_by_name(duplicates)


def _read(con: duckdb.DuckDBPyConnection, partitions: Files) -> duckdb.DuckDBPyRelation:
    """Every partition's files in one scan, each row with the ``filename`` it came from."""
    files = [uri for _, uris in partitions for uri in uris]
    return con.read_parquet(files, filename=True, union_by_name=True)


def _key_text(keys: list[str]) -> duckdb.Expression:
    text = Fn(
        "concat_ws", Const(SEPARATOR), *(Col(k).cast(duckdb.sqltype("VARCHAR")) for k in keys)
    )
    return CaseExpression(reduce(operator.and_, (Col(k).isnotnull() for k in keys)), text)


def register_inputs(con: duckdb.DuckDBPyConnection, day: date, secret: bytes) -> None:
    """The build day (``getvariable('build_day')``), the calendar (``calendar``), the regions
    (``regions``) and the person-key secret's HMAC pads (``person_key()`` of macros.sql)."""
    con.execute("SET VARIABLE build_day = ?", [day])
    calendar = dates.date_dimension(dates.FIRST_DAY, dates.last_day(day))
    con.register("calendar", pa.Table.from_pandas(calendar, preserve_index=False))
    con.register("regions", pa.Table.from_pandas(regions.dimension(), preserve_index=False))
    register_person_key(con, secret)


def register_person_key(con: duckdb.DuckDBPyConnection, secret: bytes) -> None:
    """The variables ``person_key()`` of macros.sql hashes with: the HMAC pads of ``secret``
    (:func:`govlake.transform.entities.hmac_pads`)."""
    inner, outer = hmac_pads(secret)
    con.execute("SET VARIABLE inner_pad = ?", [inner])
    con.execute("SET VARIABLE outer_pad = ?", [outer])
