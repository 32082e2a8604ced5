"""One build, loaded into PostgreSQL and into DuckDB: the same rows and the same content
checksum in every table (DESIGN.md's "identical"), and a re-load changes nothing; the same build
on a Spark standalone cluster (a master and two one-core workers) gives the same tables.

On the services profile: the tiny history is extracted from PostgreSQL into the S3 server and
validated with the real steps (no Airflow: the DAGs' wiring is tested elsewhere), built with the
real Spark job under spark-submit reading and writing the lake over s3a (the suite's one build, so
its one s3a test), then published to both warehouses. The build is the session fixture
``built_warehouse`` (tests/integration/conftest.py), shared with the dashboards' tests."""

from __future__ import annotations

import duckdb
import pytest

from govlake import load, spark_cluster, steps
from govlake.lake import Lake, Partition
from govlake.publish import publicity
from govlake.transform.build import CURATED
from tests.conftest import DAY


@pytest.fixture(scope="module")
def built(built_warehouse):
    return built_warehouse


def _checksums(url: str, tables) -> dict[str, str]:
    return {t: load.table_checksum(url, t) for t in tables}


def test_postgres_and_duckdb_hold_the_same_build(built):
    assert built["pg_loaded"] == built["duck_loaded"]
    assert all(built["pg_loaded"][t] > 0 for t in CURATED)
    assert _checksums(built["pg_url"], built["tables"]) == _checksums(
        built["duck_url"], built["tables"]
    )


def test_every_curated_column_has_a_warehouse_column(built):
    """The load fills the columns a table has: a column the migrations forgot would be lost."""
    for table in CURATED:
        curated = built["tables"][table].column_names
        assert sorted(load.column_names(built["pg_url"], table)) == sorted(curated), table


def test_loading_the_same_build_again_changes_nothing(built):
    before = _checksums(built["pg_url"], built["tables"])
    load.replace_tables(built["pg_url"], built["tables"])
    assert _checksums(built["pg_url"], built["tables"]) == before


def test_the_portal_views_are_the_same_in_postgres_and_duckdb(built):
    views = (publicity.STATUS, publicity.COMPLIANCE, *publicity.PORTAL_VIEWS)
    assert load.row_count(built["pg_url"], publicity.STATUS) > 0
    assert _checksums(built["pg_url"], views) == _checksums(built["duck_url"], views)


def test_a_standalone_cluster_builds_the_same_tables(built, tmp_path):
    """The Spark job submitted to a real standalone cluster, its executors reading and writing
    the lake over s3a, rebuilds the day: every curated table has the local build's rows."""
    with spark_cluster.running(tmp_path / "spark", workers=2, cores=1) as cluster:
        on_cluster = built["settings"].model_copy(update={"spark_master": cluster.master_url})
        steps.transform(on_cluster, DAY)
    lake = Lake.from_settings(on_cluster)
    with duckdb.connect() as con:
        for table in CURATED:
            con.register("local", built["tables"][table])
            con.register("cluster", lake.read_table(Partition("curated", table, DAY)))
            differ = con.execute(
                "SELECT (SELECT count(*) FROM (FROM local EXCEPT ALL FROM cluster)) "
                "+ (SELECT count(*) FROM (FROM cluster EXCEPT ALL FROM local))"
            ).fetchall()
            assert differ == [(0,)], table
