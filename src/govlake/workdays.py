"""Working days (工作日): statutory holidays and 调休 make-up days from chinese_calendar; a year
the calendar does not know yet counts weekends only (DOMAIN.md appendix). One calendar for the
simulator and the quality rules, so both count the same days."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import chinese_calendar
import numpy as np

# The years chinese_calendar knows; before and after them only weekends count.
KNOWN_YEARS = range(min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1)


@lru_cache(maxsize=8192)
def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


@lru_cache(maxsize=64)
def year_working_days(year: int) -> np.ndarray:
    """The year's working days, ascending, as ``datetime64[D]``."""
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    if year not in KNOWN_YEARS:  # the same answer as is_workday, without a failed lookup a day
        return days[np.is_busday(days)]
    return days[np.array([is_workday(d) for d in days.astype(date)])]


def working_days(first_year: int, last_year: int) -> np.ndarray:
    """The working days of the years ``first_year`` to ``last_year`` (inclusive), ascending."""
    return np.concatenate([year_working_days(y) for y in range(first_year, last_year + 1)])
