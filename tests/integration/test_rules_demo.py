"""The domain rules against the simulator's ground truth at demo scale (in-process, no Airflow,
no services): every table of every system, every defect kind, zero false positives."""

from __future__ import annotations

from tests.conftest import DAY, EXPECTATIONS
from tests.truth import history, score


def test_demo_history_every_kind_caught_and_no_false_positives():
    from govlake.simulator.world import SCALES, World

    scored = score(history(World(seed=7, scale=SCALES["demo"], until=DAY), 0.02), EXPECTATIONS)
    print(scored.table())
    assert {k: s.misses[:3] for k, s in scored.kinds.items() if s.misses} == {}
    assert scored.false_positives == []
    assert scored.skipped == {}
    for kind, s in scored.kinds.items():
        assert s.caught > 0, kind
