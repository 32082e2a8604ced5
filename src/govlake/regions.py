"""青岛's 行政区划代码 (GB/T 2260), dated: the file ``warehouse/regions.csv`` is the one list of
codes, their validity and the successor of each retired code, read by the quality step (which
maps retired codes to successors), the simulator and the warehouse's region dimension."""

from __future__ import annotations

import csv
from datetime import date
from functools import lru_cache

import pandas as pd

from govlake.config import PROJECT_DIR

REGIONS = PROJECT_DIR / "warehouse" / "regions.csv"


@lru_cache(maxsize=1)
def _rows() -> tuple[dict[str, str], ...]:
    with REGIONS.open(encoding="utf-8", newline="") as file:
        return tuple(csv.DictReader(line for line in file if not line.startswith("#")))


def successors() -> dict[str, str]:
    """Retired code -> the code that replaced it."""
    return {r["region_code"]: r["successor_code"] for r in _rows() if r["successor_code"]}


def districts() -> list[str]:
    """The current county-level codes (区 and 县级市), not the city's own (…00, …01 市辖区)."""
    return [
        r["region_code"]
        for r in _rows()
        if not r["valid_to"] and r["region_code"][4:] not in ("00", "01")
    ]


def dimension() -> pd.DataFrame:
    """core.dim_region: every code with its validity, successor and current code (itself when
    it is current), so facts keyed by an old code still find the district that holds it now."""
    frame = pd.DataFrame(_rows()).replace({"": None})
    for column in ("valid_from", "valid_to"):
        frame[column] = [date.fromisoformat(d) if d else None for d in frame[column]]
    successor = dict(zip(frame["region_code"], frame["successor_code"], strict=True))
    frame["current_code"] = [_current(code, successor) for code in frame["region_code"]]
    frame["is_current"] = frame["valid_to"].isna()
    return frame


def _current(code: str, successor: dict[str, str | None]) -> str:
    while successor.get(code):
        code = successor[code]
    return code
