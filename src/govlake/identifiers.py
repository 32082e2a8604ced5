"""Chinese identifiers, defined once for the simulator and the validator (DOMAIN.md, appendix).

python-stdnum does the arithmetic. Its ``validate`` functions are not used: ``cn.uscc.validate``
rejects legal codes of letter registration departments (A, N, Y) and ``cn.ric.validate`` rejects IDs
whose region code was not yet valid in the birth year, which real numbers keep for life.
"""

from __future__ import annotations

import re

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
