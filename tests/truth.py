"""Scoring validation against the simulator's ground truth (the defect manifest).

Every table of every system is validated the way the validate step does it: normalised, checked
by its suite, split. Parents go first, so the rules that look up another table (existence of a
referenced row, a section's opening, a standard's band...) get it as a :class:`Reference`.

Per defect kind the expected outcome is exact:
- quarantine: the row is held back and its reasons include the kind's rule;
- flag: the row is clean and its flags include the kind's rule;
- normalise: the row is clean, unflagged, the value is canonical and the change is counted;
- inert: the row is clean, unflagged, and the value arrived unchanged.
Every row the manifest does not name must be clean and unflagged (zero false positives).
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from govlake.contracts import Contract
from govlake.identifiers import USCC_PLACEHOLDER
from govlake.quality.rules import document, lookups, validation_order
from govlake.quality.split import FLAGS, REASONS, SplitResult, validate_and_split
from govlake.quality.suite import Reference
from govlake.simulator.approval import ApprovalSimulator
from govlake.simulator.base import Batch
from govlake.simulator.credit import CreditSimulator
from govlake.simulator.enforcement import EnforcementSimulator
from govlake.simulator.exchange import INVALID_BYTES, UNDECODABLE
from govlake.simulator.transaction import TransactionSimulator
from govlake.simulator.world import World
from govlake.sources.sql import to_raw_schema

SIMULATORS = (CreditSimulator, ApprovalSimulator, EnforcementSimulator, TransactionSimulator)
# Kinds whose rule is named after the defective column: rule = column + suffix.
COLUMN_RULES = {
    "bad_uscc_checksum": "_valid",
    "bad_id_checksum": "_valid",
    "impossible_birth_date": "_valid",
    "future_date": "_not_future",
    "required_null": "_not_null",
    "too_long": "_max_length",
    "unknown_region": "_known",
    "orphan_reference": "_exists",
    "uscc_org_code_mismatch": "_org_code",
}
NORMALISED_BY = {
    "lower_case_code": "code",
    "fullwidth_code": "code",
    "padded_code": "code",
    "mixed_date_format": "date",
    "control_characters": "text",
}


def expected_rule(contract: Contract, kind: str, column: str) -> str:
    if kind in COLUMN_RULES:
        return column + COLUMN_RULES[kind]
    if kind == "duplicate_business_key":
        return f"{'_'.join(contract.business_keys)}_duplicate"
    return kind  # the system-specific kinds: the rule has the kind's name


def raw_table(batch: Batch) -> pa.Table:
    """The batch's rows as the extraction lands them: the contract's raw schema."""
    contract = batch.contract
    rows = batch.rows[contract.column_names]
    record = pa.RecordBatch.from_pandas(rows, preserve_index=False)
    return pa.Table.from_batches([to_raw_schema(record, contract.raw_schema())])


@dataclass
class KindScore:
    expected: int = 0
    caught: int = 0
    misses: list = field(default_factory=list)  # (table, key, column, what happened)
    extra: Counter = field(default_factory=Counter)  # other reasons/flags on the same rows
    deferred: int = 0  # not checkable yet: a parent the rule looks up is held (see below)
    noop: int = 0  # in the manifest, but the mutation left the data valid (simulator)


@dataclass
class Score:
    kinds: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))
    false_positives: list = field(default_factory=list)  # (table, key, reasons, flags)
    affected: list = field(default_factory=list)  # held because a parent is held (not FPs)
    rows: int = 0
    seconds: float = 0.0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    results: dict[str, SplitResult] = field(default_factory=dict)

    def table(self) -> str:
        lines = [f"{'kind':32} {'expected':>8} {'caught':>6} {'deferred':>8} {'noop':>4}  extra"]
        for kind, s in sorted(self.kinds.items()):
            lines.append(
                f"{kind:32} {s.expected:8} {s.caught:6} {s.deferred:8} {s.noop:4}  "
                f"{dict(s.extra) or ''}"
            )
        lines.append(
            f"false positives: {len(self.false_positives)}; affected by a held parent: "
            f"{len(self.affected)}; rows {self.rows}; "
            f"{self.seconds:.1f} s ({self.rows / max(self.seconds, 1e-9):,.0f} rows/s)"
        )
        return "\n".join(lines)


def history(world: World, rate: float) -> dict[str, Batch]:
    return {b.contract.name: b for s in SIMULATORS for b in s().history(world, rate)}


def _order(batches: dict[str, Batch], expectations: Path) -> list[str]:
    return validation_order(list(batches), expectations)


def _damaged_days(batch: Batch) -> set[date]:
    """Days whose exchange file the simulator made undecodable: the extraction quarantines the
    file whole, so its rows never reach validation (and their defects left the manifest)."""
    damaged = batch.defects[batch.defects["kind"] == UNDECODABLE]["column"]
    return {date.fromisoformat(re.search(r"dt=([\d-]+)", k).group(1)) for k in damaged}


def _spoiled_keys(batch: Batch) -> set[int]:
    """Records the simulator gave invalid bytes: the extraction quarantines each alone."""
    return set(batch.defects.loc[batch.defects["kind"] == INVALID_BYTES, "key"].astype(int))


def score(batches: dict[str, Batch], expectations: Path) -> Score:
    result = Score()
    references: dict[str, Reference] = {}
    unusable: dict[str, set[int]] = {}  # per table: keys held (quarantine or a damaged file)
    for name in _order(batches, expectations):
        batch = batches[name]
        contract = batch.contract
        (key,) = contract.primary_key
        rows = batch.rows
        damaged = _damaged_days(batch)
        lost = _spoiled_keys(batch)  # the only version of its key in its file
        rows = rows[~rows[key].isin(lost)]
        if damaged:
            days = pd.to_datetime(rows["exported_at"]).dt.date
            lost |= set(rows.loc[days.isin(damaged), key].astype(int))
            rows = rows[~days.isin(damaged)]
        rows = rows.reset_index(drop=True)
        clipped = Batch(contract, rows, defects=batch.defects)
        raw = raw_table(clipped)
        started = time.perf_counter()
        split = validate_and_split(raw, contract, expectations, references)
        result.seconds += time.perf_counter() - started
        result.rows += raw.num_rows
        result.results[name] = split
        if split.skipped:
            result.skipped[name] = split.skipped
        references[name] = Reference.of(contract, split.clean, split.quarantine)
        unusable[name] = lost | set(split.quarantine.column(key).to_pylist())
        held = _parent_held(clipped, expectations, unusable, batches)
        _score_table(result, clipped, split, held | _pair_held(clipped, expectations, split))
    return result


def _parent_held(
    batch: Batch, expectations: Path, unusable: dict[str, set[int]], batches: dict[str, Batch]
) -> set[int]:
    """Keys of rows whose looked-up parent row is held back (quarantined, or in a damaged file):
    rules comparing with the parent wait for its clean version, and a parent lost with its file
    is unknown. These rows are legitimately affected by another row's defect. A lookup keyed by
    another lookup's column (``section__project_id``) is followed through that parent's rows."""
    contract = batch.contract
    (key,) = contract.primary_key
    specs = lookups(contract, expectations)
    found: set[int] = set()
    for spec in specs.values():
        if spec["table"] not in unusable:
            continue
        via, _, column = spec["key"].partition("__")
        if column and via in specs:  # the key is a column of another looked-up parent
            through = specs[via]["key"]
            parent = batches[specs[via]["table"]].rows.drop_duplicates(through, keep="last")
            keys = batch.rows[through].map(parent.set_index(through)[column])
        elif spec["key"] in batch.rows:
            keys = batch.rows[spec["key"]]
        else:
            continue
        found |= set(batch.rows.loc[keys.isin(unusable[spec["table"]]), key].astype(int))
    return found


def _pair_held(batch: Batch, expectations: Path, split: SplitResult) -> set[int]:
    """Keys of rows a first-seen rule pairs with a quarantined row of the same table (the group
    of its key columns but the one a defect may have damaged: a bid whose section's other bid is
    held for a damaged agent ID cannot share that agent any more)."""
    contract = batch.contract
    (key,) = contract.primary_key
    held = set(split.quarantine.column(key).to_pylist())
    rows = batch.rows.assign(_held=batch.rows[key].isin(held))
    found: set[int] = set()
    for spec in document(contract, expectations).get("expectations", []):
        if spec["type"] != "expect_column_values_to_be_first_seen":
            continue
        columns = spec["kwargs"]["column_list"][:-1]
        for damaged in columns:
            group = [c for c in columns if c != damaged]
            if group:
                paired = rows.groupby(group, dropna=True)["_held"].transform("any")
                found |= set(rows.loc[paired.fillna(False).astype(bool) & ~rows["_held"], key])
    return {int(k) for k in found}


def _noop(contract: Contract, sent: pd.DataFrame, kind: str, column: str, k: int) -> bool:
    """The manifest names the defect but the data does not show it (a simulator slip)."""
    if kind == "too_long":
        return len(str(sent.loc[k, column])) <= contract.column(column).max_length
    if kind == "duplicate_business_key":
        keys = list(contract.business_keys)
        norm = sent[keys].astype(str).apply(lambda c: c.str.strip().str.upper())
        return int((norm == norm.loc[k]).all(axis=1).sum()) < 2
    return False


def _score_table(result: Score, batch: Batch, split: SplitResult, held_parent: set[int]) -> None:
    contract = batch.contract
    (key,) = contract.primary_key
    clean = split.clean.to_pandas().set_index(key)
    held = split.quarantine.to_pandas().set_index(key)
    sent = batch.rows.set_index(key)
    defects = batch.defects[~batch.defects["kind"].isin([UNDECODABLE, INVALID_BYTES])]
    defects = defects[defects["key"].isin(sent.index)]
    for row in defects.itertuples():
        k, kind, column, outcome = int(row.key), row.kind, row.column, row.outcome
        s = result.kinds[kind]
        s.expected += 1
        if outcome in ("quarantine", "flag"):
            rule = expected_rule(contract, kind, column)
            if kind == "duplicate_business_key":
                got = [rule] if _build_withholds(contract, clean, held, k) else []
            elif outcome == "quarantine":
                got = list(held.loc[k, REASONS]) if k in held.index else []
            else:
                got = list(clean.loc[k, FLAGS]) if k in clean.index else []
            if rule in got:
                s.caught += 1
                s.extra.update(r for r in got if r != rule)
            elif _noop(contract, sent, kind, column, k):
                s.noop += 1
            elif k in held_parent:
                s.deferred += 1
            else:
                s.misses.append((contract.name, k, column, rule, _fate(clean, held, k)))
        elif k in held_parent and k in held.index:
            s.deferred += 1
        elif k in held.index or list(clean.loc[k, FLAGS]):
            s.misses.append((contract.name, k, column, outcome, _fate(clean, held, k)))
        elif outcome == "inert":
            if clean.loc[k, column] == sent.loc[k, column]:
                s.caught += 1
            else:
                s.misses.append((contract.name, k, column, "changed", clean.loc[k, column]))
        elif kind == "resent_record":
            s.misses.append((contract.name, k, column, "not in a history", None))
        else:  # normalise
            rule = NORMALISED_BY[kind]
            value = clean.loc[k, column]
            canonical = _canonical(rule, value)
            if canonical and split.normalised[f"{column}:{rule}"] > 0:
                s.caught += 1
            else:
                s.misses.append((contract.name, k, column, f"not canonical: {value!r}", None))
    named = set(defects["key"].astype(int))
    for k, reasons in held[REASONS].items():
        if k in held_parent and k not in named:
            result.affected.append((contract.name, k, list(reasons), []))
        elif k not in named:
            result.false_positives.append((contract.name, k, list(reasons), []))
    for k, flags in clean[FLAGS].items():
        if len(flags) and k not in named:
            result.false_positives.append((contract.name, k, [], list(flags)))


def _build_withholds(contract: Contract, clean: pd.DataFrame, held: pd.DataFrame, k: int) -> bool:
    """Whether a build over this batch alone withholds ``k`` as a business-key duplicate (it
    judges them, conform.duplicates_held, not validation): its newest clean version repeats the
    complete business key of a smaller key's; a quarantined key is withheld anyway."""
    if k in held.index:
        return True
    if k not in clean.index:
        return False
    ordered = clean.sort_values(contract.watermark, kind="stable")
    newest = ordered[~ordered.index.duplicated(keep="last")]
    business = newest[list(contract.business_keys)]
    named = (business.notna() & business.ne(USCC_PLACEHOLDER)).all(axis=1)
    mine = business.loc[k]
    same = named & (business == mine).all(axis=1) & (newest.index < k)
    return bool(named.loc[k] and same.any())


def _fate(clean: pd.DataFrame, held: pd.DataFrame, k: int):
    if k in held.index:
        return ("quarantined", list(held.loc[k, REASONS]))
    return ("clean", list(clean.loc[k, FLAGS]))


def _canonical(rule: str, value) -> bool:
    if rule == "date":
        return isinstance(value, date)
    text = str(value)
    if rule == "code":
        return text == unicodedata.normalize("NFKC", text).upper() and not re.search(r"\s", text)
    return not re.search(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", text)
