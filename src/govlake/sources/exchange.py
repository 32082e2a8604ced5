"""Reads the trading centre's daily exchange files (交换文件), the counterpart of ``sources.sql``.

A file set lies under ``exchange/<system>/dt=YYYY-MM-DD/``: one file per table (JSON Lines or
CSV), then ``_ready.json`` written last, listing each file's format, encoding, rows, bytes and
sha256 and the day's hard deletes per table. A sensor pokes :func:`ready`; :func:`read_day` reads
one table's file(s) into the contract's raw schema, values as sent (normalising is step 2's job).

A file that cannot be trusted whole (checksum differs, declared encoding does not decode, does
not parse, row count differs) is never guessed at: it is rejected with a one-line reason and its
bytes are copied to ``quarantine/<system>/<table>/dt=YYYY-MM-DD/files/<name>`` for an operator.

In a CSV or JSON Lines file declared UTF-8, GBK or GB18030, a record (a line; a CSV record runs on
while a quoted field is open) whose bytes do not decode is rejected alone: its record number,
byte offset, raw bytes and reason go to ``quarantine/.../dt=YYYY-MM-DD/records/<name>.json`` and
the other records are read. The file is still rejected whole if its CSV header does not decode or
more than 10% of its records do not. The declared row count covers both: rows read + rejected
records = the rows ``_ready.json`` lists.

Sequence numbers (交换序号) are ``YYYYMMDD * 1_000_000 + n``: n counts a table's versions first
exported that day, from 1 with no holes. So a gap is a missing n below the day's largest n; a
re-sent copy keeps its older number and is left out; a missing tail cannot be seen. Files
written as an initial history hold only the latest version of each key, so gaps there are
expected and mean nothing.

Once every table of a day is extracted, :func:`archive_day` moves the set from the inbox to
``archive/exchange/<system>/dt=YYYY-MM-DD/``, so the inbox holds only what is still to do. Readers
look in the inbox first, then in the archive: a re-run or a backfill reads an archived set, and a
set delivered again after archiving (in the inbox) wins over the archived one.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pjson

from govlake.contracts import Contract
from govlake.errors import SourceError
from govlake.sources.sql import to_raw_schema
from govlake.storage import Store

READY = "_ready.json"
ARCHIVE = "archive"
DETECT_ORDER = ("utf-8", "gb18030")  # for a file that declares no encoding; GB18030 ⊃ GBK
# WHATWG practice: a file labelled GB2312 is in fact GBK (front-ends write GBK under that label).
_ALIASES = {"gb2312": "gbk"}
_DAY_SPAN = 1_000_000  # sequence numbers of one day: YYYYMMDD * _DAY_SPAN + n
# Where a record that does not decode can be left out alone: formats with a record per line, in
# encodings whose newline and quote bytes never occur inside a multi-byte character.
_RECORD_FORMATS = ("csv", "jsonl")
_RECORD_ENCODINGS = ("utf-8", "gbk", "gb18030")
# More bad records than this share: the file is broken, not a record in it, and is not trusted.
MAX_REJECTED_RECORD_SHARE = 0.10


@dataclass
class ExchangeRead:
    """One table's rows of one day's file set, and what was made of each file."""

    table: pa.Table  # the contract's raw schema, rows of every accepted file
    files: list[dict] = field(default_factory=list)  # accepted files
    rejected: list[dict] = field(default_factory=list)  # quarantined whole, with the reason
    rejected_records: list[dict] = field(default_factory=list)  # left out of accepted files
    deletes: list[int] = field(default_factory=list)  # primary keys hard-deleted that day
    sequence_gaps: list[tuple[int, int]] = field(default_factory=list)  # missing, inclusive


class _Rejected(Exception):
    """A file not to be read: the message is the one-line reason."""


@dataclass(frozen=True)
class _BadRecord:
    """A record of an accepted file that does not decode: left out and quarantined."""

    number: int  # 1-based, the CSV header not counted
    offset: int  # of its first byte in the file
    data: bytes
    reason: str


def day_prefix(system: str, day: date) -> str:
    return f"exchange/{system}/dt={day.isoformat()}"


def archive_prefix(system: str, day: date) -> str:
    return f"{ARCHIVE}/{day_prefix(system, day)}"


def located(store: Store, system: str, day: date) -> str | None:
    """Where the day's complete file set is: the inbox, else the archive, else None."""
    for prefix in (day_prefix(system, day), archive_prefix(system, day)):
        if store.get_bytes(f"{prefix}/{READY}") is not None:
            return prefix
    return None


def file_set_days(store: Store, system: str) -> list[date]:
    """The days with a complete file set, inbox or archive, oldest first."""
    keys = store.list(f"exchange/{system}/") + store.list(f"{ARCHIVE}/exchange/{system}/")
    return sorted({date.fromisoformat(k.split("dt=")[1][:10]) for k in keys if k.endswith(READY)})


def archive_day(store: Store, system: str, day: date) -> list[str]:
    """Move the day's file set from the inbox to the archive (the marker copied last and removed
    first, so the set is complete in one place or the other at every moment). Returns the keys
    archived; nothing when the inbox holds no complete set of the day."""
    inbox = day_prefix(system, day)
    if store.get_bytes(f"{inbox}/{READY}") is None:
        return []
    keys = sorted(store.list(inbox + "/"), key=lambda k: k.endswith(READY))
    for key in keys:
        store.put_bytes(store.get_bytes(key), f"{ARCHIVE}/{key}")
    store.delete([f"{inbox}/{READY}"])
    store.delete([k for k in keys if not k.endswith(READY)])
    return [f"{ARCHIVE}/{k}" for k in keys]


def ready_key(system: str, day: date) -> str:
    return f"{day_prefix(system, day)}/{READY}"


def quarantine_prefix(contract: Contract, day: date, kind: str = "files") -> str:
    """Where rejected ``files`` (copies) or the ``records`` rejected from files go."""
    return f"quarantine/{contract.system}/{contract.table}/dt={day.isoformat()}/{kind}/"


def ready(store: Store, system: str, day: date) -> dict | None:
    """The day's ``_ready.json`` (inbox or archive), parsed, with its file keys pointing where the
    files are now; None while the file set is not complete."""
    prefix = located(store, system, day)
    if prefix is None:
        return None
    data = store.get_bytes(f"{prefix}/{READY}")
    try:
        marker = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{ready_key(system, day)} is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(marker, dict) or marker.get("dt") != day.isoformat():
        raise SourceError(f"{ready_key(system, day)} does not describe the file set of {day}")
    if prefix != day_prefix(system, day):
        for entry in marker.get("files") or []:
            if isinstance(entry, dict) and isinstance(entry.get("key"), str):
                entry["key"] = f"{ARCHIVE}/{entry['key']}"
    return marker


def read_day(store: Store, contract: Contract, day: date) -> ExchangeRead:
    """``contract``'s rows of the file set of ``day``; the set must be ready."""
    marker = ready(store, contract.system, day)
    if marker is None:
        raise SourceError(
            f"{ready_key(contract.system, day)} is missing: the file set of {day} is not "
            "complete yet (wait for it; do not read a partial set)"
        )
    result = ExchangeRead(contract.raw_schema().empty_table())
    tables = []
    for entry in _entries(marker, contract, day):
        try:
            table, info, bad = _read_file(store, contract, entry)
        except _Rejected as exc:
            result.rejected.append(_quarantine(store, contract, day, entry, str(exc)))
            continue
        tables.append(table)
        result.files.append(info)
        result.rejected_records += _quarantine_records(store, contract, day, info["key"], bad)
    _drop_stale_copies(store, contract, day, result)
    if tables:
        result.table = pa.concat_tables(tables)
    result.deletes = [int(k) for k in marker.get("deletes", {}).get(contract.table, [])]
    result.sequence_gaps = sequence_gaps(result.table.column("sequence_number"), day)
    return result


def sequence_gaps(numbers: pa.ChunkedArray | pa.Array, day: date) -> list[tuple[int, int]]:
    """Ranges of the day's sequence numbers missing below the largest one seen (inclusive)."""
    base = int(day.strftime("%Y%m%d")) * _DAY_SPAN
    seen = pc.drop_null(numbers).to_numpy()
    ranks = np.unique(seen[(seen > base) & (seen < base + _DAY_SPAN)] - base)
    previous = np.concatenate([[0], ranks[:-1]])
    holes = np.flatnonzero(ranks - previous > 1)
    return [(base + int(previous[i]) + 1, base + int(ranks[i]) - 1) for i in holes]


# -- the file set ---------------------------------------------------------------------------------


def _entries(marker: dict, contract: Contract, day: date) -> list[dict]:
    try:
        entries = [e for e in marker["files"] if e["table"] == contract.table]
        [e["key"] for e in entries]  # every entry must name its file
    except (KeyError, TypeError) as exc:
        raise SourceError(f"{ready_key(contract.system, day)} is malformed: {exc!r}") from exc
    if not entries:  # files are written even when empty: no entry means a broken set
        raise SourceError(
            f"{ready_key(contract.system, day)} lists no file of {contract.table}: the set is "
            "incomplete; ask the trading centre to re-send the day"
        )
    return entries


def _read_file(
    store: Store, contract: Contract, entry: dict
) -> tuple[pa.Table, dict, list[_BadRecord]]:
    key = entry["key"]
    data = store.get_bytes(key)
    if data is None:
        raise _Rejected(f"{key}: listed in {READY} but not there")
    _verify(key, data, entry)
    fmt = entry.get("format") or key.rsplit(".", 1)[-1]
    text, encoding, bad = _decode(key, data, entry.get("encoding"), fmt)
    table = _to_raw(key, _parse(key, fmt, text, contract), contract)
    held = f" and {len(bad)} rejected records" if bad else ""
    if entry.get("rows") is not None and table.num_rows + len(bad) != entry["rows"]:
        raise _Rejected(f"{key}: holds {table.num_rows} rows{held}, {READY} lists {entry['rows']}")
    info = {
        "key": key,
        "format": fmt,
        "declared_encoding": entry.get("encoding"),
        "encoding": encoding,
        "rows": table.num_rows,
        "rejected_records": len(bad),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha256_verified": bool(entry.get("sha256")),
    }
    return table, info, bad


def _verify(key: str, data: bytes, entry: dict) -> None:
    """A file cut short or altered in transfer no longer matches its size and sha256."""
    digest = hashlib.sha256(data).hexdigest()
    listed = entry.get("sha256")
    if listed and digest != listed:
        raise _Rejected(
            f"{key}: {len(data)} bytes with sha256 {digest[:12]}…, but {READY} lists "
            f"{entry.get('bytes')} bytes with sha256 {listed[:12]}… (truncated or altered); "
            "quarantined"
        )


# -- encodings ------------------------------------------------------------------------------------


def _decode(
    key: str, data: bytes, declared: str | None, fmt: str
) -> tuple[str, str, list[_BadRecord]]:
    """The text, the encoding it was read in (the declared one, strictly, or none at all) and
    the records left out because they do not decode in it."""
    if declared:
        codec = _codec(key, declared)
        try:
            return _strip_bom(data.decode(codec)), codec, []
        except UnicodeDecodeError as exc:
            if fmt not in _RECORD_FORMATS or codec not in _RECORD_ENCODINGS:
                raise _Rejected(_decode_reason(key, f"declared {_label(codec)} but", exc)) from None
        return _decode_records(key, data, codec, fmt)
    first_error = None
    for codec in DETECT_ORDER:
        try:
            return _strip_bom(data.decode(codec)), codec, []
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    raise _Rejected(
        _decode_reason(key, "no encoding declared, neither UTF-8 nor GB18030:", first_error)
    )


def _decode_records(
    key: str, data: bytes, codec: str, fmt: str
) -> tuple[str, str, list[_BadRecord]]:
    """The text of the records that decode, and the ones that do not. A header that does not
    decode, or more than :data:`MAX_REJECTED_RECORD_SHARE` of bad records, rejects the file:
    that is a broken file (a wrong declaration, bytes from two encodings), not a bad record."""
    records = _records(data, fmt)
    header = records.pop(0) if fmt == "csv" else None
    texts, bad = [], []
    if header is not None:
        try:
            texts.append(header[1].decode(codec))
        except UnicodeDecodeError as exc:
            what = f"declared {_label(codec)} but in the header"
            raise _Rejected(_decode_reason(key, what, exc)) from None
    first_error = None
    for number, (offset, raw) in enumerate(records, start=1):
        try:
            texts.append(raw.decode(codec))
        except UnicodeDecodeError as exc:
            first_error = first_error or (exc, offset)
            what = f"record {number}: declared {_label(codec)} but"
            bad.append(_BadRecord(number, offset, raw, _decode_reason(key, what, exc, offset)))
    if first_error and len(bad) > MAX_REJECTED_RECORD_SHARE * len(records):
        exc, offset = first_error
        share = f"{len(bad)} of its {len(records)} records do not decode"
        share += f" (over {MAX_REJECTED_RECORD_SHARE:.0%})"
        raise _Rejected(
            _decode_reason(key, f"declared {_label(codec)} but", exc, offset, share)
        ) from None
    return _strip_bom("".join(texts)), codec, bad


def _records(data: bytes, fmt: str) -> list[tuple[int, bytes]]:
    """The file's records as bytes, each with the offset it starts at: its lines, except that a
    CSV record runs on while a quoted field is open (an odd number of quotes so far)."""
    records, start, pending = [], 0, b""
    for line in io.BytesIO(data):
        pending += line
        if fmt == "csv" and pending.count(b'"') % 2:
            continue
        records.append((start, pending))
        start, pending = start + len(pending), b""
    if pending:
        records.append((start, pending))
    return records


def _codec(key: str, declared: str) -> str:
    try:
        name = codecs.lookup(declared).name
    except LookupError:
        raise _Rejected(f"{key}: declared encoding {declared!r} is unknown; quarantined") from None
    return _ALIASES.get(name, name)


def _decode_reason(
    key: str, what: str, exc: UnicodeDecodeError, base: int = 0, more: str = ""
) -> str:
    """``exc`` as a one-line reason; ``base``: the file offset of the bytes ``exc`` decoded."""
    byte = exc.object[exc.start]
    return (
        f"{key}: {what} byte 0x{byte:02x} at offset {base + exc.start} is not valid "
        f"{_label(exc.encoding)}{', and ' + more if more else ''}; quarantined"
    )


def _label(codec: str) -> str:
    return codecs.lookup(codec).name.upper()


def _strip_bom(text: str) -> str:
    # Windows front-ends prefix UTF-8 with a BOM; it is not part of the first column's name.
    return text[1:] if text.startswith("\ufeff") else text


# -- parsing --------------------------------------------------------------------------------------


def _parse(key: str, fmt: str, text: str, contract: Contract) -> pa.Table:
    if not text.strip():  # an empty file: no changes that day
        return contract.raw_schema().empty_table()
    data = io.BytesIO(text.encode("utf-8"))
    try:
        if fmt == "csv":
            return _parse_csv(data, contract)
        if fmt == "jsonl":
            return _parse_jsonl(data, contract)
    except pa.ArrowException as exc:
        raise _Rejected(
            f"{key}: does not parse as {fmt}: {_first_line(exc)}; quarantined"
        ) from None
    raise _Rejected(f"{key}: unknown format {fmt!r}; quarantined")


def _parse_csv(data: io.BytesIO, contract: Contract) -> pa.Table:
    """Every column as text first. An empty field is NULL (the only NULL CSV has); a quoted
    empty field stays an empty string."""
    names = contract.column_names
    convert = pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        include_columns=names,
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    parse = pcsv.ParseOptions(newlines_in_values=True)
    return pcsv.read_csv(data, parse_options=parse, convert_options=convert)


def _parse_jsonl(data: io.BytesIO, contract: Contract) -> pa.Table:
    """Text and integer columns with explicit types (an ISO-looking string must stay text, not be
    inferred as a timestamp); numerics are inferred (JSON numbers) and cast to their text. A key
    left out of a record is NULL, as JSON writers omit nulls."""
    raw = contract.raw_schema()
    explicit = pa.schema(
        [
            (f.name, pa.int64() if pa.types.is_integer(f.type) else pa.string())
            for f in raw
            if not _is_numeric(contract, f.name)
        ]
    )
    parse = pjson.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer")
    table = pjson.read_json(data, parse_options=parse)
    for name in raw.names:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    return table


def _is_numeric(contract: Contract, name: str) -> bool:
    return contract.column(name).source_type.startswith("numeric")


def _to_raw(key: str, table: pa.Table, contract: Contract) -> pa.Table:
    """Cast to the raw schema (text to int64/timestamp, JSON numbers to their shortest text)."""
    missing = [n for n in contract.column_names if n not in table.column_names]
    if missing:
        raise _Rejected(f"{key}: lacks the contract's columns {missing}; quarantined")
    schema = contract.raw_schema()
    table = table.select(contract.column_names)
    try:
        batches = [to_raw_schema(b, schema) for b in table.to_batches()]
    except pa.ArrowException as exc:
        reason = f"a value does not fit the raw schema: {_first_line(exc)}"
        raise _Rejected(f"{key}: {reason}; quarantined") from None
    return pa.Table.from_batches(batches, schema=schema)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# -- quarantine -----------------------------------------------------------------------------------


def _quarantine(store: Store, contract: Contract, day: date, entry: dict, reason: str) -> dict:
    """Copy the file's bytes as they came, for an operator to inspect; rows are not read."""
    key = entry.get("key", "")
    data = store.get_bytes(key) if key else None
    copy = quarantine_prefix(contract, day) + key.rsplit("/", 1)[-1] if data is not None else None
    if copy:
        store.put_bytes(data, copy)
    return {
        "key": key,
        "declared_encoding": entry.get("encoding"),
        "rows_declared": entry.get("rows"),
        "reason": reason,
        "quarantined_as": copy,
    }


def _quarantine_records(
    store: Store, contract: Contract, day: date, key: str, bad: list[_BadRecord]
) -> list[dict]:
    """Keep the records left out of an accepted file (number, offset, raw bytes in hex, reason) in
    one document named after the file, for an operator; returns them without their bytes."""
    if not bad:
        return []
    copy = f"{quarantine_prefix(contract, day, 'records')}{key.rsplit('/', 1)[-1]}.json"
    held = [{"record": r.number, "offset": r.offset, "reason": r.reason} for r in bad]
    kept = [{**h, "bytes_hex": r.data.hex()} for h, r in zip(held, bad, strict=True)]
    document = {"key": key, "records": kept}
    store.put_bytes(json.dumps(document, ensure_ascii=False, indent=1).encode(), copy)
    return [{"key": key, **h, "quarantined_as": copy} for h in held]


def _drop_stale_copies(store: Store, contract: Contract, day: date, read: ExchangeRead) -> None:
    """A re-delivered file that now reads must not leave its old copy in quarantine, nor records
    rejected from an earlier delivery that this one no longer rejects."""
    accepted = {f["key"].rsplit("/", 1)[-1] for f in read.files}
    copies = store.list(quarantine_prefix(contract, day))
    current = {r["quarantined_as"] for r in read.rejected_records}
    records = store.list(quarantine_prefix(contract, day, "records"))
    stale = [k for k in copies if k.rsplit("/", 1)[-1] in accepted]
    stale += [k for k in records if k not in current]
    if stale:
        store.delete(stale)
