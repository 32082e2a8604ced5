"""Approval licence decisions (行政许可决定) with their 双公示 publicity lag, the dated region
dimension (行政区划, retired codes mapped to successors), and the monthly publicity mart.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = "数据质量标记(逗号分隔，无则为空)"
# Per authority and month of decision: decisions, those entered within the 7-working-day
# publicity limit (DOMAIN.md §1.1) and the rate; licences in force on the build day.
PUBLICITY_VIEW = """
SELECT authority_uscc, authority_name,
       CAST(date_trunc('month', decision_date) AS DATE) AS month,
       COUNT(*) AS decisions,
       COUNT(*) FILTER (WHERE published_on_time) AS published_on_time,
       CAST(COUNT(*) FILTER (WHERE published_on_time) AS NUMERIC(12, 6)) / COUNT(*)
           AS published_on_time_rate,
       MAX(publicity_lag_working_days) AS max_publicity_lag_working_days,
       COUNT(*) FILTER (WHERE in_force) AS in_force
FROM core.fct_licence_decision
GROUP BY authority_uscc, authority_name, CAST(date_trunc('month', decision_date) AS DATE)
"""


def _text(name: str, length: int, comment: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable, comment=comment)


def upgrade() -> None:
    op.create_table(
        "dim_region",
        _text("region_code", 6, "行政区划代码", nullable=False),
        _text("name", 20, "名称", nullable=False),
        _text("level", 10, "层级", nullable=False),
        sa.Column("valid_from", sa.Date, comment="启用日期(含)"),
        sa.Column("valid_to", sa.Date, comment="停用日期(不含)"),
        _text("successor_code", 6, "撤销后的继承代码"),
        _text("current_code", 6, "现行代码", nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False, comment="是否现行"),
        sa.PrimaryKeyConstraint("region_code"),
        schema="core",
        comment="行政区划维度(GB/T 2260, 青岛, 含撤销代码)",
    )
    op.create_table(
        "fct_licence_decision",
        sa.Column("decision_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _text("decision_number", 64, "行政许可决定文书号", nullable=False),
        _text("licence_name", 200, "许可证书名称", nullable=False),
        _text("licence_category", 10, "许可类别", nullable=False),
        _text("licence_number", 30, "许可编号", nullable=False),
        sa.Column("case_id", sa.BigInteger, comment="办件编号(core.fct_case)"),
        _text("holder_type", 20, "行政相对人类别", nullable=False),
        _text("holder_name", 200, "行政相对人名称", nullable=False),
        _text("holder_uscc", 18, "行政相对人统一社会信用代码"),
        _text("holder_reg_number", 15, "工商注册号"),
        _text("holder_entity_id", 40, "行政相对人主体(core.entity)"),
        _text("legal_rep_name", 50, "法定代表人"),
        _text("legal_rep_entity_id", 40, "法定代表人主体(core.entity)"),
        sa.Column("decision_date", sa.Date, nullable=False, comment="许可决定日期"),
        sa.Column("valid_from", sa.Date, nullable=False, comment="有效期自"),
        sa.Column("valid_to", sa.Date, nullable=False, comment="有效期至"),
        _text("authority_name", 200, "许可机关", nullable=False),
        _text("authority_uscc", 18, "许可机关统一社会信用代码", nullable=False),
        _text("status", 10, "当前状态", nullable=False),
        sa.Column("entered_at", sa.DateTime, nullable=False, comment="录入时间"),
        sa.Column("entered_on", sa.Date, nullable=False, comment="录入日期"),
        sa.Column("publicity_lag_working_days", sa.Integer, comment="决定至录入的工作日数"),
        sa.Column("published_on_time", sa.Boolean, comment="7个工作日内公开"),
        sa.Column("in_force", sa.Boolean, nullable=False, comment="构建日有效"),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="行政许可决定事实表(双公示)",
    )
    op.execute(f"CREATE VIEW mart.licence_publicity_monthly AS {PUBLICITY_VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS mart.licence_publicity_monthly")
    op.drop_table("fct_licence_decision", schema="core")
    op.drop_table("dim_region", schema="core")
