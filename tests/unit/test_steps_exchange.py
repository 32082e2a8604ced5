"""The extract step for exchange files: whole file sets into raw/, re-sends merged and counted,
records that do not decode counted beside the rows."""

import hashlib
import json
from datetime import date, timedelta

import pyarrow as pa

from govlake import steps
from govlake.config import Settings
from govlake.contracts import for_system
from govlake.lake import Lake, Partition
from govlake.simulator import run
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


def test_a_record_that_does_not_decode_is_counted_beside_the_rows(tmp_path):
    """Nothing lost: raw rows + merged re-sends + rejected records (+ the rows of files rejected
    whole) = the rows the file sets declare."""
    settings = Settings(var_dir=tmp_path, _env_file=None)
    run.init(settings, seed=7, scale="tiny", until=DAY)
    store = Lake.from_settings(settings).store
    bids = next(c for c in for_system("transaction") if c.table == "bids")
    days = exchange.file_set_days(store, bids.system)
    markers = [exchange.ready(store, bids.system, d) for d in days]
    entries = [e for m in markers for e in m["files"] if e["table"] == bids.table]
    busiest = max(entries, key=lambda e: e["rows"])
    lines = store.get_bytes(busiest["key"]).splitlines(keepends=True)
    lines[5] = lines[5][:8] + b"\xff\xfe" + lines[5][8:]  # the fifth record, after the header
    damaged = b"".join(lines)
    store.put_bytes(damaged, busiest["key"])
    day = date.fromisoformat(busiest["key"].split("dt=")[1][:10])
    marker = exchange.ready(store, bids.system, day)
    entry = next(e for e in marker["files"] if e["key"] == busiest["key"])
    entry.update(bytes=len(damaged), sha256=hashlib.sha256(damaged).hexdigest())
    store.put_bytes(json.dumps(marker).encode(), exchange.ready_key(bids.system, day))

    summary = steps.extract(settings, bids.name, DAY, full=True)
    manifest = Lake.from_settings(settings).read_manifest(Partition("raw", bids.name, DAY))
    (held,) = manifest["rejected_records"]
    assert held["key"] == busiest["key"] and held["record"] == 5
    assert held["offset"] == len(b"".join(lines[:5])) and "0xff" in held["reason"]
    assert summary["rejected_records"] == 1
    whole = sum(r["rows_declared"] for r in manifest["rejected_files"])
    counted = summary["raw_rows"] + summary["resends_merged"] + summary["rejected_records"]
    assert counted + whole == sum(e["rows"] for e in entries)
