"""Quarantine releases: an operator's recorded override of one rule for one row key.

A release lives in the lake (``quality/releases/<system>/<table>.jsonl``, one JSON record a line:
``key``, ``rule``, ``reason``, ``released_by``, ``released_at``), so ``validate`` applies it
without the warehouse. It is per key and rule, not per day: every later split of that key (re-runs,
backfills, full loads) moves the row to clean/ if every quarantine rule it fails is released, with
a ``released:<rule>`` flag. The file is append-only and rewritten whole in one put (atomic on
both backends). Keys are the primary key's values as text (``|``-joined when composite).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from govlake import contracts
from govlake.errors import GovlakeError
from govlake.lake import Lake
from govlake.storage import Store

PREFIX = "quality/releases"
FLAG_PREFIX = "released:"
SEPARATOR = "|"


class ReleaseError(GovlakeError):
    """A release that cannot be recorded (the key is not quarantined for that rule)."""


def path(dataset: str) -> str:
    system, table = dataset.split(".", 1)
    return f"{PREFIX}/{system}/{table}.jsonl"


def read(store: Store, dataset: str) -> list[dict]:
    """Every recorded release of the table, oldest first."""
    data = store.get_bytes(path(dataset))
    if not data:
        return []
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def released_rules(store: Store, dataset: str) -> dict[str, set[str]]:
    """Key text -> the quarantine rules released for it."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in read(store, dataset):
        found[r["key"]].add(r["rule"])
    return dict(found)


def key_texts(table: pa.Table, contract: contracts.Contract) -> list[str]:
    """Each row's primary key as text: how releases name rows."""
    parts = [pc.cast(table.column(c), pa.string()).to_pylist() for c in contract.primary_key]
    return [
        SEPARATOR.join("" if v is None else v for v in values)
        for values in zip(*parts, strict=True)
    ]


def quarantined(lake: Lake, dataset: str, day: date | None = None) -> list[dict]:
    """The quarantined rows of the table (of one day, or all days, oldest first) as
    ``{"key", "dt", "reasons"}``: the key, the day and the rule names, never other row values."""
    contract = contracts.get(dataset)
    parts = [p for p in lake.partitions("quarantine", dataset) if day is None or p.dt == day]
    rows = []
    for part in parts:
        table = lake.read_table(part)
        if not table.num_rows:
            continue
        keys = key_texts(table, contract)
        reasons = table.column("dq_reasons").to_pylist()
        rows += [
            {"key": k, "dt": part.dt, "reasons": list(r or [])}
            for k, r in zip(keys, reasons, strict=True)
        ]
    return rows


def release(
    lake: Lake,
    dataset: str,
    key: str,
    rule: str,
    reason: str,
    released_by: str,
    at: datetime | None = None,
) -> dict:
    """Record a release of ``rule`` for ``key``, which must be quarantined for that rule now.
    Returns the record plus ``days``: the days whose quarantine holds the key for the rule (re-run
    validate for them)."""
    contracts.get(dataset)  # an unknown table fails here
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ReleaseError("the reason must say why, in at most 500 characters")
    held = [r for r in quarantined(lake, dataset) if r["key"] == key]
    days = sorted({r["dt"] for r in held if rule in r["reasons"]})
    if not days:
        rules = sorted({x for r in held for x in r["reasons"]})
        now = f"quarantined for {', '.join(rules)}" if rules else "not quarantined"
        raise ReleaseError(f"{dataset} key {key} is not quarantined for {rule} (it is {now})")
    record = {
        "key": key,
        "rule": rule,
        "reason": reason,
        "released_by": released_by,
        "released_at": (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
    }
    earlier = lake.store.get_bytes(path(dataset)) or b""
    if earlier and not earlier.endswith(b"\n"):
        earlier += b"\n"
    line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
    lake.store.put_bytes(earlier + line, path(dataset), content_type="application/x-ndjson")
    return {**record, "days": days}
