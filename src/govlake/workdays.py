"""Working days (工作日): statutory holidays and 调休 make-up days from chinese_calendar, then the
override file ``warehouse/calendar_overrides.csv`` for what it does not know yet (a year the State
Council has published since, or a correction); a day neither knows counts weekends only and is
*provisional* (DOMAIN.md appendix). One calendar for the simulator, the quality rules and the
warehouse's date dimension, so all of them count the same days."""

from __future__ import annotations

import csv
from datetime import date
from functools import lru_cache

import chinese_calendar
import numpy as np

from govlake.config import PROJECT_DIR

OVERRIDES = PROJECT_DIR / "warehouse" / "calendar_overrides.csv"
# The years chinese_calendar knows; before and after them only weekends count.
KNOWN_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)
CHINESE_CALENDAR, OVERRIDE, WEEKENDS_ONLY = "chinese_calendar", "override", "weekends_only"


@lru_cache(maxsize=1)
def overrides() -> dict[date, tuple[bool, str]]:
    """The override file: day -> (is a working day, the holiday or 调休's name)."""
    with OVERRIDES.open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(line for line in file if not line.startswith("#"))
        return {
            date.fromisoformat(r["date"]): (r["is_workday"].strip().lower() == "true", r["name"])
            for r in rows
        }


def source(day: date) -> str:
    """Which calendar decides ``day``: the override file, chinese_calendar, or weekends only."""
    if day in overrides():
        return OVERRIDE
    return CHINESE_CALENDAR if day.year in KNOWN_YEARS else WEEKENDS_ONLY


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    if day in overrides():
        return overrides()[day][0]
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def holiday_name(day: date) -> str | None:
    """The statutory holiday (or its 调休 working day) ``day`` belongs to, if any."""
    if day in overrides():
        return overrides()[day][1] or None
    if day.year not in KNOWN_YEARS:
        return None
    _, holiday = chinese_calendar.get_holiday_detail(day)  # its English name, or None
    return chinese_calendar.Holiday(holiday).chinese if holiday else None


@lru_cache(maxsize=64)
def year_working_days(year: int) -> np.ndarray:
    """The year's working days, ascending, as ``datetime64[D]``."""
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    overridden = any(d.year == year for d in overrides())
    if year not in KNOWN_YEARS and not overridden:  # is_workday's answer, without a lookup a day
        return days[np.is_busday(days)]
    return days[np.array([is_workday(d) for d in days.astype(date)])]


def working_days(first_year: int, last_year: int) -> np.ndarray:
    """The working days of the years ``first_year`` to ``last_year`` (inclusive), ascending."""
    return np.concatenate([year_working_days(y) for y in range(first_year, last_year + 1)])
