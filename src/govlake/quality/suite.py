"""A table's expectation suite: structural rules from its contract, domain rules from JSON.

Every expectation carries ``meta.rule`` (the name quarantine reasons and flags use) and
``meta.outcome``: ``quarantine`` (the row is held back) or ``flag`` (loaded, flagged, counted).
The hand-written files in ``expectations/`` are read, never written.
"""

from __future__ import annotations

import json
from pathlib import Path

import great_expectations as gx
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

import govlake.quality.expectations as custom
from govlake.contracts import Column, Contract

QUARANTINE, FLAG = "quarantine", "flag"


def build_suite(contract: Contract, expectations_dir: Path) -> gx.ExpectationSuite:
    suite = gx.ExpectationSuite(name=contract.name)
    for expectation in [*structural(contract), *domain(contract, expectations_dir)]:
        suite.add_expectation(expectation)
    return suite


def structural(contract: Contract) -> list:
    """Types, not-null, keys, enumerations and text limits, as the contract declares them."""
    rules = []
    for column in contract.columns:
        rules.extend(_column_rules(column))
    keys = list(contract.primary_key)
    unique = (
        gx.expectations.ExpectColumnValuesToBeUnique(column=keys[0])
        if len(keys) == 1
        else gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=keys)
    )
    rules.append(_tag(unique, f"{'_'.join(keys)}_unique"))
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
    if column.clean_type.startswith("decimal") and column.source_type.startswith(
        ("varchar", "text")
    ):
        rules.append(
            _tag(
                gx.expectations.ExpectColumnValuesToMatchRegex(
                    column=name, regex=r"^-?\d+(\.\d+)?$"
                ),
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
    if not path.exists():
        return []
    items = json.loads(path.read_text(encoding="utf-8"))["expectations"]
    rules = []
    for item in items:
        meta = item.get("meta", {})
        if meta.get("outcome") not in (QUARANTINE, FLAG) or not meta.get("rule"):
            raise ValueError(f"{path}: every expectation needs meta.rule and meta.outcome")
        rules.append(ExpectationConfiguration(**item).to_domain_obj())
    return rules
