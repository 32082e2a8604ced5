"""The scaling curve of ``make bench``: every scale benchmarked with the same seed and last day
(``govlake bench --scale city*0.25,city,city*4``, or one scale per run: each run's figures are
kept under ``var/bench/scales/``), smallest first, with how each cost grows with the rows.

Growth between two scales is the exponent ``log(t₂/t₁) / log(n₂/n₁)``: 1 is linear in the rows,
below 1 means fixed costs still weigh (JVM start, the many small tables), above 1 means a cost
that outgrows the data. An incremental day that follows its delta, not the total, has a growth
near 0 against the total rows while its delta stays the same size.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

SCALES_DIR = "scales"  # under var/bench: one results file per scale, seed and last day


def save(bench_dir: Path, results: dict) -> Path:
    """Keeps one scale's figures for the curve; returns the file."""
    folder = bench_dir / SCALES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{results['scale'].replace('*', 'x')}-seed{results['seed']}-{results['until']}.json"
    (folder / name).write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return folder / name


def points(bench_dir: Path, seed: int, until: str) -> list[dict[str, Any]]:
    """One point per scale benchmarked with ``seed`` and ``until``, smallest first."""
    found = []
    for file in sorted((bench_dir / SCALES_DIR).glob("*.json")):
        results = json.loads(file.read_text())
        if results["seed"] == seed and results["until"] == until and "warehouse" in results:
            found.append(_point(results))
    found.sort(key=lambda p: p["clean_rows"])
    for before, after in zip(found, found[1:], strict=False):
        after["growth"] = {
            cost: _growth(before, after, cost, "clean_rows")
            for cost in ("full_seconds", "transform_seconds", "load_seconds", "peak_rss_mb")
        }
        after["growth"]["incremental_seconds"] = _growth(
            before, after, "incremental_seconds", "clean_rows"
        )
    return found


def _point(results: dict) -> dict[str, Any]:
    warehouse = results["warehouse"]
    transform, load = warehouse["transform"], warehouse["load"]
    day = warehouse.get("incremental", {})
    return {
        "scale": results["scale"],
        "source_rows": results["sources"]["rows"],
        "clean_rows": warehouse["clean_rows"],
        "full_seconds": warehouse["seconds"],
        "transform_seconds": transform["seconds"],
        "load_seconds": load["seconds"],
        "reference_seconds": warehouse["reference"]["seconds"],
        "peak_rss_mb": max(transform["peak_rss_mb"], load["peak_rss_mb"]),
        "microseconds_per_row": round(1e6 * warehouse["seconds"] / warehouse["clean_rows"], 1),
        "incremental_seconds": day.get("seconds"),
        "incremental_day_rows": day.get("day_rows"),
    }


def _growth(before: dict, after: dict, cost: str, size: str) -> float | None:
    if not before.get(cost) or not after.get(cost) or after[size] == before[size]:
        return None
    return round(math.log(after[cost] / before[cost]) / math.log(after[size] / before[size]), 2)


def table(found: list[dict]):
    """A Rich table of the curve."""
    from rich.table import Table

    curve = Table(
        "scale",
        "clean rows",
        "full build s (growth)",
        "transform s (growth)",
        "load s (growth)",
        "µs per row",
        "peak RSS MB (growth)",
        "incremental day s (growth)",
        "its day's rows",
        title="scaling curve (growth: exponent of the cost in the rows since the scale above; "
        "1 = linear)",
    )
    for p in found:
        growth = p.get("growth", {})
        curve.add_row(
            p["scale"],
            f"{p['clean_rows']:,}",
            _with_growth(p["full_seconds"], growth.get("full_seconds")),
            _with_growth(p["transform_seconds"], growth.get("transform_seconds")),
            _with_growth(p["load_seconds"], growth.get("load_seconds")),
            f"{p['microseconds_per_row']}",
            _with_growth(p["peak_rss_mb"], growth.get("peak_rss_mb")),
            _with_growth(p["incremental_seconds"], growth.get("incremental_seconds")),
            f"{p['incremental_day_rows']:,}" if p["incremental_day_rows"] is not None else "",
        )
    return curve


def _with_growth(value: float | None, growth: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,}" + (f" ({growth})" if growth is not None else "")
