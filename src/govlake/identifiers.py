"""Chinese identifiers, defined once for the simulator and the validator (DOMAIN.md, appendix).

python-stdnum does the arithmetic of single codes. Its ``validate`` functions are not used:
``cn.uscc.validate`` rejects legal codes of letter registration departments (A, N, Y) and
``cn.ric.validate`` rejects IDs whose region code was not yet valid in the birth year, which real
numbers keep for life.

Whole columns go through the vectorised forms below (``valid_usccs``, ``valid_id_numbers``...):
the same arithmetic over numpy arrays, because stdnum costs about 25 µs a code and a city's
register holds a million distinct codes. tests/unit/test_identifiers.py checks them against
stdnum's ``calc_check_digit`` code for code.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric as _ric
from stdnum.cn import uscc as _uscc

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
USCC_PLACEHOLDER = "00000000000000000X"  # 个体工商户 without a code: not a code, never "valid"
_USCC_RE = re.compile(USCC_PATTERN)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 组织机构代码
_EARLIEST_BIRTH = date(1800, 1, 1)  # no one alive was born before; pandas' dates start in 1677


def uscc_check_char(first17: str) -> str:
    """Position 18 of a 统一社会信用代码 (GB 32100, MOD 31-3)."""
    return _uscc.calc_check_digit(first17)


def is_valid_uscc(code: str) -> bool:
    """Format and position-18 checksum; the placeholder is not a valid code."""
    return (
        code != USCC_PLACEHOLDER
        and _USCC_RE.match(code) is not None
        and uscc_check_char(code[:17]) == code[17]
    )


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character of an organisation code's 8-character body."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_org_code_consistent(code: str) -> bool:
    """Position 17 is the org-code check of positions 9-16. Only warned on: a few codes deviate."""
    body = code[8:16]
    return body.isascii() and body.isalnum() and org_code_check_char(body) == code[16]


def id_number_check_char(first17: str) -> str:
    """Position 18 of a 公民身份号码 (GB 11643, ISO 7064 MOD 11-2)."""
    return _ric.calc_check_digit(first17 + "0")


@lru_cache(maxsize=8192)  # a few thousand codes ever existed; stdnum's lookup is slow
def id_region_ever_existed(code6: str) -> bool:
    """The address code exists or existed in GB/T 2260 at any time (python-stdnum's history)."""
    return any("county" in props for _, props in _locations().info(code6))


def is_valid_id_number(number: str, today: date | None = None) -> bool:
    """18 characters, MOD 11-2 checksum, a real birth date not in the future, and an address code
    that exists or existed (not necessarily in the birth year: numbers keep their old codes)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if id_number_check_char(number[:17]) != number[17]:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return _EARLIEST_BIRTH <= born <= (today or date.today()) and id_region_ever_existed(number[:6])


@lru_cache(maxsize=1)
def _locations():
    from stdnum import numdb

    return numdb.get("cn/loc")


# -- whole columns ------------------------------------------------------------------------------

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: values 0-30 in this order
USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)])  # 3^i mod 31 (MOD 31-3)
ORG_WEIGHTS = np.array(_ORG_WEIGHTS)
ID_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)])  # ISO 7064 MOD 11-2
ID_CHECK = np.array(list("10X98765432"))
_NOT_IN_SET = -1


def _value_table(alphabet: str, values: list[int]) -> np.ndarray:
    table = np.full(256, _NOT_IN_SET, dtype=np.int64)
    table[np.frombuffer(alphabet.encode(), np.uint8)] = values
    return table


_USCC_VALUE = _value_table(USCC_CHARSET, list(range(31)))
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE36_VALUE = _value_table(_BASE36, [int(c, 36) for c in _BASE36])  # GB 11714: A = 10
_DIGIT_VALUE = _value_table("0123456789", list(range(10)))


def uscc_check_values(first17: np.ndarray) -> np.ndarray:
    """Position 18's value (0-30) for rows of 17 character values (an ``(n, 17)`` array)."""
    return (31 - (first17 * USCC_WEIGHTS).sum(axis=1) % 31) % 31


def org_check_values(body8: np.ndarray) -> np.ndarray:
    """The GB 11714 check (10 = X, 11 = 0) of rows of 8 base-36 character values."""
    return 11 - (body8 * ORG_WEIGHTS).sum(axis=1) % 11


def id_check_chars(first17: np.ndarray) -> np.ndarray:
    """Position 18 of ID numbers for rows of 17 digits (an ``(n, 17)`` integer array)."""
    return ID_CHECK[(first17 * ID_WEIGHTS).sum(axis=1) % 11]


def _bytes(values: pd.Series, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The values that are ``width`` ASCII characters, as an ``(n, width)`` byte matrix (read
    straight from Arrow's buffer), and which rows of ``values`` they are."""
    text = pa.array(values, pa.string(), from_pandas=True)
    fits = pc.and_(pc.equal(pc.binary_length(text), width), pc.string_is_ascii(text))
    fits = fits.fill_null(False)
    chosen = text.filter(fits).cast(pa.binary(width))
    size, start = len(chosen) * width, chosen.offset * width
    matrix = np.frombuffer(chosen.buffers()[1], np.uint8, size, start)
    return matrix.reshape(-1, width), fits.to_numpy(zero_copy_only=False)


def valid_usccs(codes: pd.Series) -> np.ndarray:
    """``is_valid_uscc`` of every value (the placeholder is not a valid code)."""
    matrix, fits = _bytes(codes, 18)
    values = _USCC_VALUE[matrix]
    well_formed = (values >= 0).all(axis=1) & (_DIGIT_VALUE[matrix[:, 2:8]] >= 0).all(axis=1)
    checked = uscc_check_values(values[:, :17]) == values[:, 17]
    out = np.zeros(len(codes), dtype=bool)
    out[fits] = well_formed & checked
    return out & (codes != USCC_PLACEHOLDER).to_numpy(dtype=bool, na_value=False)


def consistent_org_codes(codes: pd.Series) -> np.ndarray:
    """``uscc_org_code_consistent`` of every 18-character value."""
    matrix, fits = _bytes(codes, 18)
    body = _BASE36_VALUE[matrix[:, 8:16]]
    check = org_check_values(np.where(body >= 0, body, 0))
    expected = np.where(check == 10, ord("X"), np.where(check == 11, ord("0"), check + ord("0")))
    out = np.zeros(len(codes), dtype=bool)
    out[fits] = (body >= 0).all(axis=1) & (matrix[:, 16] == expected)
    return out


def valid_id_numbers(numbers: pd.Series, today: date | None = None) -> np.ndarray:
    """``is_valid_id_number`` of every value; the region lookup runs once per distinct code."""
    matrix, fits = _bytes(numbers, 18)
    digits = _DIGIT_VALUE[matrix[:, :17]]
    formed = (digits >= 0).all(axis=1)
    digits = np.where(formed[:, None], digits, 0)
    checked = id_check_chars(digits).astype("S1").view(np.uint8) == matrix[:, 17]
    born = pd.to_datetime(
        pd.DataFrame(
            {
                "year": _number(digits[:, 6:10]),
                "month": _number(digits[:, 10:12]),
                "day": _number(digits[:, 12:14]),
            }
        ),
        errors="coerce",
    )
    latest = pd.Timestamp(today or date.today())
    alive = (born.notna() & (born >= pd.Timestamp(_EARLIEST_BIRTH)) & (born <= latest)).to_numpy()
    regions, where = np.unique(_number(digits[:, :6]), return_inverse=True)
    existed = np.array([id_region_ever_existed(f"{r:06d}") for r in regions], dtype=bool)
    out = np.zeros(len(numbers), dtype=bool)
    out[fits] = formed & checked & alive & existed[where]
    return out


def _number(digits: np.ndarray) -> np.ndarray:
    """Rows of decimal digits as integers."""
    return digits @ 10 ** np.arange(digits.shape[1] - 1, -1, -1)
