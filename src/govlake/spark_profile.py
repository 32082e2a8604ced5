"""A build's profile from Spark's event log (``GOVLAKE_SPARK_EVENT_LOG_DIR``): for each query
(a curated table's or a ranked state's write, named by the job description the build sets) its
wall time, the task time its stages used and so how many cores it kept busy. A write whose tasks
add up to about its wall time ran on one core while the other waited: the place to look first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_SQL = "org.apache.spark.sql.execution.ui.SparkListenerSQLExecution"


def newest_log(folder: Path) -> Path:
    """The event log of the latest application in ``folder``: Spark 4 writes each one as a
    folder (``eventlog_v2_<app>``) of ``events_<n>_<app>`` files."""
    logs = [p for p in folder.glob("eventlog_v2_*") if p.is_dir()]
    if not logs:
        raise FileNotFoundError(f"no Spark event log in {folder}")
    return max(logs, key=lambda p: (p.stat().st_mtime, p.name))  # names: app id, start time


def _events(log: Path) -> Iterator[dict[str, Any]]:
    parts = sorted(log.glob("events_*"), key=lambda p: int(p.name.split("_")[1]))
    for part in parts:
        with part.open() as lines:
            yield from (json.loads(line) for line in lines)


def queries(log: Path) -> list[dict[str, Any]]:
    """Every query of the application, slowest first: ``name``, ``seconds`` (wall),
    ``task_seconds`` (executor run time of all its tasks), ``tasks`` and ``cores_busy``."""
    started: dict[int, tuple[str, int]] = {}
    ended: dict[int, int] = {}
    stage_query: dict[int, int] = {}
    task_ms: dict[int, int] = defaultdict(int)
    tasks: dict[int, int] = defaultdict(int)
    for event in _events(log):
        kind = event["Event"]
        if kind == _SQL + "Start":
            started[event["executionId"]] = (event["description"], event["time"])
        elif kind == _SQL + "End":
            ended[event["executionId"]] = event["time"]
        elif kind == "SparkListenerJobStart":
            query = (event.get("Properties") or {}).get("spark.sql.execution.id")
            for stage in event["Stage IDs"] if query is not None else ():
                stage_query[stage] = int(query)
        elif kind == "SparkListenerTaskEnd" and event["Stage ID"] in stage_query:
            query = stage_query[event["Stage ID"]]
            task_ms[query] += (event.get("Task Metrics") or {}).get("Executor Run Time", 0)
            tasks[query] += 1
    found = [
        _query(name, ended[query] - start, task_ms[query], tasks[query])
        for query, (name, start) in started.items()
        if query in ended
    ]
    return sorted(found, key=lambda q: -q["seconds"])


def _query(name: str, wall_ms: int, task_ms: int, tasks: int) -> dict[str, Any]:
    return {
        "name": name,
        "seconds": round(wall_ms / 1000, 2),
        "task_seconds": round(task_ms / 1000, 2),
        "tasks": tasks,
        "cores_busy": round(task_ms / wall_ms, 2) if wall_ms else None,
    }


def by_name(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The queries summed per name (a write is its own query and the read-back count's)."""
    totals: dict[str, dict[str, Any]] = {}
    for q in found:
        total = totals.setdefault(q["name"], {"name": q["name"], "ms": 0, "task_ms": 0, "tasks": 0})
        total["ms"] += round(q["seconds"] * 1000)
        total["task_ms"] += round(q["task_seconds"] * 1000)
        total["tasks"] += q["tasks"]
    summed = [_query(t["name"], t["ms"], t["task_ms"], t["tasks"]) for t in totals.values()]
    return sorted(summed, key=lambda q: -q["seconds"])


def table(found: list[dict[str, Any]], title: str):
    """A Rich table of ``found`` (queries or their sums per name)."""
    from rich.table import Table

    shown = Table("write (Spark job description)", "seconds", "task seconds", "tasks", "cores busy")
    shown.title = title
    for q in found:
        shown.add_row(
            q["name"],
            f"{q['seconds']:.1f}",
            f"{q['task_seconds']:.1f}",
            f"{q['tasks']:,}",
            f"{q['cores_busy']}",
        )
    return shown
