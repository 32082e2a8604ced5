"""Hypothesis strategies of malformed source records, derived from the contracts alone.

Every column of a contract gets a pool of hostile values drawn for its raw type and limits:
text of any code point (NUL, controls, bidi overrides, emoji, CJK), the simulator's hostile
catalogue, text just past the contract's maximum length, codes in lower case, full width or
padded, dates in every shape and none, numbers that are not numbers or do not fit, extreme
integers and timestamps, and nulls where the contract forbids them. A batch is valid seed rows
(the simulator's, so some rows stay clean) in which hypothesis chooses which cells take a pool
value: one example is hundreds of rows, so a few dozen examples feed thousands per table.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pyarrow as pa
from hypothesis import strategies as st

from govlake.contracts import Column, Contract
from govlake.contracts.types import arrow_clean_type, arrow_source_type
from govlake.simulator.defects import _HOSTILE, _RARE

BATCH_ROWS = 500
# Removed by the normaliser (controls, NUL, zero-width, bidi embeddings/overrides/isolates, BOM).
REMOVABLE = ["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u200f", "\u202e", "\u2066", "\ufeff"]
HOSTILE_TEXT = [*_HOSTILE.tolist(), *_RARE.tolist()]
NOT_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e5", "+3", " 12 ", "1,000", "", "--1", "0x1F"]
TOO_WIDE = ["9" * 40, "1" + "0" * 30 + ".5", "0." + "1" * 20, "-" + "9" * 25]


def _text(column: Column) -> st.SearchStrategy:
    limit = column.max_length or 60
    overlong = st.integers(limit + 1, limit + 40).map(lambda n: "长" * n)
    marked = st.tuples(st.text(max_size=8), st.sampled_from(REMOVABLE), st.text(max_size=8)).map(
        "".join
    )
    return st.one_of(
        st.text(max_size=limit + 5),  # any code point but surrogates, NUL included
        st.sampled_from(HOSTILE_TEXT),
        marked,
        overlong,
        st.text(alphabet="abcxyz0123456789 \u3000ＡＢＣ１２３", max_size=limit + 2),  # code shapes
        st.sampled_from([*column.values] if column.values else ["?"]).map(lambda v: f" {v}\t"),
        st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
        st.dates().map(lambda d: d.strftime("%Y/%m/%d")),
        st.sampled_from(["2019-02-30", "2019-13-01", "0000-00-00", "20191301", "昨天"]),
    )


def _number_text() -> st.SearchStrategy:
    return st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.integers().map(str),
        st.sampled_from(NOT_NUMBERS + TOO_WIDE),
        st.text(max_size=12),
    )


def values(column: Column) -> st.SearchStrategy:
    """Malformed (or merely odd) raw values for ``column``, as its raw Arrow type holds them."""
    raw = arrow_source_type(column.source_type)
    if pa.types.is_integer(raw):
        odd = st.one_of(
            st.integers(-(2**63), 2**63 - 1), st.sampled_from([0, -1, 999_999_999, 2**63 - 1])
        )
    elif pa.types.is_decimal(arrow_clean_type(column.clean_type)):  # raw holds it as text
        odd = _number_text()
    elif pa.types.is_timestamp(raw):
        odd = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
    elif pa.types.is_date(raw):
        odd = st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30))
    else:
        odd = _text(column)
    return st.one_of(st.none(), odd)


class Generated:
    """A generated batch. Its repr (what hypothesis prints for a failing example) names only its
    shape and seed: the rows may hold identity numbers, which never go to a log."""

    def __init__(self, raw: pa.Table, seed: int) -> None:
        self.raw, self.seed = raw, seed

    def __repr__(self) -> str:
        return f"Generated({self.raw.num_rows} rows, seed={self.seed})"


@st.composite
def batches(draw, contract: Contract, seed: pa.Table, rows: int = BATCH_ROWS) -> Generated:
    """``rows`` seed rows (drawn with repeats: duplicate keys too) with hypothesis-chosen cells
    replaced by malformed values; the contract's raw schema."""
    pools = {c.name: draw(st.lists(values(c), min_size=1, max_size=12)) for c in contract.columns}
    rates = {c.name: draw(st.sampled_from([0.0, 0.01, 0.05, 0.2, 1.0])) for c in contract.columns}
    chosen_seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(chosen_seed)
    picked = seed.take(pa.array(rng.integers(0, seed.num_rows, rows)))
    columns = []
    for field in contract.raw_schema():
        original = picked.column(field.name).to_pylist()
        hit = rng.random(rows) < rates[field.name]
        pool, chosen = pools[field.name], rng.integers(0, len(pools[field.name]), rows)
        mixed = [pool[c] if h else o for o, h, c in zip(original, hit, chosen, strict=True)]
        columns.append(pa.array(mixed, field.type))
    return Generated(pa.table(columns, schema=contract.raw_schema()), chosen_seed)
