"""The domain rules against the simulator's ground truth, at tiny scale, for all 20 tables."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from govlake.contracts import CONTRACTS, get
from govlake.quality.expectations import looks_entered_in_yuan, working_day_number
from govlake.quality.normalise import normalise
from govlake.quality.split import FLAGS, validate_and_split
from govlake.simulator.defects import KINDS
from tests.conftest import EXPECTATIONS, TINY
from tests.truth import history, raw_table, score

# Kinds that a history cannot contain or that are not validation's to catch:
# resent_record (a re-sent copy: only in daily file sets; the exchange reader drops it) and
# undecodable_file and invalid_bytes_record (a whole file, a record: the exchange reader
# quarantines them before validation).
NOT_IN_VALIDATION = {"resent_record", "undecodable_file", "invalid_bytes_record"}


@pytest.fixture(scope="module")
def tiny_history():
    return history(TINY, rate=0.02)


@pytest.fixture(scope="module")
def scored(tiny_history):
    return score(tiny_history, EXPECTATIONS)


def test_every_table_has_domain_rules():
    for name in CONTRACTS:
        assert (EXPECTATIONS / f"{name}.json").exists(), name


def test_every_defect_kind_gets_its_outcome(scored):
    misses = {k: s.misses for k, s in scored.kinds.items() if s.misses}
    assert not misses, scored.table()
    # The tiny history signs no contract late (they fall after its last day); demo has them.
    expected = set(KINDS) - NOT_IN_VALIDATION - {"late_contract"}
    assert expected <= set(scored.kinds), expected - set(scored.kinds)
    for kind, s in scored.kinds.items():
        assert s.caught + s.deferred + s.noop == s.expected, kind
        assert s.caught > 0, f"{kind}: never checked"


def test_no_clean_row_is_quarantined_or_flagged(scored):
    assert scored.false_positives == []
    # Rows held only because a parent they reference is held (quarantined or lost with its
    # exchange file) are the one legitimate exception; they carry the existence rule.
    assert all(r and r[0].endswith("_exists") for _, _, r, _ in scored.affected)


def test_every_rule_ran(scored):
    assert scored.skipped == {}


def test_flags_are_counted_and_loaded(scored):
    split = scored.results["enforcement.penalty_decisions"]
    flagged = sum(split.flagged_by.values())
    assert flagged and split.summary["flagged_rows"] <= flagged
    assert split.clean.schema.field(FLAGS).type == pa.list_(pa.string())


def test_rules_needing_a_parent_are_skipped_not_guessed(tiny_history):
    batch = tiny_history["transaction.bids"]
    split = validate_and_split(raw_table(batch), batch.contract, EXPECTATIONS)
    assert set(split.skipped) == {"section_id_exists", "bid_after_opening"}
    assert "bid_after_opening" not in split.quarantined_by
    assert split.summary["skipped_rules"] == split.skipped


def test_retired_region_codes_are_mapped_not_rejected():
    contract = get("transaction.projects")
    table = pa.table({c: pa.nulls(3, pa.string()) for c in contract.column_names})
    table = table.set_column(
        contract.column_names.index("region_code"),
        "region_code",
        pa.array(["370205", "370282 ", "370202"]),
    )
    out, changes = normalise(table, contract)
    assert out.column("region_code").to_pylist() == ["370203", "370215", "370202"]
    assert changes["region_code:region"] == 2


def test_working_days_skip_holidays_and_count_make_up_days():
    days = pd.Series(["2024-09-30", "2024-10-08", "2024-10-12", "2099-01-02"])
    number = working_day_number(days)
    assert number[1] - number[0] == 1  # 10-01..10-07 国庆 holiday
    assert number[2] - number[1] == 4  # 10-09..10-11, and 10-12 (a Saturday) is 调休 work


def test_a_fine_typed_in_yuan_is_told_from_a_large_fine():
    amount = pd.Series(["2000", "0.2", "15000", None])
    content = pd.Series(["罚款人民币2000元", "罚款人民币2000元", "罚款人民币150000000元", "警告"])
    assert looks_entered_in_yuan(amount, content).tolist() == [True, False, True, False]


def test_day_gaps_of_placeholder_dates_centuries_apart_do_not_overflow():
    # Found by tests/unit/test_malformed_input.py: pandas' nanosecond timedeltas raised
    # OutOfBoundsDatetime for a 9999-12-31 placeholder against a real date.
    from govlake.quality.expectations import _gap

    earlier = pd.Series([pd.Timestamp("2020-01-01").to_pydatetime(), None], dtype=object)
    later = pd.Series(["9999-12-31", "2020-01-02"], dtype=object)
    early_stamps = pd.Series(pd.array(["0001-01-02", "2020-01-01"], dtype="datetime64[us]"))
    late_stamps = pd.Series(pd.array(["9999-12-30", "2020-01-02"], dtype="datetime64[us]"))
    days = _gap(early_stamps, late_stamps, "days")
    assert days.tolist() == [3652056.0, 1.0]
    assert _gap(early_stamps, late_stamps, "instant").iloc[1] == 86400.0
    assert _gap(earlier, later, "days").isna().tolist() == [True, True]  # text past pandas' range
