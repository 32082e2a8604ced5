"""``govlake simulate init`` and ``govlake simulate day``: write the systems and their truth.

State (seed, scale, last history day, defect rate) is kept in ``var/simulator/state.json`` so
``day`` continues the same world. Ground truth goes to ``var/simulator/truth/``: ``defects/``
(system, table, key, kind, column, outcome) and ``entities/`` (system, table, key, entity kind,
entity id), one Parquet file per system and run (``init`` or the day).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from govlake.config import Settings
from govlake.simulator.base import Batch, SystemSimulator
from govlake.simulator.exchange import ExchangeSink
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import World, scale_named
from govlake.storage import open_store


@dataclass(frozen=True)
class SimulatorState:
    seed: int
    scale: str
    until: str
    rate: float

    def world(self) -> World:
        return World(self.seed, scale_named(self.scale), date.fromisoformat(self.until))


def simulators() -> list[SystemSimulator]:
    from govlake.simulator.approval import ApprovalSimulator
    from govlake.simulator.credit import CreditSimulator
    from govlake.simulator.enforcement import EnforcementSimulator
    from govlake.simulator.transaction import TransactionSimulator

    return [ApprovalSimulator(), CreditSimulator(), EnforcementSimulator(), TransactionSimulator()]


def _sink(settings: Settings, sim: SystemSimulator) -> SqlSink | ExchangeSink:
    """Where a system delivers: its database, or the lake's exchange zone."""
    if sim.channel == "exchange":
        return ExchangeSink(open_store(settings), sim.system)
    return SqlSink(settings.source_url(sim.system))


def _dir(settings: Settings) -> Path:
    return settings.var_dir / "simulator"


def load_state(settings: Settings) -> SimulatorState:
    path = _dir(settings) / "state.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no simulated history in {path.parent}: run `govlake simulate init`"
        )
    return SimulatorState(**json.loads(path.read_text()))


def init(settings: Settings, seed: int, scale: str, until: date, rate: float = 0.02) -> dict:
    """Create every simulated system's history, up to and including ``until``."""
    state = SimulatorState(seed, scale, until.isoformat(), rate)
    world = state.world()
    (settings.var_dir / "sources").mkdir(parents=True, exist_ok=True)
    truth = _dir(settings) / "truth"
    for old in truth.glob("*/*.parquet"):
        old.unlink()  # a new history makes every earlier truth file wrong
    counts = {}
    for sim in simulators():
        sink = _sink(settings, sim)
        batches = sim.history(world, rate)
        if isinstance(sink, ExchangeSink):
            sink.write_history(world.start, world.until, batches)
        else:
            for batch in batches:
                sink.replace(batch.contract, batch.rows)
        counts.update({batch.contract.name: len(batch.rows) for batch in batches})
        _write_truth(truth, "init", sim.system, batches)
    (_dir(settings) / "state.json").write_text(json.dumps(state.__dict__, indent=1))
    return counts


def day(settings: Settings, on: date) -> dict:
    """Append one day's changes to every simulated system (``on`` after the history)."""
    state = load_state(settings)
    world = state.world()
    if on <= world.until:
        raise ValueError(f"{on} is inside the simulated history (until {world.until})")
    changes = {}
    for sim in simulators():
        sink = _sink(settings, sim)
        batches = sim.day(world, on, state.rate, sink)
        if isinstance(sink, ExchangeSink):
            sink.write_day(on, batches)
        else:
            for batch in batches:
                sink.upsert(batch.contract, batch.rows, batch.deletes)
        changes.update({batch.contract.name: batch.changes for batch in batches})
        _write_truth(_dir(settings) / "truth", on.isoformat(), sim.system, batches)
    return changes


def _write_truth(truth: Path, label: str, system: str, batches: list[Batch]) -> None:
    for part in ("defects", "entities"):
        frames = [
            getattr(b, part).assign(system=system, table=b.contract.table)
            for b in batches
            if len(getattr(b, part))
        ]
        if frames:
            (truth / part).mkdir(parents=True, exist_ok=True)
            frame = pd.concat(frames, ignore_index=True)
            frame["key"] = frame["key"].astype("int64")
            frame.to_parquet(truth / part / f"{system}-{label}.parquet", index=False)


def read_truth(settings: Settings, part: str) -> pd.DataFrame:
    """All truth rows of ``part`` (``defects`` or ``entities``) written so far."""
    files = sorted((_dir(settings) / "truth" / part).glob("*.parquet"))
    return (
        pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        if files
        else pd.DataFrame()
    )
