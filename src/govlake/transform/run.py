"""One day's warehouse build as the domain modules see it: the lake, the one Spark session, each
source table conformed once (ranked from its state of an earlier day and the partitions since
when that state still holds, see :mod:`govlake.transform.state`), the shared tables (calendar,
entity matches), and the writer of curated partitions, which the build commits together, last
(:meth:`BuildRun.commit`): a build killed midway publishes none of them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from govlake import contracts
from govlake.errors import LakeError
from govlake.lake import BUILT, Lake, Partition
from govlake.transform import state
from govlake.transform.conform import clean_rows, duplicates_held, live_versions, newest_versions


@dataclass
class BuildRun:
    lake: Lake
    spark: SparkSession
    day: date
    calendar: DataFrame | None = None  # core.dim_date, once built
    matches: DataFrame | None = None  # core.entity_match, once built
    ranked: dict[str, DataFrame] = field(default_factory=dict)  # live newest versions, cached
    conformed: dict[str, DataFrame] = field(default_factory=dict)  # their clean rows
    built: dict[str, int] = field(default_factory=dict)  # rows per table
    written: dict[str, dict] = field(default_factory=dict)  # their manifests, for commit()
    seconds: dict[str, float] = field(default_factory=dict)  # the write of each (Spark is lazy)
    conform: dict[str, float] = field(default_factory=dict)  # the ranking (state write) of each

    def latest(self, dataset: str) -> DataFrame:
        """A source table's latest clean versions (read off its ranking)."""
        if dataset not in self.conformed:
            self.conformed[dataset] = clean_rows(self.ranking(dataset), contracts.get(dataset))
        return self.conformed[dataset]

    def first_published(self, dataset: str) -> DataFrame:
        """A source table's keys with ``first_published_on``: the day of their first clean
        version, the first build (and so publish) that held them; from the lake, so a rebuild
        of the same lake gives the same days."""
        keys = contracts.get(dataset).primary_key
        days = self.ranking(dataset).select(
            *keys, F.to_date("_first_dt").alias("first_published_on")
        )
        return days.where(F.col("first_published_on").isNotNull())

    def ranking(self, dataset: str) -> DataFrame:
        """A source table's newest version per live key, clean or held (a business-key
        duplicate held, see :func:`duplicates_held`): ranked once per build and cached, as both
        its latest clean rows and its withheld keys are read off it."""
        if dataset not in self.ranked:
            contract, log, live = change_log(self.lake, dataset, self.day)
            newest = self._ranked_state(contract, log)
            live_newest = live_versions(self.spark, newest, contract, live)
            self.ranked[dataset] = duplicates_held(live_newest, contract).cache()
        return self.ranked[dataset]

    def _ranked_state(self, contract: contracts.Contract, log: state.Log) -> DataFrame:
        """The day's ranked state of a table, written to the lake and read back: ranked from the
        newest usable earlier state and the partitions after its day, else from the whole log."""
        started = time.perf_counter()
        since, earlier = state.usable(self.lake, contract, self.day, log) or (None, [])
        clean, held = (state.files(log[zone], after=since) for zone in state.INPUTS)
        newest = newest_versions(self.spark, contract, clean, held, earlier)
        metadata = state.metadata(contract, log, since)
        # Committed on its own, not with the build: a state is a cache of its inputs, checked
        # against them before any reuse (state.usable), so one left by a killed build is harmless.
        manifest, written = _write(self.lake, state.partition(contract, self.day), newest, metadata)
        self.lake.commit(manifest)
        self.conform[contract.name] = round(time.perf_counter() - started, 2)
        return self.spark.read.parquet(written)

    def validated(self, dataset: str) -> bool:
        return bool(self.lake.partitions("clean", dataset, until=self.day))

    def write(self, table: str, rows: DataFrame, sources: list[str]) -> DataFrame:
        """Writes ``rows`` as the day's curated partition of ``table`` (visible once the build
        commits) and returns them as written: later tables read the one file, not the plan (a
        union of many shuffles) that made it."""
        started = time.perf_counter()
        target = Partition(BUILT, table, self.day)
        manifest, written = _write(self.lake, target, rows, {"sources": sources})
        self.written[table] = manifest
        self.built[table] = manifest["rows"]
        self.seconds[table] = round(time.perf_counter() - started, 2)
        return self.spark.read.parquet(written)

    def commit(self) -> None:
        """Makes every curated partition written the day's build, at once."""
        self.lake.commit_build(self.day, list(self.written.values()))


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
    contract, log, live = change_log(lake, dataset, day)
    return contract, *(state.files(log[zone]) for zone in state.INPUTS), live


def change_log(
    lake: Lake, dataset: str, day: date
) -> tuple[contracts.Contract, state.Log, str | None]:
    """A table's contract, its clean and quarantined partitions up to ``day`` with the runs
    their manifests point at, and the newest key set."""
    contract = contracts.get(dataset)
    log = {zone: _committed(lake, zone, contract.name, day) for zone in state.INPUTS}
    if not log["clean"]:
        raise LookupError(f"no clean partitions of {contract.name} up to {day}: run its extraction")
    return contract, log, _live_keys(lake, contract, day)


def _committed(lake: Lake, zone: str, dataset: str, day: date) -> list[state.Committed]:
    """The partitions of ``zone`` up to ``day``: dt, committed run and file uris (one manifest
    read each)."""
    found = []
    for partition in lake.partitions(zone, dataset, until=day):
        manifest = lake.read_manifest(partition)
        if manifest is None:  # listed, then replaced or dropped under us
            raise LakeError(f"partition {partition.prefix} has not been written")
        uris = [lake.store.uri(f["key"]) for f in manifest["files"]]
        found.append((partition.dt.isoformat(), manifest["run"], uris))
    return found


def _write(lake: Lake, target: Partition, rows: DataFrame, metadata: dict) -> tuple[dict, str]:
    """``rows`` as one file under a new run of the partition ``target``, not yet committed;
    returns the manifest that commits it and the written folder's uri."""
    run = lake.new_run_prefix(target)
    # Names the write's queries in Spark's event log (govlake.spark_profile).
    rows.sparkSession.sparkContext.setJobDescription(f"{target.zone} {target.dataset}")
    rows.coalesce(1).write.mode("overwrite").parquet(lake.store.uri(run))
    (written,) = [k for k in lake.store.list(run + "/") if k.endswith(".parquet")]
    folder = lake.store.uri(run)
    count = rows.sparkSession.read.parquet(folder).count()  # not a second build
    columns = {f.name: f.dataType.simpleString() for f in rows.schema.fields}
    return Lake.manifest(target, run, [{"key": written, "rows": count}], columns, metadata), folder
