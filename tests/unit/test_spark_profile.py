"""The build profile read from a Spark 4 event log: queries named by their job description,
their wall time against the task time of their stages."""

from __future__ import annotations

import json

import pytest

from govlake import spark_profile

SQL = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecution"


def _query(execution: int, name: str, start: int, end: int, stage: int, task_ms: list[int]):
    yield {"Event": SQL + "Start", "executionId": execution, "description": name, "time": start}
    yield {
        "Event": "SparkListenerJobStart",
        "Stage IDs": [stage],
        "Properties": {"spark.sql.execution.id": str(execution)},
    }
    for ms in task_ms:
        yield {
            "Event": "SparkListenerTaskEnd",
            "Stage ID": stage,
            "Task Metrics": {"Executor Run Time": ms},
        }
    yield {"Event": SQL + "End", "executionId": execution, "time": end}


def _log(folder, app: str, parts: list[list[dict]]):
    log = folder / f"eventlog_v2_{app}"
    log.mkdir(parents=True)
    for n, events in enumerate(parts, start=1):
        lines = "".join(json.dumps(e) + "\n" for e in events)
        (log / f"events_{n}_{app}").write_text(lines)
    return log


def test_queries_show_the_cores_each_kept_busy_slowest_first(tmp_path):
    entity = [*_query(1, "curated core.entity", 0, 10_000, 5, [9_000, 9_000])]
    one_core = [*_query(2, "state credit.persons", 10_000, 14_000, 6, [4_000])]
    count = [*_query(3, "curated core.entity", 14_000, 15_000, 7, [500])]
    log = _log(tmp_path, "local-1", [entity, one_core + count])  # a log rolled over two files

    found = spark_profile.queries(log)

    assert [(q["name"], q["seconds"], q["cores_busy"]) for q in found] == [
        ("curated core.entity", 10.0, 1.8),
        ("state credit.persons", 4.0, 1.0),
        ("curated core.entity", 1.0, 0.5),
    ]
    (entity_total, persons) = spark_profile.by_name(found)
    assert entity_total == {
        "name": "curated core.entity",
        "seconds": 11.0,
        "task_seconds": 18.5,
        "tasks": 3,
        "cores_busy": 1.68,
    }
    assert persons["tasks"] == 1


def test_the_newest_application_is_read_and_a_missing_log_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        spark_profile.newest_log(tmp_path)
    _log(tmp_path, "local-1", [[]])
    newer = _log(tmp_path, "local-2", [[]])
    assert spark_profile.newest_log(tmp_path) == newer
