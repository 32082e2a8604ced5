"""The one normaliser. Runs once, before validation, vectorised over a pandas frame of raw rows.

Codes: NFKC (full-width to half-width), trim, upper-case. Text: trim and drop control characters,
NUL and bidi overrides; names otherwise stay as the source wrote them (they are published). Dates
in the usual department formats become ISO ``YYYY-MM-DD``. Region codes (columns named
``region_code`` or ``*_region_code``) that GB/T 2260 retired are mapped to their successors
(DOMAIN.md §4: never rejected; IDs and USCCs keep theirs). Every change is counted per column and
rule; values that cannot be normalised are left as they came, for validation to reject.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from govlake.contracts import Contract

_CONTROL = r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
# Retired 青岛 county-level codes and their successors (DOMAIN.md §4).
RETIRED_REGIONS = {"370205": "370203", "370284": "370211", "370282": "370215"}
# 2019-03-05, 2019/3/5, 2019.03.05, 20190305, 2019年3月5日
_DATE = r"^(\d{4})(?:[-/.年]?)(\d{1,2})(?:[-/.月]?)(\d{1,2})日?$"


def normalise(raw: pd.DataFrame, contract: Contract) -> tuple[pd.DataFrame, Counter[str]]:
    """A normalised copy of ``raw`` and the number of values changed, keyed ``column:rule``."""
    frame = raw.copy()
    changes: Counter[str] = Counter()
    for column in contract.columns:
        series = frame[column.name]
        if series.dtype != object:
            continue
        rules = []
        if column.normalise == "code":
            rules.append(("code", _code))
        elif column.normalise == "text":
            rules.append(("text", _text))
        if column.clean_type == "date":
            rules.append(("date", _date))
        if column.name == "region_code" or column.name.endswith("_region_code"):
            rules.append(("region", _region))
        for rule, fn in rules:
            updated = fn(series)
            changed = int((updated.ne(series) & series.notna()).sum())
            if changed:
                changes[f"{column.name}:{rule}"] += changed
            series = updated
        frame[column.name] = series
    return frame, changes


def _code(series: pd.Series) -> pd.Series:
    return series.str.normalize("NFKC").str.replace(r"\s+", "", regex=True).str.upper()


def _text(series: pd.Series) -> pd.Series:
    return series.str.replace(_CONTROL, "", regex=True).str.strip()


def _region(series: pd.Series) -> pd.Series:
    return series.replace(RETIRED_REGIONS)


def _date(series: pd.Series) -> pd.Series:
    trimmed = series.str.normalize("NFKC").str.strip()
    parts = trimmed.str.extract(_DATE)
    iso = parts[0] + "-" + parts[1].str.zfill(2) + "-" + parts[2].str.zfill(2)
    return iso.where(parts[0].notna(), trimmed)
