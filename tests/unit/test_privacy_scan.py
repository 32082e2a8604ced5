"""The personal-data scanner (govlake.publish.privacy) on hand-made rows."""

from __future__ import annotations

from govlake.publish.privacy import Finding, scan_rows

ID_NUMBER = "11010519491231002X"  # GB 11643's own example: a valid checksum
PARTY = {"party_name": "party_type"}


def _kinds(rows, **known) -> list[tuple[int, str, str]]:
    return [(f.row, f.column, f.kind) for f in scan_rows("v", rows, PARTY, **known)]


def test_identity_numbers_anywhere_in_text_are_found():
    rows = [
        {"party_type": "法人及非法人组织", "party_name": "甲公司", "facts": f"身份证{ID_NUMBER}。"},
        {"party_type": "法人及非法人组织", "party_name": "乙公司", "facts": ID_NUMBER.lower()},
    ]
    assert _kinds(rows) == [(0, "facts", "id_number"), (1, "facts", "id_number")]


def test_codes_that_are_not_identity_numbers_are_left_alone():
    rows = [
        {"party_type": "法人及非法人组织", "party_name": "甲公司", "uscc": "91370200MA3C1234X5"},
        {"party_type": "法人及非法人组织", "party_name": "乙公司", "doc": "110105194912310021"},
    ]  # the second: an ID's shape with a wrong check digit
    assert _kinds(rows) == []


def test_a_known_number_is_found_even_where_its_checksum_fails():
    rows = [{"party_type": "法人及非法人组织", "party_name": "甲", "x": "110105194912310021"}]
    assert _kinds(rows, known_ids=frozenset({"110105194912310021"})) == [(0, "x", "id_number")]


def test_mobile_numbers_standing_alone_are_found():
    rows = [
        {"party_type": "法人及非法人组织", "party_name": "甲公司", "note": "电话13812345678"},
        {"party_type": "法人及非法人组织", "party_name": "乙公司", "note": "文号2138123456789"},
    ]
    assert _kinds(rows) == [(0, "note", "phone")]


def test_a_natural_persons_name_must_be_masked():
    rows = [
        {"party_type": "自然人", "party_name": "张*"},
        {"party_type": "自然人", "party_name": "张三"},
        {"party_type": "法人及非法人组织", "party_name": "张三"},  # a firm may be named so
    ]
    assert _kinds(rows) == [(1, "party_name", "unmasked_name")]


def test_findings_never_carry_the_value():
    (finding,) = scan_rows("v", [{"party_type": "自然人", "party_name": "张三"}], PARTY)
    assert finding == Finding("v", 0, "party_name", "unmasked_name")
