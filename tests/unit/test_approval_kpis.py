"""The case fact's working days and the approval KPI mart against figures worked out by hand
over the 2026 National Day and Mid-Autumn holidays (国庆 10-01..07 with 调休 on Sunday 09-20
and Saturday 10-10; 中秋 09-25..27), with a suspension and open cases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from govlake import load
from govlake.transform.approval import fct_case
from govlake.transform.dates import date_dimension

AS_OF = date(2026, 10, 13)
# case, department, channel, accepted, decided, suspended, promised, legal limit (working days)
CASES = [
    ("A", 1, "网上", date(2026, 9, 29), date(2026, 10, 9), 0, 5, 20),
    ("B", 1, "窗口", date(2026, 9, 18), date(2026, 9, 21), 0, 1, 20),
    ("C", 1, "网上", date(2026, 9, 21), date(2026, 10, 12), 5, 5, 8),
    ("D", 2, "自助", date(2026, 9, 24), date(2026, 10, 13), 0, 5, 8),
    ("E", 2, "网上", date(2026, 9, 28), None, 0, 10, 20),
    ("F", 2, "窗口", date(2026, 9, 17), None, 0, 5, 20),
    ("G", 2, "网上", None, None, 0, 5, 20),  # submitted, not accepted yet
]
# By hand: the working days after acceptance up to the decision (or AS_OF), less suspensions.
# A: 09-30, 10-08, 10-09. B: 09-20 (调休), 09-21. C: 09-22..24, 09-28..30, 10-08..10, 10-12 = 10,
# less 5. D: 09-28..30, 10-08..10, 10-12, 10-13. E: 09-29, 09-30, 10-08..10, 10-12, 10-13.
# F: 09-18, 09-20..24, 09-28..30, 10-08..10, 10-12, 10-13.
ELAPSED = {"A": 3, "B": 2, "C": 5, "D": 8, "E": 7, "F": 14, "G": None}
ON_TIME = {"A": (True, True), "B": (False, True), "C": (True, True), "D": (False, True)}
OVERDUE = {"B", "D", "F"}


def _at(day: date | None, hour: int) -> datetime | None:
    return datetime(day.year, day.month, day.day, hour) if day else None


@pytest.fixture(scope="module")
def facts(spark):
    cases = spark.createDataFrame(
        [
            (i, number, i, dept, "法人", channel, _at(accepted or date(2026, 9, 30), 9),
             _at(accepted, 10), _at(decided, 16), suspended, "准予" if decided else None,
             None, None)
            for i, (number, dept, channel, accepted, decided, suspended, _, _) in enumerate(CASES)
        ],
        "case_id long, case_number string, item_id long, department_id long, "
        "applicant_type string, channel string, submitted_at timestamp_ntz, "
        "accepted_at timestamp_ntz, decided_at timestamp_ntz, suspended_days long, "
        "result string, licence_number string, dq_flags string",
    )  # fmt: skip
    items = spark.createDataFrame(
        [(i, legal, promised) for i, (*_, promised, legal) in enumerate(CASES)],
        "item_id long, legal_limit_days long, promised_limit_days long",
    )
    matches = spark.createDataFrame(
        [], "dataset string, source_key string, role string, entity_id string"
    )
    calendar = spark.createDataFrame(date_dimension(date(2026, 9, 1), date(2026, 10, 31)))
    rows = fct_case(cases, items, calendar, matches, AS_OF).toArrow()
    return {r["case_number"]: r for r in rows.to_pylist()}, rows


def test_elapsed_working_days_skip_holidays_and_suspensions(facts):
    by_case, _ = facts
    assert {c: r["elapsed_working_days"] for c, r in by_case.items()} == ELAPSED


def test_on_time_and_overdue_flags(facts):
    by_case, _ = facts
    decided = {c: (r["on_time_promised"], r["on_time_legal"]) for c, r in by_case.items()}
    assert decided == {**ON_TIME, "E": (None, None), "F": (None, None), "G": (None, None)}
    assert {c for c, r in by_case.items() if r["overdue"]} == OVERDUE


def test_the_kpi_mart_gives_the_hand_computed_rates(facts, tmp_path):
    _, rows = facts
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    load.migrate(url)
    departments = pa.table(
        {"department_id": [1, 2], "department_code": ["D1", "D2"], "name": ["一局", "二局"],
         "uscc": ["u1", "u2"], "region_code": ["370200", "370200"]}
    )  # fmt: skip
    load.replace_tables(url, {"core.dim_department": departments, "core.fct_case": rows})
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        got = con.execute(
            "select department_name, month, accepted_cases, online_cases, online_rate, "
            "decided_cases, on_time_promised_rate, on_time_legal_rate, overdue_decided_cases "
            "from mart.approval_kpi_monthly order by 1, 2"
        ).fetchall()
    sept, october = date(2026, 9, 1), date(2026, 10, 1)
    third = Decimal(1) / 3
    expected = [
        ("一局", sept, 3, 2, 2 * third, 1, 0, 1, 1),  # B decided in September, late
        ("一局", october, 0, 0, None, 2, 1, 1, 0),  # A and C
        ("二局", sept, 3, 1, third, 0, None, None, 0),  # G was never accepted
        ("二局", october, 0, 0, None, 1, 0, 1, 1),  # D
    ]
    assert [_rounded(r) for r in got] == [_rounded(r) for r in expected]


def _rounded(row: tuple) -> tuple:
    return tuple(round(float(v), 6) if isinstance(v, float | Decimal) else v for v in row)
