"""Benchmarks (``make bench``): figures, not pass/fail. Each runs in a scratch var directory."""

from __future__ import annotations

import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from govlake.config import Settings


def simulator(scale: str, until: date, days: int = 1) -> dict:
    """Time ``simulate init`` at ``scale`` to SQLite, then ``days`` of changes."""
    from govlake.simulator import run

    with tempfile.TemporaryDirectory(prefix="govlake-bench-") as scratch:
        settings = Settings(var_dir=Path(scratch), _env_file=None)
        started = time.perf_counter()
        counts = run.init(settings, seed=7, scale=scale, until=until)
        init_s = time.perf_counter() - started
        started = time.perf_counter()
        for offset in range(1, days + 1):
            run.day(settings, date.fromordinal(until.toordinal() + offset))
        day_s = (time.perf_counter() - started) / max(days, 1)
        size = sum(p.stat().st_size for p in (Path(scratch) / "sources").glob("*.sqlite"))
    rows = sum(counts.values())
    return {
        "scale": scale,
        "rows": rows,
        "init_seconds": round(init_s, 1),
        "rows_per_second": round(rows / init_s),
        "seconds_per_day": round(day_s, 2),
        "sqlite_megabytes": round(size / 2**20),
        "peak_memory_megabytes": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
