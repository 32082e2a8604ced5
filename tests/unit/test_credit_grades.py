"""Credit grades (migration 0016, ``govlake.publish.grading``): every enterprise's score and grade
A–D worked out by hand from a few records, the points that explain each grade, the model as
configuration (caps, floors, its version), on the embedded DuckDB warehouse."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from govlake.config import CreditScoringSettings
from govlake.publish import grading
from tests import handmade

DAY = date(2026, 6, 1)
FIRM, PERSON = "法人及非法人组织", "自然人"
# entity -> (kind, uscc, name)
ENTITIES = {
    "E1": ("enterprise", "91370200MA00000011", "青岛甲有限公司"),
    "E2": ("enterprise", "91370200MA00000022", "青岛乙有限公司"),
    "E3": ("enterprise", "91370200MA00000033", "青岛丙有限公司"),
    "E4": ("enterprise", "91370200MA00000044", "青岛丁有限公司"),
    "E5": ("enterprise", "91370200MA00000055", "青岛戊有限公司"),
    "P1": ("person", None, "张三"),  # known to the credit system
    "P2": ("person", None, "李四"),  # not known to it
}
PERSONS = {"P1": ("370202199001011237", "100"), "P2": ("370202198502023456", None)}
# decision -> (party, fine in 万元, decided on, revoked on)
PENALTIES = {
    1: ("E1", "12", date(2026, 5, 1), None),  # 10万 band: -20
    2: ("E2", "0.5", date(2025, 3, 1), None),  # 0万 band, older than 12 months: -5 * 50% = -2
    3: ("E2", "60", date(2026, 4, 1), None),  # 50万 band: -30
    4: ("E4", "20", date(2026, 5, 2), date(2026, 5, 20)),  # revoked: no record in force
    5: ("P1", "1", date(2026, 5, 3), None),  # a person's: a record, not graded
    6: ("P2", "2", date(2026, 5, 4), None),
}
ENDED = date(2026, 1, 1)
# event -> (entity, type, level, on, ends on)
EVENTS = {
    "credit.tax_credit_levels:1": ("E1", "纳税信用等级", "A", date(2026, 4, 1), None),  # +30
    "credit.tax_credit_levels:2": ("E2", "纳税信用等级", "D", date(2026, 4, 1), None),  # -100
    "credit.abnormal_operations:1": ("E2", "经营异常名录", None, date(2026, 2, 1), None),  # -50
    "credit.dishonest_debtors:1": ("E3", "失信被执行人", None, date(2026, 3, 1), None),  # D
    "credit.serious_dishonesty:1": ("E4", "严重失信主体名单", None, date(2025, 1, 1), ENDED),
}  # fmt: skip
LICENCES = {1: ("E4", True), 2: ("E5", False)}  # decision -> (holder, in force)
# By hand, default model: score, grade, override
EXPECTED = {
    "91370200MA00000011": (1010, "A", None),  # 1000 - 20 + 30
    "91370200MA00000022": (818, "B", None),  # 1000 - 2 - 30 - 100 - 50
    "91370200MA00000033": (1000, "D", "失信被执行人"),
    "91370200MA00000044": (1000, "A", None),  # revoked penalty, ended listing, a licence
    "91370200MA00000055": (1000, "A", None),
}


def _penalty_rows() -> tuple[list[dict], list[dict]]:
    decisions = [
        {
            "decision_id": key, "decision_number": f"青市监罚〔2026〕{key}号",
            "party_entity_id": party, "party_type": PERSON if party[0] == "P" else FIRM,
            "decision_date": decided, "fine_amount_wan": Decimal(fine),
            "penalty_types": "罚款", "procedure_type": "普通", "sector": "市场监管",
            "revoked_on": revoked, "is_revoked": revoked is not None,
            "authority_name": "青岛市市场监督管理局", "violation_type": "虚假宣传",
        }
        for key, (party, fine, decided, revoked) in PENALTIES.items()
    ]  # fmt: skip
    types = [{"decision_id": key, "penalty_type": "罚款"} for key in PENALTIES]
    return decisions, types


def warehouse_rows() -> dict[str, list[dict]]:
    """The hand-made entities, penalties, licences and credit events, per warehouse table."""
    decisions, types = _penalty_rows()
    entities = [
        {"entity_id": e, "entity_kind": kind, "uscc": uscc, "name": name, "registered": True}
        for e, (kind, uscc, name) in ENTITIES.items()
    ]
    identities = [
        {"entity_id": e, "id_number": number, "register_id": register}
        for e, (number, register) in PERSONS.items()
    ]
    events = [
        {"event_key": key, "dataset": key.split(":")[0], "record_id": 1, "entity_id": entity,
         "event_type": kind, "level": level, "event_on": on, "ends_on": ends,
         "is_active": ends is None or ends > DAY, "authority": "青岛市税务局"}
        for key, (entity, kind, level, on, ends) in EVENTS.items()
    ]  # fmt: skip
    licences = [
        {"decision_id": key, "decision_number": f"青许〔2026〕{key}号", "holder_entity_id": holder,
         "decision_date": date(2025, 1, 1), "valid_to": date(2030, 1, 1) if live else DAY,
         "status": "有效", "in_force": live, "licence_name": "食品经营许可证"}
        for key, (holder, live) in LICENCES.items()
    ]  # fmt: skip
    return {
        "core.entity": entities,
        "restricted.person_identity": identities,
        "core.fct_penalty_decision": decisions,
        "core.fct_penalty_decision_type": types,
        "core.fct_credit_event": events,
        "core.fct_licence_decision": licences,
    }


@pytest.fixture
def url(tmp_path) -> str:
    return handmade.warehouse(tmp_path, warehouse_rows())


def _grades(url: str) -> dict[str, tuple]:
    rows = handmade.query(
        url, "select subject_key, score, grade, override_reason from mart.credit_grade"
    )
    return {key: tuple(rest) for key, *rest in rows}


def test_nothing_is_graded_before_the_first_publish(url):
    assert handmade.query(url, "select count(*) from mart.credit_grade") == [(0,)]


def test_every_enterprise_gets_the_hand_computed_grade(url):
    handmade.publish(url, DAY)
    assert _grades(url) == EXPECTED


def test_the_points_explain_every_score(url):
    handmade.publish(url, DAY)
    points = handmade.query(
        url,
        "select subject_key, record_key, rule, points, grades_d from mart.credit_grade_points",
    )
    firm1, firm2, firm3 = sorted(EXPECTED)[:3]
    penalty, band = "enforcement.penalty_decisions:", "penalty_fine_band"
    assert {(k, r): (rule, p, d) for k, r, rule, p, d in points} == {
        (firm1, f"{penalty}1"): (band, -20, False),
        (firm1, "credit.tax_credit_levels:1"): ("record_points", 30, False),
        (firm2, f"{penalty}2"): (band, -2, False),
        (firm2, f"{penalty}3"): (band, -30, False),
        (firm2, "credit.tax_credit_levels:2"): ("record_points", -100, False),
        (firm2, "credit.abnormal_operations:1"): ("record_points", -50, False),
        (firm3, "credit.dishonest_debtors:1"): ("grade_d_override", 0, True),
    }
    for key, (score, _, _) in EXPECTED.items():
        assert 1000 + sum(p for k, _, _, p, _ in points if k == key) == score


def test_records_out_of_force_say_since_when_and_why(url):
    handmade.publish(url, DAY)
    rows = handmade.query(
        url,
        "select record_key, in_force, withdrawn_on, withdrawn_reason from mart.credit_records "
        "where not in_force order by 1",
    )
    assert rows == [
        ("approval.licence_decisions:2", False, DAY, "expired"),
        ("credit.serious_dishonesty:1", False, ENDED, "ended"),
        ("enforcement.penalty_decisions:4", False, date(2026, 5, 20), "revoked"),
    ]


def test_the_model_is_configuration(url):
    model = CreditScoringSettings(
        record_points={"纳税信用等级": {"A": 150}}, bonus_cap=100, grade_a_points=1100
    )
    handmade.publish(url, DAY, model=model)
    grades = _grades(url)
    assert grades["91370200MA00000011"] == (1080, "B", None)  # 1000 - 20 + min(150, 100)
    assert grades["91370200MA00000022"] == (968, "B", None)  # no tax D, no 经营异常 points
    version = handmade.query(url, "select distinct model_version from mart.credit_grade")
    assert version == [(grading.model_version(model),)]
    assert grading.model_version(model) != grading.model_version(CreditScoringSettings())
    assert grading.model_version(model) == grading.model_version(
        CreditScoringSettings(**model.model_dump())
    )


def test_an_older_penalty_counts_its_share_once_past_the_recent_months(url):
    later = DAY + timedelta(days=40)  # 2026-07-11: recent means since 2026-06-11
    handmade.publish(
        url, later, model=CreditScoringSettings(penalty_recent_months=1, penalty_older_percent=25)
    )
    points = dict(handmade.query(url, "select record_key, points from mart.credit_grade_points"))
    assert points["enforcement.penalty_decisions:1"] == -5  # 20 * 25%
    assert points["enforcement.penalty_decisions:3"] == -7  # 30 * 25%, rounded down
    assert points["enforcement.penalty_decisions:2"] == -1  # 5 * 25%
