"""The DAG factory that ``dags/`` calls. Wiring only: each task calls one function of
``govlake.steps``, imported inside the task so that parsing a DAG file stays cheap (no Spark, GX or
pandas import, no database query, no connection look-up).
"""

from __future__ import annotations

from datetime import date, timedelta

import pendulum
from airflow.sdk import DAG, Asset, Param, TaskGroup, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

from govlake import contracts, lineage
from govlake.alerts import task_failed
from govlake.config import LOCAL_TZ, PROJECT_DIR, DagSettings, get_settings

START = pendulum.datetime(2026, 1, 1, tz=LOCAL_TZ)


def default_args() -> dict:
    return {
        "owner": "data-engineering",
        "retries": DagSettings().task_retries,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": task_failed,
    }


def run_step(name: str, *args: object, **kwargs: object) -> object:
    """Call ``govlake.steps.<name>(settings, ...)``; an error retrying cannot fix fails at once."""
    from airflow.sdk.exceptions import AirflowFailException

    from govlake import steps
    from govlake.errors import GovlakeError

    try:
        return getattr(steps, name)(get_settings(), *args, **kwargs)
    except GovlakeError as exc:
        if exc.retryable:
            raise
        raise AirflowFailException(str(exc)) from None


def daily() -> CronDataIntervalTimetable:
    """One run per local day; the run's data interval is that day, midnight to midnight."""
    return CronDataIntervalTimetable("0 0 * * *", timezone=LOCAL_TZ)


def run_day() -> date:
    """The local date of the running task's data interval."""
    return get_current_context()["data_interval_start"].in_timezone(LOCAL_TZ).date()


def asset(zone: str, dataset: str) -> Asset:
    system, table = dataset.split(".", 1)
    return Asset(name=f"{zone}.{dataset}", uri=f"govlake://lake/{zone}/{system}/{table}")


def _daily_dag(dag_id: str, description: str, *tags: str, **extra: object) -> DAG:
    """A govlake DAG: one run per local day at a time, no catch-up, the shared task defaults."""
    return DAG(
        dag_id=dag_id,
        description=description,
        schedule=daily(),
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=default_args(),
        tags=["govlake", *tags],
        **extra,
    )


def extract_dags() -> dict[str, DAG]:
    """``extract_<system>`` for every system with a SQL source table under contract."""
    systems = sorted({c.system for c in contracts.CONTRACTS.values()})
    return {f"extract_{system}": extract_dag(system) for system in systems}


def extract_dag(system: str) -> DAG:
    """``extract_<system>``: per source table, extract to raw/, then validate into clean/; once
    every table is validated, the day's Data Docs are rebuilt."""
    with _daily_dag(
        f"extract_{system}",
        f"Extract the {system} system's changed rows, validate, land in the lake",
        "extract",
        f"system:{system}",
        params={
            "full": Param(
                False,
                type="boolean",
                description="load a full snapshot instead of the day's changes",
            )
        },
    ) as dag:
        tables = [c for c in contracts.CONTRACTS.values() if c.system == system]
        extracts, validates = [], {}
        for contract in tables:
            with TaskGroup(group_id=contract.table):
                extracts.append(_extract_task(contract.name))
                validates[contract.name] = _validate_task(contract.name)
                extracts[-1] >> validates[contract.name]
        for child, parent in _lookups(tables):  # rules of a child read its parents' clean rows
            validates[parent] >> validates[child]
        list(validates.values()) >> _data_docs(system)
        if any(c.channel == "exchange" for c in tables):
            _wait_for_files(system) >> extracts >> _archive_files(system)
    lineage.with_lineage(dag.tasks)
    return dag


def _lookups(tables: list[contracts.Contract]) -> list[tuple[str, str]]:
    """(child, parent) pairs of the tables whose validation rules look up another table."""
    from govlake.quality.rules import referenced_tables

    return [
        (c.name, parent)
        for c in tables
        for parent in sorted(referenced_tables(c, PROJECT_DIR / "expectations"))
    ]


def _wait_for_files(system: str):
    """The trading centre's file set of the day is complete once its ``_ready.json`` is there."""

    waits = DagSettings()

    @task.sensor(
        task_id="wait_for_files",
        poke_interval=waits.files_poke_seconds,
        timeout=waits.files_timeout_minutes * 60,
        mode="reschedule",
    )
    def wait_for_files() -> bool:
        return bool(run_step("files_ready", system, run_day()))

    return wait_for_files()


def _archive_files(system: str):
    """Once every table has its raw partition, the day's file set leaves the inbox."""

    @task(task_id="archive_files")
    def archive_files() -> dict:
        full = bool(get_current_context()["params"]["full"])
        return run_step("archive_files", system, run_day(), full=full)

    return archive_files()


def _extract_task(dataset: str):
    @task(task_id="extract", outlets=[asset("raw", dataset)])
    def extract() -> dict:
        full = bool(get_current_context()["params"]["full"])
        return run_step("extract", dataset, run_day(), full=full)

    return extract()


def _validate_task(dataset: str):
    @task(task_id="validate", outlets=[asset("clean", dataset), asset("quarantine", dataset)])
    def validate() -> dict:
        return run_step("validate", dataset, run_day())

    return validate()


def _data_docs(system: str):
    """The day's Data Docs, rebuilt from every table's saved validation results."""

    @task(task_id="data_docs")
    def data_docs() -> dict:
        return run_step("data_docs", system, run_day())

    return data_docs()


def build_dag() -> DAG:
    """``build_warehouse``: Spark builds curated/ from clean/, then the warehouse is replaced."""
    with _daily_dag(
        "build_warehouse",
        "Transform clean/ into the warehouse with Spark and load it atomically",
        "warehouse",
    ) as dag:

        @task
        def migrate() -> dict:
            return run_step("migrate")

        @task
        def check_day() -> dict:  # reconciled and not held, or nothing is built or published
            return run_step("check_day", run_day())

        @task
        def transform() -> dict:
            return run_step("transform", run_day())

        @task(outlets=[Asset(name="warehouse.core", uri="govlake://warehouse/core")])
        def load() -> dict:
            return run_step("load_warehouse", run_day())

        migrate() >> check_day() >> transform() >> load()
    lineage.with_lineage(dag.tasks)
    return dag


def publish_dag() -> DAG:
    """``publish``: once the warehouse holds the day's build, the portal and the credit grades
    show that day, then the credit database is fed them."""
    waits = DagSettings()
    with _daily_dag(
        "publish",
        "Publish the portal views as of the day, once its build is in the warehouse",
        "publish",
    ) as dag:

        @task.sensor(
            poke_interval=waits.build_poke_seconds,
            timeout=waits.build_timeout_minutes * 60,
            mode="reschedule",
        )
        def wait_for_build() -> bool:
            return bool(run_step("build_ready", run_day()))

        @task(outlets=[Asset(name="warehouse.portal", uri="govlake://warehouse/portal")])
        def publish() -> dict:
            return run_step("publish", run_day())

        @task(outlets=[Asset(name="credit_db.feed", uri="govlake://credit_db/feed")])
        def feed_credit() -> dict:
            return run_step("feed_credit", run_day())

        wait_for_build() >> publish() >> feed_credit()
    lineage.with_lineage(dag.tasks)
    return dag
