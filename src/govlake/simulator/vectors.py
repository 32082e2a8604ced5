"""Vectorised generators (numpy) for the simulator: identifiers, names, dates, amounts.

Every identifier is computed with the same arithmetic the validators use (``govlake.identifiers``),
whole columns at a time. Randomness comes from :func:`rng_for`, seeded from the run's seed and the
names of what is being generated, so the same seed always gives the same data.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import numpy as np
import pandas as pd

from govlake import identifiers, regions

USCC_CHARSET = np.array(list(identifiers.USCC_CHARSET))

# 青岛: current district codes, and retired ones that old codes and ID numbers still carry.
QINGDAO_REGIONS = np.array(regions.districts())
RETIRED_REGIONS = np.array(sorted(regions.successors()))  # 四方区, 即墨市, 胶南市
SURNAMES = np.array(
    list(
        "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    )
)
GIVEN = np.array(
    list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国志新海波宁晓燕")
)


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator determined by ``seed`` and ``parts`` (e.g. system, table, day)."""
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _join(chars: np.ndarray) -> np.ndarray:
    """Rows of single characters (n, k) to an array of n strings."""
    n, k = chars.shape
    return np.ascontiguousarray(chars.astype("<U1")).view(f"<U{k}").reshape(n).astype(object)


def uscc(
    rng: np.random.Generator, department: np.ndarray, kind: np.ndarray, region: np.ndarray
) -> np.ndarray:
    """统一社会信用代码 for given registration department, entity kind and region codes."""
    n = len(region)
    body = np.zeros((n, 8), dtype=int)
    body[:, :2] = [_INDEX["M"], _INDEX["A"]]  # "MA": codes issued by 市场监管 since 2015
    body[:, 2:] = _base31_digits(_distinct(rng, n, 31**6), 6)  # distinct organisation codes
    org_check = identifiers.org_check_values(_BASE36[body])
    org_index = np.where(org_check == 10, _INDEX["X"], org_check % 11)  # 11 -> "0"
    first17 = np.concatenate(
        [
            _indices(department)[:, None],
            _indices(kind)[:, None],
            _chars(region, 6).astype(int),
            body,
            org_index[:, None],
        ],
        axis=1,
    )
    check = identifiers.uscc_check_values(first17)
    return _join(USCC_CHARSET[np.concatenate([first17, check[:, None]], axis=1)])


_INDEX = {c: i for i, c in enumerate(USCC_CHARSET)}
_BASE36 = np.array([int(c, 36) for c in USCC_CHARSET])  # GB 11714 values: letters count from 10


def _distinct(rng: np.random.Generator, n: int, space: int) -> np.ndarray:
    """``n`` distinct numbers below ``space``, in random order (an affine bijection: no
    duplicates, no memory for the whole space)."""
    if n > space:
        raise ValueError(f"cannot draw {n} distinct values from {space}")
    step = int(rng.integers(1, space))
    while np.gcd(step, space) != 1:
        step += 1
    return (np.arange(n, dtype=np.int64) * step + int(rng.integers(0, space))) % space


def _base31_digits(numbers: np.ndarray, width: int) -> np.ndarray:
    return (numbers[:, None] // 31 ** np.arange(width - 1, -1, -1)) % 31


def _indices(chars: np.ndarray) -> np.ndarray:
    return np.searchsorted(USCC_CHARSET, chars)  # the charset is sorted: position = value


def _chars(strings: np.ndarray, width: int) -> np.ndarray:
    """An array of fixed-width strings as an (n, width) array of characters."""
    return np.ascontiguousarray(strings.astype(f"<U{width}")).view("<U1").reshape(-1, width)


def id_numbers(rng: np.random.Generator, n: int, born_from: date, born_to: date) -> np.ndarray:
    """Valid 18-digit ID numbers of people born between the dates, most with Qingdao codes."""
    regions = np.where(
        rng.random(n) < 0.9, rng.choice(QINGDAO_REGIONS, n), rng.choice(RETIRED_REGIONS, n)
    )
    births = random_dates(rng, n, born_from, born_to)
    sequence = rng.integers(0, 1000, n)
    clash = _clashes(regions, births, sequence)
    while clash.any():  # two people cannot share a number: redraw their sequence numbers
        sequence[clash] = rng.integers(0, 1000, int(clash.sum()))
        clash = _clashes(regions, births, sequence)
    first17 = np.char.add(
        np.char.add(regions.astype(str), _ymd(births)), np.char.zfill(sequence.astype(str), 3)
    )
    digits = _chars(first17, 17).astype(int)
    check = identifiers.id_check_chars(digits)
    return np.char.add(first17, check).astype(object)


def _clashes(*parts: np.ndarray) -> np.ndarray:
    return pd.DataFrame({i: p for i, p in enumerate(parts)}).duplicated().to_numpy()


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    names = np.char.add(rng.choice(SURNAMES, n), rng.choice(GIVEN, n))
    two = rng.random(n) < 0.6
    return np.where(two, np.char.add(names, rng.choice(GIVEN, n)), names).astype(object)


def random_dates(rng: np.random.Generator, n: int, start: date, end: date) -> np.ndarray:
    """``datetime64[D]`` dates uniformly in [start, end]."""
    days = (end - start).days + 1
    return np.datetime64(start, "D") + rng.integers(0, max(days, 1), n).astype("timedelta64[D]")


def random_times(rng: np.random.Generator, n: int, start: datetime, end: datetime) -> np.ndarray:
    """``datetime64[us]`` timestamps (whole seconds) uniformly in [start, end)."""
    seconds = int((end - start).total_seconds())
    offsets = rng.integers(0, max(seconds, 1), n).astype("timedelta64[s]")
    return (np.datetime64(start, "s") + offsets).astype("datetime64[us]")


def _ymd(days: np.ndarray) -> np.ndarray:
    return np.char.replace(days.astype("datetime64[D]").astype(str), "-", "")


def name_variants(rng: np.random.Generator, names: pd.Series, share: float = 0.15) -> np.ndarray:
    """Names as other systems type them: brackets half- or full-width, trailing spaces."""
    names = names.astype(str)
    pick = rng.random(len(names))
    swapped = names.str.replace("（", "(").str.replace("）", ")")
    return np.select([pick < share / 2, pick < share], [swapped, names + "  "], names).astype(
        object
    )
