"""The warehouse's data-quality record, rebuilt from the lake's manifests."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pyarrow as pa

from govlake import load, steps
from govlake.lake import Lake, Partition
from govlake.quality.record import quality_tables
from govlake.simulator import run as simulator
from tests.conftest import DAY, REGISTER


def test_every_validated_day_is_recorded_with_its_rule_counts(embedded):
    simulator.init(embedded, seed=7, scale="tiny", until=DAY)
    for day, full in ((DAY, True), (DAY + timedelta(days=1), False)):
        if not full:
            simulator.day(embedded, day)
        steps.extract(embedded, REGISTER.name, day, full=full)
        summary = steps.validate(embedded, REGISTER.name, day)
    tables = quality_tables(Lake.from_settings(embedded), DAY + timedelta(days=1))
    runs = tables["dq.table_runs"].to_pylist()
    assert [(r["dataset"], r["dt"]) for r in runs] == [
        (REGISTER.name, DAY),
        (REGISTER.name, DAY + timedelta(days=1)),
    ]
    assert all(r["reconciled"] and r["raw_rows"] > 0 for r in runs)
    assert runs[-1]["clean_rows"] == summary["clean_rows"]
    counts = tables["dq.rule_counts"].to_pylist()
    quarantined = {
        c["rule"]: c["rows"] for c in counts if c["dt"] == DAY and c["outcome"] == "quarantine"
    }
    day1 = Lake.from_settings(embedded).read_manifest(Partition("clean", REGISTER.name, DAY))
    assert quarantined == day1["quality"]["quarantined_by"] and quarantined


def test_a_partition_missing_a_row_is_recorded_as_not_reconciled(embedded):
    simulator.init(embedded, seed=7, scale="tiny", until=DAY)
    steps.extract(embedded, REGISTER.name, DAY, full=True)
    steps.validate(embedded, REGISTER.name, DAY)
    lake = Lake.from_settings(embedded)
    clean = Partition("clean", REGISTER.name, DAY)
    rows = lake.read_table(clean)
    with lake.write(clean, rows.schema, {"quality": lake.read_manifest(clean)["quality"]}) as out:
        out.write(rows.slice(1))
    (run,) = quality_tables(lake, DAY)["dq.table_runs"].to_pylist()
    assert not run["reconciled"] and run["clean_rows"] == rows.num_rows - 1


def test_the_record_loads_into_the_warehouse_and_feeds_the_mart_views(embedded):
    url = embedded.warehouse_url.get_secret_value()
    load.migrate(url)
    simulator.init(embedded, seed=7, scale="tiny", until=DAY)
    steps.extract(embedded, REGISTER.name, DAY, full=True)
    steps.validate(embedded, REGISTER.name, DAY)
    for table, data in quality_tables(Lake.from_settings(embedded), DAY).items():
        load.replace_table(url, table, data)
    with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as con:
        (rate,) = con.execute("select pass_rate from mart.dq_pass_rates").fetchone()
        reasons = con.execute("select rule, rows from mart.dq_quarantine_by_reason").fetchall()
        fresh = con.execute("select source_system, last_dt from mart.dq_freshness").fetchall()
    assert 0.9 < float(rate) < 1.0
    assert reasons and all(isinstance(n, int) and n > 0 for _, n in reasons)
    assert fresh == [("credit", DAY)]
    assert pa.types.is_boolean(
        quality_tables(Lake.from_settings(embedded), DAY)["dq.table_runs"]
        .schema.field("reconciled")
        .type
    )
