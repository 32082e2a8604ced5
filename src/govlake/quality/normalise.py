"""The one normaliser. Runs once, before validation, vectorised over the raw rows' Arrow columns.

Codes: NFKC (full-width to half-width), drop controls and whitespace, upper-case. Text: drop control
characters, NUL and bidi overrides, trim; names otherwise stay as the source wrote them (they are
published). Dates in the usual department formats become ISO ``YYYY-MM-DD``. Region codes
(columns named ``region_code`` or ``*_region_code``) that GB/T 2260 retired are mapped to their
successors (DOMAIN.md §4: never rejected; IDs and USCCs keep theirs). Every change is counted per
column and rule; values that cannot be normalised are left as they came, for validation to reject.
Arrow's compute kernels do the work (RE2 regular expressions), about 10× pandas' string methods.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from govlake import regions
from govlake.contracts import Contract

# C0 controls, DEL, zero-width characters, bidi embeddings, overrides and isolates, BOM.
_CONTROL = r"[\x00-\x1f\x7f\x{200b}-\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}\x{feff}]"
_SPACE = r"[\s\x0b\x1c-\x1f\x85\p{Z}]+"  # what Python's str.split() treats as whitespace
# 2019-03-05, 2019/3/5, 2019.03.05, 20190305, 2019年3月5日
_DATE = r"^(?P<y>\d{4})[-/.年]?(?P<m>\d{1,2})[-/.月]?(?P<d>\d{1,2})日?$"


def normalise(raw: pa.Table, contract: Contract) -> tuple[pa.Table, Counter[str]]:
    """``raw`` normalised, and the number of values changed, keyed ``column:rule``."""
    changes: Counter[str] = Counter()
    table = raw
    for column in contract.columns:
        values = table.column(column.name)
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            continue
        for rule, fn in _rules(column):
            updated = fn(values)
            changed = pc.sum(pc.and_(pc.not_equal(updated, values), pc.is_valid(values))).as_py()
            if changed:
                changes[f"{column.name}:{rule}"] += changed
            values = updated
        table = table.set_column(table.schema.get_field_index(column.name), column.name, values)
    return table, changes


def _rules(column) -> list:
    rules = []
    if column.normalise == "code":
        rules.append(("code", _code))
    elif column.normalise == "text":
        rules.append(("text", _text))
    if column.clean_type == "date":
        rules.append(("date", _date))
    if column.name == "region_code" or column.name.endswith("_region_code"):
        rules.append(("region", _region))
    return rules


def _where(values: pa.ChunkedArray, needed: pa.ChunkedArray, fn) -> pa.ChunkedArray:
    """``fn`` applied only to the values that need it (most do not: it is a scan, not a copy)."""
    needed = _whole(pc.fill_null(needed, False))
    if not pc.any(needed).as_py():
        return values
    values = _whole(values)
    return pc.replace_with_mask(values, needed, _whole(fn(values.filter(needed))))


def _whole(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _nfkc(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """NFKC of the values that are not plain ASCII (ASCII is NFKC already)."""
    return _where(
        values, pc.invert(pc.string_is_ascii(values)), lambda v: pc.utf8_normalize(v, "NFKC")
    )


def _drop(values: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    """Every match of ``pattern`` removed, on the values that have one."""
    return _where(
        values,
        pc.match_substring_regex(values, pattern),
        lambda v: pc.replace_substring_regex(v, pattern, ""),
    )


def _code(values: pa.ChunkedArray) -> pa.ChunkedArray:
    # Controls, NUL and bidi overrides go from codes too (a code is text; found by fuzzing).
    return pc.utf8_upper(_drop(_drop(_nfkc(values), _CONTROL), _SPACE))


def _text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_trim_whitespace(_drop(values, _CONTROL))


def _region(values: pa.ChunkedArray) -> pa.ChunkedArray:
    retired = regions.successors()  # 青岛's retired county-level codes (DOMAIN.md §4)
    successor = pc.take(pa.array(list(retired.values())), pc.index_in(values, pa.array(retired)))
    return pc.coalesce(successor, values)


def _date(values: pa.ChunkedArray) -> pa.ChunkedArray:
    trimmed = pc.utf8_trim_whitespace(_nfkc(values))
    iso = pc.match_substring_regex(trimmed, r"^\d{4}-\d{2}-\d{2}$")
    return _where(trimmed, pc.invert(iso), _iso)


def _iso(values: pa.Array) -> pa.Array:
    parts = pc.extract_regex(values, _DATE)
    year, month, day = (pc.struct_field(parts, name) for name in "ymd")
    iso = pc.binary_join_element_wise(
        year, pc.utf8_lpad(month, 2, "0"), pc.utf8_lpad(day, 2, "0"), "-"
    )
    return pc.coalesce(iso, values)
