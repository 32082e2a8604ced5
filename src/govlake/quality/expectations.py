"""govlake's custom Great Expectations: domain checks defined once in ``govlake.identifiers``.

Each is a column map expectation with a vectorised pandas condition. Importing this module
registers them with GX, so suites (including the hand-written JSON in ``expectations/``) can name
them by their snake_case type.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import (
    ColumnMapMetricProvider,
    column_condition_partial,
)

from govlake.identifiers import (
    USCC_PLACEHOLDER,
    is_valid_id_number,
    is_valid_uscc,
    uscc_org_code_consistent,
)


def _column_map_expectation(
    class_name: str, metric: str, doc: str, predicate: Callable[[pd.Series], pd.Series]
) -> type[ColumnMapExpectation]:
    """Declare one metric provider and its expectation (GX pairs them by the metric's name)."""

    def _pandas(cls, column: pd.Series, **_: object) -> pd.Series:
        return predicate(column.astype(str))

    type(
        f"{class_name}Metric",
        (ColumnMapMetricProvider,),
        {
            "condition_metric_name": metric,
            "_pandas": column_condition_partial(engine=PandasExecutionEngine)(_pandas),
        },
    )
    return type(
        class_name,
        (ColumnMapExpectation,),
        {"__doc__": doc, "map_metric": metric, "success_keys": ("mostly",)},
    )


def _iso_date(column: pd.Series) -> pd.Series:
    shaped = column.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    parsed = pd.to_datetime(column.where(shaped), format="%Y-%m-%d", errors="coerce")
    return shaped & parsed.notna()


ExpectColumnValuesToBeValidUscc = _column_map_expectation(
    "ExpectColumnValuesToBeValidUscc",
    "column_values.govlake_valid_uscc",
    "统一社会信用代码: GB 32100 format and position-18 checksum (DOMAIN.md appendix); the "
    "个体工商户 placeholder 00000000000000000X is accepted (the record carries its 注册号).",
    lambda column: column.map(lambda c: c == USCC_PLACEHOLDER or is_valid_uscc(c)).astype(bool),
)
ExpectColumnValuesToBeValidIdNumber = _column_map_expectation(
    "ExpectColumnValuesToBeValidIdNumber",
    "column_values.govlake_valid_id_number",
    "公民身份号码: 18 characters, MOD 11-2 checksum, a real birth date not in the future, a region "
    "code that exists or existed (DOMAIN.md appendix).",
    lambda column: column.map(is_valid_id_number).astype(bool),
)
ExpectColumnValuesToHaveConsistentUsccOrgCode = _column_map_expectation(
    "ExpectColumnValuesToHaveConsistentUsccOrgCode",
    "column_values.govlake_uscc_org_code",
    "Position 17 of a 统一社会信用代码 is the GB 11714 check of positions 9-16.",
    lambda column: column.map(lambda c: len(c) == 18 and uscc_org_code_consistent(c)).astype(bool),
)
ExpectColumnValuesToBeIsoDate = _column_map_expectation(
    "ExpectColumnValuesToBeIsoDate",
    "column_values.govlake_iso_date",
    "A real calendar date written YYYY-MM-DD (what the normaliser makes of every date format).",
    _iso_date,
)
