"""Portal views of 公共资源交易 results and 政务服务 statistics (migration 0015): which awards the
portal lists on a day and with what, and the statistics per department and month as the KPI mart
counts them, worked out by hand over a small set of awards and cases on the embedded DuckDB
warehouse."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest

from govlake import load
from govlake.publish import privacy
from tests import handmade

RESULTS, STATISTICS = "portal.v1_transaction_results", "portal.v1_service_statistics"
AS_OF = date(2026, 10, 20)
D = date.fromisoformat
W = "91370200MA3C0001X1"  # the winners' codes: 统一社会信用代码 of organisations
W2 = "91370200MA3C0002X2"
# project: id, code, name, 交易类别, 交易方式
PROJECTS = [
    (1, "GC-1", "市民中心改造工程", "工程建设", "公开招标"),
    (2, "CG-2", "办公设备采购", "政府采购", "询价"),
    (3, "TD-3", "崂山区宗地出让", "土地使用权出让", "挂牌"),
]
# section: id, project, code, name (section 99 is withheld: no section row)
SECTIONS = [
    (11, 1, "GC-1-01", "土建"),
    (12, 1, "GC-1-02", "安装"),
    (21, 2, "CG-2-01", "计算机"),
    (31, 3, "TD-3-01", "LS2026-08"),
]
# award: id, section, winner (name, code), amount (万元), awarded, published, status
AWARDS = [
    (111, 11, "青岛海湾建设1有限公司", W, "310.5", D("2026-09-30"), D("2026-10-02"), "有效"),
    (112, 12, "青岛琴岛安装2有限公司", W2, "190", D("2026-10-08"), D("2026-10-09"), "撤销"),
    (121, 21, "青岛蓝谷科技3有限公司", W, "95.25", D("2026-10-16"), D("2026-10-21"), "有效"),
    (131, 31, "青岛黄海置业4有限公司", W2, "8800", D("2026-10-22"), D("2026-10-26"), "有效"),
    (991, 99, "青岛某某5有限公司", W, "12", D("2026-09-01"), D("2026-09-03"), "有效"),
]
# By hand on AS_OF: 111 shown; 112 shown as revoked; 121 decided by the day, announced after it;
# 131 decided after the day; 991 has no section to name it by.
SHOWN = [
    ("GC-1", "市民中心改造工程", "GC-1-01", "土建", "工程建设", "公开招标",
     "青岛海湾建设1有限公司", W, Decimal("310.5"), D("2026-09-30"), D("2026-10-02"), "有效",
     AS_OF),
    ("GC-1", "市民中心改造工程", "GC-1-02", "安装", "工程建设", "公开招标",
     "青岛琴岛安装2有限公司", W2, Decimal("190"), D("2026-10-08"), D("2026-10-09"), "撤销",
     AS_OF),
]  # fmt: skip
RESULT_COLUMNS = [
    "project_code", "project_name", "section_code", "section_name", "category", "method",
    "winner_name", "winner_uscc", "award_amount_wan", "awarded_on", "published_on", "status",
    "as_of",
]  # fmt: skip

# department: id, code, name (department 9 is withheld: its cases count in the mart only)
DEPARTMENTS = [(1, "D001", "市市场监管局"), (2, "D002", "市住房城乡建设局")]
DEPARTMENT_USCC = {1: "11370200MB0000001A", 2: "11370200MB0000002B"}
# case: department, online, accepted, decided, on time (promised, legal), overdue
CASES = [
    (1, True, D("2026-09-02"), D("2026-09-10"), True, True, False),
    (1, False, D("2026-09-05"), D("2026-09-25"), False, True, True),
    (1, True, D("2026-09-28"), D("2026-10-09"), True, True, False),
    (1, True, D("2026-10-08"), None, None, None, False),  # open
    (1, False, D("2026-10-12"), D("2026-10-15"), True, True, False),
    (1, True, D("2026-11-02"), None, None, None, False),  # accepted in a month after AS_OF's
    (1, True, None, None, None, None, False),  # submitted, not accepted
    (2, False, D("2026-09-15"), D("2026-10-20"), False, False, True),
    (2, True, D("2026-10-10"), D("2026-10-16"), True, True, False),
    (9, True, D("2026-09-03"), D("2026-09-04"), True, True, False),
]
SEPT, OCT, NOV = D("2026-09-01"), D("2026-10-01"), D("2026-11-01")
R = Decimal
# By hand, on AS_OF: department, month -> month complete, accepted, online, 网办率, decided,
# on time (promised) and rate, on time (legal) and rate, overdue decided. Accepted cases count
# in the month accepted, decided ones in the month decided (case 3: accepted in September,
# decided in October; case 8: accepted in September, decided and overdue in October).
STATISTICS_BY_HAND = {
    ("D001", SEPT): (True, 3, 2, R("0.6667"), 2, 1, R("0.5000"), 2, R("1.0000"), 1),
    ("D001", OCT): (False, 2, 1, R("0.5000"), 2, 2, R("1.0000"), 2, R("1.0000"), 0),
    ("D002", SEPT): (True, 1, 0, R("0.0000"), 0, 0, None, 0, None, 0),
    ("D002", OCT): (False, 1, 1, R("1.0000"), 2, 1, R("0.5000"), 1, R("0.5000"), 1),
}
FIGURES = (
    "month_complete, accepted_cases, online_cases, online_rate, decided_cases, "
    "on_time_promised_cases, on_time_promised_rate, on_time_legal_cases, on_time_legal_rate, "
    "overdue_decided_cases"
)
MART_FIGURES = (
    "accepted_cases, online_cases, online_rate, decided_cases, on_time_promised_cases, "
    "on_time_promised_rate, on_time_legal_cases, on_time_legal_rate, overdue_decided_cases"
)


def _case_rows(cases) -> list[dict]:
    return [
        {"case_id": k, "case_number": f"BJ{k}", "item_id": k, "department_id": dept,
         "applicant_type": "法人", "channel": "网上" if online else "窗口", "is_online": online,
         "submitted_at": datetime(2026, 9, 1, 9), "submitted_on": D("2026-09-01"),
         "accepted_on": accepted, "decided_on": decided, "suspended_days": 0,
         "on_time_promised": promised, "on_time_legal": legal, "overdue": overdue}
        for k, (dept, online, accepted, decided, promised, legal, overdue) in enumerate(cases)
    ]  # fmt: skip


@pytest.fixture
def url(tmp_path) -> str:
    context = {p[0]: p for p in PROJECTS}
    section_of = {s[0]: s for s in SECTIONS}
    projects = [
        {"project_id": k, "project_code": code, "name": name, "category": category,
         "method": method, "budget_wan": Decimal(1000), "published_on": D("2026-09-01")}
        for k, code, name, category, method in PROJECTS
    ]  # fmt: skip
    sections = [
        {"section_id": k, "section_code": code, "name": name, "project_id": project,
         "project_code": context[project][1], "category": context[project][3],
         "method": context[project][4], "budget_wan": Decimal(500)}
        for k, project, code, name in SECTIONS
    ]  # fmt: skip
    awards = []
    for k, section, winner, uscc, amount, awarded, published, status in AWARDS:
        known = section_of.get(section)
        project = context[known[1]] if known else (None,) * 5
        awards.append(
            {"award_id": k, "section_id": section, "section_code": known and known[2],
             "project_id": project[0], "project_code": project[1], "category": project[3],
             "method": project[4], "winner_name": winner, "winner_uscc": uscc,
             "award_amount_wan": Decimal(amount), "awarded_on": awarded,
             "published_on": published, "status": status}
        )  # fmt: skip
    departments = [
        {"department_id": k, "department_code": code, "name": name,
         "uscc": DEPARTMENT_USCC[k], "region_code": "370200"}
        for k, code, name in DEPARTMENTS
    ]  # fmt: skip
    return handmade.warehouse(
        tmp_path,
        {
            "core.fct_tender_project": projects,
            "core.fct_tender_section": sections,
            "core.fct_award": awards,
            "core.dim_department": departments,
            "core.fct_case": _case_rows(CASES),
        },
    )


def _statistics(url: str) -> dict[tuple, tuple]:
    rows = handmade.query(url, f"select department_code, month, {FIGURES} from {STATISTICS}")  # noqa: S608
    return {(code, month): tuple(rest) for code, month, *rest in rows}


def test_nothing_is_shown_before_the_first_publish(url):
    assert handmade.query(url, f"select count(*) from {RESULTS}") == [(0,)]  # noqa: S608
    assert handmade.query(url, f"select count(*) from {STATISTICS}") == [(0,)]  # noqa: S608


def test_the_awards_decided_and_announced_by_the_day_are_shown_with_winner_and_amount(url):
    handmade.publish(url, AS_OF)
    rows = handmade.query(url, f"select * from {RESULTS} order by section_code")  # noqa: S608
    assert rows == SHOWN


def test_a_later_publish_shows_the_later_awards(url):
    handmade.publish(url, D("2026-10-26"))
    shown = handmade.query(url, f"select section_code, as_of from {RESULTS} order by 1")  # noqa: S608
    assert shown == [(s, D("2026-10-26")) for s in ("CG-2-01", "GC-1-01", "GC-1-02", "TD-3-01")]


def test_the_results_hold_no_personal_data(url):
    handmade.publish(url, D("2026-12-31"))
    with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as con:
        found = con.execute(f"select * from {RESULTS}")  # noqa: S608
        columns = [c[0] for c in found.description]
        records = [dict(zip(columns, row, strict=True)) for row in found.fetchall()]
    assert columns == RESULT_COLUMNS  # no ID number, phone, address, bid or 授权代表
    assert len(records) == 4
    assert privacy.scan_rows(RESULTS, records, {}) == []


def test_the_statistics_are_the_marts_figures_by_hand(url):
    handmade.publish(url, AS_OF)
    assert _statistics(url) == STATISTICS_BY_HAND
    mart = handmade.query(
        url,
        f"select d.department_code, m.month, {MART_FIGURES} from mart.approval_kpi_monthly m "  # noqa: S608
        "join core.dim_department d using (department_id) where m.month <= date '2026-10-31'",
    )
    by_mart = {}
    for code, month, *figures in mart:
        for at in (2, 5, 7):  # the rates: the mart's ratio, the portal's rounded to 4 decimals
            figures[at] = None if figures[at] is None else R(figures[at]).quantize(R("0.0001"))
        by_mart[code, month] = tuple(figures)
    assert by_mart == {key: figures[1:] for key, figures in STATISTICS_BY_HAND.items()}
    named = f"select distinct department_name, department_uscc, as_of from {STATISTICS}"  # noqa: S608
    expected = [(name, DEPARTMENT_USCC[k], AS_OF) for k, _, name in DEPARTMENTS]
    assert sorted(handmade.query(url, named)) == sorted(expected)


def test_a_month_is_shown_once_the_day_reaches_it_and_complete_after_its_last_day(url):
    handmade.publish(url, D("2026-11-02"))
    statistics = _statistics(url)
    assert statistics["D001", NOV][:3] == (False, 1, 1)
    assert statistics["D001", OCT][0] is True
    handmade.publish(url, D("2026-10-31"))
    assert _statistics(url)["D001", OCT][0] is True  # the month's last day
    assert ("D001", NOV) not in _statistics(url)


def test_rates_round_half_up_exactly(url):
    """57 of 800 cases online is 0.07125: half up 0.0713, where DuckDB's double-precision
    division of the mart's decimals would give 0.0712 (and PostgreSQL 0.0713)."""
    cases = [(1, k < 57, D("2026-08-03"), None, None, None, False) for k in range(800)]
    load.replace_tables(url, {"core.fct_case": _pylist_case_table(url, cases)})
    handmade.publish(url, AS_OF)
    row = handmade.query(url, f"select online_cases, online_rate from {STATISTICS}")  # noqa: S608
    assert row == [(57, R("0.0713"))]


def _pylist_case_table(url: str, cases):
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        return handmade.filled(con, "core.fct_case", _case_rows(cases))
