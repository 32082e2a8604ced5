"""The warehouse build of one day: clean/ (all partitions up to the day) to curated/."""

from __future__ import annotations

from datetime import date

from govlake import contracts
from govlake.config import Settings
from govlake.lake import Lake, Partition
from govlake.transform.conform import latest_versions
from govlake.transform.session import spark_session

# Warehouse table <- source contract. Later issues add the entity master, dimensions and facts.
STAGED = {"core.stg_enterprise_register": "credit.enterprise_register"}


def build(settings: Settings, day: date) -> dict:
    """Build every curated table for ``day`` in one Spark session; returns rows per table."""
    lake = Lake.from_settings(settings)
    spark = spark_session(settings, f"govlake-build-{day.isoformat()}")
    try:
        return {
            table: _stage(spark, lake, table, contracts.get(source), day)
            for table, source in STAGED.items()
        }
    finally:
        spark.stop()


def _live_keys(lake: Lake, contract: contracts.Contract, day: date) -> str | None:
    """The key set of the newest extraction up to ``day``: what the source still holds."""
    for partition in reversed(lake.partitions("raw", contract.name, until=day)):
        found = lake.attachment_uri(partition, "keys")
        if found:
            return found
    return None


def _stage(spark, lake: Lake, table: str, contract: contracts.Contract, day: date) -> int:
    def files(zone: str) -> list[tuple[str, list[str]]]:
        return [
            (p.dt.isoformat(), lake.file_uris(p))
            for p in lake.partitions(zone, contract.name, until=day)
        ]

    clean = files("clean")
    if not clean:
        raise LookupError(f"no clean partitions of {contract.name} up to {day}: run its extraction")
    rows = latest_versions(
        spark, contract, clean, files("quarantine"), _live_keys(lake, contract, day)
    )
    target = Partition("curated", table, day)
    run = lake.new_run_prefix(target)
    rows.coalesce(1).write.mode("overwrite").parquet(lake.store.uri(run))
    (written,) = [k for k in lake.store.list(run + "/") if k.endswith(".parquet")]
    count = rows.count()
    lake.commit(
        target,
        run,
        [{"key": written, "rows": count}],
        {f.name: f.dataType.simpleString() for f in rows.schema.fields},
        {"sources": [contract.name]},
    )
    return count
