"""The walking skeleton through real Airflow runs (`airflow dags test`), embedded profile.

Day 1 loads a full snapshot of the simulated credit system's history; the simulator then adds a
day of changes, which day 2 loads incrementally. The warehouse must hold the source's register
minus the quarantined rows, follow every change, and converge to what a clean full build of the
same source state gives.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from govlake import contracts, load, pipeline, reference
from govlake.config import Settings
from govlake.lake import Lake, Partition
from govlake.publish import grading, privacy, publicity
from govlake.simulator import run as simulator
from govlake.simulator.sink import SqlSink
from govlake.transform.build import CURATED, ENTITY, ENTITY_MATCH, PERSON_IDENTITY
from tests import entity_truth
from tests.conftest import DAY, REGISTER, TABLE, fail_fast_settings
from tests.unit.test_credit_feed import dump

pytestmark = pytest.mark.e2e
DAY2 = DAY + timedelta(days=1)


def _settings(var_dir) -> Settings:
    return fail_fast_settings(var_dir, profile="embedded")


def _warehouse(settings: Settings) -> pd.DataFrame:
    path = settings.warehouse_url.get_secret_value().removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(f"select * from {TABLE}").df().set_index("enterprise_id")  # noqa: S608


def _withheld(settings: Settings) -> set[tuple[str, str, str]]:
    path = settings.warehouse_url.get_secret_value().removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute("select dataset, key, reasons from dq.withheld_keys").fetchall()
    return set(rows)


def _checksum(settings: Settings, table: str = TABLE) -> str:
    return load.table_checksum(settings.warehouse_url.get_secret_value(), table)


def _entity_checksums(settings: Settings) -> dict[str, str]:
    return {t: _checksum(settings, t) for t in (ENTITY, ENTITY_MATCH, PERSON_IDENTITY)}


def _reference_checksums(
    settings: Settings, database: Path
) -> tuple[dict[str, str], dict[str, str]]:
    """Every curated table's checksum in the warehouse the Spark build loaded, and in the one
    the DuckDB-SQL reference builds from the same lake."""
    reference.build(settings, DAY2, database)
    built = {t: load.table_checksum(f"duckdb:///{database}", t) for t in CURATED}
    return {t: _checksum(settings, t) for t in CURATED}, built


def _publicity_checksums(settings: Settings) -> dict[str, str]:
    return {v: _checksum(settings, v) for v in (publicity.STATUS, *publicity.PUBLICITY_VIEWS)}


def _query(settings: Settings, sql: str) -> pd.DataFrame:
    path = settings.warehouse_url.get_secret_value().removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        return con.execute(sql).df()


def _entity_score(settings: Settings) -> entity_truth.EntityScore:
    path = settings.warehouse_url.get_secret_value().removeprefix("duckdb:///")
    with duckdb.connect(path, read_only=True) as con:
        matches = con.execute(f"select * from {ENTITY_MATCH}").df()  # noqa: S608
        entities = con.execute(f"select * from {ENTITY}").df()  # noqa: S608
    return entity_truth.score(matches, entities, simulator.read_truth(settings, "entities"))


def _quarantined(settings: Settings, day) -> set[int]:
    held = Lake.from_settings(settings).read_table(Partition("quarantine", REGISTER.name, day))
    return set(held.column("enterprise_id").to_pylist())


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("incremental"))
    pipeline.seed_sources(settings, DAY, "tiny")
    source = SqlSink(settings.source_url("credit"))
    before = source.read(REGISTER, source.keys(REGISTER)).set_index("enterprise_id")
    day1 = pipeline.run_day(settings, DAY, full=True, progress=lambda _: None)
    after_day1, held_day1 = _warehouse(settings), _quarantined(settings, DAY)

    changes = simulator.day(settings, DAY2)
    deleted = int(sorted(set(after_day1.index))[5])  # a clean, loaded row entered by mistake
    with sqlite3.connect(settings.source_url("credit").removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM enterprise_register WHERE enterprise_id = ?", (deleted,))
    after_source = source.read(REGISTER, source.keys(REGISTER)).set_index("enterprise_id")
    day2 = pipeline.run_day(settings, DAY2, full=False, progress=lambda _: None)
    after_day2, checksum_day2 = _warehouse(settings), _checksum(settings)
    withheld_day2, entities_day2 = _withheld(settings), _entity_checksums(settings)
    portal_day2 = {v: _query(settings, f"select * from {v}") for v in publicity.PORTAL_VIEWS}  # noqa: S608
    persons = contracts.get("credit.persons")
    credit_day2 = dump(settings.credit_db_url.get_secret_value())
    pipeline.run_day(settings, DAY2, full=False, progress=lambda _: None)  # a re-run
    rerun_checksum = _checksum(settings)

    rebuilt = _settings(tmp_path_factory.mktemp("full-rebuild"))
    # The same source state: the department databases and the trading centre's file sets.
    shutil.copytree(settings.var_dir / "sources", rebuilt.var_dir / "sources")
    for files in ("exchange", "archive"):  # the inbox and what was processed from it
        if (settings.lake_dir / files).exists():
            shutil.copytree(settings.lake_dir / files, rebuilt.lake_dir / files)
    # The same deployment: the same person-key secret (persons' warehouse keys are its HMACs).
    shutil.copytree(settings.var_dir / "secrets", rebuilt.var_dir / "secrets")
    pipeline.run_day(rebuilt, DAY2, full=True, progress=lambda _: None)
    return {
        "before": before,
        "day1": day1,
        "after_day1": after_day1,
        "held_day1": held_day1,
        "changes": changes,
        "deleted": deleted,
        "after_source": after_source,
        "day2": day2,
        "held_day2": _quarantined(settings, DAY2),
        "after_day2": after_day2,
        "checksum_day2": checksum_day2,
        "rerun_checksum": rerun_checksum,
        "credit_day2": credit_day2,
        "credit_rerun": dump(settings.credit_db_url.get_secret_value()),
        "grades_day2": _query(settings, f"select * from {grading.GRADES}"),  # noqa: S608
        "full_rebuild_checksum": _checksum(rebuilt),
        "withheld_day2": withheld_day2,
        "rebuilt_withheld": _withheld(rebuilt),
        "entities_day2": entities_day2,
        "portal_day2": portal_day2,
        "persons": source.read(persons, source.keys(persons)),
        "publicity_day2": _publicity_checksums(settings),
        "compliance_day2": _query(settings, f"select * from {publicity.COMPLIANCE}"),  # noqa: S608
        "rebuilt_publicity": _publicity_checksums(rebuilt),
        "rebuilt_entities": _entity_checksums(rebuilt),
        "reference": _reference_checksums(rebuilt, rebuilt.var_dir / "reference.duckdb"),
        "entity_score": _entity_score(settings),
        "cases": _query(settings, "select * from core.fct_case"),
        "kpis": _query(settings, "select * from mart.approval_kpi_monthly"),
        "truth": simulator.read_truth(settings, "defects"),
        "var_dir": settings.var_dir,
        "secrets": frozenset({settings.person_secret().decode()}),
    }


def test_day1_warehouse_is_the_register_minus_the_quarantined_rows(runs):
    assert set(runs["after_day1"].index) == set(runs["before"].index) - runs["held_day1"]
    table = next(t for t in runs["day1"]["tables"] if t["dataset"] == REGISTER.name)
    assert table["raw_rows"] == len(runs["before"])
    assert table["clean_rows"] + table["quarantined_rows"] == table["raw_rows"]
    assert runs["day1"]["warehouse"][TABLE] == len(runs["after_day1"])


def test_every_quarantined_row_is_a_known_defect(runs):
    truth = runs["truth"]
    register = truth[(truth["table"] == "enterprise_register") & (truth["outcome"] == "quarantine")]
    assert runs["held_day1"] <= set(register["key"])
    assert runs["held_day1"]  # the tiny history has every quarantine kind the suite catches


def test_flags_reach_the_warehouse(runs):
    truth = runs["truth"]
    flagged = set(
        truth[(truth["table"] == "enterprise_register") & (truth["outcome"] == "flag")]["key"]
    )
    loaded = runs["after_day1"]
    assert flagged and set(loaded.index[loaded["dq_flags"].notna()]) == flagged
    assert set(loaded.loc[sorted(flagged), "dq_flags"]) == {"uscc_org_code"}


def test_no_person_id_number_in_the_warehouse_table(runs):
    assert "legal_rep_id_number" not in runs["after_day1"].columns


def test_day2_follows_every_change(runs):
    source, after = runs["after_source"], runs["after_day2"]
    changed = source[source["updated_at"] >= pd.Timestamp(DAY2)]
    assert runs["changes"][REGISTER.name]["inserts"] > 0
    assert runs["changes"][REGISTER.name]["updates"] > 0
    for key, row in changed.iterrows():
        if key in runs["held_day2"]:
            assert key not in after  # its latest version is quarantined: withheld
        else:
            assert after.loc[key, "status"] == row["status"]
    day2 = next(t for t in runs["day2"]["tables"] if t["dataset"] == REGISTER.name)
    assert day2["raw_rows"] < len(source)  # only the changes (and the look-back)


def test_a_hard_delete_in_the_source_leaves_the_warehouse_the_same_day(runs):
    assert runs["deleted"] in runs["after_day1"].index
    assert runs["deleted"] not in runs["after_source"].index
    assert runs["deleted"] not in runs["after_day2"].index


def test_rerun_and_full_rebuild_converge(runs):
    assert runs["rerun_checksum"] == runs["checksum_day2"]
    assert runs["full_rebuild_checksum"] == runs["checksum_day2"]


def test_every_source_key_is_loaded_or_listed_as_withheld(runs):
    withheld = {int(k) for d, k, _ in runs["withheld_day2"] if d == REGISTER.name}
    loaded = set(runs["after_day2"].index)
    assert withheld and not withheld & loaded
    assert loaded | withheld == set(runs["after_source"].index)
    assert withheld <= runs["held_day1"] | runs["held_day2"]
    assert {d for d, _, _ in runs["withheld_day2"]} > {REGISTER.name}  # every table is listed
    assert all(reasons for _, _, reasons in runs["withheld_day2"])


def test_withheld_keys_converge_with_a_full_rebuild(runs):
    assert runs["rebuilt_withheld"] == runs["withheld_day2"]


def test_the_duckdb_sql_reference_builds_the_same_warehouse(runs):
    spark, reference_build = runs["reference"]
    assert reference_build == spark


def test_entity_master_matches_the_entity_truth(runs):
    score = runs["entity_score"]
    assert score.scored > 1000 and score.deferred > 0  # deferred: the register row is withheld
    assert score.wrong == []
    assert score.precision == score.recall == 1.0


def test_entity_master_converges_with_a_full_rebuild(runs):
    assert runs["rebuilt_entities"] == runs["entities_day2"]


def test_case_working_days_follow_the_calendar_and_suspensions(runs):
    from govlake.simulator.approval import workdays_between

    decided = runs["cases"].dropna(subset=["decided_on", "accepted_on"])
    expected = (
        workdays_between(
            decided["accepted_on"].to_numpy("datetime64[D]"),
            decided["decided_on"].to_numpy("datetime64[D]"),
        )
        - decided["suspended_days"].to_numpy()
    )
    assert len(decided) > 100
    assert (decided["elapsed_working_days"].to_numpy() == expected).all()
    late = decided["elapsed_working_days"] > decided["promised_limit_days"]
    assert late.any() and (decided["overdue"] == late).all()
    assert (decided["on_time_promised"] == ~late).all()


def test_the_kpi_mart_adds_up_to_the_case_fact(runs):
    cases, kpis = runs["cases"], runs["kpis"]
    accepted = cases.dropna(subset=["accepted_on"])
    assert kpis["accepted_cases"].sum() == len(accepted)
    assert kpis["online_cases"].sum() == accepted["is_online"].sum()
    assert kpis["decided_cases"].sum() == cases["decided_on"].notna().sum()
    assert kpis["on_time_promised_cases"].sum() == (cases["on_time_promised"] == True).sum()  # noqa: E712
    row = kpis.dropna(subset=["online_rate"]).iloc[0]
    assert row["online_rate"] == pytest.approx(row["online_cases"] / row["accepted_cases"])


def test_the_portal_shows_no_personal_data(runs):
    """No identity number, phone number or unmasked natural person's name in any portal view;
    the persons' numbers and names are the credit system's (the simulator's truth)."""
    persons = runs["persons"]
    known_ids, names = frozenset(persons["id_number"].dropna()), frozenset(persons["name"].dropna())
    findings, people = [], 0
    for view, rows in runs["portal_day2"].items():
        columns = publicity.PARTY_COLUMNS[view]
        records = rows.to_dict("records")
        findings += privacy.scan_rows(view, records, columns, known_ids, names)
        people += sum(r[kind] == privacy.PERSON for r in records for kind in columns.values())
    assert findings == []
    assert people > 0  # natural persons were shown, masked


def test_the_portal_converges_with_a_full_rebuild(runs):
    assert runs["publicity_day2"] == runs["rebuilt_publicity"]


def test_publication_lags_count_from_the_day_the_lake_first_held_a_decision(runs):
    """Day 1 is the first build: decisions made since are judged, each published on day 1 or
    on day 2 (the day of its first clean version), counted to that day in working days."""
    judged = runs["compliance_day2"]
    assert len(judged) > 0
    published = pd.to_datetime(judged["published_on"]).dropna().dt.date
    assert set(published) <= {DAY, DAY2}
    assert (pd.to_datetime(judged["decision_date"]).dt.date >= DAY).all()
    assert (judged["lag_working_days"] >= 0).all()
    on_time = judged["published_on"].notna() & (judged["lag_working_days"] <= 7)
    assert ((judged["status"] == "on_time") == on_time).all()


def test_the_credit_database_holds_the_grades_and_a_rerun_changes_nothing_there(runs):
    pushed = runs["credit_day2"]
    assert pushed["credit_record"] and pushed["credit_grade"]
    assert pushed["feed_run"] == [(DAY, pushed["feed_run"][0][1]), (DAY2, pushed["feed_run"][0][1])]
    assert runs["credit_rerun"] == pushed
    grades = runs["grades_day2"]
    assert sorted((g[0], g[4], g[5]) for g in pushed["credit_grade"]) == sorted(
        zip(grades["subject_key"], grades["score"], grades["grade"], strict=True)
    )


# What a run leaves that people do not read: the department systems, the secrets, the simulator's
# truth and the trading centre's inbound files (their data is personal by nature).
NOT_READ_BY_PEOPLE = ("sources", "secrets", "simulator", "lake/exchange", "lake/archive")


def test_nothing_people_read_holds_an_identity_number_or_a_credential(runs):
    """Logs, manifests, Data Docs and lineage events of the two-day run and its re-run."""
    known_ids = frozenset(runs["persons"]["id_number"].dropna())
    found = privacy.scan_files(runs["var_dir"], NOT_READ_BY_PEOPLE, known_ids, runs["secrets"])
    assert found == []
    scanned = [p for p in runs["var_dir"].rglob("*") if p.suffix in privacy.TEXT_SUFFIXES]
    assert any("airflow" in p.parts for p in scanned) and any(
        "_manifest.json" == p.name for p in scanned
    )
