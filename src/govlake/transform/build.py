"""The warehouse build of one day: clean/ (all partitions up to the day) to curated/."""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame

from govlake import contracts
from govlake.config import Settings
from govlake.lake import Lake, Partition
from govlake.transform.conform import latest_versions, withheld_keys
from govlake.transform.session import spark_session

# Warehouse table <- source contract. Later issues add the entity master, dimensions and facts.
STAGED = {"core.stg_enterprise_register": "credit.enterprise_register"}
WITHHELD = "dq.withheld_keys"  # every table's keys whose latest version is quarantined
CURATED = (*STAGED, WITHHELD)  # what a build writes to curated/ and the load publishes


def build(settings: Settings, day: date) -> dict:
    """Build every curated table for ``day`` in one Spark session; returns rows per table."""
    lake = Lake.from_settings(settings)
    spark = spark_session(settings, f"govlake-build-{day.isoformat()}")
    try:
        built = {
            table: _write(
                lake, table, day, latest_versions(spark, *_sources(lake, source, day)), [source]
            )
            for table, source in STAGED.items()
        }
        validated = [n for n in contracts.CONTRACTS if lake.partitions("clean", n, until=day)]
        held = withheld_keys(spark, [_sources(lake, name, day) for name in validated])
        built[WITHHELD] = _write(lake, WITHHELD, day, held, validated)
        return built
    finally:
        spark.stop()


def _live_keys(lake: Lake, contract: contracts.Contract, day: date) -> str | None:
    """The key set of the newest extraction up to ``day``: what the source still holds."""
    for partition in reversed(lake.partitions("raw", contract.name, until=day)):
        found = lake.attachment_uri(partition, "keys")
        if found:
            return found
    return None


def _sources(lake: Lake, dataset: str, day: date) -> tuple:
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


def _write(lake: Lake, table: str, day: date, rows: DataFrame, sources: list[str]) -> int:
    """``rows`` as the day's curated partition of ``table`` (one file, committed whole)."""
    target = Partition("curated", table, day)
    run = lake.new_run_prefix(target)
    rows.coalesce(1).write.mode("overwrite").parquet(lake.store.uri(run))
    (written,) = [k for k in lake.store.list(run + "/") if k.endswith(".parquet")]
    count = rows.sparkSession.read.parquet(lake.store.uri(run)).count()  # not a second build
    lake.commit(
        target,
        run,
        [{"key": written, "rows": count}],
        {f.name: f.dataType.simpleString() for f in rows.schema.fields},
        {"sources": sources},
    )
    return count
