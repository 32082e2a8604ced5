"""Normalise, validate with the table's suite, and split rows into clean and quarantined.

GX has no row-level split (great_expectations#1473), so it is built here from the same suite: each
failing expectation's ``unexpected_index_list`` (complete, not capped) names the rows, and the
expectation's ``meta`` says whether they are quarantined or flagged. Nothing is dropped:
raw rows = clean rows + quarantined rows, checked before anything is written.
"""

from __future__ import annotations

import logging
import os
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govlake.contracts import Contract
from govlake.quality.docs import report
from govlake.quality.normalise import normalise
from govlake.quality.suite import FLAG, Reference, attach_lookups, build_suite, skipped_rules

if TYPE_CHECKING:
    from great_expectations.core import ExpectationSuiteValidationResult

REASONS, FLAGS = "dq_reasons", "dq_flags"
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
            "flagged_rows": sum(
                1
                for f in self.clean.column(FLAGS).to_pylist()
                if any(not x.startswith(RELEASED) for x in f or [])
            ),
            "released_rows": sum(
                1
                for f in self.clean.column(FLAGS).to_pylist()
                if any(x.startswith(RELEASED) for x in f or [])
            ),
            "quarantined_by": dict(sorted(self.quarantined_by.items())),
            "flagged_by": dict(sorted(self.flagged_by.items())),
            "released_by": dict(sorted(self.released_by.items())),
            "normalised_values": dict(sorted(self.normalised.items())),
            "skipped_rules": list(self.skipped),
        }


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
    raw_frame = raw.to_pandas().reset_index(drop=True)
    frame, normalised = normalise(raw_frame, contract)
    checked = attach_lookups(frame.copy(), contract, expectations_dir, references)
    failures, results = _failing_rows(checked, contract, expectations_dir)
    reasons: dict[int, list[str]] = defaultdict(list)
    flags: dict[int, list[str]] = defaultdict(list)
    for (rule, outcome), rows in failures.items():
        for row in rows:
            (flags if outcome == FLAG else reasons)[row].append(rule)
    released = _released(raw, contract, frame, reasons, releases or {})
    released_by: Counter[str] = Counter()
    for i in released:
        released_by.update(reasons[i])
        flags[i] += [RELEASED + rule for rule in reasons.pop(i)]
    held = frame.index.isin(list(reasons))
    quarantine = raw_frame[held].assign(
        **{REASONS: [sorted(reasons[i]) for i in frame.index[held]]}
    )
    clean = frame[~held].assign(**{FLAGS: [sorted(flags.get(i, [])) for i in frame.index[~held]]})
    result = SplitResult(
        clean=_to_arrow(clean, clean_schema(contract)),
        quarantine=_to_arrow(quarantine, quarantine_schema(contract)),
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


def _released(
    raw: pa.Table,
    contract: Contract,
    frame: pd.DataFrame,
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
            _to_arrow(frame.loc[[i]], schema)
        except (pa.ArrowException, ValueError, TypeError):
            continue
        fits.append(i)
    return set(fits)


def _failing_rows(
    frame: pd.DataFrame, contract: Contract, expectations_dir: Path
) -> tuple[dict[tuple[str, str], list[int]], ExpectationSuiteValidationResult]:
    """Rows failing each (rule, outcome), and GX's results (for Data Docs)."""
    import great_expectations as gx

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("rows")
        .add_dataframe_asset(contract.name)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = build_suite(contract, expectations_dir, set(frame.columns))
    results = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failures: dict[tuple[str, str], list[int]] = {}
    for outcome in results.results:
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"{contract.name}: expectation failed to run: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        meta = outcome.expectation_config.meta
        rows = outcome.result.get("unexpected_index_list") or []
        if rows:  # one rule may be checked by several expectations
            failures.setdefault((meta["rule"], meta["outcome"]), []).extend(int(i) for i in rows)
    return {rule: sorted(set(rows)) for rule, rows in failures.items()}, results


def _to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    columns = {}
    for target in schema:
        values = frame[target.name]
        if pa.types.is_decimal(target.type):
            columns[target.name] = _decimal(
                pa.array(values, pa.string(), from_pandas=True), target.type
            )
        elif pa.types.is_date(target.type) and values.dtype == object:
            columns[target.name] = pa.array(
                pd.to_datetime(values, format="%Y-%m-%d").dt.date, target.type
            )
        elif pa.types.is_list(target.type):
            columns[target.name] = pa.array(values.tolist(), target.type)
        else:
            columns[target.name] = pa.array(values, target.type, from_pandas=True)
    return pa.table(columns, schema=schema)


def _decimal(text: pa.Array, target: pa.Decimal128Type) -> pa.Array:
    """Validated numeric text to a fixed-scale decimal, rounding half away from zero."""
    wide = text.cast(pa.decimal128(38, 12))
    rounded = pc.round(wide, ndigits=target.scale, round_mode="half_towards_infinity")
    return rounded.cast(target)
