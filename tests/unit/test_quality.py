import pandas as pd
import pyarrow as pa

from govlake.quality.normalise import normalise
from govlake.quality.split import FLAGS, REASONS, validate_and_split
from govlake.sources.sql import to_raw_schema
from tests.conftest import EXPECTATIONS, REGISTER, SUITE_CATCHES, keys_with


def _raw(rows: pd.DataFrame) -> pa.Table:
    """Rows as the extraction lands them: the contract's raw schema."""
    batch = pa.RecordBatch.from_pandas(rows, preserve_index=False)
    return pa.Table.from_batches([to_raw_schema(batch, REGISTER.raw_schema())])


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
    table = _text_table(frame)
    out, changes = normalise(table, REGISTER)
    assert out.column("uscc").to_pylist()[:3] == ["91350100M000100Y43"] * 3
    assert out.column("name").to_pylist()[:2] == ["青岛公司", "ab"]
    assert out.column("established_on").to_pylist() == ["2019-03-05"] * 3 + [
        "2019-02-30",
        "garbage",
    ]
    assert changes == {"uscc:code": 3, "name:text": 2, "established_on:date": 3}
    assert table.column("uscc")[0].as_py().startswith("９")  # the input is not modified


def _text_table(frame: pd.DataFrame) -> pa.Table:
    return pa.table({c: pa.array(frame[c].tolist(), pa.string()) for c in frame.columns})


def test_normaliser_treats_unicode_spaces_and_every_date_shape():
    frame = pd.DataFrame({c: [None] * 4 for c in REGISTER.column_names})
    frame["uscc"] = ["9135\u3000 0100M000100Y43", "91350100M000100Y43\u2028", "\t913501", None]
    frame["name"] = ["\ufeff青岛\u200b公司\u2066", "  x\t", "正常名称", None]
    frame["established_on"] = ["2019.3.5", " ２０１９－０３－０５ ", "2019-3-5", None]
    out, changes = normalise(_text_table(frame), REGISTER)
    assert out.column("uscc").to_pylist() == ["91350100M000100Y43"] * 2 + ["913501", None]
    assert out.column("name").to_pylist() == ["青岛公司", "x", "正常名称", None]
    assert out.column("established_on").to_pylist() == ["2019-03-05"] * 3 + [None]
    assert changes == {"uscc:code": 3, "name:text": 2, "established_on:date": 3}


def test_split_matches_the_simulators_ground_truth(register):
    result = validate_and_split(_raw(register.rows), REGISTER, EXPECTATIONS)
    quarantined = set(result.quarantine.column("enterprise_id").to_pylist())
    flagged = {r["enterprise_id"] for r in result.clean.to_pylist() if r[FLAGS]}
    assert quarantined == keys_with(register, "quarantine", SUITE_CATCHES)
    assert flagged == keys_with(register, "flag")
    assert result.clean.num_rows + result.quarantine.num_rows == len(register.rows)
    assert result.clean.schema.field("established_on").type == pa.date32()
    assert result.summary["flagged_by"] == {"uscc_org_code": len(keys_with(register, "flag"))}


def test_quarantine_keeps_the_row_as_the_source_sent_it(register):
    result = validate_and_split(_raw(register.rows), REGISTER, EXPECTATIONS)
    sent = register.rows.set_index("enterprise_id")["uscc"]
    for held in result.quarantine.to_pylist():
        assert held["uscc"] == sent[held["enterprise_id"]]
        assert held[REASONS]


def test_normalised_and_inert_rows_reach_clean_in_canonical_form(register):
    result = validate_and_split(_raw(register.rows), REGISTER, EXPECTATIONS)
    clean = result.clean.to_pandas().set_index("enterprise_id")
    fixed = keys_with(register, "normalise")
    assert fixed and fixed <= set(clean.index)
    for code in clean.loc[sorted(fixed), "uscc"]:
        assert code == code.strip().upper() and len(code) == 18
    inert = register.defects[register.defects["outcome"] == "inert"]
    sent = register.rows.set_index("enterprise_id")
    for key, column in zip(inert["key"], inert["column"], strict=True):
        assert clean.loc[key, column] == sent.loc[key, column]  # loaded unchanged


def test_duplicate_primary_keys_are_both_quarantined(register):
    twice = pd.concat([register.rows.iloc[[1]], register.rows.iloc[[1]]], ignore_index=True)
    result = validate_and_split(_raw(twice), REGISTER, EXPECTATIONS)
    assert result.clean.num_rows == 0
    assert [r[REASONS] for r in result.quarantine.to_pylist()] == [["enterprise_id_unique"]] * 2


def test_numeric_text_becomes_a_fixed_scale_decimal_rounded_half_away_from_zero():
    from decimal import Decimal

    from govlake.quality.split import _decimal

    out = _decimal(pa.array(["1.23455", "-0.00005", "7", None]), pa.decimal128(20, 4))
    assert out.to_pylist() == [Decimal("1.2346"), Decimal("-0.0001"), Decimal("7.0000"), None]


def test_numeric_text_too_wide_for_the_clean_decimal_is_quarantined_not_a_crash(register):
    # Found by tests/unit/test_malformed_input.py: such text used to raise ArrowInvalid in the cast.
    rows = register.rows.iloc[[0] * 5].copy()
    rows["enterprise_id"] = range(5)
    rows["uscc"] = register.rows["uscc"].iloc[:5].to_numpy()
    rows["registered_capital"] = ["9" * 40, "NaN", "Infinity", "0." + "1" * 20, "12.5"]
    result = validate_and_split(_raw(rows), REGISTER, EXPECTATIONS)
    assert result.clean.num_rows + result.quarantine.num_rows == 5
    held = {r["enterprise_id"]: r[REASONS] for r in result.quarantine.to_pylist()}
    assert all("registered_capital_is_number" in held[i] for i in range(4))


def test_codes_lose_control_characters_and_bidi_overrides_too():
    # Found by tests/unit/test_malformed_input.py: codes kept them and reached clean/.
    frame = pd.DataFrame({c: [None] * 3 for c in REGISTER.column_names})
    frame["uscc"] = [
        "9135\u202e0100M000100Y43",
        "91350100M000100Y43\x00",
        "\u200b91350100m000100y43",
    ]
    out, changes = normalise(_text_table(frame), REGISTER)
    assert out.column("uscc").to_pylist() == ["91350100M000100Y43"] * 3
    assert changes["uscc:code"] == 3
