"""Chinese identifiers, defined once for the simulator and the validator (DOMAIN.md, appendix).

python-stdnum does the arithmetic. Its ``validate`` functions are not used: ``cn.uscc.validate``
rejects legal codes of letter registration departments (A, N, Y) and ``cn.ric.validate`` rejects IDs
whose region code was not yet valid in the birth year, which real numbers keep for life.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from stdnum.cn import ric as _ric
from stdnum.cn import uscc as _uscc

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
USCC_PLACEHOLDER = "00000000000000000X"  # 个体工商户 without a code: not a code, never "valid"
_USCC_RE = re.compile(USCC_PATTERN)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 组织机构代码


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
    return body.isalnum() and org_code_check_char(body) == code[16]


def id_number_check_char(first17: str) -> str:
    """Position 18 of a 公民身份号码 (GB 11643, ISO 7064 MOD 11-2)."""
    return _ric.calc_check_digit(first17 + "0")


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
    return born <= (today or date.today()) and id_region_ever_existed(number[:6])


@lru_cache(maxsize=1)
def _locations():
    from stdnum import numdb

    return numdb.get("cn/loc")
