"""The build's first check (steps.check_day): reconciliation from the manifests, held days and
their overrides, and the simulator's normal days passing the batch gates."""

from __future__ import annotations

import graphlib
import shutil
from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from govlake import contracts, load, pipeline, steps
from govlake.config import GateSettings, Settings
from govlake.errors import GateError
from govlake.lake import Lake, Partition
from govlake.quality.rules import referenced_tables
from govlake.quality.split import clean_schema, quarantine_schema
from govlake.simulator import run as simulator
from govlake.simulator.world import SCALES
from tests.conftest import DAY, EXPECTATIONS

DAY2 = DAY + timedelta(days=1)
DATASET = "credit.enterprise_register"


def _validation_order() -> list[str]:
    """Parents before the tables whose rules look them up, as the extract DAGs run them."""
    order = graphlib.TopologicalSorter(
        {c.name: referenced_tables(c, EXPECTATIONS) for c in contracts.CONTRACTS.values()}
    )
    return list(order.static_order())


def _extract_and_validate(settings: Settings, day, full: bool) -> dict[str, dict]:
    for contract in contracts.CONTRACTS.values():
        steps.extract(settings, contract.name, day, full=full)
    done = {name: steps.validate(settings, name, day) for name in _validation_order()}
    for system in {c.system for c in contracts.CONTRACTS.values() if c.channel == "exchange"}:
        steps.archive_files(settings, system, day, full=full)
    return done


@pytest.fixture(scope="module")
def simulated(tmp_path_factory) -> dict:
    """Tiny sources: day 1 a full snapshot, day 2 the simulator's changes (as the e2e runs)."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("GOVLAKE_PROFILE", "GOVLAKE_S3_ENDPOINT", "GOVLAKE_WAREHOUSE_URL"):
            env.delenv(name, raising=False)
        settings = Settings(
            profile="embedded",
            var_dir=tmp_path_factory.mktemp("gated"),
            gates=GateSettings(volume_scale=SCALES["tiny"].volume_scale),
            _env_file=None,
        )
        pipeline.seed_sources(settings, DAY, "tiny")
        day1 = _extract_and_validate(settings, DAY, full=True)
        simulator.day(settings, DAY2)
        day2 = _extract_and_validate(settings, DAY2, full=False)
        steps.migrate(settings)
        yield {"settings": settings, "day1": day1, "day2": day2}


def test_the_simulators_normal_days_pass_every_gate(simulated):
    for day in ("day1", "day2"):
        held = {
            name: s["gates"]["failed"] for name, s in simulated[day].items() if s["gates"]["held"]
        }
        assert held == {}, day
    assert simulated["day2"][DATASET]["newest_watermark"].startswith(DAY2.isoformat())


def test_check_day_passes_a_reconciled_unheld_lake(simulated):
    checked = steps.check_day(simulated["settings"], DAY2)
    assert checked["held"] == 0
    assert checked["partitions"] == 2 * len(contracts.CONTRACTS)


def test_a_row_dropped_from_clean_after_validation_fails_the_check(simulated, embedded):
    settings = embedded  # a copy of the simulated lake and warehouse, in its own directory
    shutil.copytree(simulated["settings"].var_dir, settings.var_dir, dirs_exist_ok=True)
    lake = Lake.from_settings(settings)
    clean = Partition("clean", DATASET, DAY2)
    manifest = lake.read_manifest(clean)
    table = lake.read_table(clean)
    kept = {k: manifest[k] for k in ("quality", "gates")}  # as validate wrote them
    with lake.write(clean, clean_schema(contracts.get(DATASET)), kept) as out:
        out.write(table.slice(1))
    raw = lake.read_manifest(Partition("raw", DATASET, DAY2))["rows"]
    held = lake.read_manifest(Partition("quarantine", DATASET, DAY2))["rows"]

    with pytest.raises(GateError) as failed:
        steps.check_day(settings, DAY2)
    message = str(failed.value)
    assert f"{DATASET} {DAY2} does not reconcile" in message
    assert f"raw {raw} " in message
    assert f"clean {table.num_rows - 1} + quarantined {held} (-1)" in message
    assert not GateError.retryable  # the DAG task fails at once: transform and load never run


def _partition(lake: Lake, zone: str, rows: int, metadata: dict | None = None) -> None:
    contract = contracts.get(DATASET)
    schema = {
        "raw": contract.raw_schema(),
        "clean": clean_schema(contract),
        "quarantine": quarantine_schema(contract),
    }[zone]
    data = pa.Table.from_pylist([{"enterprise_id": i} for i in range(rows)], schema=schema)
    with lake.write(Partition(zone, DATASET, DAY), schema, metadata) as out:
        out.write(data)


def test_a_held_day_blocks_the_build_until_an_override_is_recorded(embedded: Settings):
    lake = Lake.from_settings(embedded)
    url = embedded.warehouse_url.get_secret_value()
    failed = [{"gate": "volume", "reason": "raw rows 3 below the band 170–40030"}]
    _partition(lake, "raw", 3, {"mode": "incremental"})
    _partition(lake, "clean", 2, {"gates": {"held": True, "failed": failed}})
    _partition(lake, "quarantine", 1)
    steps.migrate(embedded)

    with pytest.raises(GateError, match=f"{DATASET} {DAY} held: volume: raw rows 3 below"):
        steps.check_day(embedded, DAY)
    held = load.read_rows(url, load.HELD_DAYS)
    assert [(r["dataset"], r["gate"], r["reason"]) for r in held] == [
        (DATASET, "volume", failed[0]["reason"])
    ]

    load.record_override(
        url, DATASET, DAY, "checked with the bureau", "ops", datetime(2026, 11, 24)
    )
    checked = steps.check_day(embedded, DAY)
    assert checked == {"dt": DAY.isoformat(), "partitions": 1, "held": 1, "released": 1}
    assert len(load.read_rows(url, load.HELD_DAYS)) == 1  # the record of the hold stays
    (override,) = steps.gate_overrides(url)
    assert (override["dt"], override["overridden_by"]) == (DAY, "ops")


def test_an_unvalidated_raw_partition_fails_the_check(embedded: Settings):
    _partition(Lake.from_settings(embedded), "raw", 3, {"mode": "incremental"})
    steps.migrate(embedded)
    with pytest.raises(GateError, match=f"{DATASET} {DAY}: raw has 3 rows but was not validated"):
        steps.check_day(embedded, DAY)
