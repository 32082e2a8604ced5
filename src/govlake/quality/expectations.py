"""govlake's custom Great Expectations: domain checks defined once in ``govlake.identifiers``.

Column map expectations check one value (identifier arithmetic is vectorised over the column,
lookups run once per distinct value); multicolumn map expectations check a row against its other
columns or against the batch (order of timestamps, bounds, first-seen business keys, the red
flags of fines). Every condition is vectorised pandas. Importing this module registers them
with GX, so suites
(including the hand-written JSON in ``expectations/``) can name them by their snake_case type.

Missing or unparseable values always pass here: not-null, type and format rules (structural)
own those, so a row is never held back twice for one fault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import (
    ColumnMapExpectation,
    MulticolumnMapExpectation,
)
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
)
from great_expectations.expectations.metrics.map_metric_provider.multicolumn_condition_partial import (  # noqa: E501
    multicolumn_condition_partial,
)

from govlake.identifiers import (
    USCC_PLACEHOLDER,
    consistent_org_codes,
    id_region_ever_existed,
    valid_id_numbers,
    valid_usccs,
)
from govlake.workdays import working_days


@dataclass(frozen=True)
class ColumnCondition:
    """A column map expectation's check: True for the (non-null) values that pass."""

    predicate: Callable[[pd.Series], pd.Series]


@dataclass(frozen=True)
class RowCondition:
    """A multicolumn expectation's check: ``predicate(columns, **params)``, True to pass."""

    predicate: Callable[..., pd.Series]
    params: tuple[str, ...]


# Each custom expectation's condition, for govlake's engine (quality.engine): the same function
# GX's metric runs, so the two can never disagree.
CONDITIONS: dict[type, ColumnCondition | RowCondition] = {}

# -- one value ----------------------------------------------------------------------------------


def per_distinct(check: Callable[[str], bool]) -> Callable[[pd.Series], pd.Series]:
    """A vectorised predicate that calls ``check`` once per distinct value of the column."""

    def predicate(column: pd.Series) -> pd.Series:
        text = column.astype(str)
        distinct = text.unique()
        verdict = dict(zip(distinct, map(check, distinct), strict=True))
        return text.map(verdict).astype(bool)

    return predicate


def vectorised(check: Callable[[pd.Series], np.ndarray]) -> Callable[[pd.Series], pd.Series]:
    """A predicate from a function of a whole column that returns a boolean array."""

    def predicate(column: pd.Series) -> pd.Series:
        return pd.Series(check(column), index=column.index)

    return predicate


def _column_map_expectation(
    class_name: str, metric: str, doc: str, predicate: Callable[[pd.Series], pd.Series]
) -> type[ColumnMapExpectation]:
    """Declare one metric provider and its expectation (GX pairs them by the metric's name)."""

    def _pandas(cls, column: pd.Series, **_: object) -> pd.Series:
        return predicate(column)

    type(
        f"{class_name}Metric",
        (ColumnMapMetricProvider,),
        {
            "condition_metric_name": metric,
            "_pandas": column_condition_partial(engine=PandasExecutionEngine)(_pandas),
        },
    )
    expectation = type(
        class_name,
        (ColumnMapExpectation,),
        {"__doc__": doc, "map_metric": metric, "success_keys": ("mostly",)},
    )
    CONDITIONS[expectation] = ColumnCondition(predicate)
    return expectation


def _iso_date(column: pd.Series) -> pd.Series:
    if not isinstance(column.dtype, pd.StringDtype):  # Arrow-backed text: Arrow's regex kernel
        column = column.astype(str)
    shaped = column.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    parsed = pd.to_datetime(column.where(shaped), format="%Y-%m-%d", errors="coerce")
    return shaped & parsed.notna()


ExpectColumnValuesToBeValidUscc = _column_map_expectation(
    "ExpectColumnValuesToBeValidUscc",
    "column_values.govlake_valid_uscc",
    "统一社会信用代码: GB 32100 format and position-18 checksum (DOMAIN.md appendix); the "
    "个体工商户 placeholder 00000000000000000X is accepted (the record carries its 注册号).",
    vectorised(lambda c: valid_usccs(c) | (c == USCC_PLACEHOLDER).to_numpy()),
)
ExpectColumnValuesToBeValidIdNumber = _column_map_expectation(
    "ExpectColumnValuesToBeValidIdNumber",
    "column_values.govlake_valid_id_number",
    "公民身份号码: 18 characters, MOD 11-2 checksum, a real birth date not in the future, a region "
    "code that exists or existed (DOMAIN.md appendix).",
    vectorised(valid_id_numbers),
)
ExpectColumnValuesToHaveConsistentUsccOrgCode = _column_map_expectation(
    "ExpectColumnValuesToHaveConsistentUsccOrgCode",
    "column_values.govlake_uscc_org_code",
    "Position 17 of a 统一社会信用代码 is the GB 11714 check of positions 9-16.",
    vectorised(consistent_org_codes),
)
ExpectColumnValuesToBeIsoDate = _column_map_expectation(
    "ExpectColumnValuesToBeIsoDate",
    "column_values.govlake_iso_date",
    "A real calendar date written YYYY-MM-DD (what the normaliser makes of every date format).",
    _iso_date,
)
ExpectColumnValuesToBeKnownRegionCode = _column_map_expectation(
    "ExpectColumnValuesToBeKnownRegionCode",
    "column_values.govlake_known_region_code",
    "行政区划代码: six digits naming a county-level division that exists or existed in GB/T 2260 "
    "(python-stdnum's history). Retired codes are valid (the normaliser maps them to their "
    "successors); codes that never existed are not.",
    per_distinct(lambda c: len(c) == 6 and c.isdigit() and id_region_ever_existed(c)),
)

# -- one row against its other columns, or against the batch -------------------------------------

Unit = Literal["instant", "days", "working_days", "number"]


def _multicolumn_expectation(
    class_name: str,
    metric: str,
    doc: str,
    predicate: Callable[..., pd.Series],
    params: dict[str, tuple[Any, Any]],
) -> type[MulticolumnMapExpectation]:
    """Declare a multicolumn metric and its expectation. ``predicate(frame, **params)`` gets the
    columns of ``column_list`` (all rows: ``ignore_row_if`` is ``never``) and returns True for
    the rows that pass."""
    keys = tuple(params)

    def _pandas(cls, column_list: pd.DataFrame, **kwargs: object) -> pd.Series:
        return predicate(column_list, **{k: kwargs.get(k) for k in keys})

    type(
        f"{class_name}Metric",
        (MulticolumnMapMetricProvider,),
        {
            "condition_metric_name": metric,
            "condition_value_keys": keys,
            "condition_domain_keys": (
                "batch_id",
                "table",
                "column_list",
                "row_condition",
                "condition_parser",
                "ignore_row_if",
            ),
            "_pandas": multicolumn_condition_partial(engine=PandasExecutionEngine)(_pandas),
        },
    )
    annotations = {k: t for k, (t, _) in params.items()}
    annotations["ignore_row_if"] = Literal[
        "all_values_are_missing", "any_value_is_missing", "never"
    ]
    expectation = type(
        class_name,
        (MulticolumnMapExpectation,),
        {
            "__doc__": doc,
            "__annotations__": annotations,
            "__module__": __name__,
            "map_metric": metric,
            "success_keys": ("mostly", *keys),
            "ignore_row_if": "never",
            **{k: default for k, (_, default) in params.items()},
        },
    )
    CONDITIONS[expectation] = RowCondition(predicate, keys)
    return expectation


def as_time(values: pd.Series) -> pd.Series:
    """Timestamps, ISO date text or date objects as datetime64; anything else NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    text = values.astype(str).where(values.notna())
    return pd.to_datetime(text, format="ISO8601", errors="coerce")


def as_number(values: pd.Series) -> pd.Series:
    if values.dtype == object:
        values = values.astype(str).where(values.notna())
    return pd.to_numeric(values, errors="coerce")


def working_day_number(days: pd.Series) -> pd.Series:
    """Per day, how many working days there are up to and including it (from a fixed origin):
    the difference of two numbers is the count of working days between the days."""
    stamps = as_time(days).dt.normalize()
    known = stamps.notna()
    if not known.any():
        return pd.Series(np.nan, index=days.index)
    values = stamps[known].to_numpy().astype("datetime64[D]")
    years = values.astype("datetime64[Y]").astype(int) + 1970
    calendar = working_days(years.min(), years.max())
    out = pd.Series(np.nan, index=days.index)
    out[known] = np.searchsorted(calendar, values, side="right").astype(float)
    return out


def _elapsed(values: pd.Series, unit: str) -> pd.Series:
    """Whole ``unit`` s (``us`` or ``D``) since the epoch, NaN where there is no time. In numpy's
    int64 counts, not pandas' nanosecond timedeltas: those overflow (and raise) for a gap of
    more than 292 years, e.g. a placeholder 9999-12-31 against a real date."""
    stamps = as_time(values).to_numpy().astype(f"datetime64[{unit}]")
    counts = stamps.astype("int64").astype(float)
    counts[np.isnat(stamps)] = np.nan
    return pd.Series(counts, index=values.index)


def _gap(earlier: pd.Series, later: pd.Series, unit: Unit) -> pd.Series:
    """later - earlier: seconds (instant), calendar days, working days, or a number."""
    if unit == "number":
        return as_number(later) - as_number(earlier)
    if unit == "instant":
        return (_elapsed(later, "us") - _elapsed(earlier, "us")) / 1e6
    if unit == "days":
        return _elapsed(later, "D") - _elapsed(earlier, "D")
    return working_day_number(later) - working_day_number(earlier)


def _applies(frame: pd.DataFrame, position: int, values: list | None) -> pd.Series:
    """Rows the rule applies to: all, or those whose column at ``position`` is in ``values``."""
    if values is None:
        return pd.Series(True, index=frame.index)
    return frame.iloc[:, position].isin(values)


def _in_order(
    frame: pd.DataFrame,
    unit: Unit,
    min_gap: float | None,
    max_gap: float | None,
    applies_when_in: list | None,
) -> pd.Series:
    gap = _gap(frame.iloc[:, 0], frame.iloc[:, 1], unit)
    bad = pd.Series(False, index=frame.index)
    if min_gap is not None:
        bad |= gap < min_gap
    if max_gap is not None:
        bad |= gap > max_gap
    return ~(bad.fillna(False).astype(bool) & _applies(frame, 2, applies_when_in))


ExpectColumnValuesToBeInOrder = _multicolumn_expectation(
    "ExpectColumnValuesToBeInOrder",
    "multicolumn_values.govlake_in_order",
    "column_list = [earlier, later, (condition column)]: ``later - earlier`` lies in "
    "[min_gap, max_gap], measured in ``unit`` (instant: seconds; days: calendar days; "
    "working_days: statutory working days with 调休; number). With ``applies_when_in`` the rule "
    "checks only rows whose condition column holds one of those values. Rows missing either "
    "value pass (not-null and format rules own them).",
    _in_order,
    {
        "unit": (Unit, "instant"),
        "min_gap": (float | None, None),
        "max_gap": (float | None, None),
        "applies_when_in": (list | None, None),
    },
)


def _at_least(frame: pd.DataFrame, min_value: float, applies_when_in: list | None) -> pd.Series:
    low = (as_number(frame.iloc[:, 0]) < min_value).fillna(False).astype(bool)
    return ~(low & _applies(frame, 1, applies_when_in))


ExpectColumnValuesToBeAtLeast = _multicolumn_expectation(
    "ExpectColumnValuesToBeAtLeast",
    "multicolumn_values.govlake_at_least",
    "column_list = [value, (condition column)]: value >= min_value, on the rows whose condition "
    "column is in ``applies_when_in`` (all rows without it).",
    _at_least,
    {"min_value": (float, 0), "applies_when_in": (list | None, None)},
)


def _first_seen(frame: pd.DataFrame) -> pd.Series:
    """False for rows whose key (all columns but the last, none missing) already belongs to a
    row with a smaller last column (the primary key): the earlier row keeps it, and other
    versions of that row (the same primary key) pass. The 个体工商户
    placeholder 00000000000000000X is no code, so a key holding it is incomplete (unchecked)."""
    keys, order = list(frame.columns[:-1]), frame.columns[-1]
    ordered = frame.sort_values(order, kind="stable")
    complete = (ordered[keys].notna() & ordered[keys].ne(USCC_PLACEHOLDER)).all(axis=1)
    first = ordered.groupby(keys, dropna=False, sort=False)[order].transform("first")
    later = (ordered[order] != first).fillna(False).astype(bool) & complete
    return ~later.reindex(frame.index)


ExpectColumnValuesToBeFirstSeen = _multicolumn_expectation(
    "ExpectColumnValuesToBeFirstSeen",
    "multicolumn_values.govlake_first_seen",
    "column_list = [key columns..., order column]: within the batch, a key held by a row with a "
    "smaller order value (the primary key) fails on every later row; the first one passes. "
    "(A rule about rows of one batch: business-key duplicates are the build's, judged over the "
    "table's history.)",
    _first_seen,
    {},
)


def _night(frame: pd.DataFrame, from_hour: int, to_hour: int) -> pd.Series:
    bad = pd.Series(False, index=frame.index)
    for name in frame.columns:
        hour = as_time(frame[name]).dt.hour
        bad |= ((hour >= from_hour) & (hour < to_hour)).fillna(False).astype(bool)
    return ~bad


ExpectColumnValuesToBeOutsideHours = _multicolumn_expectation(
    "ExpectColumnValuesToBeOutsideHours",
    "multicolumn_values.govlake_outside_hours",
    "No timestamp of column_list falls in [from_hour, to_hour) local time.",
    _night,
    {"from_hour": (int, 22), "to_hour": (int, 24)},
)

# -- fines (DOMAIN.md §1.2: amounts in 万元, 处罚内容 states them in 元) ------------------------

_STATED_FINE = r"罚款(?:人民币)?(\d+(?:\.\d+)?)元"


def stated_fine_yuan(content: pd.Series) -> pd.Series:
    """The fine 处罚内容 states, in 元 (NaN when it states none)."""
    return as_number(content.astype(str).str.extract(_STATED_FINE)[0])


def looks_entered_in_yuan(amount_wan: pd.Series, content: pd.Series) -> pd.Series:
    """The 万元 field holds 元: at least 10 000 万元 (1 亿元), or equal to the 元 figure the text
    states while the text's figure is not 10 000 times it."""
    amount, stated = as_number(amount_wan), stated_fine_yuan(content)
    same_figure = (amount >= 1) & ((amount - stated).abs() < 0.5)
    return ((amount >= 10_000) | same_figure).fillna(False).astype(bool)


ExpectFineNotEnteredInYuan = _multicolumn_expectation(
    "ExpectFineNotEnteredInYuan",
    "multicolumn_values.govlake_fine_not_in_yuan",
    "column_list = [fine_amount_wan, penalty_content]: the amount does not look typed in 元.",
    lambda frame: ~looks_entered_in_yuan(frame.iloc[:, 0], frame.iloc[:, 1]),
    {},
)


def _within_band(frame: pd.DataFrame) -> pd.Series:
    amount, low, high, content = (frame.iloc[:, i] for i in range(4))
    yuan = as_number(amount) * 10_000
    outside = (yuan < as_number(low) - 0.005) | (yuan > as_number(high) + 0.005)
    outside = outside.fillna(False).astype(bool)
    return ~(outside & ~looks_entered_in_yuan(amount, content))


ExpectFineWithinDiscretionBand = _multicolumn_expectation(
    "ExpectFineWithinDiscretionBand",
    "multicolumn_values.govlake_fine_within_band",
    "column_list = [fine_amount_wan, band_min_yuan, band_max_yuan, penalty_content]: the fine "
    "lies in the 裁量基准's band. A fine that looks typed in 元 is the other rule's finding.",
    _within_band,
    {},
)


def _simple_within_limit(
    frame: pd.DataFrame,
    simple: str,
    organisation_types: list,
    organisation_limit: float,
    person_limit: float,
) -> pd.Series:
    amount, procedure, party = (frame.iloc[:, i] for i in range(3))
    limit = np.where(party.isin(organisation_types), organisation_limit, person_limit)
    over = (as_number(amount) * 10_000 > limit + 0.005).fillna(False).astype(bool)
    return ~(over & (procedure == simple))


ExpectSimpleProcedureWithinLimit = _multicolumn_expectation(
    "ExpectSimpleProcedureWithinLimit",
    "multicolumn_values.govlake_simple_procedure_limit",
    "column_list = [fine_amount_wan, procedure_type, party_type]: 简易程序 (当场处罚) only up to "
    "the 行政处罚法 第51条 limits: 200 元 for citizens (and 个体工商户), 3 000 元 for "
    "organisations.",
    _simple_within_limit,
    {
        "simple": (str, "简易"),
        "organisation_types": (list, ["法人及非法人组织"]),
        "organisation_limit": (float, 3000.0),
        "person_limit": (float, 200.0),
    },
)
