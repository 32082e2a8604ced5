"""Scoring the entity master against the simulator's entity truth map.

The truth names, for source records, the simulated enterprise or person they refer to (its
register key). The warehouse's match table names an entity per (source record, role); an entity's
``register_id`` is its register key. A truth row is scored when its record was loaded (it has a
match row) and its entity's golden record was loaded; the rest are *deferred*: the register row
itself is withheld (quarantined), so the reference can only become an entity of its own until the
register's clean version arrives. A deferred reference matched to some *other* registered entity
is still a wrong match.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

SELF = {("credit.enterprise_register", "enterprise"), ("credit.persons", "person")}


@dataclass
class EntityScore:
    scored: int = 0
    correct: int = 0
    resolved: int = 0  # scored rows matched to some entity
    deferred: int = 0
    wrong_deferred: int = 0  # deferred, yet matched to another registered entity
    wrong: list = field(default_factory=list)  # (dataset, key, kind, ours, truth, rule)

    @property
    def precision(self) -> float:
        return self.correct / max(self.resolved + self.wrong_deferred, 1)

    @property
    def recall(self) -> float:
        return self.correct / max(self.scored, 1)


def score(matches: pd.DataFrame, entities: pd.DataFrame, truth: pd.DataFrame) -> EntityScore:
    """``matches``: core.entity_match; ``entities``: core.entity; ``truth``: the simulator's
    ``entities`` truth (system, table, key, entity_kind, entity_id)."""
    truth = truth.assign(
        dataset=truth["system"] + "." + truth["table"],
        source_key=truth["key"].astype(str),
        truth_id=truth["entity_id"].astype(str),
    ).drop(columns=["entity_id"])
    # A record changed on a later day is in that day's truth again, naming the same entity.
    truth = truth.drop_duplicates(["dataset", "source_key", "entity_kind", "truth_id"])
    pairs = zip(truth["dataset"], truth["entity_kind"], strict=True)
    truth = truth[[pair not in SELF for pair in pairs]]
    ours = matches.merge(
        entities[["entity_id", "register_id"]], on="entity_id", how="left", validate="many_to_one"
    )
    joined = truth.merge(
        ours, on=["dataset", "source_key", "entity_kind"], how="inner", validate="one_to_one"
    )
    registered = entities.dropna(subset=["register_id"])
    golden = set(zip(registered["entity_kind"], registered["register_id"], strict=True))
    result = EntityScore()
    for row in joined.itertuples():
        if (row.entity_kind, row.truth_id) not in golden:  # register row withheld: not yet
            result.deferred += 1
            if pd.notna(row.register_id):  # ...yet merged into another registered entity
                result.wrong_deferred += 1
                result.wrong.append(_miss(row))
            continue
        result.scored += 1
        result.resolved += pd.notna(row.entity_id)
        if row.register_id == row.truth_id:
            result.correct += 1
        else:
            result.wrong.append(_miss(row))
    return result


def _miss(row) -> tuple:
    return (row.dataset, row.source_key, row.entity_kind, row.entity_id, row.truth_id, row.rule)
