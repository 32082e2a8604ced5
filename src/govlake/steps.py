"""The work of each DAG task, callable without Airflow (tests and the CLI call these directly).

Every step takes the day it works on (the local date of the run's data interval) and returns a
small JSON-serialisable summary, which Airflow keeps as the task's XCom. Summaries carry counts,
rule names and locations, never row values.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from govlake import contracts
from govlake.config import Settings, redact_url
from govlake.lake import Lake, Partition


def extract(settings: Settings, dataset: str, day: date, full: bool = False) -> dict:
    """Land the day's row versions of a SQL source table (or all rows, if ``full``) in raw/."""
    from govlake.sources.sql import Window, read_batches

    contract = contracts.get(dataset)
    start = datetime.combine(day, time()) - timedelta(hours=settings.extract_lookback_hours)
    window = None if full else Window(start, datetime.combine(day + timedelta(days=1), time()))
    url = settings.source_url(contract.system)
    lake = Lake.from_settings(settings)
    metadata = {
        "mode": "full" if full else "incremental",
        "window": None if window is None else [window.start.isoformat(), window.end.isoformat()],
        "source": redact_url(url),
    }
    partition = Partition("raw", dataset, day)
    with lake.write(partition, contract.raw_schema(), metadata) as writer:
        for batch in read_batches(url, contract, window, settings.extract_batch_rows):
            writer.write(batch)
    return {"dataset": dataset, "dt": day.isoformat(), "raw_rows": writer.rows, **metadata}


def validate(settings: Settings, dataset: str, day: date) -> dict:
    """Normalise and validate the day's raw partition into clean/ and quarantine/, reconciled."""
    from govlake.quality.split import clean_schema, quarantine_schema, validate_and_split

    contract = contracts.get(dataset)
    lake = Lake.from_settings(settings)
    raw = lake.read_table(Partition("raw", dataset, day), contract.raw_schema())
    result = validate_and_split(raw, contract, settings.project_dir / "expectations")
    summary = {"dataset": dataset, "dt": day.isoformat(), **result.summary}
    with lake.write(Partition("quarantine", dataset, day), quarantine_schema(contract)) as out:
        out.write(result.quarantine)
    with lake.write(
        Partition("clean", dataset, day), clean_schema(contract), {"quality": summary}
    ) as out:
        out.write(result.clean)
    return summary


def transform(settings: Settings, day: date) -> dict:
    """Run the day's Spark build (clean/ to curated/) as a spark-submit job."""
    from govlake.transform.submit import submit

    return submit(settings, "build_warehouse", ["--date", day.isoformat()])


def migrate(settings: Settings) -> dict:
    from govlake import load

    url = _warehouse_url(settings)
    load.migrate(url)
    return {"warehouse": redact_url(url), "revision": load.current_revision(url)}


def load_warehouse(settings: Settings, day: date) -> dict:
    """Replace each warehouse table with the day's curated partition, each in one transaction."""
    from govlake import load
    from govlake.transform.build import STAGED

    url = _warehouse_url(settings)
    lake = Lake.from_settings(settings)
    loaded = {}
    for table in STAGED:
        data = lake.read_table(Partition("curated", table, day))
        loaded[table] = load.replace_table(url, table, data)
    return {"warehouse": redact_url(url), "loaded": loaded}


def _warehouse_url(settings: Settings) -> str:
    assert settings.warehouse_url is not None  # every profile sets or requires it
    url = settings.warehouse_url.get_secret_value()
    if url.startswith("duckdb:///"):
        Path(url.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
    return url
