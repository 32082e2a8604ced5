"""The enforcement simulator (网上执法平台): shapes, clean rows, defects, red flags, days."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import numpy as np
import pandas as pd
import pytest

from govlake.contracts import enforcement as c
from govlake.identifiers import USCC_PLACEHOLDER, is_valid_id_number, is_valid_uscc
from govlake.simulator import enforcement as sim
from govlake.simulator.defects import FLAG, KINDS, QUARANTINE
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import SCALES, World
from govlake.workdays import year_working_days

WORLD = World(seed=7, scale=SCALES["tiny"], until=date(2026, 11, 23))
TARGETS = {
    "penalty_powers": sim._POWER_TARGETS,
    "discretion_standards": sim._STANDARD_TARGETS,
    "penalty_decisions": [t for ts in sim._DECISION_TARGETS.values() for t in ts],
    "revocations": sim._REVOCATION_TARGETS,
}


def _history(world: World = WORLD, rate: float = 0.02) -> dict:
    return {b.contract.table: b for b in sim.EnforcementSimulator().history(world, rate)}


@pytest.fixture(scope="module")
def history() -> dict:
    return _history()


@pytest.fixture(scope="module")
def clean(history) -> dict:
    """Each table's rows that carry no defect at all."""
    return {t: b.rows[~b.rows.iloc[:, 0].isin(b.defects["key"])] for t, b in history.items()}


def _written(tmp_path, world: World = WORLD) -> SqlSink:
    sink = SqlSink(f"sqlite:///{tmp_path}/enforcement.sqlite")
    for batch in sim.EnforcementSimulator().history(world, 0.02):
        sink.replace(batch.contract, batch.rows)
    return sink


def _lag(decided: str, entered: pd.Timestamp) -> int:
    """Working days from the decision to its entry (双公示: at most 7)."""
    start = date.fromisoformat(decided) + timedelta(days=1)
    return (
        len(chinese_calendar.get_workdays(start, entered.date())) if start <= entered.date() else 0
    )


def _with_band(decisions: pd.DataFrame, standards: pd.DataFrame) -> pd.DataFrame:
    bands = standards.set_index("standard_id")[["power_id", "fine_min_yuan", "fine_max_yuan"]]
    return decisions.join(bands, on="standard_id", rsuffix="_of_standard")


def test_contracts_and_catalogue_agree():
    assert [t.table for t in c.CONTRACTS] == list(TARGETS)
    for contract in c.CONTRACTS:
        assert contract.system == "enforcement" and contract.watermark == "updated_at"
        (key,) = contract.primary_key
        assert contract.column(key).source_type == "integer"
    assert c.PENALTY_DECISIONS.column("decision_date").source_type == "varchar(20)"
    assert c.PENALTY_DECISIONS.pii_columns == ["party_name", "party_id_number"]
    assert set(sim._sector_table()["sector"]) == set(c.SECTORS)


def test_history_matches_contracts_and_loads(history, tmp_path):
    assert list(history) == list(TARGETS)
    for batch in history.values():
        (key,) = batch.contract.primary_key
        assert list(batch.rows.columns) == batch.contract.column_names
        assert batch.rows[key].is_monotonic_increasing and batch.rows[key].is_unique
    sink = _written(tmp_path)
    for batch in history.values():
        assert len(sink.keys(batch.contract)) == len(batch.rows)
    back = sink.read(c.PENALTY_DECISIONS, [1, 2])
    assert list(back.columns) == c.PENALTY_DECISIONS.column_names


def test_sizes_follow_the_scale(history):
    powers, standards = (len(history[t].rows) for t in ("penalty_powers", "discretion_standards"))
    assert powers == 200 and 3.5 * powers < standards < 4 * powers
    assert len(history["penalty_decisions"].rows) == 300
    assert sim._power_count(World(7, SCALES["demo"], WORLD.until)) == 7_300
    assert sim._decision_count(World(7, SCALES["city"], WORLD.until)) == 50_000


def test_clean_rows_are_referentially_intact(history, clean):
    powers, standards = history["penalty_powers"].rows, history["discretion_standards"].rows
    decisions = _with_band(clean["penalty_decisions"], standards)
    assert clean["discretion_standards"]["power_id"].isin(powers["power_id"]).all()
    assert decisions["power_id"].isin(powers["power_id"]).all()
    assert decisions["standard_id"].isin(standards["standard_id"]).all()
    sound = _with_band(clean["penalty_decisions"], clean["discretion_standards"]).dropna(
        subset=["power_id_of_standard"]
    )
    assert (sound["power_id_of_standard"] == sound["power_id"]).all()  # the standard's own power
    all_decisions = history["penalty_decisions"].rows.set_index("decision_id")
    revoked = clean["revocations"]["decision_id"]
    assert revoked.isin(all_decisions.index).all()
    assert (all_decisions.loc[revoked, "status"] == "已撤销").all()
    assert (all_decisions["status"] == "已撤销").sum() == len(history["revocations"].rows)


def test_clean_parties_are_world_entities_with_valid_codes(history, clean):
    rows = clean["penalty_decisions"].set_index("decision_id")
    truth = history["penalty_decisions"].entities.set_index("key")
    assert set(truth.index) == set(history["penalty_decisions"].rows["decision_id"])
    firms = WORLD.enterprises().set_index("entity_id")
    people = WORLD.persons().set_index("person_id")
    firm_rows = rows[truth.loc[rows.index, "entity_kind"] == "enterprise"]
    firm = firms.loc[truth.loc[firm_rows.index, "entity_id"]]

    def match_key(names):  # name variants: trailing spaces, half- or full-width brackets
        return names.str.rstrip().str.replace("(", "（").str.replace(")", "）").to_numpy()

    assert (match_key(firm_rows["party_name"]) == match_key(firm["name"])).all()
    coded = firm_rows["party_uscc"].notna()
    assert (
        firm_rows.loc[coded, "party_uscc"].to_numpy()
        == firm.loc[coded.to_numpy(), "uscc"].to_numpy()
    ).all()
    org_only = firm_rows[~coded]
    assert len(org_only) and org_only["party_org_code"].str.fullmatch(r"MA\w{6}-\w").all()
    placeholder = firm_rows["party_uscc"] == USCC_PLACEHOLDER
    assert (
        placeholder.any() and firm_rows.loc[placeholder, "party_registration_number"].notna().all()
    )
    person_rows = rows[truth.loc[rows.index, "entity_kind"] == "person"]
    person = people.loc[truth.loc[person_rows.index, "entity_id"]]
    assert (person_rows["party_id_number"].to_numpy() == person["id_number"].to_numpy()).all()
    assert (person_rows["party_type"] == "自然人").all() and person_rows["party_uscc"].isna().all()
    assert person_rows["party_id_number"].map(is_valid_id_number).all()
    codes = pd.concat(
        [
            rows.loc[coded[coded].index, "party_uscc"],
            rows["authority_uscc"],
            clean["penalty_powers"]["department_uscc"],
        ]
    )
    assert codes[codes != USCC_PLACEHOLDER].map(is_valid_uscc).all()


def test_clean_decisions_keep_the_rules(history, clean):
    rows = _with_band(clean["penalty_decisions"], history["discretion_standards"].rows)
    fined = rows["penalty_types"].str.contains("罚款")
    assert (fined == rows["fine_amount_wan"].notna()).all()
    banded = _with_band(clean["penalty_decisions"], clean["discretion_standards"]).dropna(
        subset=["fine_min_yuan"]
    )  # a standard's own defect (an inverted band) is not the fine's
    banded = banded[banded["penalty_types"].str.contains("罚款")]
    yuan = (banded["fine_amount_wan"] * 10_000).round(2)
    assert yuan.between(banded["fine_min_yuan"], banded["fine_max_yuan"]).all()
    assert (
        rows["penalty_types"].str.contains("没收") == rows["confiscation_amount_wan"].notna()
    ).all()
    limit = np.where(rows["party_type"] == "法人及非法人组织", 3_000, 200)
    simple = rows[rows["procedure_type"] == "简易"]
    assert len(simple) and simple["penalty_types"].isin(["警告", "罚款", "警告;罚款"]).all()
    assert (
        (simple["fine_amount_wan"].fillna(0) * 10_000).round(2)
        <= limit[(rows["procedure_type"] == "简易").to_numpy()]
    ).all()
    lags = [_lag(d, e) for d, e in zip(rows["decision_date"], rows["entered_at"], strict=True)]
    assert max(lags) <= 7
    assert (pd.to_datetime(rows["decision_date"]) <= rows["entered_at"]).all()
    assert (rows["updated_at"] >= rows["entered_at"]).all()
    assert rows["decision_number"].is_unique
    assert rows["penalty_content"].str.len().gt(0).all()
    standards = clean["discretion_standards"]
    assert (standards["fine_min_yuan"] < standards["fine_max_yuan"]).all()
    assert set(standards["circumstance"]) == set(c.CIRCUMSTANCES)


def test_every_declared_defect_is_in_the_manifest_with_its_outcome(history):
    for table, targets in TARGETS.items():
        defects = history[table].defects
        assert set(zip(defects["kind"], defects["column"], strict=True)) == {
            (t.kind, t.column) for t in targets
        }
        assert (defects["outcome"] == defects["kind"].map(lambda k: KINDS[k].outcome)).all()
        assert defects["key"].is_unique  # at most one defect per row


def test_defects_come_at_about_the_rate():
    heavy = _history(rate=0.1)
    for table in ("penalty_powers", "discretion_standards"):
        share = heavy[table].defects["key"].nunique() / len(heavy[table].rows)
        assert 0.07 < share < 0.13, table
    decisions = heavy["penalty_decisions"]
    share = decisions.defects["key"].nunique() / len(decisions.rows)
    assert 0.07 < share < 0.2


def test_red_flags_and_order_violations_are_true(history):
    batch = history["penalty_decisions"]
    rows = _with_band(batch.rows, history["discretion_standards"].rows).set_index("decision_id")
    kinds = batch.defects.set_index("key")["kind"]

    def flagged(kind):
        return rows.loc[kinds[kinds == kind].index]

    outside = flagged("fine_outside_band")
    yuan = outside["fine_amount_wan"] * 10_000
    assert (~yuan.round(2).between(outside["fine_min_yuan"], outside["fine_max_yuan"])).all()
    assert (outside["procedure_type"] == "普通").all()
    typed = flagged("fine_in_yuan")  # the 万元 field holds a sum in 元 from the band
    assert typed["fine_amount_wan"].between(typed["fine_min_yuan"], typed["fine_max_yuan"]).all()
    simple = flagged("simple_procedure_over_threshold")
    assert (simple["procedure_type"] == "简易").all() and len(simple) == 2
    assert (simple["fine_amount_wan"] * 10_000 > 3_000).all()
    assert (simple["power_id_of_standard"] == simple["power_id"]).all()
    assert simple["party_type"].eq("自然人").any()
    late = flagged("decision_entered_late")
    assert all(
        _lag(d, e) > 7 for d, e in zip(late["decision_date"], late["entered_at"], strict=True)
    )
    early = flagged("entered_before_decision")
    assert (early["entered_at"] < pd.to_datetime(early["decision_date"])).all()
    standards = history["discretion_standards"]
    inverted = standards.rows.set_index("standard_id").loc[
        standards.defects.loc[standards.defects["kind"] == "fine_band_inverted", "key"]
    ]
    assert (inverted["fine_min_yuan"] > inverted["fine_max_yuan"]).all()
    assert {KINDS[k].outcome for k in ("fine_outside_band", "fine_in_yuan")} == {FLAG}
    assert KINDS["entered_before_decision"].outcome == QUARANTINE


def test_same_seed_same_data_other_seed_other_data(history):
    again = _history()
    other = _history(World(8, WORLD.scale, WORLD.until))
    for table, batch in history.items():
        pd.testing.assert_frame_equal(batch.rows, again[table].rows)
        pd.testing.assert_frame_equal(batch.defects, again[table].defects)
        assert not batch.rows.equals(other[table].rows)


def test_a_day_inserts_updates_enters_late_and_revokes(tmp_path):
    sink = _written(tmp_path)
    before = sink.keys(c.PENALTY_DECISIONS)
    day = WORLD.until + timedelta(days=1)
    batches = {b.contract.table: b for b in sim.EnforcementSimulator().day(WORLD, day, 0.02, sink)}
    decisions = batches["penalty_decisions"]
    changes = decisions.changes
    assert all(changes[k] >= 1 for k in ("inserts", "updates", "late", "revocations"))
    assert list(decisions.rows.columns) == c.PENALTY_DECISIONS.column_names
    assert decisions.rows["decision_id"].is_monotonic_increasing
    new = decisions.rows[~decisions.rows["decision_id"].isin(before)]
    assert len(new) == changes["inserts"] and new["decision_id"].min() > before.max()
    assert (decisions.rows["updated_at"].dt.date == day).all()
    late = decisions.defects[decisions.defects["kind"] == "decision_entered_late"]["key"]
    assert len(late) == changes["late"]
    late_rows = new.set_index("decision_id").loc[late]
    assert all(
        _lag(d, e) > 7
        for d, e in zip(late_rows["decision_date"], late_rows["entered_at"], strict=True)
    )
    assert set(decisions.entities["key"]) == set(new["decision_id"])
    revocations = batches["revocations"].rows
    assert len(revocations) == changes["revocations"]
    revoked = decisions.rows.set_index("decision_id").loc[revocations["decision_id"]]
    assert (revoked["status"] == "已撤销").all() and (revocations["revoked_on"] == str(day)).all()
    assert batches["penalty_powers"].changes["updates"] >= 1
    for batch in batches.values():
        sink.upsert(batch.contract, batch.rows, batch.deletes)
    assert (
        len(sink.keys(c.PENALTY_DECISIONS)) == len(before) + changes["inserts"] - changes["deletes"]
    )


def test_a_few_days_hard_delete_a_decision(tmp_path):
    sink = _written(tmp_path)
    deleted = []
    for offset in range(1, 5):
        for batch in sim.EnforcementSimulator().day(
            WORLD, WORLD.until + timedelta(days=offset), 0.02, sink
        ):
            sink.upsert(batch.contract, batch.rows, batch.deletes)
            deleted += batch.deletes
            assert batch.changes.get("deletes", 0) == len(batch.deletes)
    keys = sink.keys(c.PENALTY_DECISIONS)
    assert deleted and not set(deleted) & set(keys)
    revoked = sink.read(c.REVOCATIONS, sink.keys(c.REVOCATIONS))["decision_id"]
    assert not set(deleted) & set(revoked)


def test_a_day_in_a_year_the_calendar_does_not_know(tmp_path):
    world = World(7, SCALES["tiny"], date(2026, 12, 30))
    sink = _written(tmp_path, world)
    batches = sim.EnforcementSimulator().day(world, date(2027, 1, 4), 0.02, sink)
    decisions = batches[2]
    assert decisions.changes["inserts"] >= 5
    days = pd.to_datetime(decisions.rows["decision_date"], errors="coerce").dropna()
    assert (days.dt.weekday < 5).all()  # weekends only, where the holiday table ends
    assert year_working_days(2027).size == np.busday_count("2027-01-01", "2028-01-01")
