"""Public credit (公共信用信息): the credit record fact and the register's change history.

The five record tables (纳税信用等级, 经营异常名录, 严重失信主体名单, 失信被执行人, 信用修复) become
one fact of credit events, each with its party as an entity of the match table and whether it
holds on the build day. The register's change log becomes an SCD type 2 history of each
registered enterprise's name and 登记状态.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import reduce
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from govlake.transform.conform import clean_versions
from govlake.transform.entities import entity_of, registered
from govlake.transform.run import sources

if TYPE_CHECKING:
    from govlake.transform.run import BuildRun

FCT_CREDIT_EVENT = "core.fct_credit_event"  # 信用记录
DIM_ENTITY_HISTORY = "core.dim_entity_history"  # 主体变更历史
TABLES = (FCT_CREDIT_EVENT, DIM_ENTITY_HISTORY)
REGISTER, TAX, ABNORMAL, SERIOUS, DEBTORS, REPAIRS = (
    "credit.enterprise_register",
    "credit.tax_credit_levels",
    "credit.abnormal_operations",
    "credit.serious_dishonesty",
    "credit.dishonest_debtors",
    "credit.credit_repairs",
)
# record table -> (event type, the party's role in entity_match)
EVENTS = {
    TAX: ("纳税信用等级", "listed"),
    ABNORMAL: ("经营异常名录", "listed"),
    SERIOUS: ("严重失信主体名单", "listed"),
    DEBTORS: ("失信被执行人", "debtor"),
    REPAIRS: ("信用修复", "repaired"),
}
APPROVED = "已通过"  # 审核结果 of a repair that took effect
LIFTED = "已移除"  # 状态 of a 失信被执行人 record taken off the list
EVENT_COLUMNS = (
    "event_key",
    "dataset",
    "record_id",
    "entity_id",
    "event_type",
    "party_name",
    "event_on",
    "ends_on",
    "repaired_on",
    "level",
    "authority",
    "summary",
    "is_active",
    "dq_flags",
)


def build(run: BuildRun) -> None:
    records = {name: run.latest(name) for name in EVENTS}
    run.write(FCT_CREDIT_EVENT, fct_credit_event(records, run.matches, run.day), list(EVENTS))
    versions = clean_versions(run.spark, *sources(run.lake, REGISTER, run.day))
    run.write(DIM_ENTITY_HISTORY, dim_entity_history(versions, run.latest(REGISTER)), [REGISTER])


def fct_credit_event(records: dict[str, DataFrame], matches: DataFrame, as_of: date) -> DataFrame:
    """One row per record of the five record tables (``records``: dataset -> latest versions),
    keyed ``<table>:<record id>``, its party the entity the match table resolved it to.

    An event is active on ``as_of`` when it has taken effect (``event_on``), has not ended
    (``ends_on``: 移出日期, 有效期至, or the next tax rating; a 失信被执行人 record 已移除) and has
    not been repaired away. 信用修复 (DOMAIN.md §1.3, §7.2): an approved repair removes the
    record from display and scoring from its decision day, but the credit record persists and
    the audit trail is kept, so the repaired event stays here with its ``repaired_on`` and is
    only no longer active. A repair itself takes effect on its approval (``event_on`` is NULL
    while it is pending or when it was rejected)."""
    events = reduce(
        DataFrame.unionByName,
        [_event(name, shape(records[name]), matches) for name, shape in _SHAPES.items()],
    )
    rows = events.join(F.broadcast(_repaired(records[REPAIRS])), "event_key", "left")
    started = F.col("event_on").isNotNull() & (F.col("event_on") <= F.lit(as_of))
    active = (
        started
        & _not_before(F.col("ends_on"), as_of)
        & _not_before(F.col("repaired_on"), as_of)
        & ~F.col("_lifted")
    )
    return rows.withColumn("is_active", active).select(*EVENT_COLUMNS)


def _not_before(end: Column, as_of: date) -> Column:
    """True while ``end`` (the first day something no longer holds) has not come by ``as_of``."""
    return end.isNull() | (end > F.lit(as_of))


def _event(dataset: str, rows: DataFrame, matches: DataFrame) -> DataFrame:
    event_type, role = EVENTS[dataset]
    party = entity_of(matches, dataset, role, "record_id")
    return rows.join(party, "record_id", "left").select(
        _key(dataset.split(".")[1], "record_id").alias("event_key"),
        F.lit(dataset).alias("dataset"),
        F.lit(event_type).alias("event_type"),
        F.col(f"{role}_entity_id").alias("entity_id"),
        *rows.columns,
    )


def _key(table: str | Column, record_id: str) -> Column:
    """An event's key: the record's table (without its system) and id, ``table:id``."""
    table = F.lit(table) if isinstance(table, str) else table
    return F.concat(table, F.lit(":"), F.col(record_id).cast("string"))


def _shape(
    rows: DataFrame,
    *,
    record_id: str = "record_id",
    party_name: str | None = "enterprise_name",
    event_on: Column,
    ends_on: Column | None = None,
    level: str | None = None,
    authority: str | None = "authority",
    summary: Column,
    lifted: Column | None = None,
) -> DataFrame:
    """A record table's rows in the event columns shared by every record table."""

    def text(column: str | None) -> Column:
        return F.col(column) if column else F.lit(None).cast("string")

    return rows.select(
        F.col(record_id).alias("record_id"),
        text(party_name).alias("party_name"),
        event_on.alias("event_on"),
        (ends_on if ends_on is not None else F.lit(None).cast("date")).alias("ends_on"),
        text(level).alias("level"),
        text(authority).alias("authority"),
        summary.alias("summary"),
        (lifted if lifted is not None else F.lit(False)).alias("_lifted"),
        "dq_flags",
    )


def _tax(rows: DataFrame) -> DataFrame:
    """A tax credit level holds from its rating until the next rating of the same USCC (the
    contract's business key is the USCC and the 评价年度) supersedes it."""
    ratings = Window.partitionBy("uscc").orderBy("rated_on", "tax_year", "record_id")
    return _shape(
        rows,
        event_on=F.col("rated_on"),
        ends_on=F.lead("rated_on").over(ratings),
        level="level",
        authority=None,
        summary=F.concat(F.col("tax_year").cast("string"), F.lit("年度")),
    )


def _abnormal(rows: DataFrame) -> DataFrame:
    return _shape(
        rows, event_on=F.col("listed_on"), ends_on=F.col("removed_on"), summary=F.col("reason")
    )


def _serious(rows: DataFrame) -> DataFrame:
    return _shape(
        rows,
        event_on=F.col("listed_on"),
        ends_on=F.col("expires_on"),
        summary=F.concat("sector", F.lit("："), "reason"),
    )


def _debtors(rows: DataFrame) -> DataFrame:
    """The court's list has no removal date: a record 已移除 has ended, since when is unknown."""
    return _shape(
        rows,
        party_name="party_name",
        event_on=F.col("listed_on"),
        authority="court",
        summary=F.concat("case_number", F.lit("（"), "status", F.lit("）")),
        lifted=F.col("status") == LIFTED,
    )


def _repairs(rows: DataFrame) -> DataFrame:
    """A repair names the record it repairs by that record's event key, and its decision."""
    return _shape(
        rows,
        record_id="repair_id",
        party_name=None,
        event_on=F.when(F.col("decision") == APPROVED, F.col("decided_on")),
        authority=None,
        summary=F.concat_ws(" ", _key(F.col("record_table"), "record_id"), F.col("decision")),
    )


_SHAPES: dict[str, Callable[[DataFrame], DataFrame]] = {
    TAX: _tax,
    ABNORMAL: _abnormal,
    SERIOUS: _serious,
    DEBTORS: _debtors,
    REPAIRS: _repairs,
}


def _repaired(repairs: DataFrame) -> DataFrame:
    """Repaired record's event key -> ``repaired_on``, the first approval of a repair of it."""
    return approved_repairs(repairs, _key(F.col("record_table"), "record_id").alias("event_key"))


def approved_repairs(repairs: DataFrame, *record: Column | str) -> DataFrame:
    """``record`` (the columns naming a repaired record) -> ``repaired_on``: the first approval
    of a 信用修复 of it (DOMAIN.md §1.3)."""
    approved = repairs.where((F.col("decision") == APPROVED) & F.col("decided_on").isNotNull())
    return approved.groupBy(*record).agg(F.min("decided_on").alias("repaired_on"))


def dim_entity_history(versions: DataFrame, register: DataFrame) -> DataFrame:
    """SCD type 2 of each registered enterprise's name and 登记状态: its clean ``versions`` (every
    one, each once) ordered by the watermark, collapsed to the periods in which (name, status)
    stayed the same; ``valid_to`` is the next period's start (NULL for the current one).

    Only enterprises of the entity master (``register``: its latest versions) have a history,
    under the entity whose golden record they are: a key withheld or hard-deleted has none."""
    firms = registered(register).select("entity_id", F.col("register_id").alias("_register_id"))
    in_order = Window.partitionBy("enterprise_id").orderBy("updated_at")
    unchanged = reduce(
        Column.__and__, [F.lag(c).over(in_order).eqNullSafe(F.col(c)) for c in ("name", "status")]
    )
    periods = (
        versions.withColumn("_unchanged", unchanged)
        .where(~F.col("_unchanged"))
        .withColumn("valid_from", F.col("updated_at"))
        .withColumn("valid_to", F.lead("updated_at").over(in_order))
    )
    joined = periods.join(
        firms, periods["enterprise_id"].cast("string") == firms["_register_id"], "inner"
    )
    return joined.select(
        "entity_id",
        "enterprise_id",
        "name",
        "status",
        "valid_from",
        "valid_to",
        F.col("valid_to").isNull().alias("is_current"),
    )
