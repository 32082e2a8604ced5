"""双公示 publicity: each penalty's first approved 信用修复 (``repaired_on``), the day of the build
the warehouse holds (``ops.warehouse_build``, which the
publish DAG waits for), the rules a publish run applies (``ops``), each penalty's publicity status
(``mart.penalty_publicity``), and the portal's first versioned views of licences and penalties.

The rules and the day they are applied for come from the publish step (``govlake publish``),
which replaces the ``ops.publication*`` tables with the settings' rules and its logical date in
the same transaction; every view reads them from there, so the portal shows what the rules allow
on the day of the last publish and nothing before the first one.

Portal views (``portal.v1_*``) are a contract: a breaking change ships as ``v2`` beside ``v1``.
A natural person (行政相对人类别 = 自然人) is shown by the first character of the name and one ``*``
per further character (张*); no ID number, phone or address of anyone is in them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Per penalty decision, as of the last publish: its publicity period (the longest that applies:
# the default, its sector's, any of its types'), why it is never published, why it is no longer
# shown (revoked, repaired by an approved 信用修复, or past its period), and whether it is shown.
PENALTY_PUBLICITY_VIEW = """
WITH publication AS (SELECT * FROM ops.publication),
periods AS (
    SELECT d.decision_id, MAX(r.min_months) AS min_months, MAX(r.max_months) AS max_months
    FROM core.fct_penalty_decision d
    LEFT JOIN core.fct_penalty_decision_type t ON t.decision_id = d.decision_id
    JOIN ops.publication_periods r
      ON r.applies_to = 'all'
      OR (r.applies_to = 'sector' AND r.scope = d.sector)
      OR (r.applies_to = 'penalty_type' AND r.scope = t.penalty_type)
    GROUP BY d.decision_id
),
kinds AS (
    SELECT t.decision_id,
           BOOL_AND(e.penalty_type IS NOT NULL) AS exempt_only,
           BOOL_AND(e.penalty_type IS NOT NULL OR t.penalty_type = '罚款') AS exempt_or_fine_only
    FROM core.fct_penalty_decision_type t
    LEFT JOIN ops.publication_exempt_types e ON e.penalty_type = t.penalty_type
    GROUP BY t.decision_id
),
status AS (
    SELECT d.decision_id, d.decision_date, p.as_of, d.revoked_on, d.is_revoked,
           CASE WHEN d.repaired_on <= p.as_of THEN d.repaired_on END AS repaired_on,
           CAST(d.decision_date + pr.min_months * INTERVAL '1 month' AS DATE)
               AS earliest_repair_on,
           CAST(d.decision_date + pr.max_months * INTERVAL '1 month' AS DATE)
               AS publicity_end_date,
           CASE
               WHEN k.exempt_only THEN 'exempt_types_only'
               WHEN k.exempt_or_fine_only
                    AND COALESCE(d.fine_amount_wan, 0) * 10000 <= CASE
                        WHEN d.party_type = '自然人' THEN p.low_fine_person_yuan
                        ELSE p.low_fine_organisation_yuan END
                    THEN 'low_fine'
               WHEN d.procedure_type = '简易' AND NOT p.publish_simple_procedure
                    THEN 'simple_procedure'
           END AS not_published_reason
    FROM core.fct_penalty_decision d
    CROSS JOIN publication p
    JOIN periods pr ON pr.decision_id = d.decision_id
    LEFT JOIN kinds k ON k.decision_id = d.decision_id
)
SELECT decision_id, as_of, decision_date, earliest_repair_on, publicity_end_date,
       not_published_reason,
       CASE WHEN is_revoked THEN 'revoked'
            WHEN repaired_on IS NOT NULL THEN 'repaired'
            WHEN publicity_end_date <= as_of THEN 'expired'
       END AS withdrawn_reason,
       CASE WHEN is_revoked THEN revoked_on
            WHEN repaired_on IS NOT NULL THEN repaired_on
            WHEN publicity_end_date <= as_of THEN publicity_end_date
       END AS withdrawn_on,
       (not_published_reason IS NULL AND NOT is_revoked AND repaired_on IS NULL
        AND decision_date <= as_of AND as_of < publicity_end_date) AS is_shown
FROM status
"""


# 行政处罚 publicity (CF_* field set): the decisions shown as of the last publish.
PORTAL_PENALTIES_VIEW = """
SELECT d.decision_number, d.party_type,
       CASE WHEN d.party_type = '自然人'
            THEN SUBSTR(d.party_name, 1, 1) || REPEAT('*', GREATEST(LENGTH(d.party_name) - 1, 1))
            ELSE d.party_name END AS party_name,
       d.party_uscc, d.party_registration_number, d.party_org_code,
       CASE WHEN d.party_type = '自然人' THEN NULL ELSE d.legal_rep_name END AS legal_rep_name,
       d.violation_type, d.violation_facts, d.legal_basis, d.penalty_types, d.penalty_content,
       d.fine_amount_wan, d.confiscation_amount_wan, d.license_affected, d.decision_date,
       s.publicity_end_date, d.authority_name, d.authority_uscc, s.as_of
FROM core.fct_penalty_decision d
JOIN mart.penalty_publicity s ON s.decision_id = d.decision_id
WHERE s.is_shown
"""
# 行政许可 publicity (XK_* field set): every decision made by the last publish's day, with its
# current status; a licence is not time-limited on the portal, it shows 有效/无效.
PORTAL_LICENCES_VIEW = """
SELECT l.decision_number, l.holder_type,
       CASE WHEN l.holder_type = '自然人'
            THEN SUBSTR(l.holder_name, 1, 1) || REPEAT('*', GREATEST(LENGTH(l.holder_name) - 1, 1))
            ELSE l.holder_name END AS holder_name,
       l.holder_uscc, l.holder_reg_number,
       CASE WHEN l.holder_type = '自然人' THEN NULL ELSE l.legal_rep_name END AS legal_rep_name,
       l.licence_name, l.licence_category, l.licence_number, l.decision_date, l.valid_from,
       l.valid_to, l.authority_name, l.authority_uscc, l.status, p.as_of
FROM core.fct_licence_decision l
CROSS JOIN ops.publication p
WHERE l.decision_date <= p.as_of
"""
VIEWS = {
    "mart.penalty_publicity": PENALTY_PUBLICITY_VIEW,
    "portal.v1_penalty_publicity": PORTAL_PENALTIES_VIEW,
    "portal.v1_licence_publicity": PORTAL_LICENCES_VIEW,
}


def _months(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, comment=comment)


def upgrade() -> None:
    op.add_column(
        "fct_penalty_decision",
        sa.Column("repaired_on", sa.Date, comment="信用修复通过日期(最早一次)"),
        schema="core",
    )
    op.create_table(
        "warehouse_build",
        sa.Column("day", sa.Date, primary_key=True, comment="仓库当前构建的日期"),
        schema="ops",
        comment="仓库所载构建的日期(一行，随构建原子发布)",
    )
    op.create_table(
        "publication",
        sa.Column("as_of", sa.Date, primary_key=True, comment="公示日(发布运行的逻辑日期)"),
        sa.Column(
            "low_fine_person_yuan",
            sa.Numeric(18, 2),
            nullable=False,
            comment="较低数额罚款上限(自然人,元)",
        ),
        sa.Column(
            "low_fine_organisation_yuan",
            sa.Numeric(18, 2),
            nullable=False,
            comment="较低数额罚款上限(法人及其他组织,元)",
        ),
        sa.Column(
            "publish_simple_procedure", sa.Boolean, nullable=False, comment="公示简易程序决定"
        ),
        schema="ops",
        comment="最近一次发布的公示日与规则(一行)",
    )
    op.create_table(
        "publication_periods",
        sa.Column(
            "applies_to", sa.String(20), nullable=False, comment="适用范围(all/sector/penalty_type)"
        ),
        sa.Column("scope", sa.String(40), nullable=False, comment="执法领域或处罚类别(all为空串)"),
        _months("min_months", "最短公示期(月)"),
        _months("max_months", "最长公示期(月)"),
        sa.PrimaryKeyConstraint("applies_to", "scope"),
        schema="ops",
        comment="行政处罚公示期规则(取适用规则中最长者)",
    )
    op.create_table(
        "publication_exempt_types",
        sa.Column("penalty_type", sa.String(20), primary_key=True, comment="处罚类别"),
        schema="ops",
        comment="仅含此类处罚(及较低数额罚款)的决定不公示",
    )
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in (
        "publication_exempt_types",
        "publication_periods",
        "publication",
        "warehouse_build",
    ):
        op.drop_table(table, schema="ops")
