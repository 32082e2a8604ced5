"""Hostile and malformed input (issue 10): property-based tests with hypothesis.

For every contract, batches of generated malformed records (``tests.malformed``) go through the
real validation path, ``quality.split.validate_and_split`` (the normaliser, the table's suite on
the engine, the row split): it never raises, every raw row is either clean (loaded, perhaps
flagged or normalised) or quarantined with at least one named reason, quarantined rows are kept
exactly as they came, clean rows honour the contract, and raw = clean + quarantined exactly.
At least 10,000 rows are fed per table.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from govlake.contracts import CONTRACTS, Contract
from govlake.quality.normalise import _CONTROL
from govlake.quality.split import FLAGS, REASONS, validate_and_split
from govlake.quality.suite import build_suite
from tests.conftest import EXPECTATIONS, TINY
from tests.malformed import BATCH_ROWS, Generated, batches
from tests.truth import history, raw_table

ROWS_PER_TABLE = 10_000
EXAMPLES = -(-ROWS_PER_TABLE // BATCH_ROWS)  # batches per table
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine: CI keeps no database
    database=None,
    phases=[
        Phase.explicit,
        Phase.generate,
    ],  # no shrinking: a failing 500-row batch is reported as it is
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def seeds() -> dict[str, pa.Table]:
    """Every table's defect-free tiny history, as extraction lands it."""
    return {name: raw_table(batch) for name, batch in history(TINY, rate=0.0).items()}


def check_batch(raw: pa.Table, contract: Contract) -> Counter[str]:
    """Validate ``raw`` and assert nothing was lost, crashed or slipped through; the outcome
    counts (clean, flagged, quarantined rows)."""
    result = validate_and_split(raw, contract, EXPECTATIONS)
    clean, held = result.clean, result.quarantine
    assert clean.num_rows + held.num_rows == raw.num_rows  # reconciliation, exactly
    rules = {e.meta["rule"] for e in build_suite(contract, EXPECTATIONS).expectations}
    reasons = held.column(REASONS).to_pylist()
    assert all(reasons), "a quarantined row without a reason"
    assert {r for rs in reasons for r in rs} <= rules
    # quarantined rows are the source's rows, untouched
    assert not rows_of(held, contract) - rows_of(raw, contract)
    (key,) = contract.primary_key
    keys = Counter(clean.column(key).to_pylist()) + Counter(held.column(key).to_pylist())
    assert keys == Counter(raw.column(key).to_pylist())  # no row dropped, none invented
    for column in contract.columns:
        loaded = clean.column(column.name).to_pylist()
        if not column.nullable:
            assert None not in loaded, column.name
        text = [v for v in loaded if isinstance(v, str)]
        if column.max_length is not None:
            assert all(len(v) <= column.max_length for v in text), column.name
        if column.values is not None:
            assert set(text) <= set(column.values), column.name
        if column.normalise and text:  # the normaliser's own pattern finds none left
            left = pc.match_substring_regex(pa.array(text), _CONTROL)
            assert not pc.any(left).as_py(), column.name
    flagged = sum(1 for f in clean.column(FLAGS).to_pylist() if f)
    return Counter(clean=clean.num_rows, flagged=flagged, quarantined=held.num_rows)


def rows_of(table: pa.Table, contract: Contract) -> Counter[tuple]:
    """The table's rows (the contract's columns) as a multiset of tuples."""
    columns = [table.column(n).to_pylist() for n in contract.column_names]
    return Counter(zip(*columns, strict=True))


@pytest.mark.parametrize("name", list(CONTRACTS))
def test_malformed_records_are_loaded_flagged_normalised_or_quarantined(name, seeds):
    contract = CONTRACTS[name]
    fed: Counter[str] = Counter()

    @FUZZ
    @given(batch=batches(contract, seeds[name]))
    def feed(batch: Generated) -> None:
        fed.update(check_batch(batch.raw, contract))
        fed["rows"] += batch.raw.num_rows

    feed()
    assert fed["rows"] >= ROWS_PER_TABLE
    assert fed["rows"] == fed["clean"] + fed["quarantined"]
    assert fed["quarantined"] > 0 and fed["clean"] > 0, fed  # both paths were exercised
