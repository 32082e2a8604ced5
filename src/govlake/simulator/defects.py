"""The defect injector: known faults, each with the outcome the pipeline owes it.

Outcomes: ``quarantine`` (the row cannot be trusted), ``normalise`` (fixable; the fix is recorded),
``flag`` (a true but suspicious fact: loaded and counted), ``inert`` (hostile-looking but valid
text that must load unchanged). A row gets at most one defect, so its expected outcome is
unambiguous; every injected defect goes into the manifest with its key and outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from govlake.identifiers import id_number_check_char, uscc_check_char

QUARANTINE, NORMALISE, FLAG, INERT = "quarantine", "normalise", "flag", "inert"
Mutation = Callable[..., None]  # (frame, rows, column, rng, spare): spare = rows left untouched


@dataclass(frozen=True)
class DefectKind:
    name: str
    outcome: str
    mutate: Mutation  # changes frame.loc[rows, column] in place


@dataclass(frozen=True)
class Target:
    """A defect kind applied to one column of a table (``column`` may name a related column)."""

    kind: str
    column: str
    weight: float = 1.0


def _set(value):
    def mutate(frame, rows, column, rng, **_):
        frame.loc[rows, column] = value

    return mutate


def _wrong_check(check_char: Callable[[str], str], charset: str) -> Mutation:
    """Replace the check character with one that is certainly wrong for the first 17."""

    def mutate(frame, rows, column, rng, **_):
        codes = frame.loc[rows, column].astype(str)
        right = codes.str[:17].map(check_char)
        wrong = right.map(lambda ch: charset[(charset.index(ch) + 1) % len(charset)])
        frame.loc[rows, column] = codes.str[:17] + wrong

    return mutate


USCC_CHARS, ID_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY", "0123456789X"


def _impossible_birth_date(frame, rows, column, rng, **_):

    first17 = (
        frame.loc[rows, column].astype(str).str[:10]
        + "0230"
        + frame.loc[rows, column].astype(str).str[14:17]
    )
    frame.loc[rows, column] = [f + id_number_check_char(f) for f in first17]


def _org_code_mismatch(frame, rows, column, rng, **_):
    """Position 17 off, position 18 recomputed: a legal code that fails only the GB 11714 check."""

    codes = frame.loc[rows, column].astype(str)
    wrong = codes.str[:16] + np.where(codes.str[16] == "0", "1", "0")
    frame.loc[rows, column] = [w + uscc_check_char(w) for w in wrong]


def _future(frame, rows, column, rng, **_):
    # A fixed far date: always in the future, and the same data whatever day it is simulated.
    frame.loc[rows, column] = _as_like(frame[column], date(2099, 1, 1))


def _as_like(series: pd.Series, day: date):
    return day.isoformat() if series.dtype == object else pd.Timestamp(day)


def _too_long(frame, rows, column, rng, **_):
    frame.loc[rows, column] = frame.loc[rows, column].astype(str) + "（" + "超长文本" * 60 + "）"


def _lower(frame, rows, column, rng, **_):
    frame.loc[rows, column] = frame.loc[rows, column].str.lower()


def _fullwidth(frame, rows, column, rng, **_):
    table = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}
    frame.loc[rows, column] = frame.loc[rows, column].str.translate(table)


def _padded(frame, rows, column, rng, **_):
    frame.loc[rows, column] = " " + frame.loc[rows, column] + "  "


def _mixed_date(frame, rows, column, rng, **_):
    iso = frame.loc[rows, column].astype(str)
    y, m, d = iso.str[:4], iso.str[5:7].str.lstrip("0"), iso.str[8:10].str.lstrip("0")
    styles = rng.integers(0, 3, len(rows))
    frame.loc[rows, column] = np.select(
        [styles == 0, styles == 1],
        [y + "/" + m + "/" + d, y + iso.str[5:7] + iso.str[8:10]],
        y + "年" + m + "月" + d + "日",
    )


def _control_chars(frame, rows, column, rng, **_):
    # No NUL: PostgreSQL text cannot hold it, and both source databases must hold the same rows.
    marks = rng.choice(np.array(["\u202e", "\x1b", "\u200b", "\x07"]), len(rows))
    text = frame.loc[rows, column].astype(str)
    frame.loc[rows, column] = text.str[:2] + marks + text.str[2:]


_HOSTILE = np.array(
    [
        "'; DROP TABLE enterprise_register; --",
        "<script>alert('x')</script>",
        "1 OR 1=1",
        '<b onmouseover="x()">粗体</b>',
        "Robert'); --",
    ]
)
_RARE = np.array(["𠀾𡃁", "𪚥", "😀", "🏭", "𬌗"])  # outside the BMP


def _hostile(frame, rows, column, rng, **_):
    frame.loc[rows, column] = frame.loc[rows, column].astype(str) + rng.choice(_HOSTILE, len(rows))


def _rare(frame, rows, column, rng, **_):
    frame.loc[rows, column] = frame.loc[rows, column].astype(str) + rng.choice(_RARE, len(rows))


def _borrow_business_key(frame, rows, column, rng, spare, **_):
    """The business key of an untouched earlier row under a later primary key (a decision
    entered twice): the earlier row is the one that stays (smallest primary key wins)."""
    if len(spare) == 0:
        return
    earlier = np.searchsorted(spare, rows) - 1  # frames are in primary-key order
    donors = spare[np.maximum(earlier, 0)]
    frame.loc[rows, column] = np.where(
        earlier >= 0, frame.loc[donors, column].to_numpy(), frame.loc[rows, column].to_numpy()
    )


KINDS = {
    k.name: k
    for k in (
        DefectKind("bad_uscc_checksum", QUARANTINE, _wrong_check(uscc_check_char, USCC_CHARS)),
        DefectKind("bad_id_checksum", QUARANTINE, _wrong_check(id_number_check_char, ID_CHARS)),
        DefectKind("impossible_birth_date", QUARANTINE, _impossible_birth_date),
        DefectKind("future_date", QUARANTINE, _future),
        DefectKind("required_null", QUARANTINE, _set(None)),
        DefectKind("too_long", QUARANTINE, _too_long),
        DefectKind("unknown_region", QUARANTINE, _set("379999")),
        DefectKind("orphan_reference", QUARANTINE, _set(999_999_999)),
        DefectKind("duplicate_business_key", QUARANTINE, _borrow_business_key),
        DefectKind("uscc_org_code_mismatch", FLAG, _org_code_mismatch),
        DefectKind("lower_case_code", NORMALISE, _lower),
        DefectKind("fullwidth_code", NORMALISE, _fullwidth),
        DefectKind("padded_code", NORMALISE, _padded),
        DefectKind("mixed_date_format", NORMALISE, _mixed_date),
        DefectKind("control_characters", NORMALISE, _control_chars),
        DefectKind("hostile_text", INERT, _hostile),
        DefectKind("rare_characters", INERT, _rare),
    )
}


def register(kind: DefectKind) -> DefectKind:
    """Add a system-specific kind (e.g. a flag rule) to the catalogue."""
    KINDS[kind.name] = kind
    return kind


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Whole counts in proportion to ``weights`` that add up to ``total``."""
    exact = total * weights
    counts = np.floor(exact).astype(int)
    counts[np.argsort(counts - exact)[: total - counts.sum()]] += 1
    return counts


def inject(
    frame: pd.DataFrame,
    targets: list[Target],
    rate: float,
    rng: np.random.Generator,
    key: str,
    every_kind: bool = True,
) -> pd.DataFrame:
    """Mutate about ``rate`` of the rows of ``frame`` in place; return the defect manifest rows
    (key, kind, column, outcome). With ``every_kind`` (histories), each target gets at least one
    row; otherwise (a day's few rows) the count is drawn at the rate."""
    empty = pd.DataFrame(columns=["key", "kind", "column", "outcome"])
    if frame.empty or not targets or rate <= 0:
        return empty
    weights = np.array([t.weight for t in targets], dtype=float)
    weights /= weights.sum()
    if every_kind:
        counts = np.maximum(1, _largest_remainder(round(rate * len(frame)), weights))
    else:
        counts = rng.multinomial(rng.binomial(len(frame), rate), weights)
    # Every defect changes a value that is there; each row gets at most one; half stay clean,
    # so a borrowed business key always has an untouched owner.
    free = np.ones(len(frame), dtype=bool)
    free[rng.permutation(len(frame))[: len(frame) - len(frame) // 2]] = False
    spare = frame.index.to_numpy()[~free]
    manifest = []
    for target, count in zip(targets, counts, strict=True):
        pool = np.flatnonzero(free & frame[target.column].notna().to_numpy())
        rows = frame.index.to_numpy()[rng.permutation(pool)[:count]]
        if len(rows) == 0:
            continue
        free[frame.index.get_indexer(rows)] = False
        KINDS[target.kind].mutate(frame, rows, target.column, rng, spare=spare)
        manifest.append(
            pd.DataFrame(
                {
                    "key": frame.loc[rows, key].to_numpy(),
                    "kind": target.kind,
                    "column": target.column,
                    "outcome": KINDS[target.kind].outcome,
                }
            )
        )
    return pd.concat(manifest, ignore_index=True) if manifest else empty
