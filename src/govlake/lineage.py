"""OpenLineage: which datasets each task run read and wrote.

Airflow's OpenLineage provider emits a START and a COMPLETE (or FAIL) event for every task run,
through the transport of ``[openlineage] transport`` (``GOVLAKE_LINEAGE_TRANSPORT``; by default a
file under ``<var_dir>/lineage/``). What a run read and wrote is known only while it runs: the
step reports it here (:func:`report`), and when the task ends the provider asks the operator's
``get_openlineage_facets_on_complete``, which the DAG factory sets to :func:`facets_on_complete`.

Airflow's hook lineage collector would be the generic channel, but the provider turns collected
assets into datasets only for URI schemes some installed provider converts (``file`` and
``postgres`` here; no ``sqlite``, ``duckdb`` or, without the Amazon provider, ``s3``), and under
``airflow dags test`` every task runs in one process, whose collector is never emptied between
tasks. So the datasets are named here, after the OpenLineage naming conventions:

- a table: ``postgres://host:port`` + ``database.schema.table``; a file database
  ``sqlite:///path/to/db.sqlite`` + ``main.table`` (``duckdb:///path`` + ``catalog.schema.table``);
  other databases ``scheme://host:port`` + ``database.table``. Never a user name or a password.
- a lake object: ``file`` + its absolute path (local lake), ``s3://bucket`` + its key (S3 lake).

Outside an Airflow task (the CLI, tests calling steps directly) :func:`report` does nothing.
This module imports nothing heavy: DAG files import it while Airflow parses them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govlake.config import Settings

if TYPE_CHECKING:
    from govlake.lake import Partition

NAMESPACE = "govlake"  # the OpenLineage namespace of govlake's jobs (DAGs and tasks)
_TASK_RUNNER = "airflow.sdk.execution_time.task_runner"


@dataclass(frozen=True)
class Dataset:
    """An OpenLineage dataset: where it lives (``namespace``) and what it is there (``name``)."""

    namespace: str
    name: str
    rows: int | None = None  # rows written, for an output


def table(url: str, name: str) -> Dataset:
    """The table ``name`` (``table`` or ``schema.table``) of the database at SQLAlchemy ``url``."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    backend = parsed.get_backend_name()
    schema, _, bare = name.rpartition(".")
    if backend in ("sqlite", "duckdb"):  # one database per file: the file is the data source
        path = str(Path(parsed.database).resolve()) if parsed.database else ":memory:"
        if backend == "sqlite":
            return Dataset(f"sqlite://{path}", f"{schema or 'main'}.{bare}")
        return Dataset(f"duckdb://{path}", f"{Path(path).stem}.{schema or 'main'}.{bare}")
    host = parsed.host or "localhost"
    if backend == "postgresql":
        port = parsed.port or 5432
        return Dataset(
            f"postgres://{host}:{port}", f"{parsed.database}.{schema or 'public'}.{bare}"
        )
    authority = f"{host}:{parsed.port}" if parsed.port else host
    return Dataset(f"{backend}://{authority}", ".".join(p for p in (parsed.database, name) if p))


def lake_object(settings: Settings, key: str, rows: int | None = None) -> Dataset:
    """A key (file or prefix) of the lake: in the bucket, or under the local lake directory."""
    if settings.uses_s3:
        return Dataset(f"s3://{settings.s3_bucket}", key.strip("/"), rows)
    assert settings.lake_dir is not None  # the embedded profile always sets it
    return Dataset("file", str(settings.lake_dir.resolve() / key.strip("/")), rows)


def partition(settings: Settings, part: Partition, rows: int | None = None) -> Dataset:
    """A lake partition, e.g. ``raw/credit/enterprise_register/dt=2026-11-23``."""
    return lake_object(settings, part.prefix, rows)


# What each running task reported, by task instance (all tasks of `airflow dags test` share one
# process, so a task must not see another's datasets).
_reported: dict[tuple, tuple[list[Dataset], list[Dataset]]] = {}


def report(inputs: list[Dataset] | tuple = (), outputs: list[Dataset] | tuple = ()) -> None:
    """Record datasets the running Airflow task read and wrote; outside a task, do nothing."""
    key = _running_task()
    if key is None:
        return
    read, written = _reported.setdefault(key, ([], []))
    read.extend(d for d in inputs if d not in read)
    written.extend(d for d in outputs if d not in written)


def _running_task() -> tuple | None:
    if _TASK_RUNNER not in sys.modules:  # not inside an Airflow task: no import, no cost
        return None
    try:
        from airflow.sdk import get_current_context

        return _key(get_current_context()["ti"])
    except Exception:  # no task context (a step called outside a task)
        return None


def _key(ti: Any) -> tuple:
    return (ti.dag_id, ti.task_id, ti.run_id, ti.map_index, ti.try_number)


def facets_on_complete(task_instance: Any) -> Any:
    """``get_openlineage_facets_on_complete`` of govlake's operators: the reported datasets.

    ``None`` when the step reported nothing: the provider then falls back to hook lineage and
    the task's inlets and outlets.
    """
    read, written = _reported.get(_key(task_instance), ([], []))
    if not read and not written:
        return None
    from airflow.providers.common.compat.openlineage.facet import (
        InputDataset,
        OutputDataset,
        OutputStatisticsOutputDatasetFacet,
    )
    from airflow.providers.openlineage.extractors import OperatorLineage

    def output(d: Dataset) -> OutputDataset:
        if d.rows is None:
            return OutputDataset(namespace=d.namespace, name=d.name)
        stats = OutputStatisticsOutputDatasetFacet(rowCount=d.rows)
        return OutputDataset(
            namespace=d.namespace, name=d.name, outputFacets={"outputStatistics": stats}
        )

    return OperatorLineage(
        inputs=[InputDataset(namespace=d.namespace, name=d.name) for d in read],
        outputs=[output(d) for d in written],
    )


def with_lineage(tasks: list) -> None:
    """Have OpenLineage ask each of these operators for what its step reported."""
    for task in tasks:
        task.get_openlineage_facets_on_complete = facets_on_complete


def transport(settings: Settings) -> dict:
    """The OpenLineage transport: ``GOVLAKE_LINEAGE_TRANSPORT`` (JSON), else a file of events."""
    if settings.lineage_transport is not None:
        return json.loads(settings.lineage_transport.get_secret_value())
    events = settings.var_dir / "lineage" / "openlineage.jsonl"
    events.parent.mkdir(parents=True, exist_ok=True)
    return {"type": "file", "log_file_path": str(events), "append": True}


def airflow_env(settings: Settings) -> dict[str, str]:
    """The Airflow configuration that turns the OpenLineage provider on, for ``airflow_env``."""
    return {
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport(settings)),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": NAMESPACE,
    }
