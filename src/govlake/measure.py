"""What the benchmarks measure a piece of work with: a fresh process, its wall time, its peak
memory and that of the processes it started (the Spark JVM of a spark-submit job)."""

from __future__ import annotations

import resource
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any


def in_child(function: Callable, *args: Any) -> Any:
    """Run ``function(*args)`` in a fresh process (spawned, not forked, so its peak RSS is its
    own)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def peak_rss_mb() -> int:
    """This process's peak resident set (VmHWM: unlike ``ru_maxrss`` it does not carry the
    parent's size over a spawn)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def children_peak_rss_mb() -> int:
    """The largest peak resident set of the processes this one started and waited for (and
    theirs): for a spark-submit job, the driver JVM."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
