"""The working-day calendar (govlake.workdays) and the date dimension built from it."""

from __future__ import annotations

from datetime import date

import pytest

from govlake import workdays
from govlake.transform.dates import date_dimension


@pytest.fixture
def overrides(tmp_path, monkeypatch):
    """An override file of one's own; the calendar's caches are cleared around the test."""
    path = tmp_path / "calendar_overrides.csv"
    monkeypatch.setattr(workdays, "OVERRIDES", path)
    for cached in (workdays.overrides, workdays.is_workday, workdays.year_working_days):
        cached.cache_clear()
    yield path
    for cached in (workdays.overrides, workdays.is_workday, workdays.year_working_days):
        cached.cache_clear()


def test_the_shipped_override_file_parses():
    assert isinstance(workdays.overrides(), dict)


def test_holidays_and_makeup_days_come_from_chinese_calendar():
    days = date_dimension(date(2026, 9, 19), date(2026, 10, 9)).set_index("day")
    national_day, makeup = days.loc[date(2026, 10, 1)], days.loc[date(2026, 9, 20)]  # Sunday
    assert not national_day.is_workday and national_day.holiday_name == "国庆节"
    assert makeup.is_workday and makeup.is_weekend and makeup.is_makeup_workday
    assert makeup.holiday_name == "国庆节"  # the make-up day of that holiday
    assert days.loc[date(2026, 10, 9)].is_workday and not days["provisional"].any()
    assert days["date_key"].iloc[0] == 20260919 and days["iso_weekday"].iloc[0] == 6


def test_an_unknown_year_counts_weekends_only_and_is_provisional(overrides):
    overrides.write_text("date,is_workday,name\n")
    days = date_dimension(date(2027, 1, 1), date(2027, 1, 10)).set_index("day")
    assert days["provisional"].all() and set(days["calendar_source"]) == {workdays.WEEKENDS_ONLY}
    assert days.loc[date(2027, 1, 1)].is_workday  # a Friday: New Year is not known yet
    assert not days.loc[date(2027, 1, 2)].is_workday


def test_the_override_file_decides_where_it_has_a_row(overrides):
    overrides.write_text(
        "# published by the State Council\n"
        "date,is_workday,name\n2027-01-01,false,元旦\n2027-01-02,TRUE,元旦\n"
    )
    days = date_dimension(date(2027, 1, 1), date(2027, 1, 3)).set_index("day")
    assert list(days["is_workday"]) == [False, True, False]
    assert list(days["calendar_source"]) == ["override", "override", "weekends_only"]
    assert days.loc[date(2027, 1, 2)].is_makeup_workday
    assert date(2027, 1, 2) in set(workdays.year_working_days(2027).astype(date))
    assert date(2027, 1, 1) not in set(workdays.year_working_days(2027).astype(date))
