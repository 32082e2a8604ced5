"""Credit records and grades (信用记录与信用评价, DOMAIN.md §7) as of the last publish.

``mart.credit_records`` holds every record the credit database is fed, one per licence,
published penalty and credit event (纳税信用等级, 经营异常名录, 严重失信主体名单, 失信被执行人),
with whether it holds on the publish day and, if not, since when and why (a penalty past its
publicity period, revoked or repaired; an event ended, lifted or repaired; a licence expired or
no longer valid). ``mart.credit_grade_points`` gives the points each record in force takes off or
adds to its enterprise's score, and ``mart.credit_grade`` the score and grade A–D of every
enterprise, so a grade is explained by the rows that produced it (异议 are answered from them).

The scoring model is configuration (``govlake.config.CreditScoringSettings``): each publish run
replaces ``ops.credit_scoring*`` with it, as it replaces ``ops.publication`` with the publicity
rules, and the views read it from there. The model (our proposal, DOMAIN.md §7.2): start at the
base points; a penalty takes off the points of its fine band, a share of them once it is older
than the recent period; a tax credit level or 经营异常 adds or takes off its points; bonuses count
up to a cap; a 严重失信主体名单 or 失信被执行人 record in force grades the enterprise D whatever
its score.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every record fed to the credit database, in force on the last publish's day or not (and then
# since when and why). A penalty is a credit record while it may be published: one the rules
# never publish (警告 only, low fines, 简易程序) is not one.
RECORDS_VIEW = """
WITH p AS (SELECT as_of FROM ops.publication)
SELECT 'enforcement.penalty_decisions:' || CAST(d.decision_id AS VARCHAR) AS record_key,
       '行政处罚' AS record_type, d.party_entity_id AS entity_id,
       d.decision_number AS document_number,
       d.decision_date AS record_on, s.publicity_end_date AS ends_on,
       d.authority_name AS authority, d.violation_type AS summary, d.fine_amount_wan,
       CAST(NULL AS VARCHAR) AS level, s.is_shown AS in_force,
       s.withdrawn_on, s.withdrawn_reason
FROM core.fct_penalty_decision d
JOIN mart.penalty_publicity s ON s.decision_id = d.decision_id
CROSS JOIN p
WHERE s.not_published_reason IS NULL AND d.decision_date <= p.as_of
  AND d.party_entity_id IS NOT NULL
UNION ALL
SELECT 'approval.licence_decisions:' || CAST(l.decision_id AS VARCHAR), '行政许可',
       l.holder_entity_id, l.decision_number, l.decision_date, l.valid_to, l.authority_name,
       l.licence_name, NULL, NULL, l.in_force,
       CASE WHEN NOT l.in_force THEN LEAST(l.valid_to, p.as_of) END,
       CASE WHEN l.in_force THEN NULL
            WHEN l.status <> '有效' THEN 'licence_' || l.status
            ELSE 'expired' END
FROM core.fct_licence_decision l
CROSS JOIN p
WHERE l.decision_date <= p.as_of AND l.holder_entity_id IS NOT NULL
UNION ALL
SELECT e.event_key, e.event_type, e.entity_id, CAST(e.record_id AS VARCHAR), e.event_on,
       e.ends_on, e.authority, e.summary, NULL, e.level, e.is_active,
       CASE WHEN NOT e.is_active THEN COALESCE(e.repaired_on, e.ends_on, p.as_of) END,
       CASE WHEN e.is_active THEN NULL
            WHEN e.repaired_on <= p.as_of THEN 'repaired'
            ELSE 'ended' END
FROM core.fct_credit_event e
CROSS JOIN p
WHERE e.event_type <> '信用修复' AND e.entity_id IS NOT NULL AND e.event_on <= p.as_of
"""

# The points each record in force counts towards its enterprise's score, and the records that
# grade it D outright; a record that counts nothing (a licence, a neutral tax level) is not here.
POINTS_VIEW = """
WITH c AS (SELECT * FROM ops.credit_scoring),
records AS (
    SELECT r.*, COALESCE(e.uscc, e.registration_number) AS subject_key
    FROM mart.credit_records r
    JOIN core.entity e ON e.entity_id = r.entity_id
    WHERE r.in_force AND e.entity_kind = 'enterprise'
),
banded AS (
    SELECT r.record_key, MAX(b.points) AS points
    FROM records r
    JOIN ops.credit_penalty_bands b ON COALESCE(r.fine_amount_wan, 0) >= b.min_fine_wan
    WHERE r.record_type = '行政处罚'
    GROUP BY r.record_key
),
scored AS (
    SELECT r.entity_id, r.subject_key, r.record_key, r.record_type,
           CASE WHEN r.record_type = '行政处罚' THEN 'penalty_fine_band'
                WHEN o.record_type IS NOT NULL THEN 'grade_d_override'
                ELSE 'record_points' END AS rule,
           CASE WHEN r.record_type = '行政处罚' THEN
                    -CASE WHEN r.record_on > CAST(p.as_of - c.penalty_recent_months
                                                  * INTERVAL '1 month' AS DATE)
                          THEN b.points
                          ELSE CAST(FLOOR(b.points * c.penalty_older_percent / 100.0) AS INTEGER)
                     END
                ELSE COALESCE(k.points, 0) END AS points,
           o.record_type IS NOT NULL AS grades_d
    FROM records r
    CROSS JOIN c
    CROSS JOIN ops.publication p
    LEFT JOIN banded b ON b.record_key = r.record_key
    LEFT JOIN ops.credit_record_points k
      ON k.record_type = r.record_type AND k.level = COALESCE(r.level, '')
    LEFT JOIN ops.credit_overrides o ON o.record_type = r.record_type
)
SELECT entity_id, subject_key, record_key, record_type, rule, points, grades_d
FROM scored
WHERE points <> 0 OR grades_d
"""

# Every enterprise's score and grade: the base, the deductions, the bonuses up to their cap;
# D when a record grades it so, else by the grade floors.
GRADE_VIEW = """
WITH c AS (SELECT * FROM ops.credit_scoring),
totals AS (
    SELECT entity_id,
           SUM(CASE WHEN points < 0 THEN points ELSE 0 END) AS deductions,
           SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS bonuses,
           MIN(CASE WHEN grades_d THEN record_type END) AS override_reason
    FROM mart.credit_grade_points
    GROUP BY entity_id
),
scored AS (
    SELECT e.entity_id, COALESCE(e.uscc, e.registration_number) AS subject_key, e.uscc,
           e.registration_number, e.name, c.model_version, p.as_of,
           c.base_points + COALESCE(t.deductions, 0) + LEAST(COALESCE(t.bonuses, 0), c.bonus_cap)
               AS score,
           t.override_reason
    FROM core.entity e
    CROSS JOIN c
    CROSS JOIN ops.publication p
    LEFT JOIN totals t ON t.entity_id = e.entity_id
    WHERE e.entity_kind = 'enterprise'
      AND COALESCE(e.uscc, e.registration_number) IS NOT NULL
)
SELECT s.entity_id, s.subject_key, s.uscc, s.registration_number, s.name, s.score,
       CASE WHEN s.override_reason IS NOT NULL THEN 'D'
            WHEN s.score >= c.grade_a_points THEN 'A'
            WHEN s.score >= c.grade_b_points THEN 'B'
            WHEN s.score >= c.grade_c_points THEN 'C'
            ELSE 'D' END AS grade,
       s.override_reason, s.model_version, s.as_of
FROM scored s
CROSS JOIN ops.credit_scoring c
"""
# What the credit database's feed reads (``govlake.publish.credit_feed``), in ``restricted`` as
# it names persons: a natural person by the credit system's own person key (人员编号), or, for
# one the credit system does not know, by the ID number the feed sends with the new person.
FEED_RECORDS_VIEW = """
SELECT r.record_key, r.record_type,
       CASE WHEN e.entity_kind = 'person' THEN 'person' ELSE 'organisation' END AS subject_kind,
       e.uscc, e.registration_number, i.register_id AS person_id,
       CASE WHEN e.entity_kind = 'person' AND i.register_id IS NULL THEN i.id_number END
           AS new_person_id_number,
       r.document_number, r.record_on, r.ends_on, r.authority, r.summary, r.fine_amount_wan,
       r.level, r.in_force, r.withdrawn_on, r.withdrawn_reason
FROM mart.credit_records r
JOIN core.entity e ON e.entity_id = r.entity_id
LEFT JOIN restricted.person_identity i ON i.entity_id = r.entity_id
"""
FEED_NEW_PERSONS_VIEW = """
SELECT i.id_number, MIN(e.name) AS name
FROM mart.credit_records r
JOIN core.entity e ON e.entity_id = r.entity_id
JOIN restricted.person_identity i ON i.entity_id = r.entity_id
WHERE r.in_force AND e.entity_kind = 'person' AND i.register_id IS NULL
GROUP BY i.id_number
"""
VIEWS = {
    "mart.credit_records": RECORDS_VIEW,
    "mart.credit_grade_points": POINTS_VIEW,
    "mart.credit_grade": GRADE_VIEW,
    "restricted.credit_feed_records": FEED_RECORDS_VIEW,
    "restricted.credit_feed_new_persons": FEED_NEW_PERSONS_VIEW,
}


TABLES = ("credit_scoring", "credit_penalty_bands", "credit_record_points", "credit_overrides")


def _points(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=False, comment=comment)


def upgrade() -> None:
    op.create_table(
        "credit_scoring",
        sa.Column("model_version", sa.String(40), primary_key=True, comment="评分模型版本"),
        _points("base_points", "基础分"),
        _points("grade_a_points", "A级最低分"),
        _points("grade_b_points", "B级最低分"),
        _points("grade_c_points", "C级最低分(以下为D级)"),
        _points("penalty_recent_months", "行政处罚全额扣分的月数(此后按比例)"),
        _points("penalty_older_percent", "较早行政处罚扣分比例(%)"),
        _points("bonus_cap", "加分上限"),
        schema="ops",
        comment="信用评分模型参数(一行，随发布写入)",
    )
    op.create_table(
        "credit_penalty_bands",
        sa.Column("min_fine_wan", sa.Numeric(18, 4), primary_key=True, comment="罚款下限(万元)"),
        _points("points", "扣分"),
        schema="ops",
        comment="行政处罚按罚款金额的扣分档",
    )
    op.create_table(
        "credit_record_points",
        sa.Column("record_type", sa.String(20), nullable=False, comment="信用记录类别"),
        sa.Column("level", sa.String(4), nullable=False, comment="级别(纳税信用级别，其余为空串)"),
        _points("points", "加减分(正为加分)"),
        sa.PrimaryKeyConstraint("record_type", "level"),
        schema="ops",
        comment="信用记录的加减分",
    )
    op.create_table(
        "credit_overrides",
        sa.Column("record_type", sa.String(20), primary_key=True, comment="信用记录类别"),
        schema="ops",
        comment="有效即直接评为D级的记录类别",
    )
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in reversed(TABLES):
        op.drop_table(table, schema="ops")
