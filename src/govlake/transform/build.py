"""The warehouse build of one day: clean/ (all partitions up to the day) to curated/."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pyspark.sql import DataFrame, SparkSession

from govlake import contracts
from govlake.config import Settings
from govlake.lake import Lake, Partition
from govlake.transform import approval, dates, entities
from govlake.transform.conform import latest_versions, withheld_keys
from govlake.transform.session import spark_session

# Warehouse table <- source contract, conformed as it is.
STAGED = {"core.stg_enterprise_register": "credit.enterprise_register"}
WITHHELD = "dq.withheld_keys"  # every table's keys whose latest version is quarantined
# The entity master (主体库): golden records, the match of every party reference, and the
# persons' ID numbers (restricted: only the credit feed reads them).
ENTITY, ENTITY_MATCH, PERSON_IDENTITY = (
    "core.entity",
    "core.entity_match",
    "restricted.person_identity",
)
DIM_DATE = "core.dim_date"  # the working-day calendar (govlake.workdays)
DIM_DEPARTMENT, DIM_SERVICE_ITEM, FCT_CASE = (
    "core.dim_department",
    "core.dim_service_item",
    "core.fct_case",
)
CURATED = (  # what a build writes to curated/ and the load publishes, in one transaction
    *STAGED,
    WITHHELD,
    ENTITY,
    ENTITY_MATCH,
    PERSON_IDENTITY,
    DIM_DATE,
    DIM_DEPARTMENT,
    DIM_SERVICE_ITEM,
    FCT_CASE,
)
REGISTERS = ("credit.enterprise_register", "credit.persons")  # the entity master needs both


@dataclass
class _Build:
    """One day's build: the lake, the session, and each source table conformed once."""

    lake: Lake
    spark: SparkSession
    day: date
    conformed: dict[str, DataFrame] = field(default_factory=dict)
    built: dict[str, int] = field(default_factory=dict)

    def latest(self, dataset: str) -> DataFrame:
        if dataset not in self.conformed:
            rows = latest_versions(self.spark, *_sources(self.lake, dataset, self.day))
            self.conformed[dataset] = rows.cache()  # read by several tables of the build
        return self.conformed[dataset]

    def validated(self, dataset: str) -> bool:
        return bool(self.lake.partitions("clean", dataset, until=self.day))

    def write(self, table: str, rows: DataFrame, sources: list[str]) -> DataFrame:
        self.built[table] = _write(self.lake, table, self.day, rows, sources)
        return rows


def build(settings: Settings, day: date) -> dict:
    """Build every curated table for ``day`` in one Spark session; returns rows per table."""
    lake = Lake.from_settings(settings)
    spark = spark_session(settings, f"govlake-build-{day.isoformat()}")
    try:
        run = _Build(lake, spark, day)
        for table, source in STAGED.items():
            run.write(table, run.latest(source), [source])
        validated = [n for n in contracts.CONTRACTS if run.validated(n)]
        held = withheld_keys(spark, [_sources(lake, name, day) for name in validated])
        run.write(WITHHELD, held, validated)
        matches = _entity_master(settings, run)
        calendar = dates.date_dimension(dates.FIRST_DAY, dates.last_day(day))
        calendar = run.write(DIM_DATE, spark.createDataFrame(calendar).cache(), [])
        _approval(run, calendar, matches)
        return run.built
    finally:
        spark.stop()


def _entity_master(settings: Settings, run: _Build) -> DataFrame:
    """The entity master from the latest versions of the registers and of every table that
    names parties (those validated so far: a table not extracted yet adds its references
    later); returns the match table."""
    named = sorted({ref.dataset for ref in entities.REFERENCES} | set(REGISTERS))
    present = [n for n in named if n in REGISTERS or run.validated(n)]
    tables = {n: run.latest(n) for n in present}
    master = entities.entity_master(tables, settings.person_secret())
    run.write(ENTITY, master.entities, present)
    run.write(PERSON_IDENTITY, master.identities, present)
    return run.write(ENTITY_MATCH, master.matches, present)


def _approval(run: _Build, calendar: DataFrame, matches: DataFrame) -> None:
    names = ["approval.departments", "approval.service_items", "approval.cases"]
    departments, items, cases = (run.latest(n) for n in names)
    run.write(DIM_DEPARTMENT, approval.dim_department(departments), names[:1])
    run.write(DIM_SERVICE_ITEM, approval.dim_service_item(items), names[1:2])
    facts = approval.fct_case(cases, items, calendar, matches, run.day)
    run.write(FCT_CASE, facts, names)


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
