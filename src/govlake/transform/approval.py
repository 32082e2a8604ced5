"""Approval (行政审批): the department and service-item dimensions and the case fact (办件).

Time limits count working days (《行政许可法》第82条) with suspensions (暂停计时, 第45条)
excluded: a case's elapsed working days are the working days after its acceptance day up to and
including its decision day (or the build day, while it is open), minus its suspended days, counted
on the date dimension's ``workday_number``. A case is on time against a limit when its elapsed
working days do not exceed it, and overdue (超期) when a decided or still open case exceeds its
promised limit.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from govlake.transform.entities import entity_of

if TYPE_CHECKING:
    from govlake.transform.run import BuildRun

ONLINE = "网上"  # 办理渠道 of 网办 (PC, app, 小程序)
PUBLICITY_LIMIT_WORKING_DAYS = 7  # 双公示: 自作出行政决定之日起7个工作日内上网公开 (DOMAIN.md §1.1)
IN_FORCE = "有效"  # 当前状态 of a licence that has not been revoked, cancelled or withdrawn
DIM_DEPARTMENT, DIM_SERVICE_ITEM, FCT_CASE, FCT_LICENCE_DECISION = (
    "core.dim_department",
    "core.dim_service_item",
    "core.fct_case",
    "core.fct_licence_decision",  # 行政许可决定
)
TABLES = (DIM_DEPARTMENT, DIM_SERVICE_ITEM, FCT_CASE, FCT_LICENCE_DECISION)
DEPARTMENTS, ITEMS, CASES, LICENCES = (
    "approval.departments",
    "approval.service_items",
    "approval.cases",
    "approval.licence_decisions",
)


def build(run: BuildRun) -> None:
    departments, items, cases = (run.latest(n) for n in (DEPARTMENTS, ITEMS, CASES))
    run.write(DIM_DEPARTMENT, dim_department(departments), [DEPARTMENTS])
    run.write(DIM_SERVICE_ITEM, dim_service_item(items), [ITEMS])
    facts = fct_case(cases, items, run.calendar, run.matches, run.day)
    run.write(FCT_CASE, facts, [DEPARTMENTS, ITEMS, CASES])
    licences = fct_licence_decision(
        run.latest(LICENCES), cases, run.calendar, run.matches, run.day
    ).join(run.first_published(LICENCES), "decision_id", "left")
    run.write(FCT_LICENCE_DECISION, licences, [LICENCES, CASES])


def dim_department(departments: DataFrame) -> DataFrame:
    return departments.select(
        "department_id", "department_code", "name", "uscc", "region_code", "dq_flags"
    )


def dim_service_item(items: DataFrame) -> DataFrame:
    return items.select(
        "item_id",
        "item_code",
        "name",
        "department_id",
        "item_type",
        "legal_limit_days",
        "promised_limit_days",
        (F.col("online_capable") == "是").alias("online_capable"),
        "dq_flags",
    )


def fct_case(
    cases: DataFrame, items: DataFrame, calendar: DataFrame, matches: DataFrame, as_of: date
) -> DataFrame:
    """One row per case with its applicant's entity, its limits, elapsed working days and the
    on-time and overdue flags, as of the build day ``as_of`` for open cases."""
    sequence = calendar.select("day", "workday_number")
    applicants = entity_of(matches, CASES, "applicant", "case_id")
    limits = items.select("item_id", "legal_limit_days", "promised_limit_days")
    rows = (
        cases.join(F.broadcast(limits), "item_id", "left")
        .join(applicants, "case_id", "left")
        .withColumn("accepted_on", F.to_date("accepted_at"))
        .withColumn("decided_on", F.to_date("decided_at"))
        .withColumn("_until", F.coalesce("decided_on", F.lit(as_of)))
    )
    rows = _workday_number(rows, sequence, "accepted_on", "_from_n")
    rows = _workday_number(rows, sequence, "_until", "_until_n")
    elapsed = F.col("_until_n") - F.col("_from_n") - F.col("suspended_days")
    decided = F.col("decided_at").isNotNull()
    return rows.select(
        "case_id",
        "case_number",
        "item_id",
        "department_id",
        "applicant_type",
        "applicant_entity_id",
        "channel",
        (F.col("channel") == ONLINE).alias("is_online"),
        "submitted_at",
        "accepted_at",
        "decided_at",
        F.to_date("submitted_at").alias("submitted_on"),
        "accepted_on",
        "decided_on",
        "suspended_days",
        "result",
        "licence_number",
        "legal_limit_days",
        "promised_limit_days",
        F.when(F.col("accepted_at").isNotNull(), elapsed).alias("elapsed_working_days"),
        F.when(decided, _within(elapsed, "promised_limit_days")).alias("on_time_promised"),
        F.when(decided, _within(elapsed, "legal_limit_days")).alias("on_time_legal"),
        F.coalesce(~_within(elapsed, "promised_limit_days"), F.lit(False)).alias("overdue"),
        "dq_flags",
    )


def fct_licence_decision(
    decisions: DataFrame, cases: DataFrame, calendar: DataFrame, matches: DataFrame, as_of: date
) -> DataFrame:
    """One row per 行政许可决定 with its holder's and legal representative's entities (never
    their ID numbers), the case it decided (by licence number), the publicity lag in working days
    from the decision to its entry (the 7-working-day rule) and whether it is in force on
    ``as_of``."""
    sequence = calendar.select("day", "workday_number")
    case_of = cases.where(F.col("licence_number").isNotNull()).groupBy("licence_number")
    rows = (
        decisions.join(case_of.agg(F.min("case_id").alias("case_id")), "licence_number", "left")
        .join(entity_of(matches, LICENCES, "holder", "decision_id"), "decision_id", "left")
        .join(entity_of(matches, LICENCES, "legal_rep", "decision_id"), "decision_id", "left")
        .withColumn("entered_on", F.to_date("entered_at"))
    )
    rows = _workday_number(rows, sequence, "decision_date", "_decided_n")
    rows = _workday_number(rows, sequence, "entered_on", "_entered_n")
    lag = F.col("_entered_n") - F.col("_decided_n")
    in_force = (F.col("status") == IN_FORCE) & F.lit(as_of).between(
        F.col("valid_from"), F.col("valid_to")
    )
    return rows.select(
        "decision_id",
        "decision_number",
        "licence_name",
        "licence_category",
        "licence_number",
        "case_id",
        "holder_type",
        "holder_name",
        "holder_uscc",
        "holder_reg_number",
        "holder_entity_id",
        "legal_rep_name",
        "legal_rep_entity_id",
        "decision_date",
        "valid_from",
        "valid_to",
        "authority_name",
        "authority_uscc",
        "status",
        "entered_at",
        "entered_on",
        lag.alias("publicity_lag_working_days"),
        (lag <= PUBLICITY_LIMIT_WORKING_DAYS).alias("published_on_time"),
        in_force.alias("in_force"),
        "dq_flags",
    )


def _workday_number(rows: DataFrame, sequence: DataFrame, day: str, alias: str) -> DataFrame:
    found = sequence.select(F.col("day").alias(day), F.col("workday_number").alias(alias))
    return rows.join(F.broadcast(found), day, "left")


def _within(elapsed: Column, limit: str) -> Column:
    return elapsed <= F.col(limit)
