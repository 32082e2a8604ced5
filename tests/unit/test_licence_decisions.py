"""The licence decision fact (行政许可决定) against values worked out by hand: its parties'
entities from the match table (no ID number on the fact), its case by licence number, the 双公示
publicity lag in working days across the 2026 National Day holiday, and being in force."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from govlake.transform.approval import fct_licence_decision
from govlake.transform.dates import date_dimension

AS_OF = date(2026, 10, 20)
LICENCES = "approval.licence_decisions"
# id, licence number, decided, entered, valid to, status
DECISIONS = [
    (1, "L-1", date(2026, 9, 29), datetime(2026, 10, 12, 9), date(2027, 9, 28), "有效"),
    (2, "L-2", date(2026, 9, 29), datetime(2026, 10, 20, 9), date(2027, 9, 28), "有效"),
    (3, "L-3", date(2026, 10, 9), datetime(2026, 10, 9, 17), date(2026, 10, 19), "有效"),
    (4, "L-4", date(2026, 10, 9), datetime(2026, 10, 10, 9), date(2027, 10, 8), "撤销"),
]
# By hand, the working days after 09-29: 09-30, 10-08, 10-09, 10-10 (调休 Saturday), 10-12 (5,
# on time); then 10-13..16, 10-19, 10-20 (11, late). Decision 3 was entered on its decision day
# (0); decision 4 the next day, a 调休 Saturday (1).
LAG = {1: 5, 2: 11, 3: 0, 4: 1}
IN_FORCE = {1: True, 2: True, 3: False, 4: False}  # 3 expired on 10-19, 4 was revoked


@pytest.fixture(scope="module")
def facts(spark):
    decisions = spark.createDataFrame(
        [
            (i, f"许决字{i}号", "许可证", "普通", number, "法人及非法人组织", f"企业{i}",
             "91370200MA3C5ABCDX", None, "张三", decided, decided, valid_to, "青岛市行政审批服务局",
             "11370200MB1234567X", status, entered, None)
            for i, number, decided, entered, valid_to, status in DECISIONS
        ],
        "decision_id long, decision_number string, licence_name string, "
        "licence_category string, licence_number string, holder_type string, "
        "holder_name string, holder_uscc string, holder_reg_number string, "
        "legal_rep_name string, decision_date date, valid_from date, valid_to date, "
        "authority_name string, authority_uscc string, status string, "
        "entered_at timestamp_ntz, dq_flags string",
    )  # fmt: skip
    cases = spark.createDataFrame(
        [(10, "L-1"), (11, "L-2"), (12, None)], "case_id long, licence_number string"
    )
    matches = spark.createDataFrame(
        [
            (LICENCES, "1", "holder", "E91370200MA3C5ABCDX"),
            (LICENCES, "1", "legal_rep", "Pabc"),
            ("approval.cases", "1", "applicant", "Ewrong"),  # another table's row 1
        ],
        "dataset string, source_key string, role string, entity_id string",
    )
    calendar = spark.createDataFrame(date_dimension(date(2026, 9, 1), date(2026, 10, 31)))
    rows = fct_licence_decision(decisions, cases, calendar, matches, AS_OF).toArrow()
    return {r["decision_id"]: r for r in rows.to_pylist()}


def test_publicity_lag_counts_working_days_across_the_holiday(facts):
    assert {i: r["publicity_lag_working_days"] for i, r in facts.items()} == LAG
    assert {i for i, r in facts.items() if not r["published_on_time"]} == {2}


def test_in_force_means_valid_on_the_build_day_and_not_withdrawn(facts):
    assert {i: r["in_force"] for i, r in facts.items()} == IN_FORCE


def test_parties_are_entities_and_cases_are_linked_by_licence_number(facts):
    assert facts[1]["holder_entity_id"] == "E91370200MA3C5ABCDX"
    assert facts[1]["legal_rep_entity_id"] == "Pabc"
    assert facts[2]["holder_entity_id"] is None  # unmatched: not another table's entity
    assert {i: r["case_id"] for i, r in facts.items()} == {1: 10, 2: 11, 3: None, 4: None}
    assert not [c for c in facts[1] if "id_number" in c]
