import pytest

from govlake.identifiers import (
    USCC_PLACEHOLDER,
    is_valid_uscc,
    org_code_check_char,
    uscc_org_code_consistent,
)

KNOWN_GOOD = [
    "91350100M000100Y43",
    "91440101MA5CJQ4N59",
    "91370202MA3C00011L",
    "92370211MA3D000203",
    "12370200493000120E",
    "N2370211MA3D00020M",
]


@pytest.mark.parametrize("code", KNOWN_GOOD)
def test_known_good_codes_are_valid(code):
    assert is_valid_uscc(code)
    assert uscc_org_code_consistent(code)


def test_letter_department_code_is_valid_although_stdnum_validate_rejects_it():
    from stdnum.cn import uscc

    assert not uscc.is_valid("N2370211MA3D00020M")
    assert is_valid_uscc("N2370211MA3D00020M")


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y44",  # checksum
        "91350100M000100Y4",  # length
        "9135010OM000100Y43",  # O is not in the character set
        "91350100m000100Y43",  # lower case (the normaliser upper-cases first)
        USCC_PLACEHOLDER,  # the 个体 placeholder is not a code
    ],
)
def test_invalid_codes(code):
    assert not is_valid_uscc(code)


def test_gb11714_organisation_code_check():
    assert org_code_check_char("D2143569") == "X"
    assert not uscc_org_code_consistent("91350100M000100Y93")  # position 17 should be 4
