"""Portal views v1 of 公共资源交易 results (中标/成交结果) and of 政务服务 statistics per department
(办件量, 网办率, 按时办结率), both as of the last publish (``ops.publication.as_of``, written by
``govlake publish``), so, like the publicity views, they show nothing before the first publish.

Results: one row per award whose 定标日期 and 结果公告日期 are both on or before the day (the
portal never shows a result before its notice), with its project and section (codes and names),
交易类别 and 交易方式 as stored, the winner, the amount (万元) and the current 结果状态 (有效/撤销:
a revoked award stays listed as revoked). An award whose section or project the quality step
withholds is shown when they are released: the portal lists only what it can name. Winners are
organisations: every award names its winner by 统一社会信用代码 (the contract requires one), so
no name is masked; nobody's ID number, phone or address is in the view, and no bid or 授权代表 is.

Statistics: the monthly KPI mart (``mart.approval_kpi_monthly``, DOMAIN.md §6.2) as the portal
shows it, per department of ``core.dim_department`` (one the quality step withholds is shown when
released) and month up to the day's month, which is ``month_complete`` once its last day is on or
before the day. The counts are the mart's: volumes and 网办率 by the month a case was accepted,
按时办结率 (against the promised and the legal limit) and 超期 by the month it was decided. The
rates are the mart's ratios rounded half up to 4 decimals, exactly in both engines: DuckDB
divides decimals in double precision (57/800 = 0.07125 would become 0.0712, where PostgreSQL has
0.0713), so the rounding is done on integers.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 中标(成交)结果 as of the last publish: the awards decided and announced by the day, with the
# names of their project and section.
PORTAL_RESULTS_VIEW = """
SELECT a.project_code, p.name AS project_name, a.section_code, s.name AS section_name,
       a.category, a.method, a.winner_name, a.winner_uscc, a.award_amount_wan, a.awarded_on,
       a.published_on, a.status, pub.as_of
FROM core.fct_award a
JOIN core.fct_tender_section s ON s.section_id = a.section_id
JOIN core.fct_tender_project p ON p.project_id = a.project_id
CROSS JOIN ops.publication pub
WHERE a.awarded_on <= pub.as_of AND a.published_on <= pub.as_of
"""
# 政务服务 statistics per department and month up to the last publish's month, from the KPI mart.
# A rate part / whole rounded half up to 4 decimals is FLOOR((2 * 10000 * part + whole) /
# (2 * whole)) / 10000: exact as integer division in PostgreSQL and, in DuckDB's double
# precision, far enough from the next integer for FLOOR; the product by 0.0001 is decimal in both.
# It is NULL where the mart's rate is (nothing to divide).
PORTAL_STATISTICS_VIEW = """
SELECT dep.department_code, dep.name AS department_name, dep.uscc AS department_uscc, m.month,
       CAST(m.month + INTERVAL '1 month' AS DATE) <= CAST(p.as_of + INTERVAL '1 day' AS DATE)
           AS month_complete,
       m.accepted_cases, m.online_cases,
       CAST(CAST(FLOOR((20000 * m.online_cases + m.accepted_cases)
                       / NULLIF(2 * m.accepted_cases, 0))
                 AS NUMERIC(12, 0)) * 0.0001 AS NUMERIC(5, 4)) AS online_rate,
       m.decided_cases, m.on_time_promised_cases,
       CAST(CAST(FLOOR((20000 * m.on_time_promised_cases + m.decided_cases)
                       / NULLIF(2 * m.decided_cases, 0))
                 AS NUMERIC(12, 0)) * 0.0001 AS NUMERIC(5, 4)) AS on_time_promised_rate,
       m.on_time_legal_cases,
       CAST(CAST(FLOOR((20000 * m.on_time_legal_cases + m.decided_cases)
                       / NULLIF(2 * m.decided_cases, 0))
                 AS NUMERIC(12, 0)) * 0.0001 AS NUMERIC(5, 4)) AS on_time_legal_rate,
       m.overdue_decided_cases, p.as_of
FROM mart.approval_kpi_monthly m
JOIN core.dim_department dep ON dep.department_id = m.department_id
CROSS JOIN ops.publication p
WHERE m.month <= p.as_of
"""
VIEWS = {
    "portal.v1_transaction_results": PORTAL_RESULTS_VIEW,
    "portal.v1_service_statistics": PORTAL_STATISTICS_VIEW,
}


def upgrade() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
