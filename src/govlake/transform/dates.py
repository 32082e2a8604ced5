"""The date dimension (core.dim_date): one row per day, with the China working-day calendar of
``govlake.workdays`` (statutory holidays, 调休 make-up days, the override file), so marts count
working days by joining it instead of calling a library per row."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from govlake import workdays

FIRST_DAY = date(2000, 1, 1)  # before any decision, case or tender the sources hold


def last_day(build_day: date) -> date:
    """The dimension reaches the end of the year after the build's: deadlines run ahead."""
    return date(build_day.year + 1, 12, 31)


def date_dimension(first: date, last: date) -> pd.DataFrame:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    frame = pd.DataFrame({"day": days})
    stamp = pd.to_datetime(frame["day"])
    sources = [workdays.source(d) for d in days]
    weekend = stamp.dt.dayofweek >= 5
    workday = pd.Series([workdays.is_workday(d) for d in days])
    return frame.assign(
        date_key=stamp.dt.strftime("%Y%m%d").astype("int32"),
        year=stamp.dt.year.astype("int16"),
        quarter=stamp.dt.quarter.astype("int16"),
        month=stamp.dt.month.astype("int16"),
        day_of_month=stamp.dt.day.astype("int16"),
        iso_weekday=(stamp.dt.dayofweek + 1).astype("int16"),
        is_weekend=weekend,
        is_workday=workday,
        # Working days from FIRST_DAY up to and including the day: the working days after day a
        # up to and including day b are number(b) - number(a).
        workday_number=workday.cumsum().astype("int32"),
        is_makeup_workday=weekend & workday,  # 调休: a Saturday or Sunday worked
        holiday_name=[workdays.holiday_name(d) for d in days],
        calendar_source=sources,
        provisional=[s == workdays.WEEKENDS_ONLY for s in sources],
    )
