import pandas as pd
import pyarrow as pa

from govlake.quality.normalise import normalise
from govlake.quality.split import FLAGS, REASONS, validate_and_split
from tests.conftest import EXPECTATIONS, REGISTER


def _raw(rows) -> pa.Table:
    frame = pd.DataFrame(rows)
    frame["registered_capital"] = frame["registered_capital"].map(
        lambda v: None if v is None else str(v)
    )
    return pa.Table.from_pandas(frame, schema=REGISTER.raw_schema(), preserve_index=False)


def test_normaliser_codes_text_and_dates():
    frame = pd.DataFrame({c: [None] * 5 for c in REGISTER.column_names})
    frame["uscc"] = [
        "９１３５０１００Ｍ０００１００Ｙ４３",
        " 91350100m000100y43 ",
        "91350100M000100Y43",
        None,
        "x",
    ]
    frame["name"] = ["青岛\u202e公司 ", "a\x00b", "ok", None, "ok"]
    frame["established_on"] = ["2019/3/5", "20190305", "2019年3月5日", "2019-02-30", "garbage"]
    out, changes = normalise(frame, REGISTER)
    assert out["uscc"].tolist()[:3] == ["91350100M000100Y43"] * 3
    assert out["name"].tolist()[:2] == ["青岛公司", "ab"]
    assert out["established_on"].tolist() == ["2019-03-05"] * 3 + ["2019-02-30", "garbage"]
    assert changes == {"uscc:code": 3, "name:text": 2, "established_on:date": 3}
    assert frame["uscc"][0].startswith("９")  # the input is not modified


def test_split_matches_the_simulators_ground_truth(register_rows):
    rows, truth = register_rows
    result = validate_and_split(_raw(rows), REGISTER, EXPECTATIONS)
    quarantined = {r["enterprise_id"]: set(r[REASONS]) for r in result.quarantine.to_pylist()}
    flagged = {r["enterprise_id"]: set(r[FLAGS]) for r in result.clean.to_pylist() if r[FLAGS]}
    assert quarantined == truth.quarantine
    assert flagged == truth.flags
    assert result.clean.num_rows + result.quarantine.num_rows == len(rows)
    assert result.clean.schema.field("established_on").type == pa.date32()
    summary = result.summary
    assert summary["flagged_by"] == {"uscc_org_code": len(truth.flags)}
    assert summary["quarantined_rows"] == len(truth.quarantine)
    assert summary["quarantined_by"]["uscc_valid"] == sum(
        "uscc_valid" in rules for rules in truth.quarantine.values()
    )


def test_quarantine_keeps_the_row_as_the_source_sent_it(register_rows):
    rows, truth = register_rows
    result = validate_and_split(_raw(rows), REGISTER, EXPECTATIONS)
    by_id = {r["enterprise_id"]: r for r in rows}
    for held in result.quarantine.to_pylist():
        assert held["uscc"] == by_id[held["enterprise_id"]]["uscc"]


def test_normalised_rows_reach_clean_in_canonical_form(register_rows):
    rows, truth = register_rows
    result = validate_and_split(_raw(rows), REGISTER, EXPECTATIONS)
    clean = {r["enterprise_id"]: r for r in result.clean.to_pylist()}
    for enterprise_id in truth.normalised:
        assert clean[enterprise_id]["uscc"].isupper() or clean[enterprise_id]["uscc"].isdigit()
        assert clean[enterprise_id]["uscc"].strip() == clean[enterprise_id]["uscc"]


def test_duplicate_primary_keys_are_both_quarantined(register_rows):
    rows, _ = register_rows
    twice = [dict(rows[1]), dict(rows[1])]
    result = validate_and_split(_raw(twice), REGISTER, EXPECTATIONS)
    assert result.clean.num_rows == 0
    assert [r[REASONS] for r in result.quarantine.to_pylist()] == [["enterprise_id_unique"]] * 2


def test_numeric_text_becomes_a_fixed_scale_decimal_rounded_half_away_from_zero():
    from decimal import Decimal

    from govlake.quality.split import _decimal

    out = _decimal(pa.array(["1.23455", "-0.00005", "7", None]), pa.decimal128(20, 4))
    assert out.to_pylist() == [Decimal("1.2346"), Decimal("-0.0001"), Decimal("7.0000"), None]
