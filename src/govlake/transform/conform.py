"""Conform: the latest version of every key from a source table's change log in clean/.

Raw (and so clean) is a change log: a key may appear in several daily partitions. The warehouse
keeps the version with the greatest watermark; if that version was quarantined, the key is withheld
until a clean version arrives. Ties on the watermark are the same version seen twice (look-back),
broken by the later partition so the choice never depends on read order.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession, Window, WindowSpec
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema, from_arrow_type

from govlake.contracts import Contract
from govlake.identifiers import USCC_PLACEHOLDER
from govlake.quality.releases import SEPARATOR
from govlake.quality.split import FLAGS, REASONS, clean_schema, quarantine_schema

if TYPE_CHECKING:
    import pyarrow as pa

Files = list[tuple[str, list[str]]]  # (dt, [file uris]) per partition, oldest first


def latest_versions(
    spark: SparkSession,
    contract: Contract,
    clean_files: Files,
    quarantine_files: Files,
    live_keys: str | None = None,
) -> DataFrame:
    """Rows of the latest clean version per primary key, with flags joined to one string.

    ``live_keys`` is the newest key set read from the source: keys missing from it were
    hard-deleted and are dropped.
    """
    ranked = newest_versions(spark, contract, clean_files, quarantine_files)
    return clean_rows(live_versions(spark, ranked, contract, live_keys), contract)


def newest_versions(
    spark: SparkSession,
    contract: Contract,
    clean_files: Files,
    quarantine_files: Files,
    state: list[str] | None = None,
) -> DataFrame:
    """The newest version of every key the change log holds, clean or held (``_held``, with its
    ``dq_reasons``), with its partition day ``_dt`` and the day of the key's first clean version
    ``_first_dt`` (when the warehouse first held it): the one ranking both the latest clean rows
    and the withheld keys are read off. Deleted keys are still in it (:func:`live_versions`
    drops them): the ranking is per key, so filtering after it keeps what filtering before it
    would. ``state`` is an earlier ranking's files (the newest versions of the partitions before
    these): the newest of a union is the newest of each part's newest, so ranking the state with
    the later partitions gives what ranking the whole log gives."""
    keys = list(contract.primary_key)
    versions = _versions(spark, contract, clean_files, quarantine_files, state or [])
    # Over the ranking's own window (one shuffle and one sort for both), its whole frame.
    whole_key = _newest_first(keys, contract.watermark).rowsBetween(
        Window.unboundedPreceding, Window.unboundedFollowing
    )
    first = F.min("_first_dt").over(whole_key)  # a state's carries on
    newest = _newest(versions.withColumn("_first_dt", first), keys, contract.watermark)
    newest = newest.drop("_rank")
    if REASONS in newest.columns:
        return newest
    return newest.withColumn(REASONS, F.lit(None).cast("array<string>"))  # a fixed state schema


def live_versions(
    spark: SparkSession, ranked: DataFrame, contract: Contract, live_keys: str | None
) -> DataFrame:
    """The ranked versions of the keys the source still holds."""
    return _live(spark, ranked, list(contract.primary_key), live_keys)


def judges_duplicates(contract: Contract) -> bool:
    """Whether a business key entered for two primary keys holds the later one back."""
    return len(contract.primary_key) == 1 and bool(contract.business_keys)


def duplicate_rule(contract: Contract) -> str:
    """The reason a key is withheld for: its business key belongs to a smaller primary key."""
    return f"{'_'.join(contract.business_keys)}_duplicate"


def duplicates_held(ranked: DataFrame, contract: Contract) -> DataFrame:
    """``ranked`` (live newest versions) with the keys whose complete business key an earlier
    primary key holds marked ``_held`` for :func:`duplicate_rule`: the smallest primary key among
    the clean newest versions keeps a business key (a held version lends it nothing; the
    个体工商户 placeholder code is no code, so a key holding it is incomplete).

    Judged here, over the table's whole ranked history, not per validation batch: which rows
    share a batch depends on how the days were run (a daily run validates a duplicate arriving
    on a later day alone; a clean build validates it with the row it repeats), and a batch's
    verdict would outlive the row it repeats changing its number or being deleted. The live
    newest versions are the same whatever the batching, so daily runs, re-runs, backfills and a
    clean build withhold the same keys. It is applied after the live-key filter and never
    stored in a ranked state: it relates keys to each other, so a state's verdict would not
    survive the partitions after it."""
    if not judges_duplicates(contract):
        return ranked
    (key,) = contract.primary_key
    business = list(contract.business_keys)
    complete = reduce(
        lambda a, b: a & b,
        (F.col(c).isNotNull() & (F.col(c).cast("string") != USCC_PLACEHOLDER) for c in business),
    )
    claims = ~F.col("_held") & complete
    # The business keys two primary keys claim, and the smallest of them: few, so they are
    # found on the narrow columns alone and broadcast back (no shuffle of whole rows).
    shared = (
        ranked.where(claims)
        .groupBy(*business)
        .agg(F.min(key).alias("_holder"), F.count("*").alias("_claims"))
        .where("_claims > 1")
        .drop("_claims")
    )
    judged = ranked.join(F.broadcast(shared), on=business, how="left")
    duplicate = F.coalesce(claims & (F.col(key) > F.col("_holder")), F.lit(False))
    reasons = F.when(duplicate, F.array(F.lit(duplicate_rule(contract)))).otherwise(F.col(REASONS))
    held = judged.withColumn(REASONS, reasons).withColumn("_held", F.col("_held") | duplicate)
    return held.select(*ranked.columns)


def clean_versions(
    spark: SparkSession,
    contract: Contract,
    clean_files: Files,
    quarantine_files: Files,
    live_keys: str | None = None,
) -> DataFrame:
    """Every clean version of every key the source still holds (its change history), each
    once: a version seen twice through the look-back (the same key and watermark) is ranked
    as :func:`latest_versions` ranks it, and left out if its winning copy was quarantined."""
    versions = _versions(spark, contract, clean_files, quarantine_files, [])
    versions = _live(spark, versions, list(contract.primary_key), live_keys)
    per_version = [*contract.primary_key, contract.watermark]
    return clean_rows(_newest(versions, per_version, contract.watermark), contract)


def clean_rows(ranked: DataFrame, contract: Contract) -> DataFrame:
    """The clean rows of ``ranked`` with their flags joined to one string."""
    return (
        ranked.where(~F.col("_held"))
        .withColumn(FLAGS, F.when(F.size(FLAGS) > 0, F.array_join(F.array_sort(FLAGS), ",")))
        .select(*contract.column_names, FLAGS)
    )


def withheld_keys(tables: list[tuple[Contract, DataFrame]]) -> DataFrame:
    """The keys held out of the warehouse because their latest version is quarantined, read off
    each table's live ranked versions (:func:`live_versions`; hard-deleted keys are gone, not
    withheld), every table in one relation: ``dataset``, ``key`` (its values as text,
    ``|``-joined, as releases name rows; keys with a NULL part are not named), ``dt`` of the
    quarantined version, its ``watermark`` and ``reasons`` (comma-joined)."""
    held = reduce(DataFrame.unionByName, [_held(contract, ranked) for contract, ranked in tables])
    return held.select(
        "dataset",
        "key",
        F.to_date("_dt").alias("dt"),
        "watermark",
        F.array_join(F.array_sort(REASONS), ",").alias("reasons"),
    )


def _held(contract: Contract, ranked: DataFrame) -> DataFrame:
    """One table's identified keys whose newest version is held, as (dataset, key text, ...)."""
    keys = list(contract.primary_key)
    identified = reduce(lambda a, b: a & b, (F.col(c).isNotNull() for c in keys))
    return ranked.where(identified & F.col("_held")).select(
        F.lit(contract.name).alias("dataset"),
        F.concat_ws(SEPARATOR, *(F.col(c).cast("string") for c in keys)).alias("key"),
        F.col(contract.watermark).cast("timestamp_ntz").alias("watermark"),
        "_dt",
        REASONS,
    )


def _versions(
    spark: SparkSession,
    contract: Contract,
    clean_files: Files,
    quarantine_files: Files,
    state: list[str],
) -> DataFrame:
    """Every version of every key, clean or held (``_held``, with its ``dq_reasons``), and
    those of an earlier ranking's ``state`` files."""
    keys, mark = list(contract.primary_key), contract.watermark
    parts = []
    clean = _read(spark, clean_files, clean_schema(contract))
    if clean is not None:
        parts.append(clean.withColumn("_held", F.lit(False)).withColumn("_first_dt", F.col("_dt")))
    quarantined = _read(spark, quarantine_files, quarantine_schema(contract))
    if quarantined is not None:  # quarantined rows are raw-typed: cast the keys to clean types
        clean_types = {f.name: from_arrow_type(f.type) for f in contract.clean_schema()}
        held = quarantined.select(
            *(F.col(c).cast(clean_types[c]).alias(c) for c in (*keys, mark)), "_dt", REASONS
        )
        held = held.withColumn("_first_dt", F.lit(None).cast("string"))
        parts.append(held.withColumn("_held", F.lit(True)))
    if state:  # written by a build: every column typed, ``_dt`` and ``_held`` included
        parts.append(spark.read.parquet(*state))
    if not parts:
        raise LookupError(f"{contract.name}: no validated partitions")
    return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)


def _live(spark: SparkSession, versions: DataFrame, keys: list[str], live: str | None) -> DataFrame:
    """The versions of keys the source still holds (all of them without a key set)."""
    if live is None:
        return versions
    key_types = versions.select(*keys).schema  # the key set holds the clean key types
    # Broadcast: the keys alone are small beside the rows, which then need no shuffle.
    live_keys = F.broadcast(spark.read.schema(key_types).parquet(live))
    return versions.join(live_keys, on=keys, how="left_semi")


def _newest(versions: DataFrame, keys: list[str], mark: str) -> DataFrame:
    """The newest version per key: greatest watermark, then the later partition (a version seen
    twice through the look-back), then the held copy (a quarantined version is never outranked
    by the same version's clean copy)."""
    newest = F.row_number().over(_newest_first(keys, mark))
    return versions.withColumn("_rank", newest).where("_rank = 1")


def _newest_first(keys: list[str], mark: str) -> WindowSpec:
    return Window.partitionBy(*keys).orderBy(
        F.col(mark).desc(), F.col("_dt").desc(), F.col("_held").desc()
    )


def _read(spark: SparkSession, partitions: Files, schema: pa.Schema) -> DataFrame | None:
    """Every partition's files in one scan with the zone's schema given (Spark's fixed costs are
    per scan and per schema inference, not per row), each row with the ``_dt`` of its partition
    (from its file's ``dt=`` folder)."""
    files = [uri for _, uris in partitions for uri in uris]
    if not files:
        return None
    rows = spark.read.schema(from_arrow_schema(schema)).parquet(*files)
    return rows.withColumn("_dt", F.regexp_extract("_metadata.file_path", _PARTITION_DAY, 1))


_PARTITION_DAY = r"/dt=(\d{4}-\d{2}-\d{2})/"
