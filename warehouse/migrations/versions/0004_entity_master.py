"""Entity master (主体库): one golden record per legal entity and natural person, the match of
every party reference in the source tables (source record -> entity, and the rule that matched,
so every match can be explained), and persons' ID numbers in ``restricted`` only.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ENTITY_ID = 40  # "E" + USCC, "R" + 工商注册号, "P" + 32 hex digits of the person key


def upgrade() -> None:
    op.create_table(
        "entity",
        sa.Column("entity_id", sa.String(ENTITY_ID), primary_key=True, comment="主体标识"),
        sa.Column("entity_kind", sa.String(20), nullable=False, comment="enterprise / person"),
        sa.Column("uscc", sa.String(18), comment="统一社会信用代码"),
        sa.Column("org_code", sa.String(9), comment="组织机构代码(取自统一社会信用代码)"),
        sa.Column("registration_number", sa.String(20), comment="工商注册号"),
        sa.Column("name", sa.String(200), comment="名称(登记或首次引用时的写法)"),
        sa.Column("entity_type", sa.String(20), comment="主体类型(登记)"),
        sa.Column("status", sa.String(20), comment="登记状态"),
        sa.Column("register_id", sa.String(20), comment="登记系统内部编号(企业或自然人)"),
        sa.Column("registered", sa.Boolean, nullable=False, comment="是否见于信用系统登记"),
        schema="core",
        comment="主体库：每个法人、个体工商户或自然人一条黄金记录",
    )
    op.create_table(
        "entity_match",
        sa.Column("dataset", sa.String(60), primary_key=True, comment="来源表 system.table"),
        sa.Column("source_key", sa.String(60), primary_key=True, comment="来源记录主键"),
        sa.Column("role", sa.String(20), primary_key=True, comment="主体在记录中的角色"),
        sa.Column("entity_kind", sa.String(20), nullable=False, comment="enterprise / person"),
        sa.Column("entity_id", sa.String(ENTITY_ID), comment="匹配到的主体(未匹配为空)"),
        sa.Column("rule", sa.String(40), nullable=False, comment="匹配规则"),
        schema="core",
        comment="主体匹配表：来源记录 -> 主体，及所用规则",
    )
    op.create_table(
        "person_identity",
        sa.Column("entity_id", sa.String(ENTITY_ID), primary_key=True, comment="自然人主体标识"),
        sa.Column("id_number", sa.String(18), nullable=False, comment="身份证号码"),
        sa.Column("register_id", sa.String(20), comment="信用系统自然人编号"),
        schema="restricted",
        comment="自然人身份证号码：仅供信用库可信接口使用",
    )


def downgrade() -> None:
    op.drop_table("person_identity", schema="restricted")
    op.drop_table("entity_match", schema="core")
    op.drop_table("entity", schema="core")
