"""The warehouse build of one day: clean/ (all partitions up to the day) to curated/.

The shared tables come first (the staged register, the withheld keys, the entity master, the
calendar); then each domain module (approval, enforcement, transaction, credit) builds its
dimensions and facts from them through its ``build(run)``. The tables are committed together,
last, as the day's build (``Lake.commit_build``).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame

from govlake import contracts, regions
from govlake.config import Settings
from govlake.lake import Lake
from govlake.transform import approval, credit, dates, enforcement, entities, transaction
from govlake.transform.conform import withheld_keys
from govlake.transform.run import BuildRun
from govlake.transform.session import spark_session

# Warehouse table <- source contract, conformed as it is but for its personal data (an ID
# number lives only in ``restricted``).
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
DIM_REGION = "core.dim_region"  # 行政区划, dated, retired codes mapped (govlake.regions)
DOMAINS = (approval, enforcement, transaction, credit)
CURATED = (  # what a build writes to curated/ and the load publishes, in one transaction
    *STAGED,
    WITHHELD,
    ENTITY,
    ENTITY_MATCH,
    PERSON_IDENTITY,
    DIM_DATE,
    DIM_REGION,
    *(table for domain in DOMAINS for table in domain.TABLES),
)
REGION_SCHEMA = (
    "region_code string, name string, level string, valid_from date, valid_to date, "
    "successor_code string, current_code string, is_current boolean"
)
REGISTERS = ("credit.enterprise_register", "credit.persons")  # the entity master needs both


def build(settings: Settings, day: date) -> dict:
    """Build every curated table for ``day`` in one Spark session, then commit them all as the
    day's build (a build killed midway leaves the previous one); returns the rows and the
    seconds of each table's write (where its lazy plan runs), and of each source table's
    ranking (its ranked state's write)."""
    lake = Lake.from_settings(settings)
    spark = spark_session(settings, f"govlake-build-{day.isoformat()}")
    try:
        run = BuildRun(lake, spark, day)
        for table, source in STAGED.items():
            personal = contracts.CONTRACTS[source].pii_columns
            run.write(table, run.latest(source).drop(*personal), [source])
        validated = [n for n in contracts.CONTRACTS if run.validated(n)]
        held = withheld_keys([(contracts.get(n), run.ranking(n)) for n in validated])
        run.write(WITHHELD, held, validated)
        run.matches = _entity_master(settings, run)
        calendar = dates.date_dimension(dates.FIRST_DAY, dates.last_day(day))
        run.calendar = run.write(DIM_DATE, spark.createDataFrame(calendar), [])
        run.write(DIM_REGION, spark.createDataFrame(regions.dimension(), REGION_SCHEMA), [])
        for domain in DOMAINS:
            domain.build(run)
        run.commit()
        return {"rows": run.built, "seconds": run.seconds, "conform": run.conform}
    finally:
        spark.stop()


def _entity_master(settings: Settings, run: BuildRun) -> DataFrame:
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
