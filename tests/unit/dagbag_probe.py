"""Parses dags/ the way Airflow's processor does and reports what parsing did (run as a script,
in a fresh interpreter, by test_dags.py)."""

import json
import sys
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

queries: list[str] = []
lookups: list[str] = []
event.listen(Engine, "before_cursor_execute", lambda *a: queries.append(a[2]))

from airflow.dag_processing.dagbag import DagBag  # noqa: E402
from airflow.sdk.bases.hook import BaseHook  # noqa: E402

BaseHook.get_connection = classmethod(lambda cls, conn_id: lookups.append(conn_id))

before = set(sys.modules)
queries.clear()
bag = DagBag(dag_folder=str(Path(sys.argv[1])))
heavy = sorted(
    m
    for m in set(sys.modules) - before
    if m.split(".")[0] in {"pyspark", "great_expectations", "pandas", "pyarrow"}
)
print(
    json.dumps(
        {
            "import_errors": {k: str(v)[-500:] for k, v in bag.import_errors.items()},
            "dags": {
                dag_id: {
                    "owner": dag.owner,
                    "tags": sorted(dag.tags),
                    "retries": [t.retries for t in dag.tasks],
                    "timeouts": [t.execution_timeout is not None for t in dag.tasks],
                    "alerts": [bool(t.on_failure_callback) for t in dag.tasks],
                    "timetable": type(dag.timetable).__name__,
                    "tasks": sorted(dag.task_ids),
                }
                for dag_id, dag in bag.dags.items()
            },
            "heavy_modules": heavy[:10],
            "queries": queries,
            "connection_lookups": lookups,
        }
    )
)
