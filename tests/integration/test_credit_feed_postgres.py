"""The credit feed between real PostgreSQL servers, as the services profile runs it: the grades
and records of the hand-made warehouse of ``tests/unit/test_credit_grades`` computed by
PostgreSQL equal DuckDB's, the pushed credit database holds what the SQLite one holds, and a
second push of the same day changes nothing."""

from __future__ import annotations

import pytest

from govlake import load
from govlake.publish import credit_feed, grading
from tests import handmade
from tests.integration.conftest import fresh_database
from tests.unit.test_credit_feed import dump
from tests.unit.test_credit_grades import DAY, warehouse_rows


@pytest.fixture(scope="module")
def warehouses(services_stack, tmp_path_factory) -> dict[str, str]:
    duck = handmade.warehouse(tmp_path_factory.mktemp("duck"), warehouse_rows())
    tables = {table: handmade.read(duck, table) for table in warehouse_rows()}
    pg = fresh_database(services_stack, "credit_feed_warehouse")
    load.migrate(pg)
    load.replace_tables(pg, tables)
    for url in (duck, pg):
        handmade.publish(url, DAY)
    return {"duckdb": duck, "postgresql": pg}


def test_postgres_grades_and_records_equal_duckdbs(warehouses):
    for view in (grading.RECORDS, grading.POINTS, grading.GRADES, *credit_feed.SOURCES[:2]):
        checksums = {name: load.table_checksum(url, view) for name, url in warehouses.items()}
        assert checksums["duckdb"] == checksums["postgresql"], view


def test_a_push_into_postgres_holds_what_sqlite_holds_and_a_second_changes_nothing(
    warehouses, services_stack, tmp_path
):
    credit = fresh_database(services_stack, "credit_feed_target")
    sqlite = f"sqlite:///{tmp_path / 'credit.sqlite'}"
    credit_feed.push(warehouses["postgresql"], credit, DAY)
    credit_feed.push(warehouses["duckdb"], sqlite, DAY)
    pushed = dump(credit)
    assert len(pushed["credit_record"]) == 10
    assert pushed == dump(sqlite)
    again = credit_feed.push(warehouses["postgresql"], credit, DAY)
    assert all(t == {"written": 0, "removed": 0} for t in again["tables"].values())
    assert dump(credit) == pushed
