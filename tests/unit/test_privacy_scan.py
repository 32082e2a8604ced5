"""The personal-data scanner (govlake.publish.privacy) on hand-made rows."""

from __future__ import annotations

from govlake.publish.privacy import Finding, scan_files, scan_rows

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


def test_files_people_read_are_scanned_for_numbers_and_credentials(tmp_path):
    secret = "s3cr3t-Passw0rd"
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "task.log").write_text(f"ok\nloaded row of {ID_NUMBER}\n")
    (tmp_path / "manifest.json").write_text(f'{{"url": "postgresql://u:{secret}@h/db"}}')
    (tmp_path / "docs.html").write_text("<td>370202********1237</td><td>电话13812345678</td>")
    (tmp_path / "part-0.parquet").write_bytes(ID_NUMBER.encode())  # data, not read by people
    (tmp_path / "hash.json").write_text('{"sha256": "ae5e0213812345678a"}')  # not a phone
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "_manifest.json").write_text(ID_NUMBER)  # a folder skipped
    found = scan_files(tmp_path, skip=["raw"], secrets=frozenset({secret, "x"}))
    assert [(f.source, f.row, f.kind) for f in found] == [
        ("docs.html", 1, "phone"),
        ("logs/task.log", 2, "id_number"),
        ("manifest.json", 1, "credential"),
    ]
