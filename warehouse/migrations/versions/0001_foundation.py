"""Foundation: the warehouse schemas and the staged enterprise register.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `ops` is created by env.py first, because Alembic's version table lives there; it is listed here
# so that the migration declares every schema. Downgrade drops all the others but not `ops`: the
# version table outlives a downgrade to base.
SCHEMAS = ("core", "mart", "portal", "dq", "ops", "restricted")
DROPPABLE = tuple(s for s in SCHEMAS if s != "ops")


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
    op.create_table(
        "stg_enterprise_register",
        sa.Column(
            "enterprise_id",
            sa.BigInteger,
            primary_key=True,
            autoincrement=False,
            comment="主体内部编号",
        ),
        sa.Column("uscc", sa.String(18), nullable=False, comment="统一社会信用代码"),
        sa.Column("name", sa.String(200), nullable=False, comment="企业名称"),
        sa.Column("entity_type", sa.String(20), nullable=False, comment="主体类型"),
        sa.Column("legal_rep_name", sa.String(50), comment="法定代表人"),
        sa.Column("region_code", sa.String(6), comment="登记机关行政区划代码"),
        sa.Column("registered_capital", sa.Numeric(20, 4), comment="注册资本(万元)"),
        sa.Column("established_on", sa.Date, comment="成立日期"),
        sa.Column("status", sa.String(20), nullable=False, comment="登记状态"),
        sa.Column("updated_at", sa.DateTime, nullable=False, comment="最后更新时间"),
        sa.Column("dq_flags", sa.String(200), comment="数据质量标记(逗号分隔，无则为空)"),
        schema="core",
        comment="企业登记信息：信用系统企业登记表，每个主键的最新版本",
    )


def downgrade() -> None:
    op.drop_table("stg_enterprise_register", schema="core")
    for schema in reversed(DROPPABLE):
        op.execute(sa.schema.DropSchema(schema, if_exists=True))
