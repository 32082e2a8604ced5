"""Withheld keys: every table's keys whose latest version is quarantined, so marts, portal views
and the credit feed leave them out until a clean version or a recorded release arrives
(DESIGN.md, "Raw is a change log"). Rebuilt by every build from conform's own ranking.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEW = """
    SELECT dataset, COUNT(*) AS withheld_keys, MIN(dt) AS oldest_dt, MAX(dt) AS newest_dt
    FROM dq.withheld_keys
    GROUP BY dataset"""


def upgrade() -> None:
    op.create_table(
        "withheld_keys",
        sa.Column("dataset", sa.String(60), primary_key=True, comment="来源表 system.table"),
        sa.Column("key", sa.String(200), primary_key=True, comment="主键(文本, 多列以|连接)"),
        sa.Column("dt", sa.Date, nullable=False, comment="被隔离的最新版本所在批次"),
        sa.Column("watermark", sa.DateTime, comment="该版本的来源更新时间"),
        sa.Column("reasons", sa.String(1000), nullable=False, comment="隔离规则(逗号分隔)"),
        schema="dq",
        comment="最新版本被隔离而暂不发布的主键",
    )
    op.execute(f"CREATE VIEW mart.dq_withheld AS {VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS mart.dq_withheld")
    op.drop_table("withheld_keys", schema="dq")
