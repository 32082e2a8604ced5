"""Conform: the latest version of every key from a source table's change log in clean/.

Raw (and so clean) is a change log: a key may appear in several daily partitions. The warehouse
keeps the version with the greatest watermark; if that version was quarantined, the key is withheld
until a clean version arrives. Ties on the watermark are the same version seen twice (look-back),
broken by the later partition so the choice never depends on read order.
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_type

from govlake.contracts import Contract
from govlake.quality.split import FLAGS


def latest_versions(
    spark: SparkSession,
    contract: Contract,
    clean_files: list[tuple[str, list[str]]],
    quarantine_files: list[tuple[str, list[str]]],
    live_keys: str | None = None,
) -> DataFrame:
    """Rows of the latest clean version per primary key, with flags joined to one string.

    ``*_files`` are ``(dt, [file uris])`` per partition, oldest first. ``live_keys`` is the newest
    key set read from the source: keys missing from it were hard-deleted and are dropped.
    """
    keys, mark = list(contract.primary_key), contract.watermark
    versions = _read(spark, clean_files).withColumn("_held", F.lit(False))
    quarantined = _read(spark, quarantine_files)
    if quarantined is not None:  # quarantined rows are raw-typed: cast the keys to clean types
        clean_types = {f.name: from_arrow_type(f.type) for f in contract.clean_schema()}
        held = quarantined.select(
            *(F.col(c).cast(clean_types[c]).alias(c) for c in (*keys, mark)), "_dt"
        ).withColumn("_held", F.lit(True))
        versions = versions.unionByName(held, allowMissingColumns=True)
    newest_first = Window.partitionBy(*keys).orderBy(
        F.col(mark).desc(), F.col("_dt").desc(), F.col("_held").desc()
    )
    latest = versions.withColumn("_rank", F.row_number().over(newest_first)).where("_rank = 1")
    if live_keys is not None:
        latest = latest.join(spark.read.parquet(live_keys), on=keys, how="left_semi")
    return (
        latest.where(~F.col("_held"))
        .withColumn(FLAGS, F.when(F.size(FLAGS) > 0, F.array_join(F.array_sort(FLAGS), ",")))
        .select(*contract.column_names, FLAGS)
    )


def _read(spark: SparkSession, partitions: list[tuple[str, list[str]]]) -> DataFrame | None:
    frames = [
        spark.read.parquet(*files).withColumn("_dt", F.lit(dt)) for dt, files in partitions if files
    ]
    return (
        reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames) if frames else None
    )
