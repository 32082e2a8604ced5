"""One day's warehouse build as the domain modules see it: the lake, the one Spark session, each
source table conformed once, the shared tables (calendar, entity matches), and the writer of
curated partitions."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import DataFrame, SparkSession

from govlake import contracts
from govlake.lake import Lake, Partition
from govlake.transform.conform import latest_versions


@dataclass
class BuildRun:
    lake: Lake
    spark: SparkSession
    day: date
    calendar: DataFrame | None = None  # core.dim_date, once built
    matches: DataFrame | None = None  # core.entity_match, once built
    conformed: dict[str, DataFrame] = field(default_factory=dict)
    built: dict[str, int] = field(default_factory=dict)  # rows per table
    seconds: dict[str, float] = field(default_factory=dict)  # the write of each (Spark is lazy)

    def latest(self, dataset: str) -> DataFrame:
        """A source table's latest clean versions (conformed once per build)."""
        if dataset not in self.conformed:
            rows = latest_versions(self.spark, *sources(self.lake, dataset, self.day))
            self.conformed[dataset] = rows.cache()  # read by several tables of the build
        return self.conformed[dataset]

    def validated(self, dataset: str) -> bool:
        return bool(self.lake.partitions("clean", dataset, until=self.day))

    def write(self, table: str, rows: DataFrame, sources: list[str]) -> DataFrame:
        """Writes ``rows`` as the day's curated partition of ``table`` and returns them as
        written: later tables read the one file, not the plan (a union of many shuffles) that
        made it."""
        started = time.perf_counter()
        self.built[table], written = _write(self.lake, table, self.day, rows, sources)
        self.seconds[table] = round(time.perf_counter() - started, 2)
        return self.spark.read.parquet(written)


def _live_keys(lake: Lake, contract: contracts.Contract, day: date) -> str | None:
    """The key set of the newest extraction up to ``day``: what the source still holds."""
    for partition in reversed(lake.partitions("raw", contract.name, until=day)):
        found = lake.attachment_uri(partition, "keys")
        if found:
            return found
    return None


def sources(lake: Lake, dataset: str, day: date) -> tuple:
    """A table's change log up to ``day`` as conform reads it: its contract, clean and
    quarantined partitions (``(dt, [file uris])``, oldest first) and the newest key set."""
    contract = contracts.get(dataset)

    def files(zone: str) -> list[tuple[str, list[str]]]:
        return [
            (p.dt.isoformat(), lake.file_uris(p))
            for p in lake.partitions(zone, contract.name, until=day)
        ]

    clean = files("clean")
    if not clean:
        raise LookupError(f"no clean partitions of {contract.name} up to {day}: run its extraction")
    return contract, clean, files("quarantine"), _live_keys(lake, contract, day)


def _write(
    lake: Lake, table: str, day: date, rows: DataFrame, sources: list[str]
) -> tuple[int, str]:
    """``rows`` as the day's curated partition of ``table`` (one file, committed whole); returns
    its row count and the written folder's uri."""
    target = Partition("curated", table, day)
    run = lake.new_run_prefix(target)
    rows.coalesce(1).write.mode("overwrite").parquet(lake.store.uri(run))
    (written,) = [k for k in lake.store.list(run + "/") if k.endswith(".parquet")]
    folder = lake.store.uri(run)
    count = rows.sparkSession.read.parquet(folder).count()  # not a second build
    lake.commit(
        target,
        run,
        [{"key": written, "rows": count}],
        {f.name: f.dataType.simpleString() for f in rows.schema.fields},
        {"sources": sources},
    )
    return count, folder
