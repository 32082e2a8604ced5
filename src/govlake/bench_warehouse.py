"""The warehouse stage of ``make bench``: the full build (the real spark-submit job) and its load
into the DuckDB warehouse, next to the same transforms and load written as plain DuckDB SQL
(:mod:`govlake.reference`) over the same ``clean/`` Parquet, in the same run; then one
incremental day (the next day's changes landed, built and loaded: the load writes only the rows
that differ, and says how many).

Each piece runs in a fresh process; the Spark build's peak memory is its driver JVM's.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from govlake import contracts, spark_profile
from govlake.config import Settings
from govlake.lake import Lake
from govlake.measure import children_peak_rss_mb, in_child, peak_rss_mb

TARGET_FULL_SECONDS = 180.0  # transform + load of the full city build
TARGET_REFERENCE_RATIO = 3.0  # govlake's transform + load over the DuckDB SQL reference's
TARGET_INCREMENTAL_SECONDS = 60.0  # a day's changes: extracted, validated, built, loaded, published
REFERENCE_FILE = "reference/warehouse.duckdb"  # under the var directory
EVENT_LOG_DIR = "spark-events"  # the full build's Spark event log, under the var directory
PROFILE_ROWS = 12  # the slowest writes the profile table shows
CLUSTER_WORKERS = 2  # one-core workers of the scale-out run's standalone cluster
CLUSTER_WORKER_MEMORY = "3g"  # each worker's; its executor takes Spark's default 1g of it


def full_build(settings: Settings, day: date, progress: Callable[[str], None]) -> dict:
    """The Spark build and load of everything up to ``day``, and the reference's."""
    progress(f"the warehouse build of {day} (spark-submit, every curated table)")
    events = settings.var_dir / EVENT_LOG_DIR
    shutil.rmtree(events, ignore_errors=True)
    transform = in_child(
        _transform, settings.model_copy(update={"spark_event_log_dir": events}), day
    )
    transform["profile"] = spark_profile.by_name(
        spark_profile.queries(spark_profile.newest_log(events))
    )
    progress("publishing the build into the DuckDB warehouse")
    published = in_child(_load, settings, day)
    progress("publishing the portal views and credit grades as of the day")
    portal = in_child(_publish, settings, day)
    progress("feeding the credit database (every record and grade is new to it)")
    feed = in_child(_feed, settings, day)
    progress("the DuckDB SQL reference: the same transforms and load, no Spark")
    reference = in_child(_reference, settings, day)
    ours = transform["seconds"] + published["seconds"]
    progress("comparing every table's content checksum with the reference's")
    return {
        "day": day.isoformat(),
        "clean_rows": clean_rows(Lake.from_settings(settings), day),
        "transform": transform,
        "load": published,
        "publish": portal,
        "feed": feed,
        "reference": reference,
        "seconds": round(ours, 2),
        "reference_ratio": round(ours / reference["seconds"], 2),
        "differing_tables": differing_tables(settings),
    }


def scale_out(settings: Settings, day: date, full: dict, progress: Callable[[str], None]) -> dict:
    """The full transform of ``day`` again at ``local[1]`` and on a standalone cluster of two
    one-core workers (spark_cluster, on loopback), beside the full build's ``local[2]``: the
    parallel efficiency on this machine and the transform's throughput per core. Each rebuild of
    the same day ranks the whole change log again (a state is reused only from an earlier day)."""
    from govlake import spark_cluster

    runs = {settings.spark_master: full["transform"]}
    progress("the full transform again at local[1] (one core)")
    runs["local[1]"] = in_child(_transform, _on(settings, "local[1]"), day)
    progress(f"the full transform on a standalone cluster of {CLUSTER_WORKERS} one-core workers")
    work_dir = settings.var_dir / "bench-cluster"
    with spark_cluster.running(
        work_dir, workers=CLUSTER_WORKERS, cores=1, memory=CLUSTER_WORKER_MEMORY
    ) as cluster:
        runs["standalone cluster"] = in_child(_transform, _on(settings, cluster.master_url), day)
    one, two = runs["local[1]"]["seconds"], runs[settings.spark_master]["seconds"]
    return {
        "runs": {master: _summary(figures) for master, figures in runs.items()},
        "speedup": round(one / two, 2),
        "parallel_efficiency": round(one / (2 * two), 2),  # of local[2] over local[1]
        "clean_rows_per_core_second": round(full["clean_rows"] / one),
    }


def _on(settings: Settings, master: str) -> Settings:
    return settings.model_copy(update={"spark_master": master})


def _summary(figures: dict) -> dict:
    return {k: figures[k] for k in ("seconds", "rows", "rows_per_second", "peak_rss_mb")}


def incremental_day(settings: Settings, day: date, landing_seconds: float) -> dict:
    """The build and load of ``day``, whose changes have landed (extracted and validated) in
    ``landing_seconds``."""
    transform = in_child(_transform, settings, day)
    published = in_child(_load, settings, day)
    portal = in_child(_publish, settings, day)
    feed = in_child(_feed, settings, day)
    stages = (transform, published, portal, feed)
    return {
        "day": day.isoformat(),
        "day_rows": day_rows(Lake.from_settings(settings), day),
        "landing_seconds": round(landing_seconds, 2),
        "transform": transform,
        "load": published,
        "publish": portal,
        "feed": feed,
        "seconds": round(landing_seconds + sum(s["seconds"] for s in stages), 2),
    }


def differing_tables(settings: Settings) -> list[str]:
    """The curated tables whose content (DESIGN.md's checksum) differs between the warehouse and
    the reference's: none, if both builds are the same transforms."""
    from govlake import load
    from govlake.transform.build import CURATED

    ours, theirs = _warehouse_url(settings), f"duckdb:///{settings.var_dir / REFERENCE_FILE}"
    return [t for t in CURATED if load.table_checksum(ours, t) != load.table_checksum(theirs, t)]


def _warehouse_url(settings: Settings) -> str:
    assert settings.warehouse_url is not None  # the embedded profile sets it
    return settings.warehouse_url.get_secret_value()


def clean_rows(lake: Lake, day: date) -> int:
    """Clean rows in every partition up to ``day``: what a build reads."""
    return sum(
        (lake.read_manifest(partition) or {}).get("rows", 0)
        for name in contracts.CONTRACTS
        for partition in lake.partitions("clean", name, until=day)
    )


def day_rows(lake: Lake, day: date) -> int:
    """Clean rows landed on ``day`` itself: an incremental build's delta."""
    return sum(
        (lake.read_manifest(partition) or {}).get("rows", 0)
        for name in contracts.CONTRACTS
        for partition in lake.partitions("clean", name, until=day)
        if partition.dt == day
    )


def _transform(settings: Settings, day: date) -> dict:
    from govlake import steps

    started = time.perf_counter()
    built = steps.transform(settings, day)
    return _figures(started, built["rows"], children_peak_rss_mb(), built["seconds"])


def _load(settings: Settings, day: date) -> dict:
    from govlake import steps

    started = time.perf_counter()
    steps.migrate(settings)
    migrated = time.perf_counter()
    published = steps.load_warehouse(settings, day)
    figures = _figures(migrated, published["loaded"], peak_rss_mb())
    changed = {k: sum(c[k] for c in published["changed"].values()) for k in ("written", "removed")}
    return figures | changed | {"migrate_seconds": round(migrated - started, 2)}


def _publish(settings: Settings, day: date) -> dict:
    from govlake import steps

    started = time.perf_counter()
    shown = steps.publish(settings, day)["shown"]
    return _figures(started, shown, peak_rss_mb())


def _feed(settings: Settings, day: date) -> dict:
    from govlake import steps

    started = time.perf_counter()
    tables = steps.feed_credit(settings, day)["tables"]
    return _figures(
        started, {t: n["written"] + n["removed"] for t, n in tables.items()}, peak_rss_mb()
    )


def _reference(settings: Settings, day: date) -> dict:
    from govlake import reference

    database = settings.var_dir / REFERENCE_FILE
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    started = time.perf_counter()
    built = reference.build(settings, day, database)
    return _figures(started, built, peak_rss_mb())


def _figures(
    started: float, rows: dict[str, int], rss_mb: int, seconds: dict[str, float] | None = None
) -> dict[str, Any]:
    elapsed = time.perf_counter() - started
    per_table = {t: {"rows": n, "seconds": (seconds or {}).get(t)} for t, n in rows.items()}
    return {
        "seconds": round(elapsed, 2),
        "rows": sum(rows.values()),
        "rows_per_second": round(sum(rows.values()) / elapsed) if elapsed else None,
        "peak_rss_mb": rss_mb,
        "tables": per_table,
    }


def _names(tables: list[str]) -> str:
    return ", ".join(tables) or "none"


def targets(figures: dict, check: Callable[[str, Any, str, bool], dict]) -> list[dict]:
    """The issue's goals for the warehouse stage, as :func:`govlake.bench.targets` lists them."""
    found = [
        check(
            "full build (transform + load): seconds",
            figures["seconds"],
            f"≤ {TARGET_FULL_SECONDS:g}",
            figures["seconds"] <= TARGET_FULL_SECONDS,
        ),
        check(
            "full build vs the DuckDB SQL reference",
            f"{figures['reference_ratio']}×",
            f"≤ {TARGET_REFERENCE_RATIO:g}×",
            figures["reference_ratio"] <= TARGET_REFERENCE_RATIO,
        ),
    ]
    if "incremental" in figures:
        seconds = figures["incremental"]["seconds"]
        found.append(
            check(
                "incremental day (land + transform + load + publish + feed): seconds",
                seconds,
                f"≤ {TARGET_INCREMENTAL_SECONDS:g}",
                seconds <= TARGET_INCREMENTAL_SECONDS,
            )
        )
    return found


def tables(figures: dict) -> list:
    """Rich tables: each stage, then each curated table's rows and Spark write seconds."""
    from rich.table import Table

    stages = Table(
        "stage",
        "seconds",
        "rows",
        "rows/s",
        "peak RSS MB",
        title=(
            f"warehouse build of {figures['day']} over {figures['clean_rows']:,} clean rows: "
            f"govlake {figures['seconds']} s = {figures['reference_ratio']}× the DuckDB SQL "
            f"reference; tables whose content differs: {_names(figures['differing_tables'])}"
        ),
    )
    rows = [
        ("Spark transform (spark-submit)", figures["transform"]),
        ("load into DuckDB", figures["load"]),
        ("publish (rows the portal views show)", figures["publish"]),
        ("credit feed (rows written and removed)", figures["feed"]),
        ("DuckDB SQL reference (transform + load)", figures["reference"]),
    ]
    if "incremental" in figures:
        day = figures["incremental"]
        stages.title += (
            f"; incremental day {day['day']}: {day['seconds']} s, its load wrote "
            f"{day['load']['written']:,} rows and removed {day['load']['removed']:,}"
        )
        rows += [
            ("incremental: transform", day["transform"]),
            ("incremental: load", day["load"]),
            ("incremental: publish", day["publish"]),
            ("incremental: credit feed", day["feed"]),
        ]
    for label, f in rows:
        stages.add_row(
            label,
            f"{f['seconds']:.1f}",
            f"{f['rows']:,}",
            f"{f['rows_per_second']:,}",
            f"{f['peak_rss_mb']:,}",
        )
    out = [stages]
    if "scale_out" in figures:
        out.append(_scale_out_table(figures["scale_out"]))
    per_table = Table("table", "rows", "Spark write s", "reference rows", title="curated tables")
    reference = figures["reference"]["tables"]
    for table, f in figures["transform"]["tables"].items():
        theirs = reference.get(table, {}).get("rows")
        per_table.add_row(
            table, f"{f['rows']:,}", f"{f['seconds']}", f"{theirs:,}" if theirs is not None else ""
        )
    profile = spark_profile.table(
        figures["transform"]["profile"][:PROFILE_ROWS],
        "profile of the full transform: its slowest writes, from Spark's event log",
    )
    return [*out, per_table, profile]


def _scale_out_table(figures: dict):
    from rich.table import Table

    table = Table(
        "Spark master",
        "transform s",
        "rows/s",
        "driver peak RSS MB",
        title=(
            f"scale-out of the full transform: local[2] is {figures['speedup']}× local[1] "
            f"(parallel efficiency {figures['parallel_efficiency']:.0%}); "
            f"{figures['clean_rows_per_core_second']:,} clean rows per core-second"
        ),
    )
    for master, f in figures["runs"].items():
        table.add_row(
            master, f"{f['seconds']:.1f}", f"{f['rows_per_second']:,}", f"{f['peak_rss_mb']:,}"
        )
    return table
