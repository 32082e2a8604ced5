"""Publication compliance (双公示 7 working days, DOMAIN.md §1.1): the day the warehouse first
held each licence and penalty decision (``first_published_on``: the day of its first clean
version in the lake, so the publish of that day showed it; a rebuild of the same lake gives the
same day), the lag of each decision in working days, and the late and still unpublished ones.

The limit is 7 working days (自作出行政决定之日起7个工作日内上网公开). The lag counts working
days (``core.dim_date``, 调休 included) after the decision date up to and including the
publication day, or the last publish's day while it is unpublished. A late decision entered late
into the department's system (its ``entered_at`` itself more than 7 working days after the
decision) has the cause ``entered_late``, else ``published_late``. A figure that counts days of a
year the calendar does not know is ``provisional``. Decisions made before the warehouse's first
build of their kind are not judged: govlake did not exist for them. Penalties that are never
published (``mart.penalty_publicity.not_published_reason``) are not counted.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("fct_licence_decision", "fct_penalty_decision")
COMPLIANCE_VIEW = """
WITH decisions AS (
    SELECT 'licence' AS kind, decision_id, decision_number, authority_uscc, authority_name,
           decision_date, CAST(entered_at AS DATE) AS entered_on, first_published_on
    FROM core.fct_licence_decision
    UNION ALL
    SELECT 'penalty', d.decision_id, d.decision_number, d.authority_uscc, d.authority_name,
           d.decision_date, CAST(d.entered_at AS DATE), d.first_published_on
    FROM core.fct_penalty_decision d
    JOIN mart.penalty_publicity s ON s.decision_id = d.decision_id
    WHERE s.not_published_reason IS NULL
),
started AS (
    SELECT kind, MIN(first_published_on) AS first_day FROM decisions GROUP BY kind
),
dated AS (
    SELECT d.*, p.as_of,
           CASE WHEN d.first_published_on <= p.as_of THEN d.first_published_on END
               AS published_on
    FROM decisions d
    CROSS JOIN ops.publication p
    JOIN started s ON s.kind = d.kind
    WHERE d.decision_date >= s.first_day AND d.decision_date <= p.as_of
),
counted AS (
    SELECT t.*,
           upto.workday_number - decided.workday_number AS lag_working_days,
           entered.workday_number - decided.workday_number AS entry_lag_working_days,
           (decided.provisional OR upto.provisional) AS provisional
    FROM dated t
    JOIN core.dim_date decided ON decided.day = t.decision_date
    JOIN core.dim_date upto ON upto.day = COALESCE(t.published_on, t.as_of)
    LEFT JOIN core.dim_date entered ON entered.day = t.entered_on
),
judged AS (
    SELECT c.*,
           CASE WHEN published_on IS NOT NULL AND lag_working_days <= 7 THEN 'on_time'
                WHEN published_on IS NOT NULL THEN 'late'
                WHEN lag_working_days > 7 THEN 'overdue'
                ELSE 'pending'
           END AS status
    FROM counted c
)
SELECT kind, decision_id, decision_number, authority_uscc, authority_name, decision_date,
       entered_on, published_on, as_of, lag_working_days, entry_lag_working_days, status,
       CASE WHEN status IN ('late', 'overdue') THEN
            CASE WHEN entry_lag_working_days > 7 THEN 'entered_late' ELSE 'published_late' END
       END AS cause,
       provisional
FROM judged
"""
MONTHLY_VIEW = """
SELECT kind, authority_uscc, authority_name,
       CAST(date_trunc('month', decision_date) AS DATE) AS month,
       COUNT(*) AS decisions,
       COUNT(*) FILTER (WHERE status = 'on_time') AS on_time,
       COUNT(*) FILTER (WHERE status = 'late') AS late,
       COUNT(*) FILTER (WHERE status = 'overdue') AS overdue_unpublished,
       COUNT(*) FILTER (WHERE status = 'pending') AS pending,
       COUNT(*) FILTER (WHERE cause = 'entered_late') AS entered_late,
       BOOL_OR(provisional) AS provisional
FROM mart.publication_compliance
GROUP BY kind, authority_uscc, authority_name, CAST(date_trunc('month', decision_date) AS DATE)
"""
# The portal's list of the late and the overdue unpublished decisions (no personal data: the
# decision number, authority and days).
PORTAL_VIEW = """
SELECT kind, decision_number, authority_name, authority_uscc, decision_date, published_on,
       lag_working_days, status, cause, provisional, as_of
FROM mart.publication_compliance
WHERE status IN ('late', 'overdue')
"""
VIEWS = {
    "mart.publication_compliance": COMPLIANCE_VIEW,
    "mart.publication_compliance_monthly": MONTHLY_VIEW,
    "portal.v1_publication_compliance": PORTAL_VIEW,
}


def upgrade() -> None:
    for table in TABLES:
        op.add_column(
            table,
            sa.Column(
                "first_published_on", sa.Date, comment="首次公示日(仓库首次载入该决定的构建日)"
            ),
            schema="core",
        )
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in TABLES:
        op.drop_column(table, "first_published_on", schema="core")
