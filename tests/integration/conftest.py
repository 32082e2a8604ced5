"""Integration tests run against a real PostgreSQL 15 and a real S3 server (SeaweedFS).

One stack per test session, named ``test-<pid>`` so it never collides with a ``make up`` stack
("local") or another session; it is stopped and deleted at the end, also when tests fail.

Tests of Airflow as a service share a second stack, ``test-<pid>-airflow``, with Airflow started
on it (paid once, ~20 s): its seeded sources and Airflow's metadata never meet the first stack's
tests. A test marked ``stops_airflow`` runs after every other test that uses it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from govlake import contracts, services, steps
from govlake.config import Settings
from govlake.lake import Lake, Partition
from govlake.pipeline import seed_sources
from govlake.quality.record import quality_tables
from govlake.quality.rules import validation_order
from govlake.transform.build import CURATED
from tests.conftest import DAY, EXPECTATIONS, fail_fast_settings
from tests.integration import airflow_client

VAR_DIR = Path(__file__).resolve().parents[2] / "var"
BUILT_WAREHOUSE = "built_warehouse"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "stops_airflow: stops the shared Airflow stack (runs after its other users)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move tests that stop the shared Airflow stack right after the last test that uses it."""
    stopping = [item for item in items if item.get_closest_marker("stops_airflow")]
    if not stopping:
        return
    rest = [item for item in items if item not in stopping]
    users = [n for n, item in enumerate(rest) if "airflow_stack" in item.fixturenames]
    at = users[-1] + 1 if users else len(rest)
    items[:] = rest[:at] + stopping + rest[at:]


def _purge_stale_test_stacks() -> None:
    """Remove test stacks whose session was killed before its teardown ran."""
    for state_dir in (VAR_DIR / "services").glob("test-*"):
        owner = state_dir.name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            services.down(state_dir.name, VAR_DIR, purge=True)


def own_stack(name: str) -> Iterator[services.ServiceStack]:
    """A stack of a test module's own (e.g. for a test that kills a server), deleted after it:
    the body of a module-scoped fixture, ``yield from own_stack("faults")``."""
    full = f"test-{os.getpid()}-{name}"
    try:
        yield services.up(full, VAR_DIR)
    finally:
        services.down(full, VAR_DIR, purge=True)


@pytest.fixture(scope="session")
def services_stack() -> Iterator[services.ServiceStack]:
    name = f"test-{os.getpid()}"
    _purge_stale_test_stacks()
    try:
        yield services.up(name, VAR_DIR)
    finally:
        services.down(name, VAR_DIR, purge=True)


def fresh_bucket(stack: services.ServiceStack, name: str) -> str:
    """A bucket of its own on ``stack``: what other tests left in its bucket cannot interfere."""
    from minio import Minio

    client = Minio(stack.s3_endpoint, stack.s3_access_key, stack.s3_secret_key, secure=False)
    if not client.bucket_exists(name):
        client.make_bucket(name)
    return name


def fresh_database(stack: services.ServiceStack, name: str) -> str:
    """An empty PostgreSQL database of its own on ``stack``, owned by govlake's role; its URL."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(stack.pg_dir / "run"), port=stack.pg_port, user="postgres", dbname="postgres",
        autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        owner = sql.Identifier(services.ROLE)
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), owner))
    return stack.pg_url(name)


@pytest.fixture(scope="session")
def services_env(services_stack: services.ServiceStack) -> dict[str, str]:
    """The GOVLAKE_* variables that point govlake at the session's services."""
    return services_stack.env()


@pytest.fixture(scope="session")
def airflow_stack() -> Iterator[services.ServiceStack]:
    """A stack of its own with Airflow running on it, purged at the end of the session."""
    name = f"test-{os.getpid()}-airflow"
    _purge_stale_test_stacks()
    try:
        # The processes take their environment at start.
        with pytest.MonkeyPatch.context() as env:
            env.setenv("GOVLAKE_DAG__TASK_RETRIES", "0")  # a failing task fails the run at once
            # Only triggered runs and backfills: unpausing adds no run of the latest day.
            env.setenv("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")
            started = time.monotonic()
            stack = services.up(name, VAR_DIR, airflow=True)
            print(f"stack with Airflow up in {time.monotonic() - started:.1f} s")
        yield stack
    finally:
        services.down(name, VAR_DIR, purge=True)


@pytest.fixture(scope="session")
def airflow_api(airflow_stack: services.ServiceStack) -> Iterator[httpx.Client]:
    """A REST client logged in as the admin with the password from the generated file."""
    airflow = airflow_stack.airflow
    assert airflow is not None
    password = json.loads(airflow.password_file.read_text())[airflow.user]
    with airflow_client.login(airflow, password) as client:
        yield client


@pytest.fixture(scope="session")
def airflow_settings(airflow_stack: services.ServiceStack, tmp_path_factory) -> Settings:
    """Services-profile settings of the Airflow stack, its sources seeded up to DAY (tiny)."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in airflow_stack.env().items():
            env.setenv(key, value)
        settings = Settings(var_dir=tmp_path_factory.mktemp("airflow-seed"), _env_file=None)
    seed_sources(settings, DAY, "tiny")
    return settings


@pytest.fixture
def services_settings(services_env, monkeypatch, tmp_path) -> Settings:
    """Settings of the services profile on the session's stack, with a private var dir."""
    for key, value in services_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GOVLAKE_VAR_DIR", str(tmp_path))
    return Settings(_env_file=None)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory, services_stack):
    """The suite's one build of the tiny history on the services profile, into the database
    BUILT_WAREHOUSE of the session's stack and into a DuckDB file (test_warehouse_engines.py
    compares them; the dashboards' tests chart it)."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in services_stack.env().items():
            env.setenv(key, value)
        env.setenv("GOVLAKE_S3_BUCKET", fresh_bucket(services_stack, "warehouse-engines"))
        env.setenv("GOVLAKE_WAREHOUSE_URL", fresh_database(services_stack, BUILT_WAREHOUSE))
        pg = fail_fast_settings(tmp_path_factory.mktemp("engines"))
    seed_sources(pg, DAY, "tiny")
    for name in validation_order(list(contracts.CONTRACTS), EXPECTATIONS):
        steps.extract(pg, name, DAY, full=True)
        steps.validate(pg, name, DAY)
    steps.transform(pg, DAY)  # the job gets these settings in its environment
    duck_url = f"duckdb:///{pg.var_dir / 'warehouse' / 'govlake.duckdb'}"
    duck = pg.model_copy(update={"warehouse_url": SecretStr(duck_url)})
    lake = Lake.from_settings(pg)
    tables = {t: lake.read_table(Partition("curated", t, DAY)) for t in CURATED}
    return {
        "settings": pg,
        "database": BUILT_WAREHOUSE,
        "duck_url": duck_url,
        "pg_url": pg.warehouse_url.get_secret_value(),
        "tables": tables | quality_tables(lake, DAY),
        "duck_loaded": _publish(duck),
        "pg_loaded": _publish(pg),
    }


def _publish(settings) -> dict[str, int]:
    steps.migrate(settings)
    loaded = steps.load_warehouse(settings, DAY)["loaded"]
    steps.publish(settings, DAY)  # the portal's views as of the day
    return loaded
