"""Enforcement (行政处罚): the penalty-power (处罚职权) and discretion-standard (裁量基准)
dimensions, the penalty decision fact with its 双公示 fields, revocation and red flags, the
child table of its penalty types (处罚类别), and the monthly marts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = "数据质量标记(逗号分隔，无则为空)"
# The flag rules of expectations/enforcement.penalty_decisions.json and their titles.
FLAG_RULES = {
    "party_uscc_org_code": "统一社会信用代码与组织机构代码校验位不符",
    "decision_entered_late": "超过7个工作日录入(双公示)",
    "fine_in_yuan": "罚款金额疑似以元录入",
    "fine_outside_band": "罚款超出裁量基准",
    "simple_procedure_over_threshold": "简易程序罚款超限",
}
# Per month of decision, authority and sector (the power's 执法领域): every decision, the revoked
# ones and those in force; amounts (万元) of the decisions in force only, since a revoked
# decision imposes nothing; procedures and red flags (any flag rule fired) over every decision.
MONTHLY_VIEW = """
SELECT decision_month AS month, authority_uscc, authority_name, sector,
       COUNT(*) AS decisions,
       COUNT(*) FILTER (WHERE is_revoked) AS revoked_decisions,
       COUNT(*) FILTER (WHERE NOT is_revoked) AS decisions_in_force,
       COALESCE(SUM(fine_amount_wan) FILTER (WHERE NOT is_revoked), 0)
           AS fine_amount_wan_in_force,
       COALESCE(SUM(confiscation_amount_wan) FILTER (WHERE NOT is_revoked), 0)
           AS confiscation_amount_wan_in_force,
       COUNT(*) FILTER (WHERE procedure_type = '简易') AS simple_procedure_decisions,
       COUNT(*) FILTER (WHERE procedure_type = '普通') AS ordinary_procedure_decisions,
       COUNT(*) FILTER (WHERE dq_flags IS NOT NULL) AS flagged_decisions
FROM core.fct_penalty_decision
GROUP BY decision_month, authority_uscc, authority_name, sector
"""
# Per month of decision and 处罚类别: the decisions in force imposing it.
PENALTY_TYPES_VIEW = """
SELECT d.decision_month AS month, t.penalty_type, COUNT(*) AS decisions_in_force
FROM core.fct_penalty_decision_type t
JOIN core.fct_penalty_decision d ON d.decision_id = t.decision_id
WHERE NOT d.is_revoked
GROUP BY d.decision_month, t.penalty_type
"""


def _text(name: str, length: int, comment: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable, comment=comment)


def _key(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, primary_key=True, autoincrement=False, comment=comment)


def _wan(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.Numeric(18, 6), comment=comment)


def upgrade() -> None:
    op.create_table(
        "dim_penalty_power",
        _key("power_id", "职权内部编号"),
        _text("power_code", 40, "处罚职权编码", nullable=False),
        _text("name", 300, "职权名称", nullable=False),
        _text("department_name", 100, "实施部门", nullable=False),
        _text("department_uscc", 18, "实施部门统一社会信用代码", nullable=False),
        _text("legal_basis", 500, "设定依据", nullable=False),
        _text("sector", 20, "执法领域", nullable=False),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="行政处罚职权维度(职权目录)",
    )
    op.create_table(
        "dim_discretion_standard",
        _key("standard_id", "裁量基准编号"),
        sa.Column("power_id", sa.BigInteger, nullable=False, comment="职权内部编号"),
        _text("circumstance", 10, "违法情节", nullable=False),
        _text("description", 300, "适用情形", nullable=False),
        sa.Column("fine_min_yuan", sa.Numeric(18, 2), nullable=False, comment="罚款下限(元)"),
        sa.Column("fine_max_yuan", sa.Numeric(18, 2), nullable=False, comment="罚款上限(元)"),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="行政处罚裁量基准维度",
    )
    op.create_table(
        "fct_penalty_decision",
        _key("decision_id", "案件编号"),
        _text("decision_number", 128, "行政处罚决定书文号", nullable=False),
        _text("party_type", 20, "行政相对人类别", nullable=False),
        _text("party_name", 200, "行政相对人名称", nullable=False),
        _text("party_uscc", 18, "行政相对人统一社会信用代码"),
        _text("party_registration_number", 15, "工商注册号"),
        _text("party_org_code", 10, "组织机构代码"),
        _text("legal_rep_name", 50, "法定代表人"),
        _text("violation_type", 200, "违法行为类型", nullable=False),
        _text("violation_facts", 2000, "违法事实", nullable=False),
        _text("legal_basis", 500, "处罚依据", nullable=False),
        _text("penalty_types", 100, "处罚类别(多项以;分隔)", nullable=False),
        _text("penalty_content", 500, "处罚内容", nullable=False),
        _wan("fine_amount_wan", "罚款金额(万元)"),
        _wan("confiscation_amount_wan", "没收违法所得、没收非法财物的金额(万元)"),
        _text("license_affected", 200, "暂扣或吊销证照名称及编号"),
        _text("procedure_type", 10, "程序类型(简易/普通)", nullable=False),
        sa.Column("power_id", sa.BigInteger, nullable=False, comment="处罚职权内部编号"),
        sa.Column("standard_id", sa.BigInteger, nullable=False, comment="裁量基准编号"),
        sa.Column("decision_date", sa.Date, nullable=False, comment="处罚决定日期"),
        sa.Column("entered_at", sa.DateTime, nullable=False, comment="录入时间"),
        _text("authority_name", 100, "处罚机关", nullable=False),
        _text("authority_uscc", 18, "处罚机关统一社会信用代码", nullable=False),
        _text("status", 10, "决定状态", nullable=False),
        _text("party_entity_id", 40, "行政相对人主体(core.entity)"),
        _text("sector", 20, "执法领域(处罚职权的)"),
        sa.Column("revoked_on", sa.Date, comment="撤销日期(最近一次撤销记录)"),
        sa.Column("is_revoked", sa.Boolean, nullable=False, comment="已撤销(状态或撤销记录)"),
        sa.Column("decision_month", sa.Date, nullable=False, comment="决定月份(当月1日)"),
        *(
            sa.Column(f"flag_{rule}", sa.Boolean, nullable=False, comment=title)
            for rule, title in FLAG_RULES.items()
        ),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="行政处罚决定事实表(双公示)",
    )
    op.create_table(
        "fct_penalty_decision_type",
        sa.Column("decision_id", sa.BigInteger, nullable=False, comment="案件编号"),
        _text("penalty_type", 20, "处罚类别(如源系统所写)", nullable=False),
        sa.PrimaryKeyConstraint("decision_id", "penalty_type"),
        schema="core",
        comment="行政处罚决定的处罚类别(每决定每类别一行)",
    )
    op.execute(f"CREATE VIEW mart.enforcement_monthly AS {MONTHLY_VIEW}")
    op.execute(f"CREATE VIEW mart.enforcement_penalty_types_monthly AS {PENALTY_TYPES_VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS mart.enforcement_penalty_types_monthly")
    op.execute("DROP VIEW IF EXISTS mart.enforcement_monthly")
    op.drop_table("fct_penalty_decision_type", schema="core")
    op.drop_table("fct_penalty_decision", schema="core")
    op.drop_table("dim_discretion_standard", schema="core")
    op.drop_table("dim_penalty_power", schema="core")
