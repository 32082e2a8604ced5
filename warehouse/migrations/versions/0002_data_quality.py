"""Data quality: what each validation did (dq), held days and their overrides (ops), and the
data-quality mart views.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    "dq_pass_rates": """
        SELECT dataset, dt, raw_rows, clean_rows, quarantined_rows, flagged_rows,
               CASE WHEN raw_rows = 0 THEN 1.0
                    ELSE CAST(clean_rows AS NUMERIC(20, 6)) / raw_rows END AS pass_rate
        FROM dq.table_runs""",
    "dq_quarantine_by_reason": """
        SELECT dataset, rule, outcome, SUM(rows) AS rows, MIN(dt) AS first_dt, MAX(dt) AS last_dt
        FROM dq.rule_counts
        GROUP BY dataset, rule, outcome""",
    "dq_freshness": """
        SELECT source_system, MAX(dt) AS last_dt, MAX(validated_at) AS last_validated_at
        FROM dq.table_runs
        GROUP BY source_system""",
}


def _key(name: str, comment: str, length: int = 60) -> sa.Column:
    return sa.Column(name, sa.String(length), primary_key=True, comment=comment)


def _table_day() -> list[sa.Column]:
    """The key every table here starts with: a source table and a batch day."""
    return [
        _key("dataset", "来源表 system.table"),
        sa.Column("dt", sa.Date, primary_key=True, comment="批次日期"),
    ]


def upgrade() -> None:
    op.create_table(
        "table_runs",
        *_table_day(),
        sa.Column("source_system", sa.String(20), nullable=False, comment="来源系统"),
        sa.Column("raw_rows", sa.BigInteger, nullable=False, comment="原始行数"),
        sa.Column("clean_rows", sa.BigInteger, nullable=False, comment="合格行数"),
        sa.Column("quarantined_rows", sa.BigInteger, nullable=False, comment="隔离行数"),
        sa.Column("flagged_rows", sa.BigInteger, nullable=False, comment="带标记行数"),
        sa.Column("resends_merged", sa.BigInteger, nullable=False, comment="合并的重发记录"),
        sa.Column("rejected_files", sa.Integer, nullable=False, comment="整体隔离的交换文件"),
        sa.Column("reconciled", sa.Boolean, nullable=False, comment="原始=合格+隔离"),
        sa.Column("held", sa.Boolean, nullable=False, comment="批次闸门未通过"),
        sa.Column("validated_at", sa.DateTime, comment="校验时间(UTC)"),
        schema="dq",
        comment="每表每日的校验结果与对账",
    )
    op.create_table(
        "rule_counts",
        *_table_day(),
        _key("rule", "规则名", 120),
        _key("outcome", "quarantine / flag / normalise", 12),
        sa.Column("rows", sa.BigInteger, nullable=False, comment="行数(规范化为值的个数)"),
        schema="dq",
        comment="每条规则每日隔离、标记或规范化的数量",
    )
    op.create_table(
        "held_days",
        *_table_day(),
        _key("gate", "批次闸门", 40),
        sa.Column("reason", sa.String(500), nullable=False, comment="原因"),
        schema="ops",
        comment="批次闸门未通过而暂停发布的表与日期",
    )
    op.create_table(
        "gate_overrides",
        *_table_day(),
        sa.Column("reason", sa.String(500), nullable=False, comment="放行理由"),
        sa.Column("overridden_by", sa.String(100), nullable=False, comment="操作人"),
        sa.Column("overridden_at", sa.DateTime, nullable=False, comment="放行时间(UTC)"),
        schema="ops",
        comment="操作人记录的闸门放行",
    )
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW mart.{name} AS {query}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS mart.{name}")
    op.drop_table("gate_overrides", schema="ops")
    op.drop_table("held_days", schema="ops")
    op.drop_table("rule_counts", schema="dq")
    op.drop_table("table_runs", schema="dq")
