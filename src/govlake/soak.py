"""``govlake soak`` (``make soak``): convergence over many days, not pass/fail of one run.

On the embedded profile, in its own var directory (``<var>/soak/``, replaced each time):

1. the simulated sources' history up to the first day, loaded as a full snapshot;
2. every later day: the day's source changes, then its DAGs (extract, build_warehouse, publish,
   each under ``airflow dags test``); every seventh day from day 2 on is run three times;
3. a backfill of up to seven early days (each day's DAGs, oldest first), run once in the middle
   of the daily runs and again (reprocessing the completed days) before the last daily run, so
   daily runs build on a lake the backfills rewrote;
4. a clean build in a second var directory from the same final source state (the department
   databases, the trading centre's file sets, the person-key secret): one full snapshot on the
   last day;
5. every warehouse table's and view's content checksum (:func:`govlake.load.table_checksum`)
   in both, compared.

DESIGN.md's "identical" leaves out run metadata: the relations in :data:`RUN_METADATA` are
reported as left out, with the reason. Everything else must be the same.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from rich.table import Table

from govlake import load
from govlake.config import DagSettings, GateSettings, Settings
from govlake.steps import warehouse_url

Progress = Callable[[int, str], None]  # runs done so far, what is happening now

DAILY, RERUN, BACKFILL = "daily", "re-run", "backfill"
RERUN_EVERY = 7  # days 2, 9, 16, ... are run this often in all:
RUNS_OF_A_RERUN_DAY = 3
BACKFILL_DAYS = 7  # at most; fewer on a short soak
WAREHOUSE_SCHEMAS = ("core", "mart", "portal", "dq", "ops", "restricted")
# A row per validated batch (table and day, with its validation time): the daily runs validate
# one batch a day, the clean build one snapshot, so these differ by design.
RUN_METADATA = {
    "dq.table_runs": "a row per validated batch day, with its time",
    "dq.rule_counts": "rule counts per validated batch day",
    "mart.dq_pass_rates": "read off dq.table_runs",  # nosec B105 # a view name, no password
    "mart.dq_freshness": "read off dq.table_runs",
    "mart.dq_quarantine_by_reason": "read off dq.rule_counts",
}
SAME, DIFFERENT, LEFT_OUT = "same", "different", "left out"


@dataclass(frozen=True)
class Run:
    """One day's DAGs: ``daily`` first simulates the day's source changes (but on the first day,
    a full snapshot of the seeded history)."""

    day: date
    kind: str
    full: bool = False


@dataclass(frozen=True)
class Verdict:
    relation: str
    outcome: str  # SAME, DIFFERENT or LEFT_OUT
    detail: str = ""  # why left out, or which side lacks the relation


@dataclass
class SoakResult:
    days: int
    runs: list[Run]
    verdicts: list[Verdict]
    seconds: dict[str, float] = field(default_factory=dict)  # daily path, clean build, compare

    @property
    def converged(self) -> bool:
        return all(v.outcome != DIFFERENT for v in self.verdicts)


def schedule(first: date, days: int) -> list[Run]:
    """The runs of a soak over ``days`` days from ``first``, in order (at least three days: a
    backfill needs a past day and a later daily run)."""
    if days < 3:
        raise ValueError("a soak needs at least 3 days")
    calendar = [first + timedelta(days=i) for i in range(days)]
    backfill = calendar[1 : 1 + min(BACKFILL_DAYS, (days - 1) // 2)]
    # The daily runs each backfill follows: the middle day's, and the last but one's.
    passes = [calendar[(days - 1) // 2], calendar[days - 2]]
    runs = [Run(first, DAILY, full=True)]
    for index, day in enumerate(calendar[1:], start=1):
        runs.append(Run(day, DAILY))
        if index % RERUN_EVERY == 2:
            runs += [Run(day, RERUN)] * (RUNS_OF_A_RERUN_DAY - 1)
        runs += [Run(past, BACKFILL) for past in backfill] * passes.count(day)
    return runs


def settings_for(var_dir: Path, scale: str) -> Settings:
    """Embedded defaults in ``var_dir``: no retries, the volume band scaled to the simulation."""
    from govlake.simulator.world import scale_named

    gates = GateSettings(volume_scale=round(scale_named(scale).volume_scale, 6))
    return Settings(
        profile="embedded",
        var_dir=var_dir,
        dag=DagSettings.fail_fast(),
        gates=gates,
        _env_file=None,
    )


def run_soak(var_dir: Path, days: int, scale: str, last: date, progress: Progress) -> SoakResult:
    """The whole soak (see the module's docstring) in ``var_dir``, ending on ``last``."""
    from govlake import pipeline

    shutil.rmtree(var_dir, ignore_errors=True)  # the soak's own directory, never the var dir
    daily, clean = settings_for(var_dir / "daily", scale), settings_for(var_dir / "clean", scale)
    runs = schedule(last - timedelta(days=days - 1), days)
    result = SoakResult(days, runs, [])
    started = time.perf_counter()
    progress(0, f"simulating the {scale} sources' history up to {runs[0].day}")
    pipeline.seed_sources(daily, runs[0].day, scale)
    for done, run in enumerate(runs):
        label = f"{run.kind} {run.day}"
        _run(daily, run, lambda text, done=done, label=label: progress(done, f"{label}: {text}"))
    result.seconds["daily path"] = _since(started)
    started = time.perf_counter()
    progress(len(runs), f"clean build of {last} in {clean.var_dir}")
    clean_build(daily, clean, last)
    result.seconds["clean build"] = _since(started)
    started = time.perf_counter()
    progress(len(runs), "checksumming both warehouses")
    result.verdicts = compare(checksums(warehouse_url(daily)), checksums(warehouse_url(clean)))
    result.seconds["comparison"] = _since(started)
    return result


def _run(settings: Settings, run: Run, progress: Callable[[str], None]) -> None:
    from govlake import pipeline
    from govlake.simulator import run as simulator

    if run.kind == DAILY and not run.full:
        simulator.day(settings, run.day)
    pipeline.run_day(settings, run.day, full=run.full, progress=progress)


def clean_build(daily: Settings, clean: Settings, day: date) -> None:
    """A full snapshot on ``day`` in ``clean``'s empty var directory, from ``daily``'s source
    state: the department databases, the trading centre's inbox and what was processed from it,
    and the deployment's person-key secret (persons' warehouse keys are its HMACs)."""
    from govlake import pipeline

    shutil.copytree(daily.var_dir / "sources", clean.var_dir / "sources")
    for files in ("exchange", "archive"):
        if (daily.lake_dir / files).exists():
            shutil.copytree(daily.lake_dir / files, clean.lake_dir / files)
    shutil.copytree(daily.var_dir / "secrets", clean.var_dir / "secrets")
    pipeline.run_day(clean, day, full=True, progress=lambda _: None)


def checksums(url: str) -> dict[str, str]:
    """Every warehouse table's and view's content checksum, but those of :data:`RUN_METADATA`."""
    return {
        name: load.table_checksum(url, name) for name in relations(url) if name not in RUN_METADATA
    }


def relations(url: str) -> list[str]:
    """The ``schema.name`` of every table and view in the warehouse's schemas."""
    query = sa.text(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN :schemas"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    with load.connect(url) as conn:
        found = conn.execute(query, {"schemas": list(WAREHOUSE_SCHEMAS)}).scalars()
        return sorted(found)


def compare(daily: Mapping[str, str], clean: Mapping[str, str]) -> list[Verdict]:
    """One verdict per relation of either warehouse, and one per relation left out."""
    verdicts = [Verdict(name, LEFT_OUT, why) for name, why in RUN_METADATA.items()]
    for name in sorted(daily.keys() | clean.keys()):
        if name not in clean:
            verdicts.append(Verdict(name, DIFFERENT, "only after the daily runs"))
        elif name not in daily:
            verdicts.append(Verdict(name, DIFFERENT, "only in the clean build"))
        else:
            verdicts.append(Verdict(name, SAME if daily[name] == clean[name] else DIFFERENT))
    return sorted(verdicts, key=lambda v: v.relation)


def table(result: SoakResult) -> Table:
    """The report: relation -> same / different / left out."""
    counts = ", ".join(
        f"{sum(r.kind == kind for r in result.runs)} {kind}" for kind in (DAILY, RERUN, BACKFILL)
    )
    title = f"soak over {result.days} days ({counts} runs)"
    report = Table("relation", "daily path vs clean build", "why", title=title)
    style = {SAME: "green", DIFFERENT: "bold red", LEFT_OUT: "dim"}
    for verdict in result.verdicts:
        outcome = f"[{style[verdict.outcome]}]{verdict.outcome}[/]"
        report.add_row(verdict.relation, outcome, verdict.detail)
    return report


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 1)
