"""Publication compliance (migration 0014): each decision's lag to publication in working days,
counted by hand over the 2025 National Day holiday (10-01 to 10-08 off; Sunday 09-28 and
Saturday 10-11 worked, 调休), on the embedded DuckDB warehouse."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from govlake.transform import dates
from tests import handmade

AS_OF = date(2025, 10, 20)
D = date.fromisoformat
# licence -> (decided, entered, first published)
LICENCES = {
    1: (D("2025-08-01"), D("2025-08-01"), D("2025-09-01")),  # before the first build: not judged
    2: (D("2025-09-26"), D("2025-09-26"), D("2025-10-09")),
    3: (D("2025-09-26"), D("2025-10-16"), D("2025-10-17")),
    4: (D("2025-09-30"), D("2025-09-30"), D("2025-10-15")),
    5: (D("2025-09-29"), D("2025-09-30"), D("2025-10-25")),  # after the publish day
    6: (D("2025-10-16"), D("2025-10-16"), D("2025-10-30")),
    7: (D("2026-12-28"), D("2026-12-28"), D("2027-01-08")),  # after AS_OF: not yet judged
}
# By hand, on the calendar: 9-26 (Fri) to 10-09 counts 9-28, 9-29, 9-30, 10-09 = 4, where
# weekdays alone would count 9; to 10-17 adds 10-10, 10-11, 10-13..10-17 = 11 (entered on 10-16:
# 10 working days late, so the department's late entry is the cause); 9-30 to 10-15 = 6; 9-29
# unpublished on 10-20 = 10 (overdue; entered the next day, so govlake published late); 10-16 to
# 10-20 = 2 (pending).
EXPECTED = {
    2: (D("2025-10-09"), 4, "on_time", None),
    3: (D("2025-10-17"), 11, "late", "entered_late"),
    4: (D("2025-10-15"), 6, "on_time", None),
    5: (None, 10, "overdue", "published_late"),
    6: (None, 2, "pending", None),
}


@pytest.fixture
def url(tmp_path) -> str:
    licences = [
        {"decision_id": k, "decision_number": f"许{k}", "authority_name": "市行政审批局",
         "authority_uscc": "11370200MB0000001A", "decision_date": decided,
         "entered_at": datetime.combine(entered, datetime.min.time()), "first_published_on": first}
        for k, (decided, entered, first) in LICENCES.items()
    ]  # fmt: skip
    # Penalties: one published like licence 2, one never published (a warning only), one
    # from before the first build.
    penalties = [
        {"decision_id": k, "decision_number": f"罚{k}", "decision_date": decided,
         "entered_at": datetime.combine(decided, datetime.min.time()),
         "first_published_on": first, "penalty_types": kind, "fine_amount_wan": fine,
         "procedure_type": "普通", "party_type": "法人及非法人组织"}
        for k, kind, fine, decided, first in (
            (1, "罚款", 5, D("2025-09-26"), D("2025-10-09")),
            (2, "警告", None, D("2025-09-26"), D("2025-10-09")),
            (3, "罚款", 5, D("2025-08-01"), D("2025-09-01")),
        )
    ]  # fmt: skip
    kinds = [
        {"decision_id": p["decision_id"], "penalty_type": p["penalty_types"]} for p in penalties
    ]
    calendar = dates.date_dimension(date(2025, 1, 1), date(2027, 12, 31))
    return handmade.warehouse(
        tmp_path,
        {
            "core.dim_date": pa.Table.from_pandas(calendar, preserve_index=False),
            "core.fct_licence_decision": licences,
            "core.fct_penalty_decision": penalties,
            "core.fct_penalty_decision_type": kinds,
        },
    )


def test_lags_are_counted_in_working_days_with_the_holiday_and_its_makeup_days(url):
    handmade.publish(url, AS_OF)
    rows = handmade.query(
        url,
        "select decision_id, published_on, lag_working_days, status, cause "
        "from mart.publication_compliance where kind = 'licence'",
    )
    assert {k: tuple(rest) for k, *rest in rows} == EXPECTED


def test_only_published_kinds_of_penalty_count(url):
    handmade.publish(url, AS_OF)
    rows = handmade.query(
        url, "select decision_id, status from mart.publication_compliance where kind = 'penalty'"
    )
    assert rows == [(1, "on_time")]


def test_the_monthly_mart_and_the_portal_list_follow(url):
    handmade.publish(url, AS_OF)
    monthly = handmade.query(
        url,
        "select month, decisions, on_time, late, overdue_unpublished, pending, entered_late "
        "from mart.publication_compliance_monthly where kind = 'licence' order by month",
    )
    assert monthly == [(D("2025-09-01"), 4, 2, 1, 1, 0, 1), (D("2025-10-01"), 1, 0, 0, 0, 1, 0)]
    listed = handmade.query(
        url,
        "select decision_number, status from portal.v1_publication_compliance order by 1",
    )
    assert listed == [("许3", "late"), ("许5", "overdue")]


def test_a_year_the_calendar_does_not_know_gives_provisional_figures(url):
    handmade.publish(url, D("2027-01-08"))  # the calendar knows 2025 and 2026, not 2027
    rows = handmade.query(
        url,
        "select decision_id, lag_working_days from mart.publication_compliance "
        "where kind = 'licence' and provisional",
    )
    assert rows == [(7, 9)]  # 2026-12-28 to 2027-01-08, 2027's weekends only
