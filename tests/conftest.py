"""Shared fixtures: an isolated var directory and the simulated credit system's tiny history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from govlake.config import PROJECT_DIR, DagSettings, GateSettings, Settings
from govlake.contracts import get
from govlake.simulator.base import Batch
from govlake.simulator.credit import CreditSimulator
from govlake.simulator.world import SCALES, World

DAY = date(2026, 11, 23)
REGISTER = get("credit.enterprise_register")
EXPECTATIONS = PROJECT_DIR / "expectations"
TINY = World(seed=7, scale=SCALES["tiny"], until=DAY)
# The defect kinds the register's suite catches on its own. orphan_reference (legal_rep_person_id
# not in credit.persons) needs the persons table as a lookup: validate_and_split(...,
# references=...) catches it, without one the rule is skipped (tests/unit/test_rules.py).
# The warehouse's staged register, as the load tests build it (warehouse/migrations, 0001).
TABLE = "core.stg_enterprise_register"
SCHEMAS = {"core", "mart", "portal", "dq", "ops", "restricted"}
REGISTER_SCHEMA = pa.schema(
    [
        ("enterprise_id", pa.int64()),
        ("uscc", pa.string()),
        ("name", pa.string()),
        ("entity_type", pa.string()),
        ("legal_rep_name", pa.string()),
        ("legal_rep_id_number", pa.string()),
        ("region_code", pa.string()),
        ("registered_capital", pa.decimal128(20, 4)),
        ("established_on", pa.date32()),
        ("status", pa.string()),
        ("updated_at", pa.timestamp("us")),
        ("dq_flags", pa.string()),
    ]
)
SUITE_CATCHES = {
    "bad_uscc_checksum",
    "required_null",
    "too_long",
    "bad_id_checksum",
    "unknown_region",
    "future_date",
}


def fail_fast_settings(var_dir: Path, **values) -> Settings:
    """Settings for real Airflow runs in tests: no retries, a short wait for exchange files, and
    the batch gates' volume band at the tiny scale the tests simulate."""
    fast = DagSettings.fail_fast()
    values.setdefault("gates", GateSettings(volume_scale=SCALES["tiny"].volume_scale))
    return Settings(var_dir=var_dir, dag=fast, _env_file=None, **values)


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Embedded-profile settings whose lake, warehouse and sources live in a temporary directory."""
    for name in ("GOVLAKE_PROFILE", "GOVLAKE_S3_ENDPOINT", "GOVLAKE_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "sources").mkdir()
    return Settings(profile="embedded", var_dir=tmp_path, _env_file=None)


@pytest.fixture(scope="session")
def credit_history() -> dict[str, Batch]:
    """The credit system's tiny history, per table name, with its ground truth."""
    return {b.contract.table: b for b in CreditSimulator().history(TINY, rate=0.02)}


@pytest.fixture(scope="session")
def register(credit_history) -> Batch:
    return credit_history["enterprise_register"]


def keys_with(batch: Batch, outcome: str, kinds: set[str] | None = None) -> set[int]:
    """Primary keys the defect manifest expects to have ``outcome`` (optionally only ``kinds``)."""
    defects: pd.DataFrame = batch.defects
    chosen = defects[defects["outcome"] == outcome]
    if kinds is not None:
        chosen = chosen[chosen["kind"].isin(kinds)]
    return set(chosen["key"].astype(int))


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """The suite's one local Spark session (its start-up is paid once), for library functions
    that take DataFrames; the builds themselves run under spark-submit."""
    from govlake.transform.session import spark_session

    settings = Settings(var_dir=tmp_path_factory.mktemp("spark"), spark_master="local[1]")
    session = spark_session(settings, "govlake-tests")
    yield session
    session.stop()
