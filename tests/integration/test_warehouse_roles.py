"""PostgreSQL roles (migration 0011): the portal's login reads ``portal`` views and nothing
else, BI reads ``mart`` and not ``core``, the loader writes the warehouse; a view created after
the migration is covered too (default privileges)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from govlake import load
from govlake.publish import publicity

PROBE_VIEW = "portal.roles_probe"


@pytest.fixture(scope="module")
def owner(services_env: dict[str, str]) -> Iterator[sa.URL]:
    url = services_env["GOVLAKE_WAREHOUSE_URL"]
    load.migrate(url)
    parsed = sa.make_url(url)
    with _connect(parsed) as conn:
        conn.execute(f"CREATE OR REPLACE VIEW {PROBE_VIEW} AS SELECT 1 AS published")
    yield parsed
    with _connect(parsed) as conn:
        conn.execute(f"DROP VIEW IF EXISTS {PROBE_VIEW}")


def _connect(url: sa.URL) -> psycopg.Connection:
    return psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=url.username,
        password=url.password, autocommit=True,
    )  # fmt: skip


@pytest.fixture
def login(owner: sa.URL) -> Iterator:
    """A throw-away login user in a govlake group role, as an operator would create one."""
    made = []

    def make(group: str) -> psycopg.Connection:
        user, password = f"probe_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
        with _connect(owner) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                    sql.Identifier(user), sql.Literal(password), sql.Identifier(group)
                )
            )
        made.append(user)
        return _connect(owner.set(username=user, password=password))

    yield make
    with _connect(owner) as conn:
        for user in made:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(user)))


def _can_read(conn: psycopg.Connection, relation: str) -> bool:
    try:
        schema, name = relation.split(".")
        conn.execute(sql.SQL("SELECT * FROM {} LIMIT 1").format(sql.Identifier(schema, name)))
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


# One relation of every other schema, and what the portal views read (they run as their owner).
NOT_FOR_THE_PORTAL = (
    "core.fct_case",
    "core.fct_penalty_decision",
    "mart.approval_kpi_monthly",
    "mart.penalty_publicity",
    "restricted.person_identity",
    "restricted.credit_feed_records",  # the credit feed's: ID numbers of new persons
    "mart.credit_grade",
    "dq.table_runs",
    "ops.publication",
)


def test_the_portal_reads_portal_views_only(login):
    with login("govlake_portal") as portal:
        for view in (PROBE_VIEW, *publicity.PORTAL_VIEWS):
            assert _can_read(portal, view), view
        for other in NOT_FOR_THE_PORTAL:
            assert not _can_read(portal, other), other


def test_bi_reads_the_marts_not_the_core(login):
    with login("govlake_bi") as bi:
        assert _can_read(bi, "mart.approval_kpi_monthly")
        assert _can_read(bi, "mart.credit_grade")
        assert not _can_read(bi, "core.fct_case")
        for restricted in ("person_identity", "credit_feed_records", "credit_feed_new_persons"):
            assert not _can_read(bi, f"restricted.{restricted}"), restricted


def test_the_loader_writes_the_warehouse(login):
    with login("govlake_loader") as loader, loader.transaction(force_rollback=True):
        loader.execute("DELETE FROM core.fct_case")
        assert _can_read(loader, "restricted.person_identity")
