"""The extract step for exchange files: whole file sets into raw/, re-sends merged and counted."""

from datetime import date, timedelta

import pyarrow as pa

from govlake import steps
from govlake.config import Settings
from govlake.contracts import for_system
from govlake.lake import Lake, Partition
from govlake.simulator import run
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


def test_full_then_daily_extraction_of_every_file_set(tmp_path):
    settings = Settings(var_dir=tmp_path, _env_file=None)
    run.init(settings, seed=7, scale="tiny", until=DAY)
    next_day = DAY + timedelta(days=1)
    run.day(settings, next_day)
    lake = Lake.from_settings(settings)
    truth = run.read_truth(settings, "defects")
    planted = truth[truth["kind"] == "undecodable_file"]
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
    assert steps.files_ready(settings, "transaction", next_day)
    assert not steps.files_ready(settings, "transaction", next_day + timedelta(days=1))
