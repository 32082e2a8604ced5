"""The validation engine: a table's GX suite evaluated in one vectorised pass over a pandas frame.

GX's own validator resolves a metric graph per expectation; on this machine that cost 59 s of
the 72 s that validating 142,000 demo rows took, far from a 60-second day or a year at 300k rows/s.
So govlake evaluates each expectation of the suite itself, with the condition GX would compute
for it: govlake's custom expectations register their predicates (``quality.expectations``), the
six GX types the structural suites use are restated below, exactly as GX's pandas metrics define
them. tests/unit/test_engine.py checks both against GX's validator, row for row.

The outcome is each expectation's failing row positions (complete, for the row split) and the
results in GX's own serialised shape, so Data Docs render as GX renders them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations as gx
import numpy as np
import pandas as pd

from govlake.quality.expectations import CONDITIONS, ColumnCondition

PARTIAL = 20  # sample values GX keeps per expectation (its "partial" lists)

Condition = Callable[[pd.DataFrame, object], "tuple[np.ndarray, np.ndarray | None]"]


@dataclass(frozen=True)
class Evaluated:
    """One expectation's verdict: the failing row positions and the rows it did not check."""

    expectation: object
    unexpected: np.ndarray  # row positions (sorted)
    missing: int | None  # null values skipped (column expectations), None where GX reports none


def validate(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> list[Evaluated]:
    """Every expectation of ``suite`` over ``frame`` (positions index the frame's rows)."""
    return [_evaluate(frame, e) for e in suite.expectations]


def _evaluate(frame: pd.DataFrame, expectation) -> Evaluated:
    if getattr(expectation, "row_condition", None):
        raise ValueError(f"{expectation.expectation_type}: row_condition is not supported")
    kind = type(expectation)
    if kind in _BUILT_IN:
        failing, missing = _BUILT_IN[kind](frame, expectation)
    elif kind in CONDITIONS:
        failing, missing = _custom(frame, expectation, CONDITIONS[kind])
    else:
        raise ValueError(f"the engine does not evaluate {expectation.expectation_type}")
    return Evaluated(
        expectation,
        np.flatnonzero(failing),
        None if missing is None else int(missing.sum()),
    )


def _custom(frame: pd.DataFrame, expectation, condition) -> tuple[np.ndarray, np.ndarray | None]:
    if isinstance(condition, ColumnCondition):  # a column map: nulls are not checked
        return _column_map(lambda column, _: condition.predicate(column))(frame, expectation)
    params = {k: getattr(expectation, k) for k in condition.params}
    passing = condition.predicate(frame[list(expectation.column_list)], **params)
    checked_all = np.zeros(len(frame), dtype=bool)  # ignore_row_if "never": no row is skipped
    # A predicate over Arrow-backed text can answer NA for a missing value (found by fuzzing:
    # it raised here); a missing value is not this rule's to judge (not-null rules own it).
    return ~passing.fillna(True).to_numpy(dtype=bool), checked_all


# -- GX's own types, as its pandas metrics compute them ------------------------------------------


def _present(frame: pd.DataFrame, expectation) -> tuple[pd.Series, np.ndarray]:
    column = frame[expectation.column]
    return column, column.notna().to_numpy()


def _column_map(check: Callable[[pd.Series, object], pd.Series]) -> Condition:
    """A GX column map condition: ``check`` sees the non-null values and returns True to pass."""

    def condition(frame: pd.DataFrame, expectation) -> tuple[np.ndarray, np.ndarray]:
        column, present = _present(frame, expectation)
        failing = np.zeros(len(frame), dtype=bool)
        if present.any():
            failing[present] = ~check(column[present], expectation).to_numpy(dtype=bool)
        return failing, ~present

    return condition


def _lengths(column: pd.Series, e) -> pd.Series:
    length = column.str.len()
    ok = pd.Series(True, index=column.index)
    if e.min_value is not None:
        ok &= length > e.min_value if e.strict_min else length >= e.min_value
    if e.max_value is not None:
        ok &= length < e.max_value if e.strict_max else length <= e.max_value
    return ok


def _not_null(frame: pd.DataFrame, expectation) -> tuple[np.ndarray, None]:
    return frame[expectation.column].isna().to_numpy(), None


def _compound_unique(frame: pd.DataFrame, expectation) -> tuple[np.ndarray, np.ndarray]:
    rows = frame[list(expectation.column_list)]
    if expectation.ignore_row_if != "all_values_are_missing":
        raise ValueError(f"compound uniqueness with ignore_row_if={expectation.ignore_row_if}")
    checked = rows.notna().any(axis=1).to_numpy()
    failing = np.zeros(len(frame), dtype=bool)
    failing[checked] = rows[checked].duplicated(keep=False).to_numpy()
    return failing, ~checked


_BUILT_IN: dict[type, Condition] = {
    gx.expectations.ExpectColumnValuesToNotBeNull: _not_null,
    gx.expectations.ExpectColumnValuesToBeInSet: _column_map(lambda c, e: c.isin(e.value_set)),
    gx.expectations.ExpectColumnValueLengthsToBeBetween: _column_map(_lengths),
    gx.expectations.ExpectColumnValuesToMatchRegex: _column_map(
        lambda c, e: c.astype(str).str.contains(e.regex)
    ),
    gx.expectations.ExpectColumnValuesToBeUnique: _column_map(
        lambda c, e: ~c.duplicated(keep=False)
    ),
    gx.expectations.ExpectCompoundColumnsToBeUnique: _compound_unique,
}


# -- GX's results, as GX serialises them (what Data Docs render) ---------------------------------


def results(frame: pd.DataFrame, suite: gx.ExpectationSuite, evaluated: list[Evaluated]) -> dict:
    """The suite's results as GX's ``ExpectationSuiteValidationResult.to_json_dict()`` shapes
    them, with GX's partial (first 20) samples of each failing expectation; its complete lists
    are left out (the row split has them). Built directly: GX's own serialiser costs 5 ms an
    expectation, 2 s a day for twenty tables."""
    outcomes = [_outcome(frame, e) for e in evaluated]
    passed = sum(o["success"] for o in outcomes)
    return {
        "success": passed == len(outcomes),
        "results": outcomes,
        "suite_name": suite.name,
        "suite_parameters": {},
        "statistics": {
            "evaluated_expectations": len(outcomes),
            "successful_expectations": passed,
            "unsuccessful_expectations": len(outcomes) - passed,
            "success_percent": 100.0 * passed / len(outcomes) if outcomes else None,
        },
        "meta": {"great_expectations_version": gx.__version__, "engine": __name__},
        "id": None,
    }


def _outcome(frame: pd.DataFrame, evaluated: Evaluated) -> dict:
    expectation, rows = evaluated.expectation, evaluated.unexpected
    total, failed = len(frame), len(rows)
    checked = total - (evaluated.missing or 0)
    columns = _read_columns(expectation)
    values = _values(frame, columns, rows)
    result: dict = {
        "element_count": total,
        "unexpected_count": failed,
        "unexpected_percent": 100.0 * failed / checked if checked else None,
        "partial_unexpected_list": values[:PARTIAL],
    }
    if evaluated.missing is not None:
        result |= {
            "missing_count": evaluated.missing,
            "missing_percent": 100.0 * evaluated.missing / total if total else None,
            "unexpected_percent_total": 100.0 * failed / total if total else None,
            "unexpected_percent_nonmissing": result["unexpected_percent"],
        }
    result["partial_unexpected_counts"] = _counts(values, columns)
    result["partial_unexpected_index_list"] = [int(i) for i in rows[:PARTIAL]]
    mostly = getattr(expectation, "mostly", 1) or 1
    success = failed == 0 if mostly >= 1 else (not checked or 1 - failed / checked >= mostly)
    return {
        "success": bool(success),
        "expectation_config": expectation.configuration.to_json_dict(),
        "result": result,
        "meta": {},
        "exception_info": {
            "raised_exception": False,
            "exception_traceback": None,
            "exception_message": None,
        },
    }


def _read_columns(expectation) -> list[str]:
    if getattr(expectation, "column", None):
        return [expectation.column]
    return list(expectation.column_list)


def _values(frame: pd.DataFrame, columns: list[str], rows: np.ndarray) -> list:
    """The failing rows' values: scalars for one column, dicts for several (as GX reports)."""
    if not len(rows):
        return []
    taken = frame[columns].iloc[rows].astype(object)
    taken = taken.where(taken.notna(), None)
    if len(columns) == 1:
        return [_plain(v) for v in taken[columns[0]].tolist()]
    return [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in taken.to_numpy()]


def _plain(value):
    """A JSON value: text, a number, a boolean or None (dates and decimals as text)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return str(value)


def _counts(values: list, columns: list[str]) -> list[dict]:
    """GX's ``partial_unexpected_counts``: the most frequent failing values, 20 at most."""
    keyed = [tuple(v[c] for c in columns) if isinstance(v, dict) else v for v in values]
    counted = pd.Series(keyed, dtype=object).value_counts(sort=True) if keyed else pd.Series()
    return [
        {"value": list(k) if isinstance(k, tuple) else k, "count": int(n)}
        for k, n in counted.head(PARTIAL).items()
    ]
