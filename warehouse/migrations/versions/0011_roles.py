"""PostgreSQL roles: the loader writes every schema, BI reads ``mart`` (its dashboards), the
portal reads ``portal``'s masked views and nothing else. DuckDB is single-user: nothing to do.

The roles are NOLOGIN groups (cluster-wide, shared by every govlake database of a server); an
operator grants them to login users whose passwords live outside git (README, "Roles").
Default privileges cover the tables and views later migrations create.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOADER, BI, PORTAL = "govlake_loader", "govlake_bi", "govlake_portal"
# role -> (schemas it uses, the privileges on their tables)
GRANTS = {
    LOADER: (
        ("core", "mart", "portal", "dq", "ops", "restricted"),
        "SELECT, INSERT, UPDATE, DELETE",
    ),
    BI: (("mart",), "SELECT"),
    PORTAL: (("portal",), "SELECT"),
}
DEFAULTS = "ALTER DEFAULT PRIVILEGES IN SCHEMA"  # for what later migrations create there
# Two databases migrating at once may both try to create a role: the loser's error is harmless.
CREATE_ROLE = """
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    for role, (schemas, privileges) in GRANTS.items():
        op.execute(CREATE_ROLE.format(role=role))
        for schema in schemas:
            op.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
            op.execute(f"GRANT {privileges} ON ALL TABLES IN SCHEMA {schema} TO {role}")
            op.execute(f"{DEFAULTS} {schema} GRANT {privileges} ON TABLES TO {role}")


def downgrade() -> None:
    """Revokes what upgrade granted in this database; the roles stay (other databases of the
    server may use them)."""
    if not _postgres():
        return
    for role, (schemas, privileges) in GRANTS.items():
        for schema in schemas:
            op.execute(f"{DEFAULTS} {schema} REVOKE {privileges} ON TABLES FROM {role}")
            op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}")
            op.execute(f"REVOKE USAGE ON SCHEMA {schema} FROM {role}")
