"""The simulator writes the same systems to PostgreSQL and S3 as to SQLite and a local directory."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from govlake.config import Settings
from govlake.contracts import CONTRACTS
from govlake.simulator import run
from govlake.sources.sql import read_batches
from govlake.storage import open_store
from tests.conftest import DAY


@pytest.fixture(scope="module")
def both(services_env, tmp_path_factory):
    """The same tiny history and one day, simulated into both profiles."""
    patch = pytest.MonkeyPatch()
    for key, value in services_env.items():
        patch.setenv(key, value)
    services = Settings(var_dir=tmp_path_factory.mktemp("services"), _env_file=None)
    patch.undo()
    embedded = Settings(var_dir=tmp_path_factory.mktemp("embedded"), _env_file=None)
    for settings in (services, embedded):
        run.init(settings, seed=11, scale="tiny", until=DAY)
        run.day(settings, DAY + timedelta(days=1))
    return services, embedded


def _rows(settings: Settings, contract) -> pa.Table:
    table = pa.Table.from_batches(
        list(read_batches(settings.source_url(contract.system), contract, None)),
        contract.raw_schema(),
    )
    # Numeric text differs by driver in trailing zeros only (1.50 / 1.5); compare as numbers.
    for i, column in enumerate(contract.columns):
        if column.source_type.startswith("numeric"):
            table = table.set_column(i, column.name, table.column(i).cast(pa.float64()))
    return table


@pytest.mark.parametrize(
    "contract", [c for c in CONTRACTS.values() if c.channel == "sql"], ids=lambda c: c.name
)
def test_postgres_holds_exactly_the_sqlite_rows(both, contract):
    services, embedded = both
    in_postgres, in_sqlite = _rows(services, contract), _rows(embedded, contract)
    assert in_postgres.num_rows > 0
    assert in_postgres.equals(in_sqlite)  # compared outside the assert: no URL in its report


def test_s3_holds_exactly_the_local_exchange_files(both):
    services, embedded = both
    s3, local = open_store(services), open_store(embedded)
    keys = s3.list("exchange/")
    assert keys and keys == local.list("exchange/")
    for key in keys[:: max(1, len(keys) // 40)]:  # a sample of files, byte for byte
        assert s3.get_bytes(key) == local.get_bytes(key), key
