"""The vectorised identifier checks (whole columns) against the scalar ones, which use
python-stdnum's arithmetic: code for code."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from govlake.identifiers import (
    USCC_CHARSET,
    USCC_PLACEHOLDER,
    consistent_org_codes,
    id_number_check_char,
    is_valid_id_number,
    is_valid_uscc,
    uscc_check_char,
    uscc_org_code_consistent,
    valid_id_numbers,
    valid_usccs,
)

RNG = np.random.default_rng(11)
TODAY = date(2026, 11, 23)


def _codes(n: int) -> list[str]:
    """Random 17-character bodies with the right check character on two thirds of them."""
    chars = np.array(list(USCC_CHARSET))
    bodies = ["".join(row) for row in chars[RNG.integers(0, 31, (n, 17))]]
    return [b + (uscc_check_char(b) if i % 3 else RNG.choice(chars)) for i, b in enumerate(bodies)]


def _ids(n: int) -> list[str]:
    regions = RNG.choice(["370202", "370205", "110105", "379999", "000000"], n)
    births = pd.to_datetime("1930-01-01") + pd.to_timedelta(RNG.integers(0, 40_000, n), "D")
    days = births.strftime("%Y%m%d").to_numpy()
    days[::7] = "19900230"  # no such day
    days[::11] = "20990101"  # not born yet
    first17 = [
        f"{r}{d}{s:03d}" for r, d, s in zip(regions, days, RNG.integers(0, 999, n), strict=True)
    ]
    return [f + (id_number_check_char(f) if i % 4 else "0") for i, f in enumerate(first17)]


def test_uscc_checks_agree_with_stdnum():
    codes = _codes(20_000) + [
        "91350100M000100Y43",
        "N2370211MA3D00020M",  # a letter registration department (stdnum's validate rejects)
        USCC_PLACEHOLDER,
        "91350100M000100Y4",
        "9135010OM000100Y43",  # O is not in the character set
        "９１３５０１００Ｍ０００１００Ｙ４３",  # not normalised: not ASCII
        "",
    ]
    series = pd.Series(codes, dtype="string[pyarrow]")
    assert valid_usccs(series).tolist() == [is_valid_uscc(c) for c in codes]
    expected = [len(c) == 18 and uscc_org_code_consistent(c) for c in codes]
    assert consistent_org_codes(series).tolist() == expected


def test_id_number_checks_agree_with_stdnum():
    numbers = _ids(20_000) + ["11010519491231002X", "370202199001011237", "37020219900101123", "x"]
    series = pd.Series(numbers, dtype=object)
    expected = [is_valid_id_number(n, TODAY) for n in numbers]
    assert valid_id_numbers(series, TODAY).tolist() == expected
    assert 0.3 < np.mean(expected) < 0.9  # both verdicts well represented
