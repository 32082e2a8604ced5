"""双公示 publicity on the portal (migration 0013, ``govlake.publish.publicity``): which penalty
decisions the portal shows on a day and why the others are not, counted by hand over a small set
of decisions on the embedded DuckDB warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from govlake import load
from govlake.config import PublicitySettings
from govlake.publish import publicity
from tests import handmade

PERSON, FIRM = "自然人", "法人及非法人组织"
DAY = date(2026, 6, 1)
REVOKED_ON = date(2026, 5, 28)
# decision -> (decision date, party type, party name, types, fine in 元, procedure, sector,
#              revoked on)
DECISIONS = {
    1: (date(2026, 5, 20), FIRM, "青岛某某有限公司", "罚款", 50_000, "普通", "市场监管", None),
    2: (date(2026, 5, 20), FIRM, "青岛甲有限公司", "警告", None, "普通", "市场监管", None),
    3: (date(2026, 5, 20), PERSON, "李四", "罚款", 100, "普通", "治安管理", None),
    4: (date(2026, 5, 20), FIRM, "青岛乙有限公司", "警告;罚款", 2_000, "普通", "市场监管", None),
    5: (date(2026, 5, 20), FIRM, "青岛丙有限公司", "罚款", 5_000, "简易", "市场监管", None),
    6: (date(2026, 5, 20), FIRM, "青岛丁有限公司", "罚款", 50_000, "普通", "市场监管", REVOKED_ON),
    7: (date(2026, 2, 1), FIRM, "青岛戊有限公司", "罚款", 50_000, "普通", "市场监管", None),
    8: (date(2023, 5, 1), FIRM, "青岛己有限公司", "罚款", 50_000, "普通", "市场监管", None),
    9: (date(2026, 6, 2), FIRM, "青岛庚有限公司", "罚款", 50_000, "普通", "市场监管", None),
    10: (date(2026, 5, 20), FIRM, "青岛辛有限公司", "罚款", 50_000, "普通", "消防", None),
    11: (date(2026, 5, 20), PERSON, "张三丰", "罚款", 10_000, "普通", "治安管理", None),
}  # fmt: skip
REPAIRED = {7: date(2026, 5, 25), 1: date(2026, 6, 2)}  # decision -> 信用修复 approved
# decision -> (shown, not published because, withdrawn because) on DAY, by hand
EXPECTED = {
    1: (True, None, None),
    2: (False, "exempt_types_only", None),
    3: (False, "low_fine", None),  # 100 元 ≤ 200 元 for a person
    4: (False, "low_fine", None),  # 警告 and 2,000 元 ≤ 3,000 元 for an organisation
    5: (False, "simple_procedure", None),
    6: (False, None, "revoked"),
    7: (False, None, "repaired"),
    8: (False, None, "expired"),  # 3 years after 2023-05-01
    9: (False, None, None),  # decided after the day
    10: (True, None, None),
    11: (True, None, None),
}


@pytest.fixture
def url(tmp_path) -> str:
    decisions, types = [], []
    for key, (decided, party, name, kinds, fine, procedure, sector, revoked) in DECISIONS.items():
        decisions.append(
            {
                "decision_id": key,
                "decision_date": decided,
                "party_type": party,
                "party_name": name,
                "legal_rep_name": "王五" if party == FIRM else None,
                "penalty_types": kinds,
                "fine_amount_wan": Decimal(fine) / 10_000 if fine else None,
                "procedure_type": procedure,
                "sector": sector,
                "revoked_on": revoked,
                "is_revoked": revoked is not None,
                "repaired_on": REPAIRED.get(key),
            }
        )
        types += [{"decision_id": key, "penalty_type": kind} for kind in kinds.split(";")]
    return handmade.warehouse(
        tmp_path,
        {
            "core.fct_penalty_decision": decisions,
            "core.fct_penalty_decision_type": types,
        },
    )


def _status(url: str) -> dict[int, tuple]:
    rows = handmade.query(
        url,
        "select decision_id, is_shown, not_published_reason, withdrawn_reason "
        "from mart.penalty_publicity",
    )
    return {key: tuple(rest) for key, *rest in rows}


def test_nothing_is_shown_before_the_first_publish(url):
    assert handmade.query(url, "select count(*) from portal.v1_penalty_publicity") == [(0,)]


def test_each_decision_is_shown_or_not_as_the_rules_say(url):
    handmade.publish(url, DAY)
    assert _status(url) == EXPECTED
    shown = handmade.query(url, "select decision_number from portal.v1_penalty_publicity")
    assert len(shown) == sum(s for s, _, _ in EXPECTED.values())


def test_periods_are_the_longest_that_applies(url):
    handmade.publish(url, DAY)
    rows = handmade.query(
        url,
        "select decision_id, earliest_repair_on, publicity_end_date, withdrawn_on "
        "from mart.penalty_publicity where decision_id in (1, 6, 8, 10) order by 1",
    )
    assert rows == [
        (1, date(2026, 8, 20), date(2029, 5, 20), None),
        (6, date(2026, 8, 20), date(2029, 5, 20), REVOKED_ON),
        (8, date(2023, 8, 1), date(2026, 5, 1), date(2026, 5, 1)),
        (10, date(2027, 5, 20), date(2029, 5, 20), None),  # 消防: a year at least
    ]


def test_a_penalty_appears_on_its_day_and_leaves_at_its_publicity_end(url):
    def shown(day: date) -> bool:
        handmade.publish(url, day)
        found = handmade.query(url, "select decision_id from mart.penalty_publicity where is_shown")
        return (9,) in found

    assert not shown(date(2026, 6, 1))
    assert shown(date(2026, 6, 2))
    assert shown(date(2029, 6, 1))
    assert not shown(date(2029, 6, 2))  # three years after 2026-06-02


def test_the_thresholds_are_configuration(url):
    rules = PublicitySettings(low_fine_person_yuan=50, publish_simple_procedure=True)
    handmade.publish(url, DAY, rules)
    status = _status(url)
    assert status[3] == (True, None, None)  # 100 元 is no longer low
    assert status[5] == (True, None, None)


def test_natural_persons_are_masked_and_their_representative_hidden(url):
    handmade.publish(url, DAY)
    rows = handmade.query(
        url,
        "select party_type, party_name, legal_rep_name from portal.v1_penalty_publicity "
        "order by decision_number, party_name",
    )
    people = [(name, rep) for kind, name, rep in rows if kind == PERSON]
    assert people == [("张**", None)]
    firms = {name for kind, name, _ in rows if kind == FIRM}
    assert firms == {"青岛某某有限公司", "青岛辛有限公司"}


def test_a_second_publish_of_the_day_changes_nothing(url):
    handmade.publish(url, DAY)
    before = handmade.query(url, "select * from mart.penalty_publicity order by decision_id")
    published = load.publish(url, publicity.rule_tables(PublicitySettings(), DAY))
    assert {t: (p.written, p.removed) for t, p in published.items()} == dict.fromkeys(
        published, (0, 0)
    )
    after = handmade.query(url, "select * from mart.penalty_publicity order by decision_id")
    assert after == before


def test_a_repair_takes_a_penalty_down_on_its_approval_day(url):
    handmade.publish(url, date(2026, 6, 2))
    assert _status(url)[1] == (False, None, "repaired")
    row = handmade.query(
        url, "select withdrawn_on from mart.penalty_publicity where decision_id = 1"
    )
    assert row == [(date(2026, 6, 2),)]
