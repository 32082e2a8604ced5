"""The staged enterprise register keeps the keys the entity master matches on: the old
registration number (工商注册号) and the legal representative's person number in the credit
system. The representative's ID number stays out (``restricted.person_identity`` holds it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "stg_enterprise_register"
COLUMNS = (
    ("registration_number", sa.String(15), "注册号(工商注册号，统一代码之前的编号)"),
    ("legal_rep_person_id", sa.BigInteger, "法定代表人人员编号(信用系统)"),
)


def upgrade() -> None:
    for name, type_, comment in COLUMNS:
        op.add_column(TABLE, sa.Column(name, type_, comment=comment), schema="core")


def downgrade() -> None:
    for name, _, _ in reversed(COLUMNS):
        op.drop_column(TABLE, name, schema="core")
