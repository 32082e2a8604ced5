"""Enforcement (行政处罚, 网上执法平台): the penalty-power and discretion-standard dimensions, the
penalty decision fact with its 双公示 fields and the child table of its penalty types.

A decision is revoked (撤销) when its status says so or the platform holds a revocation record
of it; revoked decisions stay in the warehouse (the credit record persists, DOMAIN.md §1.3) and
the marts count them apart from the decisions in force. Parties are referenced by their entity
(core.entity), never by their ID number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from govlake.transform.credit import approved_repairs
from govlake.transform.entities import entity_of
from govlake.transform.flags import flag_columns

if TYPE_CHECKING:
    from govlake.transform.run import BuildRun

REVOKED = "已撤销"  # 决定状态 of a decision the authority withdrew
TYPE_SEPARATOR = ";"  # 处罚类别 lists several types in one field (多项以;分隔)
# The flag rules of expectations/enforcement.penalty_decisions.json, one column each.
FLAG_RULES = (
    "party_uscc_org_code",
    "decision_entered_late",
    "fine_in_yuan",
    "fine_outside_band",
    "simple_procedure_over_threshold",
)
DIM_PENALTY_POWER, DIM_DISCRETION_STANDARD, FCT_PENALTY_DECISION, FCT_PENALTY_DECISION_TYPE = (
    "core.dim_penalty_power",  # 处罚职权
    "core.dim_discretion_standard",  # 裁量基准
    "core.fct_penalty_decision",  # 行政处罚决定
    "core.fct_penalty_decision_type",  # 处罚类别 of each decision
)
TABLES = (
    DIM_PENALTY_POWER,
    DIM_DISCRETION_STANDARD,
    FCT_PENALTY_DECISION,
    FCT_PENALTY_DECISION_TYPE,
)
POWERS, STANDARDS, DECISIONS, REVOCATIONS = (
    "enforcement.penalty_powers",
    "enforcement.discretion_standards",
    "enforcement.penalty_decisions",
    "enforcement.revocations",
)
REPAIRS = "credit.credit_repairs"  # 信用修复: the credit system's repairs, penalties' among them
REPAIRED_TABLE = "penalty_decisions"  # 修复对象类别 of a penalty decision
PUBLISHED = (  # the 双公示 fields of a decision, as the source wrote them
    "decision_number",
    "party_type",
    "party_name",
    "party_uscc",
    "party_registration_number",
    "party_org_code",
    "legal_rep_name",
    "violation_type",
    "violation_facts",
    "legal_basis",
    "penalty_types",
    "penalty_content",
    "fine_amount_wan",
    "confiscation_amount_wan",
    "license_affected",
    "procedure_type",
    "power_id",
    "standard_id",
    "decision_date",
    "entered_at",
    "authority_name",
    "authority_uscc",
    "status",
)


def build(run: BuildRun) -> None:
    powers, standards, decisions = (run.latest(n) for n in (POWERS, STANDARDS, DECISIONS))
    run.write(DIM_PENALTY_POWER, dim_penalty_power(powers), [POWERS])
    run.write(DIM_DISCRETION_STANDARD, dim_discretion_standard(standards), [STANDARDS])
    repairs, first = run.latest(REPAIRS), run.first_published(DECISIONS)
    facts = fct_penalty_decision(
        decisions, powers, run.latest(REVOCATIONS), repairs, first, run.matches
    )
    run.write(FCT_PENALTY_DECISION, facts, [DECISIONS, POWERS, REVOCATIONS, REPAIRS])
    run.write(FCT_PENALTY_DECISION_TYPE, fct_penalty_decision_type(decisions), [DECISIONS])


def dim_penalty_power(powers: DataFrame) -> DataFrame:
    return powers.select(
        "power_id",
        "power_code",
        "name",
        "department_name",
        "department_uscc",
        "legal_basis",
        "sector",
        "dq_flags",
    )


def dim_discretion_standard(standards: DataFrame) -> DataFrame:
    return standards.select(
        "standard_id",
        "power_id",
        "circumstance",
        "description",
        "fine_min_yuan",
        "fine_max_yuan",
        "dq_flags",
    )


def fct_penalty_decision(
    decisions: DataFrame,
    powers: DataFrame,
    revocations: DataFrame,
    repairs: DataFrame,
    first_published: DataFrame,
    matches: DataFrame,
) -> DataFrame:
    """One row per 行政处罚决定: its 双公示 fields, its party's entity (from the match table, so
    no ID number), its power's sector, the revocation applied, its first approved 信用修复, its
    month, one boolean per flag rule and the day the warehouse first held it
    (``first_published``: decision_id, first_published_on)."""
    sectors = powers.select("power_id", "sector")
    revoked = revocations.groupBy("decision_id").agg(F.max("revoked_on").alias("revoked_on"))
    repaired = approved_repairs(
        repairs.where(F.col("record_table") == REPAIRED_TABLE),
        F.col("record_id").alias("decision_id"),
    )
    rows = (
        decisions.join(entity_of(matches, DECISIONS, "party", "decision_id"), "decision_id", "left")
        .join(F.broadcast(sectors), "power_id", "left")
        .join(revoked, "decision_id", "left")
        .join(repaired, "decision_id", "left")
        .join(first_published, "decision_id", "left")
    )
    is_revoked = (F.col("status") == REVOKED) | F.col("revoked_on").isNotNull()
    return rows.select(
        "decision_id",
        *PUBLISHED,
        "party_entity_id",
        "sector",
        "revoked_on",
        is_revoked.alias("is_revoked"),
        F.trunc("decision_date", "month").alias("decision_month"),
        *flag_columns(FLAG_RULES),
        "dq_flags",
        "repaired_on",
        "first_published_on",
    )


def fct_penalty_decision_type(decisions: DataFrame) -> DataFrame:
    """One row per decision and 处罚类别 it imposes: the types listed in ``penalty_types``,
    trimmed, empty parts dropped, each once."""
    # A lambda, not F.trim itself: transform would pass F.trim's second parameter the index.
    types = F.array_distinct(
        F.filter(
            F.transform(F.split("penalty_types", TYPE_SEPARATOR), lambda part: F.trim(part)),
            lambda part: part != "",
        )
    )
    return decisions.select("decision_id", F.explode(types).alias("penalty_type"))
