"""The extract step for exchange files: whole file sets into raw/, re-sends merged and counted,
records that do not decode counted beside the rows."""

from datetime import date, timedelta

import pyarrow as pa

from govlake import steps
from govlake.config import Settings
from govlake.contracts import for_system
from govlake.lake import Lake, Partition
from govlake.simulator import run
from govlake.simulator.exchange import INVALID_BYTES
from govlake.sources import exchange
from tests.conftest import DAY


def test_re_sent_copies_are_merged_and_counted():
    table = pa.table(
        {
            "id": [1, 1, 2],
            "sequence_number": [7, 7, 8],
            "exported_at": ["2026-11-24 10:00", "2026-11-23 09:00", "2026-11-24 11:00"],
        }
    )
    kept, merged = steps._merge_resends(table)
    assert merged == 1
    assert kept.column("exported_at").to_pylist() == ["2026-11-23 09:00", "2026-11-24 11:00"]


def _declared(lake: Lake, contract, until: date) -> int:
    """The rows the file sets up to ``until`` list for the contract's table."""
    days = [d for d in exchange.file_set_days(lake.store, contract.system) if d <= until]
    markers = [exchange.ready(lake.store, contract.system, d) for d in days]
    return sum(e["rows"] for m in markers for e in m["files"] if e["table"] == contract.table)


def test_full_then_daily_extraction_of_every_file_set(tmp_path):
    settings = Settings(var_dir=tmp_path, _env_file=None)
    run.init(settings, seed=7, scale="tiny", until=DAY)
    next_day = DAY + timedelta(days=1)
    run.day(settings, next_day)
    lake = Lake.from_settings(settings)
    truth = run.read_truth(settings, "defects")
    planted = truth[truth["kind"] == "undecodable_file"]
    spoiled = truth[truth["kind"] == INVALID_BYTES]
    assert len(spoiled) == 1  # the history's record of invalid bytes
    for contract in for_system("transaction"):
        full = steps.extract(settings, contract.name, DAY, full=True)
        daily = steps.extract(settings, contract.name, next_day)
        assert full["source_files"] > 1 and daily["source_files"] == 1
        manifest = lake.read_manifest(Partition("raw", contract.name, DAY))
        assert manifest["mode"] == "full" and manifest["rows"] == full["raw_rows"]
        rejected = {r["key"] for r in manifest["rejected_files"]}
        assert rejected == {
            k
            for k in planted["column"]
            if f"/{contract.table}." in k and date.fromisoformat(k.split("dt=")[1][:10]) <= DAY
        }
        held = {r["key"] for r in manifest["rejected_records"]}
        assert held == {k for k in spoiled["column"] if f"/{contract.table}." in k}
        assert full["rejected_records"] == len(manifest["rejected_records"])
        whole = sum(r["rows_declared"] for r in manifest["rejected_files"])
        counted = full["raw_rows"] + full["resends_merged"] + full["rejected_records"] + whole
        assert counted == _declared(lake, contract, DAY)  # nothing lost
    assert steps.files_ready(settings, "transaction", next_day)
    assert not steps.files_ready(settings, "transaction", next_day + timedelta(days=1))
