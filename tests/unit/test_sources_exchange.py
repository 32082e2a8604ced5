"""The exchange-file reader against the trading centre simulator's file sets: rows read back as
written (UTF-8, GBK, GB18030), bad files quarantined whole, a record that does not decode
quarantined alone, deletes and sequence gaps reported."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govlake.contracts import transaction as t
from govlake.errors import SourceError
from govlake.simulator.base import Batch
from govlake.simulator.exchange import INVALID_BYTES, READY, UNDECODABLE, ExchangeSink, file_key
from govlake.simulator.transaction import TransactionSimulator
from govlake.simulator.world import SCALES, World
from govlake.sources.exchange import (
    MAX_REJECTED_RECORD_SHARE,
    ExchangeRead,
    archive_day,
    file_set_days,
    read_day,
    ready,
    ready_key,
)
from govlake.storage import LocalStore

WORLD = World(seed=7, scale=SCALES["tiny"], until=date(2026, 11, 23))
RATE = 0.02
DAYS = [WORLD.until + timedelta(days=i) for i in range(1, 6)]
SYSTEM = "transaction"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[LocalStore, list[Batch], dict[date, list[Batch]]]:
    """A history and a few days written as file sets, with the batches they were made from."""
    store = LocalStore(tmp_path_factory.mktemp("lake"))
    simulator, sink = TransactionSimulator(), ExchangeSink(store, SYSTEM)
    history = simulator.history(WORLD, RATE)
    sink.write_history(WORLD.start, WORLD.until, history)
    days = {}
    for day in DAYS:
        days[day] = simulator.day(WORLD, day, RATE, sink)
        sink.write_day(day, days[day])
    return store, history, days


@pytest.fixture
def store(written, tmp_path: Path) -> LocalStore:
    """A private copy of the written lake, for tests that damage files."""
    source = written[0]
    copy = LocalStore(tmp_path)
    for key in source.list("exchange/"):
        copy.put_bytes(source.get_bytes(key), key)
    return copy


def _assert_same_rows(read: ExchangeRead, expected: pd.DataFrame) -> None:
    """The rows read equal the simulator's rows: same keys, versions and values as sent."""
    contract = next(c for c in t.CONTRACTS if c.column_names == read.table.column_names)
    order = [contract.primary_key[0], "sequence_number"]
    got = read.table.to_pandas().sort_values(order).reset_index(drop=True)
    want = expected[contract.column_names].sort_values(order).reset_index(drop=True)
    assert len(got) == len(want)
    for column in contract.columns:
        a, b = got[column.name], want[column.name]
        if column.source_type.startswith("numeric"):  # raw keeps numerics as their text
            assert np.allclose(
                a.astype(float).to_numpy(), b.astype(float).to_numpy(), equal_nan=True, atol=1e-9
            ), column.name
        elif column.source_type == "timestamp":
            assert (a.isna() == b.isna()).all(), column.name
            assert (a[a.notna()] == pd.to_datetime(b[b.notna()])).all(), column.name
        else:
            if column.source_type == "integer":  # pandas makes int columns with NULLs float
                a, b = a.astype("Int64"), b.astype("Int64")
            assert a.isna().tolist() == b.isna().tolist(), column.name
            assert a[a.notna()].astype(str).tolist() == b[b.notna()].astype(str).tolist(), (
                column.name
            )


def _damaged_files(batches: list[Batch], kinds: tuple[str, ...] = (UNDECODABLE,)) -> set[str]:
    return {
        key
        for b in batches
        if len(b.defects)
        for key in b.defects.loc[b.defects["kind"].isin(kinds), "column"]
    }


def _spoiled(batch: Batch, key: str) -> set[int]:
    """Keys of the records the simulator gave invalid bytes in the file ``key``."""
    defects = batch.defects
    return set(defects.loc[(defects["kind"] == INVALID_BYTES) & (defects["column"] == key), "key"])


def _assert_read_as_written(read: ExchangeRead, batch: Batch, rows: pd.DataFrame, key: str):
    """Every record as sent but those with invalid bytes, each of which is quarantined."""
    spoiled = rows[batch.contract.primary_key[0]].isin(_spoiled(batch, key))
    assert not read.rejected, read.rejected
    _assert_same_rows(read, rows[~spoiled])
    assert len(read.rejected_records) == spoiled.sum()
    assert all(r["key"] == key for r in read.rejected_records)


def test_every_day_reads_back_as_written(written):
    store, _, days = written
    encodings = set()
    for day, batches in days.items():
        damaged = _damaged_files(batches)
        for batch in batches:
            read = read_day(store, batch.contract, day)
            key = file_key(SYSTEM, day, batch.contract.table)
            if key in damaged:
                assert read.rejected and read.table.num_rows == 0
                continue
            _assert_read_as_written(read, batch, batch.rows, key)
            assert read.deletes == batch.deletes
            assert read.sequence_gaps == []  # a day's own numbers run 1..n; re-sends keep theirs
            assert all(f["sha256_verified"] for f in read.files)
            encodings |= {f["encoding"] for f in read.files}
    assert {"utf-8", "gbk", "gb18030"} <= encodings | _history_encodings(written)


def _history_encodings(written) -> set[str]:
    store, _, _ = written
    found = set()
    for key in store.list(f"exchange/{SYSTEM}/"):
        if key.endswith(READY):
            found |= {f["encoding"] for f in json.loads(store.get_bytes(key))["files"]}
    return found


def test_history_days_read_back_including_gbk_and_gb18030(written):
    store, history, _ = written
    damaged = _damaged_files(history)
    seen, spoiled = set(), 0
    for batch in history:
        exported = batch.rows["exported_at"].dt.date
        for day in sorted(set(exported)):
            key = file_key(SYSTEM, day, batch.contract.table)
            read = read_day(store, batch.contract, day)
            if key in damaged:
                continue
            _assert_read_as_written(read, batch, batch.rows[exported == day], key)
            seen |= {f["encoding"] for f in read.files}
            spoiled += len(read.rejected_records)
    assert seen == {"utf-8", "gbk", "gb18030"}
    assert spoiled == 1  # the history plants one record of invalid bytes


def test_the_undecodable_file_is_quarantined_with_a_one_line_reason(written):
    store, history, _ = written
    (key,) = _damaged_files(history)  # the history plants exactly one
    day = date.fromisoformat(key.split("dt=")[1][:10])
    table = key.rsplit("/", 1)[1].split(".")[0]
    contract = next(c for c in t.CONTRACTS if c.table == table)
    read = read_day(store, contract, day)
    assert read.table.num_rows == 0 and read.files == []
    (rejected,) = read.rejected
    reason = rejected["reason"]
    assert "\n" not in reason
    assert reason.startswith(f"{key}: declared UTF-8 but byte 0x")
    assert "at offset" in reason and "is not valid UTF-8, and " in reason
    assert reason.endswith("records do not decode (over 10%); quarantined")  # not one bad record
    offset = int(reason.split("at offset ")[1].split()[0])
    data = store.get_bytes(key)
    with pytest.raises(UnicodeDecodeError):
        data[: offset + 4].decode("utf-8")
    data[:offset].decode("utf-8")  # everything before the offset was fine
    copy = f"quarantine/{SYSTEM}/{table}/dt={day.isoformat()}/files/{key.rsplit('/', 1)[1]}"
    assert rejected["quarantined_as"] == copy
    assert store.get_bytes(copy) == data


INVALID = b"\xff\xfe"  # valid in none of UTF-8, GBK and GB18030


def _damage_records(store: LocalStore, day: date, table: str, lines: list[int]) -> bytes:
    """Put invalid bytes into the given lines (0 = the first) of a file, re-listed in the marker
    with its new size and checksum as the front-end would; returns the file as it was."""
    key = file_key(SYSTEM, day, table)
    data = store.get_bytes(key)
    split = data.splitlines(keepends=True)
    for n in lines:
        split[n] = split[n][:12] + INVALID + split[n][12:]
    _deliver(store, day, key, b"".join(split))
    return data


def _deliver(store: LocalStore, day: date, key: str, data: bytes) -> None:
    """Put a file of the day's set, listed in the marker with its size and checksum."""
    store.put_bytes(data, key)
    marker = ready(store, SYSTEM, day)
    entry = next(e for e in marker["files"] if e["key"] == key)
    entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    store.put_bytes(json.dumps(marker).encode(), ready_key(SYSTEM, day))


def _busiest(written, table: str) -> tuple[date, int]:
    """The day whose file of ``table`` (all of it decodable) has the most records, and how many."""
    store, history, days = written
    batches = [*history, *(b for bs in days.values() for b in bs)]
    damaged = _damaged_files(batches, (UNDECODABLE, INVALID_BYTES))
    listed = [
        (date.fromisoformat(marker["dt"]), entry["rows"])
        for key in store.list(f"exchange/{SYSTEM}/")
        if key.endswith(READY)
        for marker in [json.loads(store.get_bytes(key))]
        for entry in marker["files"]
        if entry["table"] == table and entry["key"] not in damaged
    ]
    day, rows = max(listed, key=lambda e: e[1])
    assert rows >= 1 / MAX_REJECTED_RECORD_SHARE  # one bad record is within the share
    return day, rows


@pytest.mark.parametrize(("table", "header"), [("bids", 1), ("sections", 0)])
def test_a_record_that_does_not_decode_is_quarantined_alone(written, store, table, header):
    contract = next(c for c in t.CONTRACTS if c.table == table)
    day, declared = _busiest(written, table)
    before = read_day(store, contract, day)
    line = header + 2  # the third record
    original = _damage_records(store, day, table, [line])
    read = read_day(store, contract, day)
    assert not read.rejected and read.table.num_rows == declared - 1
    kept = list(range(declared))
    kept.remove(2)
    assert read.table.equals(before.table.take(kept))  # every other record, as sent
    key = file_key(SYSTEM, day, table)
    offset = len(b"".join(original.splitlines(keepends=True)[:line]))
    (held,) = read.rejected_records
    copy = f"quarantine/{SYSTEM}/{table}/dt={day.isoformat()}/records/{key.rsplit('/', 1)[1]}.json"
    assert held == {
        "key": key,
        "record": 3,
        "offset": offset,
        "reason": f"{key}: record 3: declared {read.files[0]['encoding'].upper()} but byte 0xff "
        f"at offset {offset + 12} is not valid {read.files[0]['encoding'].upper()}; quarantined",
        "quarantined_as": copy,
    }
    assert read.files[0]["rows"] + read.files[0]["rejected_records"] == declared
    (record,) = json.loads(store.get_bytes(copy))["records"]
    bad = store.get_bytes(key)[offset:]
    assert bytes.fromhex(record["bytes_hex"]) == bad[: bad.index(b"\n") + 1]
    assert {k: record[k] for k in ("record", "offset", "reason")} == {
        k: held[k] for k in ("record", "offset", "reason")
    }
    # Re-delivered as it should have been, it reads whole and its rejected record goes.
    _deliver(store, day, key, original)
    again = read_day(store, contract, day)
    assert again.table.equals(before.table) and not again.rejected_records
    assert store.get_bytes(copy) is None


def test_a_header_that_does_not_decode_rejects_the_file(written, store):
    day, _ = _busiest(written, "bids")
    _damage_records(store, day, "bids", [0])
    read = read_day(store, t.BIDS, day)
    (rejected,) = read.rejected
    assert "but in the header byte 0xff at offset 12 is not valid" in rejected["reason"]
    assert read.table.num_rows == 0 and not read.rejected_records


def test_more_than_a_tenth_of_bad_records_rejects_the_file(written, store):
    day, declared = _busiest(written, "sections")
    bad = int(declared * MAX_REJECTED_RECORD_SHARE) + 1
    _damage_records(store, day, "sections", list(range(bad)))
    read = read_day(store, t.SECTIONS, day)
    (rejected,) = read.rejected
    assert f"{bad} of its {declared} records do not decode (over 10%)" in rejected["reason"]
    assert read.table.num_rows == 0 and not read.rejected_records
    assert store.get_bytes(rejected["quarantined_as"]) == store.get_bytes(rejected["key"])


def test_a_truncated_file_is_rejected_by_checksum(store):
    day = DAYS[1]
    key = file_key(SYSTEM, day, "bids")
    data = store.get_bytes(key)
    store.put_bytes(data[: len(data) // 2], key)
    read = read_day(store, t.BIDS, day)
    (rejected,) = read.rejected
    assert read.table.num_rows == 0
    assert "sha256" in rejected["reason"] and "truncated" in rejected["reason"]
    assert "\n" not in rejected["reason"] and rejected["reason"].startswith(key)
    assert store.get_bytes(rejected["quarantined_as"]) == data[: len(data) // 2]
    # Re-delivered whole, it reads again and its quarantined copy goes.
    store.put_bytes(data, key)
    again = read_day(store, t.BIDS, day)
    assert not again.rejected and again.table.num_rows > 0
    assert store.get_bytes(rejected["quarantined_as"]) is None


def test_a_missing_ready_file_means_not_ready(store):
    day = DAYS[0]
    assert ready(store, SYSTEM, day)["dt"] == day.isoformat()
    assert ready(store, SYSTEM, DAYS[-1] + timedelta(days=1)) is None
    store.delete([ready_key(SYSTEM, day)])
    assert ready(store, SYSTEM, day) is None
    with pytest.raises(SourceError, match="not complete"):
        read_day(store, t.PROJECTS, day)


def test_a_gap_in_sequence_numbers_is_reported(written, tmp_path: Path):
    _, _, days = written
    day, batches = max(days.items(), key=lambda kv: len(kv[1][2].rows))  # the busiest bids day
    bids = next(b for b in batches if b.contract.table == "bids")
    base = int(day.strftime("%Y%m%d")) * 1_000_000
    dropped = bids.rows["sequence_number"].isin([base + 2, base + 3])
    assert dropped.sum() == 2
    store = LocalStore(tmp_path)
    ExchangeSink(store, SYSTEM).write_day(day, [replace(bids, rows=bids.rows[~dropped])])
    read = read_day(store, t.BIDS, day)
    assert read.sequence_gaps == [(base + 2, base + 3)]
    assert read.table.num_rows == len(bids.rows) - 2  # reported, not failed


def test_deletes_come_through(written):
    store, _, days = written
    deleted = {(day, b.contract.table): b.deletes for day, bs in days.items() for b in bs}
    assert any(deleted.values())  # the days hold at least one hard delete
    for (day, table), keys in deleted.items():
        contract = next(c for c in t.CONTRACTS if c.table == table)
        assert read_day(store, contract, day).deletes == keys


def test_undeclared_encoding_is_detected(store):
    day = DAYS[0]
    marker = ready(store, SYSTEM, day)
    gbk = next(f for f in marker["files"] if f["encoding"] in ("gbk", "gb18030"))
    del gbk["encoding"]
    store.put_bytes(json.dumps(marker).encode(), ready_key(SYSTEM, day))
    contract = next(c for c in t.CONTRACTS if c.table == gbk["table"])
    read = read_day(store, contract, day)
    (info,) = read.files
    assert info["declared_encoding"] is None and info["encoding"] == "gb18030"
    assert read.table.num_rows == gbk["rows"]


def test_an_archived_set_leaves_the_inbox_and_still_reads_the_same(store):
    day = DAYS[1]
    before = {c.table: read_day(store, c, day).table for c in t.CONTRACTS}
    inbox = store.list(f"exchange/{SYSTEM}/dt={day.isoformat()}/")
    archived = archive_day(store, SYSTEM, day)
    assert sorted(archived) == sorted(f"archive/{k}" for k in inbox)
    assert store.list(f"exchange/{SYSTEM}/dt={day.isoformat()}/") == []
    assert day in file_set_days(store, SYSTEM)
    assert ready(store, SYSTEM, day)["files"][0]["key"].startswith("archive/exchange/")
    for contract in t.CONTRACTS:
        read = read_day(store, contract, day)
        assert read.table.equals(before[contract.table]) and not read.rejected
    assert archive_day(store, SYSTEM, day) == []  # nothing left to archive: a no-op


def test_a_set_delivered_again_after_archiving_wins(store):
    day = DAYS[2]
    archive_day(store, SYSTEM, day)
    archived = read_day(store, t.BIDS, day).table
    key = file_key(SYSTEM, day, "bids")
    again = store.get_bytes(f"archive/{key}")
    store.put_bytes(again, key)
    marker = json.loads(store.get_bytes(f"archive/{ready_key(SYSTEM, day)}"))
    store.put_bytes(json.dumps(marker).encode(), ready_key(SYSTEM, day))
    read = read_day(store, t.BIDS, day)
    assert read.files[0]["key"] == key and read.table.equals(archived)
