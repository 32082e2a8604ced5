"""``govlake run``: everything built so far, end to end for one day, through real Airflow runs.

Seeds the source systems with the simulator (a full snapshot on first use), runs each extract DAG
and then build_warehouse with ``airflow dags test``, and gathers a summary from the lake manifests
and the warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from govlake import contracts
from govlake.airflow_cli import dags_test, migrate_metadata
from govlake.config import Settings, redact_url
from govlake.lake import Lake, Partition
from govlake.transform.build import CURATED

Progress = Callable[[str], None]


def seed_sources(settings: Settings, day: date, scale: str, seed: int = 7) -> dict[str, int]:
    """Simulate the department systems' history up to ``day``."""
    from govlake.simulator import run

    return run.init(settings, seed=seed, scale=scale, until=day)


def run_day(settings: Settings, day: date, full: bool, progress: Progress) -> dict:
    progress("preparing Airflow's metadata database")
    migrate_metadata(settings)
    extract_day(settings, day, full, progress)
    progress(f"build_warehouse for {day}")
    dags_test(settings, "build_warehouse", day)
    progress(f"publish for {day}")
    dags_test(settings, "publish", day)
    return summarise(settings, day)


def extract_day(settings: Settings, day: date, full: bool, progress: Progress) -> None:
    """Run every ``extract_<system>`` DAG for ``day`` (Airflow's metadata must be migrated)."""
    for system in sorted({c.system for c in contracts.CONTRACTS.values()}):
        progress(f"extract_{system} for {day} ({'full snapshot' if full else 'changes'})")
        dags_test(settings, f"extract_{system}", day, {"full": full})


def summarise(settings: Settings, day: date) -> dict:
    from govlake import load
    from govlake.publish import credit_feed, publicity
    from govlake.quality import docs

    lake = Lake.from_settings(settings)
    url = settings.warehouse_url.get_secret_value()
    tables = []
    for dataset in (c.name for c in contracts.CONTRACTS.values()):
        raw = lake.read_manifest(Partition("raw", dataset, day)) or {}
        clean = lake.read_manifest(Partition("clean", dataset, day)) or {}
        rejected = [r["reason"] for r in raw.get("rejected_files", [])]
        tables.append(
            {
                "dataset": dataset,
                "raw_rows": raw.get("rows"),
                "rejected_files": rejected,
                "rejected_records": len(raw.get("rejected_records", [])),
                **clean.get("quality", {}),
            }
        )
    return {
        "day": day.isoformat(),
        "tables": tables,
        "warehouse": {t: load.row_count(url, t) for t in CURATED},
        "portal": {v: load.row_count(url, v) for v in publicity.PORTAL_VIEWS},
        "credit_db": credit_feed.counts(settings.credit_db_url.get_secret_value())
        if settings.credit_db_url
        else {},
        "warehouse_url": redact_url(url),
        "lake": lake.store.describe(),
        "airflow_logs": str(settings.var_dir / "airflow" / "runs"),
        "data_docs": docs.located(settings, day),
    }
