"""Drops a department's daily exchange file set into the lake, as trading-centre front-ends do.

One file per table and day under ``exchange/<system>/dt=YYYY-MM-DD/<table>.<jsonl|csv>`` (written
even when empty, so "no changes" and "file missing" differ), then ``_ready.json`` LAST: the
marker the extraction's sensor waits for, listing each file's format, encoding, row count, size
and sha256, and the day's hard deletes per table. Most files are UTF-8, some GBK, some GB18030,
chosen per file from a hash of its name; a GBK pick whose rows hold characters GBK lacks (rare
characters, bidi marks) goes out as GB18030, as front-ends that hit such a record do.

A file named by an ``undecodable_file`` defect (key -1, column = the file's key) is declared
UTF-8 but its second half is GB18030 bytes: a file assembled on two workstations. A record named
by an ``invalid_bytes_record`` defect (its key; column = the file's key) has bytes valid in no
encoding (0xFF 0xFE) inside its line: a front-end that copied a binary field in. Everything else
is byte-for-byte deterministic: same batches, same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from govlake.simulator.base import Batch
from govlake.storage import Store

READY = "_ready.json"
UNDECODABLE = "undecodable_file"
INVALID_BYTES = "invalid_bytes_record"
# Stands in a value of the record until the file is encoded, then becomes the invalid bytes:
# ASCII, so every encoding writes it alike, and nothing the simulator draws looks like it.
_INVALID_MARK, _INVALID = "@@invalid-bytes@@", b"\xff\xfe"
FORMATS = {
    "projects": "jsonl",
    "sections": "jsonl",
    "bids": "csv",
    "awards": "jsonl",
    "contracts": "csv",
}
TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def day_prefix(system: str, day: date) -> str:
    return f"exchange/{system}/dt={day.isoformat()}"


def file_key(system: str, day: date, table: str) -> str:
    return f"{day_prefix(system, day)}/{table}.{FORMATS.get(table, 'jsonl')}"


class ExchangeSink:
    """Writes file sets of ``system`` into a lake store (local directory or S3 bucket)."""

    def __init__(self, store: Store, system: str = "transaction"):
        self.store, self.system = store, system

    def write_day(self, day: date, batches: list[Batch]) -> list[str]:
        """One day's file set: every batch's rows and deletes. Returns the keys, marker last."""
        entries, deletes, written = [], {}, []
        for batch in batches:
            table = batch.contract.table
            key = file_key(self.system, day, table)
            text = _serialise(_with_invalid_marks(batch, key))
            data, encoding = self._encode(day, table, text, _damaged(batch, key))
            self.store.put_bytes(data, key)
            written.append(key)
            entries.append(
                {
                    "table": table,
                    "key": key,
                    "format": FORMATS.get(table, "jsonl"),
                    "encoding": encoding,
                    "rows": len(batch.rows),
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
            deletes[table] = [int(k) for k in batch.deletes]
        ready = {"system": self.system, "dt": day.isoformat(), "files": entries, "deletes": deletes}
        marker = f"{day_prefix(self.system, day)}/{READY}"
        self.store.put_bytes(json.dumps(ready, ensure_ascii=False, indent=1).encode(), marker)
        return [*written, marker]

    def write_history(self, start: date, until: date, batches: list[Batch]) -> list[str]:
        """The history as one file set per day: each row goes to the day it was exported. Files
        of an earlier history go first: a new history makes every one of them wrong."""
        self.store.delete(self.store.list(f"exchange/{self.system}/"))
        days = {b.contract.table: _days(b.rows) for b in batches}
        written = []
        day = start
        while day <= until:
            stamp = np.datetime64(day, "D")
            written += self.write_day(
                day,
                [
                    replace(b, rows=b.rows[days[b.contract.table] == stamp], deletes=[])
                    for b in batches
                ],
            )
            day += timedelta(days=1)
        return written

    def encoding(self, day: date, table: str) -> str:
        """The encoding the front-end of this file uses: UTF-8 mostly, GBK or GB18030 at times."""
        digest = hashlib.sha256(f"{self.system}/{day.isoformat()}/{table}".encode()).digest()
        share = digest[0] / 256
        return "utf-8" if share < 0.65 else "gbk" if share < 0.85 else "gb18030"

    def _encode(self, day: date, table: str, text: str, damaged: bool) -> tuple[bytes, str]:
        if damaged:
            lines = text.splitlines(keepends=True)
            half = len(lines) // 2
            return (
                "".join(lines[:half]).encode() + "".join(lines[half:]).encode("gb18030"),
                "utf-8",
            )
        encoding = self.encoding(day, table)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:  # only GBK lacks characters: GB18030 has them all
            data, encoding = text.encode("gb18030"), "gb18030"
        return data.replace(_INVALID_MARK.encode(), _INVALID), encoding


def _days(rows: pd.DataFrame) -> np.ndarray:
    return rows["exported_at"].to_numpy().astype("datetime64[D]")


def _damaged(batch: Batch, key: str) -> bool:
    return bool(len(_named(batch, UNDECODABLE, key)))


def _named(batch: Batch, kind: str, key: str) -> pd.Series:
    """The keys of the batch's defects of ``kind`` in the file ``key``."""
    defects = batch.defects
    if defects.empty:
        return pd.Series([], dtype="int64")
    return defects.loc[(defects["kind"] == kind) & (defects["column"] == key), "key"]


def _with_invalid_marks(batch: Batch, key: str) -> Batch:
    """The batch with the mark put into the first text value of each record an
    ``invalid_bytes_record`` defect names in the file ``key``."""
    spoiled = _named(batch, INVALID_BYTES, key)
    if not len(spoiled):
        return batch
    rows = batch.rows.copy()
    (primary,) = batch.contract.primary_key
    column = next(c.name for c in batch.contract.columns if c.source_type.startswith("varchar"))
    marked = rows[primary].isin(spoiled)
    rows.loc[marked, column] = rows.loc[marked, column].fillna("") + _INVALID_MARK
    return replace(batch, rows=rows)


def _serialise(batch: Batch) -> str:
    """JSON Lines or CSV text of the rows, in export order (sequence number)."""
    rows = batch.rows.sort_values("sequence_number", kind="stable").reset_index(drop=True)
    for name in rows.columns:
        if pd.api.types.is_datetime64_any_dtype(rows[name]):
            rows[name] = rows[name].dt.strftime(TIMESTAMP)
    if FORMATS.get(batch.contract.table) == "csv":
        return rows.to_csv(index=False, lineterminator="\n")
    return rows.to_json(orient="records", lines=True, force_ascii=False) if len(rows) else ""
