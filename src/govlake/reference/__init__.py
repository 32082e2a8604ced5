"""The reference build: the warehouse build of govlake.transform written as plain DuckDB SQL.

It reads the same clean/ and quarantine/ Parquet of a local lake as the Spark build, computes
every table of :data:`govlake.transform.build.CURATED` with the same content, and loads them
into a fresh DuckDB warehouse (the same migrations, so the same column types) in one
transaction. The benchmark (issue 6/9) times it next to the Spark build; the e2e tests compare
the two warehouses' checksums. The SQL is the ``.sql`` files of this package, run in the order
of :data:`SCRIPTS`; Python only registers the inputs (:mod:`govlake.reference.sources`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from govlake import load
from govlake.config import Settings
from govlake.errors import LakeError
from govlake.lake import Lake
from govlake.reference.sources import register_inputs, register_sources, sql
from govlake.transform.build import CURATED

# The scripts in the order of the Spark build: each reads the tables the ones before it loaded.
SCRIPTS = ("macros", "shared", "entities", "approval", "enforcement", "transaction", "credit")


def build(settings: Settings, day: date, database: Path) -> dict[str, int]:
    """Build and load every curated table for ``day`` into a new DuckDB warehouse at
    ``database`` (replaced if it exists); returns the rows per table."""
    if settings.uses_s3:  # DuckDB reads the lake's files by their local paths
        raise LakeError("the reference build reads a local lake (the embedded profile), not S3")
    for stale in (database, database.with_name(f"{database.name}.wal")):
        stale.unlink(missing_ok=True)  # a new warehouse, not another build's log replayed
    load.migrate(f"duckdb:///{database}")
    con = duckdb.connect(str(database))
    try:
        register_sources(con, Lake.from_settings(settings), day)
        register_inputs(con, day, settings.person_secret())
        con.begin()
        for script in SCRIPTS:
            con.execute(sql(script))
        con.commit()
        return {table: con.table(table).shape[0] for table in CURATED}
    finally:
        con.close()
