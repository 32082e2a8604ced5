"""The date dimension: one row per day with the China working-day calendar (chinese_calendar,
then warehouse/calendar_overrides.csv; weekends only, and provisional, where neither knows).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dim_date",
        sa.Column("day", sa.Date, primary_key=True, comment="日期"),
        sa.Column("date_key", sa.Integer, nullable=False, unique=True, comment="日期键 YYYYMMDD"),
        sa.Column("year", sa.SmallInteger, nullable=False, comment="年"),
        sa.Column("quarter", sa.SmallInteger, nullable=False, comment="季度"),
        sa.Column("month", sa.SmallInteger, nullable=False, comment="月"),
        sa.Column("day_of_month", sa.SmallInteger, nullable=False, comment="日"),
        sa.Column("iso_weekday", sa.SmallInteger, nullable=False, comment="星期(1=周一)"),
        sa.Column("is_weekend", sa.Boolean, nullable=False, comment="是否周末"),
        sa.Column("is_workday", sa.Boolean, nullable=False, comment="是否工作日"),
        sa.Column(
            "workday_number",
            sa.Integer,
            nullable=False,
            comment="截至当日的累计工作日数(两日相减即间隔工作日)",
        ),
        sa.Column("is_makeup_workday", sa.Boolean, nullable=False, comment="是否调休上班日"),
        sa.Column("holiday_name", sa.String(40), comment="法定节假日(含调休)名称"),
        sa.Column(
            "calendar_source",
            sa.String(20),
            nullable=False,
            comment="chinese_calendar / override / weekends_only",
        ),
        sa.Column("provisional", sa.Boolean, nullable=False, comment="日历未知, 仅按周末计"),
        schema="core",
        comment="日期维度：含中国法定节假日与调休的工作日日历",
    )


def downgrade() -> None:
    op.drop_table("dim_date", schema="core")
