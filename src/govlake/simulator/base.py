"""What a simulated department system produces: per table, rows to write plus their ground truth.

Each system is a :class:`SystemSimulator`: ``history`` builds the tables from the first day of
the simulated history to its last, ``day`` the changes of one later day (inserts, updates,
late arrivals, revocations, hard deletes). Both return :class:`Batch` es; the runner writes them
and the truth, so systems only generate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol

import numpy as np
import pandas as pd

from govlake.contracts import Contract
from govlake.simulator.defects import Target, inject
from govlake.simulator.vectors import random_times, rng_for
from govlake.simulator.world import World

TRUTH_COLUMNS = ["key", "entity_kind", "entity_id"]


@dataclass
class Batch:
    contract: Contract
    rows: pd.DataFrame  # full rows, in primary-key order; replace (history) or upsert (day)
    deletes: list[int] = field(default_factory=list)  # primary keys hard-deleted
    defects: pd.DataFrame = field(default_factory=pd.DataFrame)  # key, kind, column, outcome
    entities: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=TRUTH_COLUMNS))
    changes: dict[str, int] = field(default_factory=dict)  # what the day did: inserts, updates...


class SystemSimulator(Protocol):
    system: str
    channel: str  # "sql": a department database; "exchange": files dropped in the lake

    def history(self, world: World, rate: float) -> list[Batch]: ...

    def day(self, world: World, day: date, rate: float, sink) -> list[Batch]: ...


def finish(
    contract: Contract,
    rows: pd.DataFrame,
    targets: list[Target],
    rate: float,
    rng: np.random.Generator,
    entities: pd.DataFrame | None = None,
    **changes: int,
) -> Batch:
    """Inject defects into clean ``rows`` and wrap them with their truth. ``changes`` counts what
    a day did (inserts, updates, late, revocations, deletes, ...). A history batch (no
    ``changes``) gets every declared defect kind; a day's few rows get defects at the rate."""
    (key,) = contract.primary_key
    rows = rows.sort_values(key).reset_index(drop=True)
    defects = inject(rows, targets, rate, rng, key, every_kind=not changes)
    if entities is None:
        entities = pd.DataFrame(columns=TRUTH_COLUMNS)
    return Batch(
        contract, rows[contract.column_names], defects=defects, entities=entities, changes=changes
    )


def entity_truth(keys, kind: str, entity_ids) -> pd.DataFrame:
    return pd.DataFrame(
        {"key": np.asarray(keys), "entity_kind": kind, "entity_id": np.asarray(entity_ids)}
    ).dropna()


def day_times(rng: np.random.Generator, n: int, day: date) -> np.ndarray:
    """Watermarks within the local day."""
    start = datetime.combine(day, time(7))
    return random_times(rng, n, start, start + timedelta(hours=15))


def history_times(rng: np.random.Generator, n: int, world: World, until: date) -> np.ndarray:
    start = datetime.combine(world.start, time())
    return random_times(rng, n, start, datetime.combine(until + timedelta(days=1), time()))


__all__ = [
    "Batch",
    "SystemSimulator",
    "day_times",
    "entity_truth",
    "finish",
    "history_times",
    "rng_for",
]
