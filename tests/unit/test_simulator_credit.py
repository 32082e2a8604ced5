"""The credit system simulator against its contracts, the shared validity rules and its truth."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from govlake.config import Settings
from govlake.contracts import credit as c
from govlake.identifiers import USCC_PLACEHOLDER, is_valid_id_number, is_valid_uscc
from govlake.simulator import run
from govlake.simulator.credit import CreditSimulator
from govlake.simulator.defects import KINDS
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import SCALES, World
from tests.conftest import DAY, TINY


def _clean(batch) -> pd.DataFrame:
    """Rows the manifest gives no defect."""
    (key,) = batch.contract.primary_key
    return batch.rows[~batch.rows[key].isin(batch.defects["key"])]


def test_every_table_matches_its_contract(credit_history):
    assert {b.contract for b in credit_history.values()} == set(c.CONTRACTS)
    for batch in credit_history.values():
        assert list(batch.rows.columns) == batch.contract.column_names
        (key,) = batch.contract.primary_key
        assert batch.rows[key].is_unique and batch.rows[key].is_monotonic_increasing


def test_clean_codes_and_id_numbers_pass_the_shared_definition(credit_history):
    register = _clean(credit_history["enterprise_register"])
    assert all(code == USCC_PLACEHOLDER or is_valid_uscc(code) for code in register["uscc"])
    assert (register["uscc"] == USCC_PLACEHOLDER).any()  # 个体工商户 without a code
    placeholders = register[register["uscc"] == USCC_PLACEHOLDER]
    assert placeholders["registration_number"].str.len().eq(15).all()
    assert all(is_valid_id_number(n) for n in register["legal_rep_id_number"])
    persons = _clean(credit_history["persons"])
    assert all(is_valid_id_number(n) for n in persons["id_number"])
    retired = persons["id_number"].str[:6].isin(["370205", "370282", "370284"])
    assert retired.any()  # old region codes inside real ID numbers


def test_clean_rows_are_referentially_intact(credit_history):
    persons = set(credit_history["persons"].rows["person_id"])
    register = _clean(credit_history["enterprise_register"])
    assert set(register["legal_rep_person_id"]) <= persons
    codes = set(TINY.enterprises()["uscc"])  # the register itself carries defects
    for table in ("tax_credit_levels", "abnormal_operations", "serious_dishonesty"):
        assert set(_clean(credit_history[table])["uscc"]) <= codes, table
    repairs = _clean(credit_history["credit_repairs"])
    for table in ("abnormal_operations", "serious_dishonesty"):
        listed = set(credit_history[table].rows["record_id"])
        assert set(repairs.loc[repairs["record_table"] == table, "record_id"]) <= listed


def test_every_declared_defect_kind_appears_with_its_outcome(credit_history):
    for batch in credit_history.values():
        defects = batch.defects
        assert len(defects), batch.contract.name
        assert (defects["outcome"] == defects["kind"].map(lambda k: KINDS[k].outcome)).all()
        assert defects["key"].is_unique  # one defect per row: one expected outcome
        assert set(defects["key"]) <= set(batch.rows[batch.contract.primary_key[0]])
    kinds = pd.concat([b.defects for b in credit_history.values()])["kind"]
    assert {
        "bad_uscc_checksum",
        "bad_id_checksum",
        "impossible_birth_date",
        "future_date",
        "required_null",
        "too_long",
        "unknown_region",
        "orphan_reference",
        "duplicate_business_key",
        "lower_case_code",
        "fullwidth_code",
        "padded_code",
        "mixed_date_format",
        "control_characters",
        "hostile_text",
        "rare_characters",
        "uscc_org_code_mismatch",
    } <= set(kinds)


def test_defect_rate_follows_the_setting():
    world = World(seed=3, scale=SCALES["tiny"].times(10), until=DAY)
    for rate in (0.02, 0.08):
        register = {b.contract.table: b for b in CreditSimulator().history(world, rate)}[
            "enterprise_register"
        ]
        share = len(register.defects) / len(register.rows)
        assert rate * 0.8 <= share <= rate * 1.3, (rate, share)


def test_quarantine_defects_really_break_the_shared_rules(credit_history):
    register = credit_history["enterprise_register"]
    rows = register.rows.set_index("enterprise_id")
    bad = register.defects[register.defects["kind"] == "bad_uscc_checksum"]["key"]
    assert not any(is_valid_uscc(rows.loc[k, "uscc"]) for k in bad)
    persons = credit_history["persons"]
    people = persons.rows.set_index("person_id")
    for kind in ("bad_id_checksum", "impossible_birth_date"):
        keys = persons.defects[persons.defects["kind"] == kind]["key"]
        assert not any(is_valid_id_number(people.loc[k, "id_number"]) for k in keys), kind


def test_entity_truth_names_the_world_entity_of_every_list_record(credit_history):
    enterprises = TINY.enterprises().set_index("entity_id")
    for table in ("tax_credit_levels", "abnormal_operations", "serious_dishonesty"):
        batch = credit_history[table]
        truth = batch.entities.set_index("key")
        rows = _clean(batch).set_index("record_id")
        assert set(rows.index) <= set(truth.index)
        entity_codes = enterprises.loc[truth.loc[rows.index, "entity_id"], "uscc"].to_numpy()
        assert (entity_codes == rows["uscc"].to_numpy()).all(), table
    names = credit_history["abnormal_operations"].rows["enterprise_name"]
    assert names.str.endswith(" ").any() or names.str.contains(r"\(").any()  # name variants


def _digest(settings: Settings) -> str:
    sink = SqlSink(settings.source_url("credit"))
    parts = []
    for contract in c.CONTRACTS:
        frame = sink.read(contract, sink.keys(contract))
        parts.append(pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy())
    return hashlib.sha256(np.concatenate(parts).tobytes()).hexdigest()


def _simulate(tmp_path, seed: int, days: int) -> tuple[Settings, list[dict]]:
    settings = Settings(var_dir=tmp_path, _env_file=None)
    run.init(settings, seed, "tiny", DAY)
    changes = [run.day(settings, DAY + timedelta(days=i)) for i in range(1, days + 1)]
    return settings, changes


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    first, _ = _simulate(tmp_path / "a", 7, 2)
    second, _ = _simulate(tmp_path / "b", 7, 2)
    other, _ = _simulate(tmp_path / "c", 8, 2)
    assert _digest(first) == _digest(second)
    assert _digest(first) != _digest(other)


def test_days_bring_inserts_updates_late_arrivals_revocations_repairs_and_deletes(tmp_path):
    settings, days = _simulate(tmp_path, 7, 4)
    totals: dict[str, int] = {}
    for changes in days:
        for counts in changes.values():
            for kind, n in counts.items():
                totals[kind] = totals.get(kind, 0) + n
    for kind in ("inserts", "updates", "late", "revocations", "repairs", "deletes"):
        assert totals.get(kind, 0) > 0, kind
    sink = SqlSink(settings.source_url("credit"))
    register = sink.read(c.ENTERPRISE_REGISTER, sink.keys(c.ENTERPRISE_REGISTER))
    last_day = register["updated_at"].dt.date == DAY + timedelta(days=4)
    assert last_day.any()


def test_a_day_in_a_year_the_calendar_does_not_know_still_simulates(tmp_path):
    settings = Settings(var_dir=tmp_path, _env_file=None)
    run.init(settings, 7, "tiny", date(2026, 12, 31))
    changes = run.day(settings, date(2027, 1, 4))
    assert changes["credit.enterprise_register"]["inserts"] > 0


def test_days_inside_the_history_are_refused(tmp_path):
    settings = Settings(var_dir=tmp_path, _env_file=None)
    run.init(settings, 7, "tiny", DAY)
    with pytest.raises(ValueError, match="inside the simulated history"):
        run.day(settings, DAY)
