"""Approval (行政审批): department and service-item dimensions, the case fact (办件) with its
elapsed working days and on-time flags, and the monthly KPI mart per department: 网办率 and
按时办结率 against the promised and the legal limit (DOMAIN.md §6.2).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = "数据质量标记(逗号分隔，无则为空)"
# Volumes and 网办率 by the month a case was accepted; 按时办结率 and 超期 by the month it was
# decided (a case counts where it happened). Rates are NULL where there is nothing to divide.
KPI_VIEW = """
WITH accepted AS (
    SELECT department_id, CAST(date_trunc('month', accepted_on) AS DATE) AS month,
           COUNT(*) AS accepted_cases,
           COUNT(*) FILTER (WHERE is_online) AS online_cases
    FROM core.fct_case WHERE accepted_on IS NOT NULL
    GROUP BY 1, 2
), decided AS (
    SELECT department_id, CAST(date_trunc('month', decided_on) AS DATE) AS month,
           COUNT(*) AS decided_cases,
           COUNT(*) FILTER (WHERE on_time_promised) AS on_time_promised_cases,
           COUNT(*) FILTER (WHERE on_time_legal) AS on_time_legal_cases,
           COUNT(*) FILTER (WHERE overdue) AS overdue_cases
    FROM core.fct_case WHERE decided_on IS NOT NULL
    GROUP BY 1, 2
)
SELECT COALESCE(a.department_id, d.department_id) AS department_id,
       dep.name AS department_name,
       COALESCE(a.month, d.month) AS month,
       COALESCE(a.accepted_cases, 0) AS accepted_cases,
       COALESCE(a.online_cases, 0) AS online_cases,
       CAST(a.online_cases AS NUMERIC(12, 6)) / NULLIF(a.accepted_cases, 0) AS online_rate,
       COALESCE(d.decided_cases, 0) AS decided_cases,
       COALESCE(d.on_time_promised_cases, 0) AS on_time_promised_cases,
       CAST(d.on_time_promised_cases AS NUMERIC(12, 6)) / NULLIF(d.decided_cases, 0)
           AS on_time_promised_rate,
       COALESCE(d.on_time_legal_cases, 0) AS on_time_legal_cases,
       CAST(d.on_time_legal_cases AS NUMERIC(12, 6)) / NULLIF(d.decided_cases, 0)
           AS on_time_legal_rate,
       COALESCE(d.overdue_cases, 0) AS overdue_decided_cases
FROM accepted a
FULL OUTER JOIN decided d ON a.department_id = d.department_id AND a.month = d.month
LEFT JOIN core.dim_department dep
       ON dep.department_id = COALESCE(a.department_id, d.department_id)
"""
OVERDUE_VIEW = """
SELECT c.case_number, c.department_id, dep.name AS department_name, c.item_id,
       i.name AS item_name, c.accepted_on, c.decided_on, c.promised_limit_days,
       c.legal_limit_days, c.elapsed_working_days, c.decided_on IS NULL AS still_open
FROM core.fct_case c
LEFT JOIN core.dim_department dep ON dep.department_id = c.department_id
LEFT JOIN core.dim_service_item i ON i.item_id = c.item_id
WHERE c.overdue
"""


def upgrade() -> None:
    op.create_table(
        "dim_department",
        sa.Column("department_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("department_code", sa.String(20), nullable=False, comment="部门编码"),
        sa.Column("name", sa.String(200), nullable=False, comment="部门名称"),
        sa.Column("uscc", sa.String(18), nullable=False, comment="统一社会信用代码"),
        sa.Column("region_code", sa.String(6), nullable=False, comment="行政区划代码"),
        sa.Column("dq_flags", sa.String(200), comment=FLAGS),
        schema="core",
        comment="实施部门维度",
    )
    op.create_table(
        "dim_service_item",
        sa.Column("item_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("item_code", sa.String(80), nullable=False, comment="事项实施编码"),
        sa.Column("name", sa.String(200), nullable=False, comment="事项名称"),
        sa.Column("department_id", sa.BigInteger, nullable=False, comment="实施部门编号"),
        sa.Column("item_type", sa.String(20), nullable=False, comment="事项类型"),
        sa.Column("legal_limit_days", sa.Integer, nullable=False, comment="法定办结时限(工作日)"),
        sa.Column("promised_limit_days", sa.Integer, nullable=False, comment="承诺办结时限"),
        sa.Column("online_capable", sa.Boolean, nullable=False, comment="是否可网办"),
        sa.Column("dq_flags", sa.String(200), comment=FLAGS),
        schema="core",
        comment="政务服务事项维度(实施清单)",
    )
    op.create_table(
        "fct_case",
        sa.Column("case_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("case_number", sa.String(30), nullable=False, comment="办件编号"),
        sa.Column("item_id", sa.BigInteger, nullable=False, comment="事项编号"),
        sa.Column("department_id", sa.BigInteger, nullable=False, comment="实施部门编号"),
        sa.Column("applicant_type", sa.String(10), nullable=False, comment="申请人类型"),
        sa.Column("applicant_entity_id", sa.String(40), comment="申请人主体(core.entity)"),
        sa.Column("channel", sa.String(10), nullable=False, comment="办理渠道"),
        sa.Column("is_online", sa.Boolean, nullable=False, comment="是否网办"),
        sa.Column("submitted_at", sa.DateTime, nullable=False, comment="申请时间"),
        sa.Column("accepted_at", sa.DateTime, comment="受理时间"),
        sa.Column("decided_at", sa.DateTime, comment="办结时间"),
        sa.Column("submitted_on", sa.Date, nullable=False, comment="申请日期"),
        sa.Column("accepted_on", sa.Date, comment="受理日期"),
        sa.Column("decided_on", sa.Date, comment="办结日期"),
        sa.Column("suspended_days", sa.Integer, nullable=False, comment="暂停计时(工作日)"),
        sa.Column("result", sa.String(10), comment="办理结果"),
        sa.Column("licence_number", sa.String(30), comment="证照编号"),
        sa.Column("legal_limit_days", sa.Integer, comment="法定办结时限(工作日)"),
        sa.Column("promised_limit_days", sa.Integer, comment="承诺办结时限(工作日)"),
        sa.Column("elapsed_working_days", sa.Integer, comment="已用工作日(扣除暂停计时)"),
        sa.Column("on_time_promised", sa.Boolean, comment="承诺时限内办结"),
        sa.Column("on_time_legal", sa.Boolean, comment="法定时限内办结"),
        sa.Column("overdue", sa.Boolean, nullable=False, comment="超期(超承诺时限, 含未办结)"),
        sa.Column("dq_flags", sa.String(200), comment=FLAGS),
        schema="core",
        comment="办件事实表",
    )
    op.execute(f"CREATE VIEW mart.approval_kpi_monthly AS {KPI_VIEW}")
    op.execute(f"CREATE VIEW mart.approval_overdue_cases AS {OVERDUE_VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS mart.approval_overdue_cases")
    op.execute("DROP VIEW IF EXISTS mart.approval_kpi_monthly")
    op.drop_table("fct_case", schema="core")
    op.drop_table("dim_service_item", schema="core")
    op.drop_table("dim_department", schema="core")
