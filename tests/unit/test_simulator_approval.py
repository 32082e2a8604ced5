"""The approval system's simulator: shapes from the contracts, clean rows that hold together,
declared defects with their outcomes, entity truth, determinism, and one day's changes."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from govlake.contracts import approval as c
from govlake.identifiers import is_valid_id_number, is_valid_uscc
from govlake.simulator import approval as a
from govlake.simulator.defects import KINDS
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import SCALES, World

WORLD = World(seed=7, scale=SCALES["tiny"], until=date(2026, 11, 23))
DAYS = [WORLD.until + timedelta(days=i) for i in range(1, 8)]  # Tue 24th to Mon 30th
RATE = 0.02


@pytest.fixture(scope="module")
def history() -> dict:
    return {b.contract.table: b for b in a.ApprovalSimulator().history(WORLD, RATE)}


@pytest.fixture(scope="module")
def days(tmp_path_factory, history) -> tuple[SqlSink, list[dict]]:
    """A source with the history, then a week of days applied; each day's batches by table."""
    sink = SqlSink(f"sqlite:///{tmp_path_factory.mktemp('approval')}/approval.sqlite")
    for batch in history.values():
        sink.replace(batch.contract, batch.rows)
    runs = []
    for day in DAYS:
        before = {t: sink.keys(b.contract) for t, b in history.items()}
        batches = {b.contract.table: b for b in a.ApprovalSimulator().day(WORLD, day, RATE, sink)}
        for batch in batches.values():
            sink.upsert(batch.contract, batch.rows, batch.deletes)
        runs.append({"day": day, "before": before, "batches": batches})
    return sink, runs


def _clean(batch) -> pd.DataFrame:
    (key,) = batch.contract.primary_key
    return batch.rows[~batch.rows[key].isin(batch.defects["key"])]


def test_contracts_are_loose_source_tables():
    assert [x.table for x in c.CONTRACTS] == [
        "departments",
        "service_items",
        "cases",
        "licence_decisions",
    ]
    for contract in c.CONTRACTS:
        (key,) = contract.primary_key
        assert contract.column(key).source_type == "integer"
        assert contract.watermark == "updated_at"
        assert contract.column("updated_at").source_type == "timestamp"
    typed_by_hand = [x.name for x in c.LICENCE_DECISIONS.columns if x.clean_type == "date"]
    assert typed_by_hand == ["decision_date", "valid_from", "valid_to"]
    assert all(c.LICENCE_DECISIONS.column(n).source_type == "varchar(20)" for n in typed_by_hand)
    assert {"applicant_name", "applicant_id_number"} <= set(c.CASES.pii_columns)
    assert "legal_rep_name" not in c.LICENCE_DECISIONS.pii_columns  # published in 双公示


def test_history_tables_match_contracts_and_scale(tmp_path, history):
    fresh = SqlSink(f"sqlite:///{tmp_path}/fresh.sqlite")
    for batch in history.values():
        contract = batch.contract
        (key,) = contract.primary_key
        assert list(batch.rows.columns) == contract.column_names
        assert batch.rows[key].is_unique and batch.rows[key].is_monotonic_increasing
        fresh.replace(contract, batch.rows)
        assert list(fresh.read(contract, batch.rows[key].head(3)).columns) == contract.column_names
    assert len(history["departments"].rows) == 60
    assert 100 <= len(history["service_items"].rows) <= 2_400
    assert len(history["cases"].rows) == WORLD.scale.facts
    assert 0 < len(history["licence_decisions"].rows) < WORLD.scale.facts


def test_clean_rows_are_referentially_intact(history):
    depts, items = history["departments"].rows, history["service_items"].rows
    cases, decisions = _clean(history["cases"]), _clean(history["licence_decisions"])
    assert _clean(history["service_items"])["department_id"].isin(depts["department_id"]).all()
    assert cases["item_id"].isin(items["item_id"]).all()
    item_dept = items.set_index("item_id")["department_id"]
    assert (item_dept.loc[cases["item_id"]].to_numpy() == cases["department_id"]).all()
    assert decisions["authority_uscc"].isin(depts["uscc"].str.upper()).all()
    licensed = history["cases"].rows["licence_number"].dropna()
    assert decisions["licence_number"].isin(licensed).all()


def test_clean_identifiers_are_valid(history):
    cases, decisions = _clean(history["cases"]), _clean(history["licence_decisions"])
    codes = pd.concat([cases["applicant_uscc"], decisions["holder_uscc"]]).dropna()
    assert all(x == c.USCC_PLACEHOLDER or is_valid_uscc(x) for x in codes)
    assert all(
        is_valid_uscc(x) and x.startswith("11") for x in _clean(history["departments"])["uscc"]
    )  # 机关
    assert all(is_valid_uscc(x) for x in decisions["authority_uscc"])
    ids = pd.concat(
        [
            cases["applicant_id_number"],
            decisions["holder_id_number"],
            decisions["legal_rep_id_number"],
        ]
    ).dropna()
    assert len(ids) > 50 and all(is_valid_id_number(x) for x in ids)
    assert cases["applicant_org_code"].dropna().str.fullmatch(r"MA[0-9A-Z]{6}-[0-9X]").all()
    placeholder = decisions["holder_uscc"] == c.USCC_PLACEHOLDER
    assert decisions.loc[placeholder, "holder_reg_number"].str.fullmatch(r"\d{15}").all()


def test_clean_cases_and_decisions_keep_their_order(history):
    cases, decisions = _clean(history["cases"]), _clean(history["licence_decisions"])
    accepted, decided = cases["accepted_at"].dropna(), cases["decided_at"].dropna()
    assert (accepted >= cases.loc[accepted.index, "submitted_at"]).all()
    assert (decided >= cases.loc[decided.index, "accepted_at"]).all()
    assert (cases["decided_at"].notna() == cases["result"].notna()).all()
    assert (cases.loc[cases["licence_number"].notna(), "result"] == "准予").all()
    # Staff accept and decide in office hours; only 网上 submissions come at night.
    assert pd.concat([accepted, decided]).dt.hour.between(9, 20).all()
    assert 0 < cases["decided_at"].isna().sum() < len(cases)  # some still open at the end
    items = _clean(history["service_items"])
    assert (items["promised_limit_days"] <= items["legal_limit_days"]).all()
    day = pd.to_datetime(decisions["decision_date"])
    assert (day <= pd.to_datetime(decisions["valid_from"])).all()
    assert (pd.to_datetime(decisions["valid_from"]) <= pd.to_datetime(decisions["valid_to"])).all()
    assert (day <= decisions["entered_at"]).all()
    assert decisions["updated_at"].max() < pd.Timestamp(WORLD.until + timedelta(days=1))


def test_every_declared_defect_kind_appears_with_its_outcome(history):
    declared = {
        "departments": a.DEPARTMENT_TARGETS,
        "service_items": a.ITEM_TARGETS,
        "cases": [t for ts in a.CASE_TARGETS.values() for t in ts],
        "licence_decisions": [t for ts in a.DECISION_TARGETS.values() for t in ts],
    }
    for table, targets in declared.items():
        manifest = history[table].defects
        found = set(zip(manifest["kind"], manifest["column"], manifest["outcome"], strict=True))
        assert {(t.kind, t.column, KINDS[t.kind].outcome) for t in targets} == found, table
        assert manifest["key"].is_unique  # at most one defect per row
        assert manifest["key"].isin(history[table].rows.iloc[:, 0]).all()
    outcomes = set(pd.concat([b.defects for b in history.values()])["outcome"])
    assert outcomes == {"quarantine", "normalise", "flag", "inert"}


def test_system_defects_break_exactly_their_rule(history):
    rows = history["cases"].rows.set_index("case_id")
    kinds = history["cases"].defects.groupby("kind")["key"].apply(list)
    early = rows.loc[kinds["accepted_before_submitted"]]
    assert (early["accepted_at"] < early["submitted_at"]).all()
    reversed_ = rows.loc[kinds["decided_before_accepted"]]
    assert (reversed_["decided_at"] < reversed_["accepted_at"]).all()
    night = rows.loc[kinds["handled_at_night"]]
    stamp = night["decided_at"].fillna(night["accepted_at"])
    assert (stamp.dt.hour >= 22).all() and (stamp >= night["submitted_at"]).all()
    items = history["service_items"]
    over = items.rows.set_index("item_id").loc[
        items.defects.loc[items.defects["kind"] == "promised_exceeds_legal", "key"]
    ]
    assert (over["promised_limit_days"] > over["legal_limit_days"]).all()
    decisions = history["licence_decisions"]
    flipped = decisions.rows.set_index("decision_id").loc[
        decisions.defects.loc[decisions.defects["kind"] == "validity_reversed", "key"]
    ]
    assert (flipped["valid_to"] < flipped["valid_from"]).all()


def test_defects_come_at_about_the_configured_rate():
    world = World(seed=11, scale=SCALES["tiny"].times(10), until=WORLD.until)
    for batch in a.ApprovalSimulator().history(world, 0.05)[2:]:
        share = len(batch.defects) / len(batch.rows)  # per-kind counts are rounded down
        assert 0.03 <= share <= 0.08, (batch.contract.table, share)


def test_sql_sources_hold_no_nul(history):
    for batch in history.values():
        text = batch.rows.select_dtypes(object)
        assert not text.apply(lambda s: s.str.contains("\x00", regex=False, na=False)).any().any()
    names = history["cases"].rows.set_index("case_id")["applicant_name"]
    defects = history["cases"].defects
    marked = names.loc[defects.loc[defects["kind"] == "control_characters", "key"]]
    assert marked.str.contains("[\x07\u200b\u202e]").all()


def test_entity_truth_names_the_right_parties(history):
    enterprises = WORLD.enterprises().set_index("entity_id")
    persons = WORLD.persons().set_index("person_id")
    cases = history["cases"]
    truth = cases.entities.set_index("key")
    assert truth.index.is_unique and set(truth.index) == set(cases.rows["case_id"])
    clean = _clean(cases).set_index("case_id")
    firms = clean[clean["applicant_type"] == "法人"]
    who = enterprises.loc[truth.loc[firms.index, "entity_id"]]
    assert (truth.loc[firms.index, "entity_kind"] == "enterprise").all()
    coded = firms["applicant_uscc"].notna().to_numpy()
    assert (firms["applicant_uscc"].to_numpy()[coded] == who["uscc"].to_numpy()[coded]).all()
    org = firms["applicant_org_code"].notna().to_numpy()
    assert (
        org.any()
        and (
            firms["applicant_org_code"].to_numpy()[org]
            == (who["uscc"].str[8:16] + "-" + who["uscc"].str[16]).to_numpy()[org]
        ).all()
    )
    plain = firms["applicant_name"].str.strip().str.replace("(", "（").str.replace(")", "）")
    assert (plain.to_numpy() == who["name"].to_numpy()).all()
    assert (plain.to_numpy() != firms["applicant_name"].to_numpy()).any()  # variants exist
    people = clean[clean["applicant_type"] == "自然人"]
    them = persons.loc[truth.loc[people.index, "entity_id"]]
    assert (people["applicant_id_number"].to_numpy() == them["id_number"].to_numpy()).all()
    decisions = history["licence_decisions"]
    reps = decisions.entities[decisions.entities["entity_kind"] == "person"]
    rows = _clean(decisions).set_index("decision_id")
    reps = reps[reps["key"].isin(rows.index)]
    named = pd.concat([rows["legal_rep_id_number"], rows["holder_id_number"]]).dropna()
    pairs = set(zip(named.index, named, strict=True))
    assert pairs == set(zip(reps["key"], persons.loc[reps["entity_id"], "id_number"], strict=True))


def test_late_publication_is_a_property_of_slow_departments():
    world = World(seed=11, scale=SCALES["tiny"].times(10), until=WORLD.until)
    decisions = _clean(a.ApprovalSimulator().history(world, RATE)[3])
    lag = a.workdays_between(
        decisions["decision_date"].to_numpy("datetime64[D]"),
        decisions["entered_at"].to_numpy("datetime64[D]"),
    )
    assert 0.03 <= (lag > 7).mean() <= 0.4
    depts = a.departments(world).set_index("uscc")["_publish_p"]
    pace = depts.loc[decisions["authority_uscc"]].to_numpy()
    assert lag[pace < 0.1].mean() > 3 * lag[pace > 0.6].mean()


def test_history_is_deterministic(history):
    again = a.ApprovalSimulator().history(WORLD, RATE)
    for batch in again:
        first = history[batch.contract.table]
        pd.testing.assert_frame_equal(batch.rows, first.rows)
        pd.testing.assert_frame_equal(batch.defects, first.defects)
        pd.testing.assert_frame_equal(batch.entities, first.entities)
    other = World(seed=8, scale=WORLD.scale, until=WORLD.until)
    assert not a.ApprovalSimulator().history(other, RATE)[2].rows.equals(history["cases"].rows)


def test_working_days():
    day = lambda s: np.array([s], dtype="datetime64[D]")  # noqa: E731
    assert a.add_workdays(day("2026-11-20"), [1])[0] == np.datetime64("2026-11-23")  # Fri->Mon
    assert a.add_workdays(day("2026-11-21"), [0])[0] == np.datetime64("2026-11-23")  # Sat->Mon
    assert a.add_workdays(day("2026-09-30"), [1])[0] > np.datetime64("2026-10-07")  # 国庆
    assert not a.is_workday(day("2026-10-01"))[0]
    # 2027 is unknown to chinese_calendar: weekends only, so 元旦 counts as a working day.
    assert a.add_workdays(day("2026-12-31"), [1])[0] == np.datetime64("2027-01-01")
    assert a.add_workdays(day("2027-01-01"), [1])[0] == np.datetime64("2027-01-04")
    assert a.is_workday(day("2027-03-01"))[0] and not a.is_workday(day("2027-03-06"))[0]
    assert a.workdays_between(day("2026-11-20"), day("2026-11-27"))[0] == 5


def test_a_day_inserts_updates_arrives_late_and_revokes(days):
    _, runs = days
    first = runs[0]  # a Tuesday
    cases, decisions = first["batches"]["cases"], first["batches"]["licence_decisions"]
    assert cases.changes["inserts"] > 0 and cases.changes["updates"] > 0
    assert cases.changes["late"] > 0 and decisions.changes["revocations"] > 0
    assert sum(r["batches"]["licence_decisions"].changes["inserts"] for r in runs) > 0
    assert sum(r["batches"]["licence_decisions"].changes["late"] for r in runs) > 0
    assert sum(r["batches"]["cases"].changes["deletes"] for r in runs) > 0
    assert sum(r["batches"]["service_items"].changes["updates"] for r in runs) > 0
    assert (
        decisions.rows.loc[
            decisions.rows["decision_id"].isin(first["before"]["licence_decisions"]), "status"
        ].isin(["注销", "撤销"])
    ).all()


def test_day_rows_are_stamped_inside_the_day_with_fresh_keys(days):
    sink, runs = days
    for run in runs:
        start, end = pd.Timestamp(run["day"]), pd.Timestamp(run["day"] + timedelta(days=1))
        for table, batch in run["batches"].items():
            (key,) = batch.contract.primary_key
            rows, before = batch.rows, run["before"][table]
            assert rows["updated_at"].between(start, end, inclusive="left").all()
            new = rows[~rows[key].isin(before)]
            assert len(new) == batch.changes.get("inserts", 0)
            assert (new[key] > before.max()).all()
            assert batch.defects.empty or batch.defects["key"].isin(new[key]).all()
            assert set(batch.entities["key"]) <= set(new[key])
            assert set(batch.deletes) <= set(before) and before.max() not in batch.deletes
            assert not set(batch.deletes) & set(sink.keys(batch.contract))


def test_days_publish_each_licence_once_and_decide_open_cases(days, history):
    sink, runs = days
    decisions = sink.read(c.LICENCE_DECISIONS, sink.keys(c.LICENCE_DECISIONS))
    numbers = decisions["licence_number"].str.strip().str.upper()
    assert numbers.is_unique
    cases = sink.read(c.CASES, sink.keys(c.CASES))
    was_open = history["cases"].rows.loc[history["cases"].rows["decided_at"].isna(), "case_id"]
    now = cases[cases["case_id"].isin(was_open)]
    assert now["decided_at"].notna().sum() > 0
    defective = np.concatenate(
        [history["cases"].defects["key"]] + [r["batches"]["cases"].defects["key"] for r in runs]
    )
    clean = cases[~cases["case_id"].isin(defective)]
    decided = clean[clean["decided_at"].notna()]
    assert (decided["accepted_at"] >= decided["submitted_at"]).all()
    assert (decided["decided_at"] >= decided["accepted_at"]).all()
    assert decided["result"].notna().all() and decided["decided_at"].dt.hour.between(9, 20).all()


def test_a_day_injects_defects_into_new_rows_only(tmp_path):
    world = World(seed=7, scale=SCALES["tiny"].times(10), until=WORLD.until)
    sink = SqlSink(f"sqlite:///{tmp_path}/defects.sqlite")
    for batch in a.ApprovalSimulator().history(world, RATE):
        sink.replace(batch.contract, batch.rows)
    before = sink.keys(c.CASES)
    cases = a.ApprovalSimulator().day(world, DAYS[0], 0.5, sink)[2]
    assert len(cases.defects) > 0
    assert not cases.defects["key"].isin(before).any()
    assert set(cases.defects["outcome"]) <= {"quarantine", "normalise", "flag", "inert"}


def test_a_day_is_deterministic(tmp_path, history, days):
    _, runs = days
    sink = SqlSink(f"sqlite:///{tmp_path}/again.sqlite")
    for batch in history.values():
        sink.replace(batch.contract, batch.rows)
    again = a.ApprovalSimulator().day(WORLD, DAYS[0], RATE, sink)
    for batch in again:
        first = runs[0]["batches"][batch.contract.table]
        pd.testing.assert_frame_equal(
            batch.rows.reset_index(drop=True), first.rows.reset_index(drop=True), check_dtype=False
        )
        assert batch.deletes == first.deletes and batch.changes == first.changes


def test_a_day_in_a_year_the_calendar_does_not_know(tmp_path):
    world = World(seed=7, scale=SCALES["tiny"], until=date(2026, 12, 31))
    sink = SqlSink(f"sqlite:///{tmp_path}/2027.sqlite")
    simulator = a.ApprovalSimulator()
    for batch in simulator.history(world, RATE):
        sink.replace(batch.contract, batch.rows)
    batches = {b.contract.table: b for b in simulator.day(world, date(2027, 1, 4), RATE, sink)}
    assert batches["cases"].changes["inserts"] > 0
    assert batches["cases"].rows["updated_at"].dt.date.eq(date(2027, 1, 4)).all()
