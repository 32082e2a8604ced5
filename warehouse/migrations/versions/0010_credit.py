"""Credit (公共信用) events, entity history and the credit profile mart.

The credit record fact (信用记录: 纳税信用等级, 经营异常名录, 严重失信主体名单, 失信被执行人,
信用修复 in one table, each with its party's entity and whether it holds on the build day), the
SCD type 2 history of each registered enterprise's name and 登记状态, and the credit profile of
every enterprise.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = "数据质量标记(逗号分隔，无则为空)"
# One row per enterprise of the entity master: its active events per type; the tax credit level
# in effect (a later rating supersedes it); on a dishonesty list while a 严重失信 or 失信被执行人
# record of it is active; penalty decisions while not revoked, and their fines (万元).
PROFILE_VIEW = """
WITH events AS (
    SELECT entity_id,
           COUNT(*) FILTER (WHERE is_active AND event_type = '纳税信用等级')
               AS active_tax_credit_levels,
           COUNT(*) FILTER (WHERE is_active AND event_type = '经营异常名录')
               AS active_abnormal_operations,
           COUNT(*) FILTER (WHERE is_active AND event_type = '严重失信主体名单')
               AS active_serious_dishonesty,
           COUNT(*) FILTER (WHERE is_active AND event_type = '失信被执行人')
               AS active_dishonest_debtors,
           COUNT(*) FILTER (WHERE is_active AND event_type = '信用修复') AS active_credit_repairs,
           MAX(event_on) AS last_event_on
    FROM core.fct_credit_event
    WHERE entity_id IS NOT NULL
    GROUP BY entity_id
), tax AS (
    SELECT entity_id, level,
           ROW_NUMBER() OVER (PARTITION BY entity_id ORDER BY event_on DESC, record_id DESC) AS n
    FROM core.fct_credit_event
    WHERE event_type = '纳税信用等级' AND is_active
), penalties AS (
    SELECT party_entity_id AS entity_id, COUNT(*) AS penalties_in_force,
           SUM(fine_amount_wan) AS fine_amount_wan_in_force
    FROM core.fct_penalty_decision
    WHERE NOT is_revoked AND party_entity_id IS NOT NULL
    GROUP BY party_entity_id
)
SELECT e.entity_id, e.uscc, e.name, e.status,
       COALESCE(ev.active_tax_credit_levels, 0) AS active_tax_credit_levels,
       COALESCE(ev.active_abnormal_operations, 0) AS active_abnormal_operations,
       COALESCE(ev.active_serious_dishonesty, 0) AS active_serious_dishonesty,
       COALESCE(ev.active_dishonest_debtors, 0) AS active_dishonest_debtors,
       COALESCE(ev.active_credit_repairs, 0) AS active_credit_repairs,
       t.level AS tax_credit_level,
       COALESCE(ev.active_serious_dishonesty + ev.active_dishonest_debtors > 0, FALSE)
           AS on_dishonesty_list,
       COALESCE(p.penalties_in_force, 0) AS penalties_in_force,
       COALESCE(p.fine_amount_wan_in_force, 0) AS fine_amount_wan_in_force,
       ev.last_event_on
FROM core.entity e
LEFT JOIN events ev ON ev.entity_id = e.entity_id
LEFT JOIN tax t ON t.entity_id = e.entity_id AND t.n = 1
LEFT JOIN penalties p ON p.entity_id = e.entity_id
WHERE e.entity_kind = 'enterprise'
"""


def _text(name: str, length: int, comment: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable, comment=comment)


def upgrade() -> None:
    op.create_table(
        "fct_credit_event",
        _text("event_key", 60, "信用记录标识(来源表:记录编号)", nullable=False),
        _text("dataset", 60, "来源表 system.table", nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False, comment="来源记录编号"),
        _text("entity_id", 40, "主体(core.entity)"),
        _text("event_type", 20, "信用记录类别", nullable=False),
        _text("party_name", 200, "主体名称(记录所写)"),
        sa.Column("event_on", sa.Date, comment="生效日期(评定、列入、发布或修复通过日期)"),
        sa.Column("ends_on", sa.Date, comment="终止日期(移出日期、有效期至或下次评定日期)"),
        sa.Column("repaired_on", sa.Date, comment="信用修复通过日期"),
        _text("level", 4, "纳税信用级别"),
        _text("authority", 100, "作出决定机关、认定部门或执行法院"),
        _text("summary", 400, "事由摘要"),
        sa.Column("is_active", sa.Boolean, nullable=False, comment="构建日有效(未终止、未修复)"),
        _text("dq_flags", 200, FLAGS),
        sa.PrimaryKeyConstraint("event_key"),
        schema="core",
        comment="信用记录事实表(纳税信用、经营异常、严重失信、失信被执行人、信用修复)",
    )
    op.create_table(
        "dim_entity_history",
        _text("entity_id", 40, "主体(core.entity)", nullable=False),
        sa.Column("enterprise_id", sa.BigInteger, nullable=False, comment="主体内部编号"),
        _text("name", 200, "主体名称", nullable=False),
        _text("status", 20, "登记状态", nullable=False),
        sa.Column("valid_from", sa.DateTime, nullable=False, comment="起始时间(该版本更新时间)"),
        sa.Column("valid_to", sa.DateTime, comment="截止时间(下一版本起始，当前版本为空)"),
        sa.Column("is_current", sa.Boolean, nullable=False, comment="是否当前版本"),
        sa.PrimaryKeyConstraint("enterprise_id", "valid_from"),
        schema="core",
        comment="主体变更历史(名称与登记状态，SCD2)",
    )
    op.execute(f"CREATE VIEW mart.credit_profile AS {PROFILE_VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS mart.credit_profile")
    op.drop_table("dim_entity_history", schema="core")
    op.drop_table("fct_credit_event", schema="core")
