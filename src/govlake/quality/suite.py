"""A table's expectation suite: structural rules from its contract, domain rules from JSON.

Every expectation carries ``meta.rule`` (the name quarantine reasons and flags use) and
``meta.outcome``: ``quarantine`` (the row is held back) or ``flag`` (loaded, flagged, counted).
The hand-written files in ``expectations/`` are read, never written.

Rules that need another table say so explicitly: the JSON's ``lookups`` name a parent table, the
column of this table that holds the parent's primary key, and the parent columns to bring in.
Before validation :func:`attach_lookups` adds, per lookup ``name``, the columns
``name__<column>`` (the value from the parent's *clean* rows: a parent held in quarantine lends
nothing) and ``name__exists`` (the key is among every key the parent has sent, clean or
quarantined, or is missing). The validate step supplies the parents as :class:`Reference` s; a
rule whose columns are not there (its parent was not supplied) is skipped and reported, never
guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import great_expectations as gx
import pandas as pd
import pyarrow as pa
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

import govlake.quality.expectations as custom
from govlake.contracts import Column, Contract
from govlake.contracts.types import arrow_clean_type
from govlake.quality.rules import document, lookups

QUARANTINE, FLAG = "quarantine", "flag"
EXISTS = "exists"


@dataclass(frozen=True)
class Reference:
    """A parent table as lookups see it: its clean rows (the values) and every primary key it
    has sent, clean or quarantined (for existence). Over the lake: the latest version per key of
    its clean/ and quarantine/ partitions up to the day being validated."""

    clean: pd.DataFrame
    keys: pd.Index

    @classmethod
    def of(
        cls, contract: Contract, clean: pa.Table, quarantine: pa.Table | None = None
    ) -> Reference:
        (key,) = contract.primary_key
        rows = clean.to_pandas().drop_duplicates(key, keep="last")
        held = quarantine.column(key).to_pylist() if quarantine is not None else []
        return cls(rows.set_index(key), pd.Index(rows[key]).union(pd.Index(held)))


def build_suite(
    contract: Contract, expectations_dir: Path, available: set[str] | None = None
) -> gx.ExpectationSuite:
    """The table's suite; with ``available`` (the batch's columns), only the rules whose columns
    are all there (see :func:`skipped_rules`)."""
    every = [*structural(contract), *domain(contract, expectations_dir)]
    chosen = [e for e in every if available is None or _columns(e) <= available]
    return gx.ExpectationSuite(name=contract.name, expectations=chosen)  # needs no GX context


def skipped_rules(contract: Contract, expectations_dir: Path, available: set[str]) -> list[str]:
    """Domain rules that cannot run on this batch: a lookup they need was not supplied."""
    return sorted(
        e.meta["rule"] for e in domain(contract, expectations_dir) if not _columns(e) <= available
    )


def _columns(expectation) -> set[str]:
    found = set(getattr(expectation, "column_list", None) or [])
    for name in ("column", "column_A", "column_B"):
        value = getattr(expectation, name, None)
        if value:
            found.add(value)
    return found


def structural(contract: Contract) -> list:
    """Types, not-null, keys, enumerations and text limits, as the contract declares them."""
    rules = []
    for column in contract.columns:
        rules.extend(_column_rules(column))
    keys = list(contract.primary_key)
    # Raw is a change log: a batch may hold several versions of one key (a full load of the
    # exchange file sets), told apart by the watermark. Two rows of one key and one watermark
    # are a conflict the source must resolve.
    versions = [*keys, contract.watermark] if contract.watermark not in keys else keys
    unique = gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=versions)
    rules.append(_tag(unique, f"{'_'.join(keys)}_unique"))
    # A business key entered twice is judged by the build over the table's ranked history
    # (govlake.transform.conform.duplicates_held), not here: a batch's verdict would depend on
    # which days were validated together.
    return rules


def _column_rules(column: Column) -> list:
    name, rules = column.name, []
    if not column.nullable:
        rules.append(
            _tag(gx.expectations.ExpectColumnValuesToNotBeNull(column=name), f"{name}_not_null")
        )
    if column.values is not None:
        rules.append(
            _tag(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=name, value_set=list(column.values)
                ),
                f"{name}_in_set",
            )
        )
    if column.max_length is not None:
        rules.append(
            _tag(
                gx.expectations.ExpectColumnValueLengthsToBeBetween(
                    column=name, max_value=column.max_length
                ),
                f"{name}_max_length",
            )
        )
    if column.clean_type == "date" and column.source_type != "date":
        rules.append(_tag(custom.ExpectColumnValuesToBeIsoDate(column=name), f"{name}_is_date"))
    clean = arrow_clean_type(column.clean_type)
    if pa.types.is_decimal(clean):  # raw holds numerics as text (any source)
        # Digits that fit the clean decimal: wider text (or NaN, Infinity) would fail the cast.
        regex = rf"^-?\d{{1,{clean.precision - clean.scale}}}(?:\.\d{{1,12}})?$"
        rules.append(
            _tag(
                gx.expectations.ExpectColumnValuesToMatchRegex(column=name, regex=regex),
                f"{name}_is_number",
            )
        )
    return rules


def _tag(expectation, rule: str, outcome: str = QUARANTINE):
    expectation.meta = {"rule": rule, "outcome": outcome}
    return expectation


def domain(contract: Contract, expectations_dir: Path) -> list:
    """The hand-written rules of ``expectations/<system>.<table>.json``, if there are any."""
    path = expectations_dir / f"{contract.name}.json"
    rules = []
    for item in document(contract, expectations_dir).get("expectations", []):
        meta = item.get("meta", {})
        if meta.get("outcome") not in (QUARANTINE, FLAG) or not meta.get("rule"):
            raise ValueError(f"{path}: every expectation needs meta.rule and meta.outcome")
        rules.append(ExpectationConfiguration(**item).to_domain_obj())
    return rules


def attach_lookups(
    frame: pd.DataFrame,
    contract: Contract,
    expectations_dir: Path,
    references: Mapping[str, Reference] | None,
) -> pd.DataFrame:
    """``frame`` with the lookup columns of every declared lookup whose parent is supplied.
    The added columns are not part of the contract, so they never reach clean/ or quarantine/."""
    references = references or {}
    for name, spec in lookups(contract, expectations_dir).items():
        parent = references.get(spec["table"])
        if parent is None or spec["key"] not in frame:
            continue
        key = frame[spec["key"]]
        frame[f"{name}__{EXISTS}"] = key.isna() | key.isin(parent.keys)
        for column in spec.get("columns", []):
            frame[f"{name}__{column}"] = key.map(parent.clean[column]).astype(object)
    return frame
