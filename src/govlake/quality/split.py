"""Normalise, validate with the table's suite, and split rows into clean and quarantined.

GX has no row-level split (great_expectations#1473), so it is built here from the same suite: the
engine (``quality.engine``) names each failing expectation's rows, complete, and the
expectation's ``meta`` says whether they are quarantined or flagged. Nothing is dropped:
raw rows = clean rows + quarantined rows, checked before anything is written.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govlake.contracts import Contract
from govlake.quality import engine
from govlake.quality.docs import report
from govlake.quality.normalise import normalise
from govlake.quality.suite import FLAG, Reference, attach_lookups, build_suite, skipped_rules

REASONS, FLAGS = "dq_reasons", "dq_flags"
# Text stays in Arrow under pandas: its string methods then run Arrow's kernels, not Python's.
_ARROW_STRINGS = {pa.string(): pd.StringDtype("pyarrow")}
RELEASED = "released:"  # the flag of a quarantine rule an operator released (quality.releases)


@dataclass
class SplitResult:
    clean: pa.Table
    quarantine: pa.Table
    quarantined_by: Counter[str] = field(default_factory=Counter)  # rows held back per rule
    flagged_by: Counter[str] = field(default_factory=Counter)  # rows loaded with a flag per rule
    normalised: Counter[str] = field(default_factory=Counter)  # values changed, column:rule
    released_by: Counter[str] = field(default_factory=Counter)  # rows released to clean per rule
    skipped: list[str] = field(default_factory=list)  # rules not run: a lookup was not supplied
    validation: dict | None = None  # GX's results for Data Docs, masked (quality.docs.report)

    @property
    def summary(self) -> dict:
        return {
            "raw_rows": self.clean.num_rows + self.quarantine.num_rows,
            "clean_rows": self.clean.num_rows,
            "quarantined_rows": self.quarantine.num_rows,
            "flagged_rows": self._rows_with_flags(released=False),
            "released_rows": self._rows_with_flags(released=True),
            "quarantined_by": dict(sorted(self.quarantined_by.items())),
            "flagged_by": dict(sorted(self.flagged_by.items())),
            "released_by": dict(sorted(self.released_by.items())),
            "normalised_values": dict(sorted(self.normalised.items())),
            "skipped_rules": list(self.skipped),
        }

    def _rows_with_flags(self, released: bool) -> int:
        """Clean rows with at least one flag that is (or is not) a release."""
        flags = self.clean.column(FLAGS).combine_chunks()
        names = pc.list_flatten(flags)
        if not len(names):
            return 0
        chosen = pc.starts_with(names, RELEASED)
        chosen = chosen if released else pc.invert(chosen)
        rows = pc.filter(pc.list_parent_indices(flags), chosen)
        return len(pc.unique(rows))


def clean_schema(contract: Contract) -> pa.Schema:
    return contract.clean_schema().append(pa.field(FLAGS, pa.list_(pa.string())))


def quarantine_schema(contract: Contract) -> pa.Schema:
    return contract.raw_schema().append(pa.field(REASONS, pa.list_(pa.string())))


def validate_and_split(
    raw: pa.Table,
    contract: Contract,
    expectations_dir: Path,
    references: Mapping[str, Reference] | None = None,
    releases: Mapping[str, set[str]] | None = None,
) -> SplitResult:
    """``references``: the parent tables the suite's lookups name (``rules.referenced_tables``);
    rules needing one that is not supplied are skipped and listed in ``skipped``. ``releases``:
    key text -> released quarantine rules (``quality.releases``); a row all of whose quarantine
    rules are released goes to clean with a ``released:<rule>`` flag per rule."""
    raw = raw.combine_chunks()
    normalised_rows, normalised = normalise(raw, contract)
    frame = normalised_rows.to_pandas(types_mapper=_ARROW_STRINGS.get)
    checked = attach_lookups(frame, contract, expectations_dir, references)
    failures, results = _failing_rows(checked, contract, expectations_dir)
    reasons: dict[int, list[str]] = defaultdict(list)
    flags: dict[int, list[str]] = defaultdict(list)
    for (rule, outcome), rows in failures.items():
        for row in rows:
            (flags if outcome == FLAG else reasons)[row].append(rule)
    released = _released(raw, contract, normalised_rows, reasons, releases or {})
    released_by: Counter[str] = Counter()
    for i in released:
        released_by.update(reasons[i])
        flags[i] += [RELEASED + rule for rule in reasons.pop(i)]
    held = np.zeros(raw.num_rows, dtype=bool)
    held[list(reasons)] = True
    held_rows, clean_rows = np.flatnonzero(held), np.flatnonzero(~held)
    quarantine = raw.take(held_rows).append_column(REASONS, _lists(held_rows, reasons))
    clean = _cast(normalised_rows.take(clean_rows), contract.clean_schema())
    result = SplitResult(
        clean=clean.append_column(FLAGS, _lists(clean_rows, flags)),
        quarantine=quarantine.cast(quarantine_schema(contract)),
        quarantined_by=+Counter(  # unary +: drops rules whose every row was released
            {r: len(set(rows) - released) for (r, o), rows in failures.items() if o != FLAG}
        ),
        flagged_by=Counter({r: len(rows) for (r, o), rows in failures.items() if o == FLAG}),
        normalised=normalised,
        released_by=released_by,
        skipped=skipped_rules(contract, expectations_dir, set(checked.columns)),
        validation=report(results, contract, expectations_dir),
    )
    if result.clean.num_rows + result.quarantine.num_rows != raw.num_rows:  # nothing lost
        raise AssertionError(f"{contract.name}: split lost rows ({result.summary})")
    return result


def _lists(rows: np.ndarray, by_row: Mapping[int, list[str]]) -> pa.Array:
    """Per row of ``rows`` (ascending), its sorted rule names (most rows have none)."""
    named = np.array(sorted(by_row), dtype=np.int64)
    named = named[np.isin(named, rows)]
    lengths = np.zeros(len(rows), dtype=np.int32)
    lengths[np.searchsorted(rows, named)] = [len(by_row[i]) for i in named.tolist()]
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int32)])
    values = [rule for i in named.tolist() for rule in sorted(by_row[i])]
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, pa.string()))


def _released(
    raw: pa.Table,
    contract: Contract,
    normalised: pa.Table,
    reasons: Mapping[int, list[str]],
    releases: Mapping[str, set[str]],
) -> set[int]:
    """The quarantined rows whose every quarantine rule is released for their key, and whose
    values fit the clean schema (a released row still has to load)."""
    if not releases or not reasons:
        return set()
    from govlake.quality.releases import key_texts

    keys = key_texts(raw, contract)
    chosen = [i for i, rules in reasons.items() if set(rules) <= releases.get(keys[i], set())]
    schema = contract.clean_schema()
    fits = []
    for i in sorted(chosen):
        try:
            _cast(normalised.slice(i, 1), schema)
        except (pa.ArrowException, ValueError, TypeError):
            continue
        fits.append(i)
    return set(fits)


def _failing_rows(
    frame: pd.DataFrame, contract: Contract, expectations_dir: Path
) -> tuple[dict[tuple[str, str], list[int]], dict]:
    """Rows failing each (rule, outcome), and the suite's results in GX's shape (Data Docs)."""
    suite = build_suite(contract, expectations_dir, set(frame.columns))
    evaluated = engine.validate(frame, suite)
    failures: dict[tuple[str, str], list[np.ndarray]] = defaultdict(list)
    for found in evaluated:
        if len(found.unexpected):  # one rule may be checked by several expectations
            meta = found.expectation.meta
            failures[(meta["rule"], meta["outcome"])].append(found.unexpected)
    rows = {rule: np.unique(np.concatenate(found)).tolist() for rule, found in failures.items()}
    return rows, engine.results(frame, suite, evaluated)


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Normalised (validated) rows to the clean schema's strict types."""
    columns = []
    for target in schema:
        values = table.column(target.name)
        if pa.types.is_decimal(target.type) and not pa.types.is_decimal(values.type):
            values = _decimal(values.cast(pa.string()), target.type)
        columns.append(values.cast(target.type))
    return pa.table(columns, schema=schema)


def _decimal(text: pa.ChunkedArray, target: pa.Decimal128Type) -> pa.ChunkedArray:
    """Validated numeric text to a fixed-scale decimal, rounding half away from zero."""
    wide = text.cast(pa.decimal128(38, 12))
    rounded = pc.round(wide, ndigits=target.scale, round_mode="half_towards_infinity")
    return rounded.cast(target)
