"""The trading centre simulator and its exchange files against the contracts, the shared
validity rules and the ground truth."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govlake.contracts import transaction as t
from govlake.identifiers import (
    USCC_PLACEHOLDER,
    is_valid_id_number,
    is_valid_uscc,
    org_code_check_char,
)
from govlake.simulator import transaction as sim
from govlake.simulator.base import Batch
from govlake.simulator.defects import FLAG, KINDS
from govlake.simulator.exchange import READY, ExchangeSink
from govlake.simulator.world import SCALES, World
from govlake.storage import LocalStore
from tests.conftest import DAY, TINY

RATE = 0.02
DAYS = 16
TABLES = [c.table for c in t.CONTRACTS]


@pytest.fixture(scope="module")
def history() -> dict[str, Batch]:
    return {b.contract.table: b for b in sim.TransactionSimulator().history(TINY, RATE)}


@pytest.fixture(scope="module")
def days() -> list[dict[str, Batch]]:
    simulator = sim.TransactionSimulator()
    return [
        {b.contract.table: b for b in simulator.day(TINY, DAY + timedelta(days=i), RATE)}
        for i in range(1, DAYS + 1)
    ]


def _clean(batch: Batch) -> pd.DataFrame:
    """Rows the manifest gives no defect."""
    (key,) = batch.contract.primary_key
    return batch.rows[~batch.rows[key].isin(batch.defects["key"])]


def _damaged_rows(batch: Batch) -> pd.Series:
    """Rows that went into a file the manifest calls undecodable."""
    files = batch.defects.loc[batch.defects["kind"] == sim.UNDECODABLE, "column"]
    days = {date.fromisoformat(f.split("dt=")[1][:10]) for f in files}
    return batch.rows["exported_at"].dt.date.isin(days)


def test_every_table_matches_its_contract(history):
    assert [history[table].contract for table in TABLES] == list(t.CONTRACTS)
    for batch in history.values():
        contract = batch.contract
        assert contract.channel == "exchange" and contract.watermark == "exported_at"
        assert list(batch.rows.columns) == contract.column_names
        (key,) = contract.primary_key
        assert batch.rows[key].is_unique and batch.rows[key].is_monotonic_increasing
        assert batch.rows["sequence_number"].is_unique


def test_sizes_follow_the_scale():
    city = World(seed=1, scale=SCALES["city"], until=DAY)
    assert sim.total_projects(city) == 20_000
    assert sim.total_projects(TINY) >= 120


def test_clean_codes_and_id_numbers_pass_the_shared_definition(history):
    projects, awards = _clean(history["projects"]), _clean(history["awards"])
    assert all(is_valid_uscc(code) for code in projects["tenderer_uscc"])
    assert all(is_valid_uscc(code) for code in awards["winner_uscc"])
    bids = _clean(history["bids"])
    assert all(is_valid_id_number(n) for n in bids["agent_id_number"])
    by_type = dict(tuple(bids.groupby("bidder_code_type")["bidder_code"]))
    assert set(by_type) == set(t.CODE_TYPES)  # USCC, organisation code and 注册号 all occur
    assert all(is_valid_uscc(code) for code in by_type["统一社会信用代码"])
    org = by_type["组织机构代码"]
    assert org.str.fullmatch(r"[0-9A-Z]{8}-[0-9X]").all()
    assert all(org_code_check_char(code[:8]) == code[9] for code in org)
    assert by_type["工商注册号"].str.fullmatch(r"\d{15}").all()


def test_clean_rows_are_referentially_intact(history):
    projects = set(history["projects"].rows["project_id"])
    sections = set(history["sections"].rows["section_id"])
    awards = set(history["awards"].rows["award_id"])
    assert set(_clean(history["sections"])["project_id"]) <= projects
    assert set(_clean(history["bids"])["section_id"]) <= sections
    assert set(_clean(history["awards"])["section_id"]) <= sections
    assert set(_clean(history["contracts"])["award_id"]) <= awards


def test_entity_truth_names_the_world_party_of_every_row(history):
    enterprises = TINY.enterprises().set_index("entity_id")
    persons = TINY.persons().set_index("person_id")
    for table, column in (("projects", "tenderer_uscc"), ("awards", "winner_uscc")):
        batch = history[table]
        truth = batch.entities.set_index("key")["entity_id"]
        rows = _clean(batch).set_index(batch.contract.primary_key[0])
        assert (enterprises.loc[truth[rows.index], "uscc"].to_numpy() == rows[column]).all()
    bids = history["bids"]
    rows = _clean(bids).set_index("bid_id")
    truth = bids.entities.pivot(index="key", columns="entity_kind", values="entity_id")
    entity = enterprises.loc[truth.loc[rows.index, "enterprise"]]
    uscc = entity["uscc"].str
    expected = np.select(
        [rows["bidder_code_type"] == "组织机构代码", rows["bidder_code_type"] == "工商注册号"],
        [uscc[8:16] + "-" + uscc[16], entity["registration_number"]],
        entity["uscc"],
    )
    assert (expected == rows["bidder_code"].to_numpy()).all()
    people = persons.loc[truth.loc[rows.index, "person"], "id_number"].to_numpy()
    assert (people == rows["agent_id_number"].to_numpy()).all()
    assert (entity.loc[entity["uscc"] == USCC_PLACEHOLDER].index.size) > 0  # 个体 by 注册号
    names = pd.concat([bids.rows["bidder_name"], history["awards"].rows["winner_name"]])
    assert names.str.endswith(" ").any() and names.str.contains(r"\(").any()  # name variants


def _all(history, days) -> list[Batch]:
    return [*history.values(), *(b for day in days for b in day.values())]


def test_every_declared_defect_kind_appears_with_its_outcome(history, days):
    for batch in _all(history, days):
        defects = batch.defects
        assert (defects["outcome"] == defects["kind"].map(lambda k: KINDS[k].outcome)).all()
        assert defects["key"].is_unique  # one defect per row: one expected outcome
        keys = set(batch.rows[batch.contract.primary_key[0]]) | {-1}
        assert set(defects["key"]) <= keys, batch.contract.name
    seen = pd.concat([b.defects.assign(table=b.contract.table) for b in _all(history, days)])
    for table, targets in sim.TARGETS.items():
        kinds = set(seen.loc[seen["table"] == table, "kind"])
        assert {target.kind for target in targets} <= kinds, table
    flags = {
        "few_bidders",
        "short_bidding_period",
        "award_above_budget",
        "late_contract",
        "contract_above_award",
        "shared_bid_agent",
    }
    assert flags | {"resent_record", sim.UNDECODABLE} <= set(seen["kind"])
    history_kinds = set(pd.concat([b.defects for b in history.values()])["kind"])
    assert {target.kind for targets in sim.TARGETS.values() for target in targets} <= history_kinds
    assert sim.UNDECODABLE in history_kinds  # one history file arrives damaged


def test_defect_rate_follows_the_setting():
    world = World(seed=3, scale=SCALES["demo"], until=DAY)
    for rate in (0.02, 0.06):
        bids = {b.contract.table: b for b in sim.TransactionSimulator().history(world, rate)}
        batch = bids["bids"]
        generic = batch.defects[(batch.defects["outcome"] != FLAG) & (batch.defects["key"] >= 0)]
        share = len(generic) / len(batch.rows)
        assert rate * 0.75 <= share <= rate * 1.25, (rate, share)
        flags = batch.defects[batch.defects["outcome"] == FLAG]
        assert 0 < len(flags) / len(batch.rows) <= rate, (rate, len(flags))


def test_no_rate_no_defects():
    batches = sim.TransactionSimulator().history(TINY, 0.0)
    assert all(b.defects.empty for b in batches)
    on = DAY + timedelta(days=1)
    assert all(b.defects.empty for b in sim.TransactionSimulator().day(TINY, on, 0.0))


def _state(history, days) -> dict[str, pd.DataFrame]:
    """Per table, the latest version of each record after the days (as the warehouse keeps
    it), with the defect kind that version carries; rows of damaged files left out."""
    state = {}
    for table in TABLES:
        (key,) = history[table].contract.primary_key
        parts, gone = [], set()
        for batch in [history[table], *(day[table] for day in days)]:
            gone |= set(batch.deletes)
            defects = batch.defects.set_index("key")["kind"]
            rows = batch.rows[~_damaged_rows(batch)]
            rows = rows.assign(kind=rows[key].map(defects))
            parts.append(rows[rows["kind"] != "resent_record"])
        rows = pd.concat(parts).sort_values("sequence_number").drop_duplicates(key, keep="last")
        state[table] = rows[~rows[key].isin(gone)].set_index(key, drop=False)
    return state


def _flagged(rows: pd.DataFrame, kind: str) -> set[int]:
    return set(rows.index[rows["kind"] == kind])


def _untouched(rows: pd.DataFrame) -> pd.DataFrame:
    flags = [name for name, kind in KINDS.items() if kind.outcome == FLAG]
    return rows[rows["kind"].isna() | rows["kind"].isin(flags)]


def test_flags_are_true_and_every_true_red_flag_is_flagged(history, days):
    state = _state(history, days)
    projects = state["projects"]
    sections = _untouched(state["sections"]).join(
        projects[["method", "category"]], on="project_id", how="inner"
    )
    opened = sections[sections["status"] == "已开标"]
    few = opened["method"].isin(t.THREE_BIDDER_METHODS) & (opened["bid_count"] < 3)
    assert _flagged(sections, "few_bidders") == set(opened.index[few]) != set()
    bids = state["bids"].groupby("section_id").size()
    assert (bids.reindex(opened.index[few]) == opened.loc[few, "bid_count"]).all()

    published = pd.to_datetime(sim.EPOCH) + pd.to_timedelta(
        sections["project_id"] // 10_000, unit="D"
    )
    notice = (sections["bid_open_at"].dt.normalize() - published).dt.days
    short = sections["method"].isin(["公开招标", "邀请招标"]) & (notice < 20)
    assert _flagged(sections, "short_bidding_period") == set(sections.index[short]) != set()

    awards = _untouched(state["awards"]).join(
        sections[["budget_wan", "category"]], on="section_id", how="inner"
    )
    above = awards["category"].isin(t.CEILING_CATEGORIES) & (
        awards["award_amount_wan"] > awards["budget_wan"]
    )
    assert _flagged(awards, "award_above_budget") == set(awards.index[above]) != set()

    contracts = _untouched(state["contracts"]).join(
        awards[["award_amount_wan", "published_on"]], on="award_id", how="inner"
    )
    signed = pd.to_datetime(contracts["signed_on"]) - pd.to_datetime(contracts["published_on"])
    late = signed > pd.Timedelta(days=30)
    assert _flagged(contracts, "late_contract") == set(contracts.index[late]) != set()
    dearer = contracts["amount_wan"] > contracts["award_amount_wan"]
    assert _flagged(contracts, "contract_above_award") == set(contracts.index[dearer]) != set()

    clean_bids = _untouched(state["bids"]).sort_index()  # the later bid carries the flag
    shared = clean_bids.duplicated(["section_id", "agent_id_number"])
    assert _flagged(clean_bids, "shared_bid_agent") == set(clean_bids.index[shared]) != set()


def test_quarantine_defects_really_break_the_rules(history):
    def rows_of(table, kind):
        batch = history[table]
        keys = batch.defects.loc[batch.defects["kind"] == kind, "key"]
        return batch.rows.set_index(batch.contract.primary_key[0]).loc[keys]

    assert not any(is_valid_uscc(c) for c in rows_of("awards", "bad_uscc_checksum")["winner_uscc"])
    agents = rows_of("bids", "bad_id_checksum")["agent_id_number"]
    assert not any(is_valid_id_number(n) for n in agents)
    early = rows_of("awards", "awarded_before_opening").join(
        history["sections"].rows.set_index("section_id")["bid_open_at"], on="section_id"
    )
    assert (pd.to_datetime(early["awarded_on"]) < early["bid_open_at"].dt.normalize()).all()
    late = rows_of("bids", "bid_after_opening").join(
        history["sections"].rows.set_index("section_id")["bid_open_at"], on="section_id"
    )
    assert (late["submitted_at"] > late["bid_open_at"]).all()


def test_days_bring_inserts_updates_late_arrivals_revocations_resends_and_deletes(history, days):
    totals: dict[str, int] = {}
    known = {
        table: set(history[table].rows[history[table].contract.primary_key[0]]) for table in TABLES
    }
    for offset, day in enumerate(days, start=1):
        on = DAY + timedelta(days=offset)
        for table, batch in day.items():
            key = batch.contract.primary_key[0]
            assert list(batch.rows.columns) == batch.contract.column_names
            assert batch.rows[key].is_unique
            assert (batch.rows["exported_at"].dt.date == on).all()  # watermarks in the day
            for kind, n in batch.changes.items():
                totals[kind] = totals.get(kind, 0) + n
            resent = batch.defects.loc[batch.defects["kind"] == "resent_record", "key"]
            assert set(resent) <= known[table]  # a re-send repeats what was sent before
            assert set(batch.deletes) <= known[table]
            new = batch.rows.loc[~batch.rows[key].isin(known[table]), key]
            assert len(new) <= batch.changes["inserts"] + batch.changes["late"]
            known[table] |= set(batch.rows[key])
            known[table] -= set(batch.deletes)
    for kind in ("inserts", "updates", "late", "revocations", "resent", "deletes"):
        assert totals.get(kind, 0) > 0, kind


def test_a_resent_record_repeats_its_version_with_a_new_export_time(history, days):
    for offset, day in enumerate(days[1:], start=2):
        for batch in day.values():
            resent = batch.defects.loc[batch.defects["kind"] == "resent_record", "key"]
            rows = batch.rows[batch.rows[batch.contract.primary_key[0]].isin(resent)]
            today = int((DAY + timedelta(days=offset)).strftime("%Y%m%d"))
            assert (rows["sequence_number"] // 1_000_000 < today).all()


def test_a_day_in_a_year_the_calendar_does_not_know_still_simulates():
    world = World(seed=7, scale=SCALES["tiny"], until=date(2026, 12, 31))
    day = {
        b.contract.table: b for b in sim.TransactionSimulator().day(world, date(2027, 1, 4), RATE)
    }
    assert sum(b.changes["inserts"] for b in day.values()) > 0
    on = np.array(["2026-09-30", "2026-12-31"], dtype="datetime64[D]")
    after = sim.add_workdays(on, np.array([1, 2]))  # 国庆 2026; 2027 counts weekends only
    assert after.astype(str).tolist() == ["2026-10-08", "2027-01-04"]


def test_lives_end_within_the_window_a_day_rebuilds():
    for offset in range(TINY.scale.history_days):
        cohort = sim._cohort(TINY, TINY.start + timedelta(days=offset), RATE)
        for versions in cohort.values():
            last = np.concatenate([versions["_export"], versions["_delete"], versions["_resend"]])
            born = np.datetime64(TINY.start + timedelta(days=offset), "D")
            assert not (last[~np.isnat(last)] - born > sim.LIFESPAN).any()


# -- the exchange files -------------------------------------------------------------------------


class RecordingStore(LocalStore):
    """A local store that remembers the order of writes (and, for the test, the files the
    truth calls undecodable, and those with a record of invalid bytes)."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.order: list[str] = []
        self.damaged: set[str] = set()
        self.spoiled: set[str] = set()

    def put_bytes(self, data: bytes, key: str) -> None:
        super().put_bytes(data, key)
        self.order.append(key)


def _write(root: Path, seed: int = 7, days: int = 3) -> RecordingStore:
    sim._cohort.cache_clear()  # generate afresh: determinism must not come from the cache
    world = World(seed=seed, scale=SCALES["tiny"], until=DAY)
    store = RecordingStore(root)
    sink = ExchangeSink(store)
    simulator = sim.TransactionSimulator()
    batches = simulator.history(world, RATE)
    sink.write_history(world.start, world.until, batches)
    for i in range(1, days + 1):
        on = DAY + timedelta(days=i)
        day = simulator.day(world, on, RATE, sink)
        sink.write_day(on, day)
        batches += day
    for batch in batches:
        files = batch.defects.groupby("kind")["column"].agg(set)
        store.damaged |= files.get(sim.UNDECODABLE, set())
        store.spoiled |= files.get(sim.INVALID_BYTES, set())
    return store


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> RecordingStore:
    return _write(tmp_path_factory.mktemp("lake"))


def _markers(store: LocalStore) -> list[dict]:
    keys = [k for k in store.list("exchange/transaction/") if k.endswith(READY)]
    return [json.loads(store.get_bytes(k)) for k in keys]


def test_one_file_set_per_day_each_marker_written_last(lake):
    markers = _markers(lake)
    assert len(markers) == TINY.scale.history_days + 3
    for marker in markers:
        prefix = f"exchange/transaction/dt={marker['dt']}/"
        writes = [k for k in lake.order if k.startswith(prefix)]
        assert writes[-1] == prefix + READY
        assert sorted(writes[:-1]) == sorted(f["key"] for f in marker["files"])
        assert [f["table"] for f in marker["files"]] == TABLES


def test_files_match_their_marker_and_decode_with_their_encoding(lake):
    encodings: set[str] = set()
    undecodable = set()
    for marker in _markers(lake):
        for entry in marker["files"]:
            data = lake.get_bytes(entry["key"])
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"]
            encodings.add(entry["encoding"])
            try:
                text = data.decode(entry["encoding"])
            except UnicodeDecodeError:
                undecodable.add(entry["key"])
                continue
            contract = next(c for c in t.CONTRACTS if c.table == entry["table"])
            if entry["format"] == "csv":
                records = list(csv.DictReader(io.StringIO(text)))
                assert list(csv.reader(io.StringIO(text)))[0] == contract.column_names
            else:
                records = [json.loads(line) for line in text.splitlines()]
                assert all(list(r) == contract.column_names for r in records)
            assert len(records) == entry["rows"]
    assert lake.damaged and lake.spoiled and not lake.damaged & lake.spoiled
    assert undecodable == lake.damaged | lake.spoiled  # exactly the files the truth names
    assert encodings == {"utf-8", "gbk", "gb18030"}


def test_a_spoiled_file_has_one_record_of_invalid_bytes(lake):
    """Every line decodes but one, which holds 0xFF 0xFE; the marker still lists every record."""
    for key in lake.spoiled:
        entry = next(e for m in _markers(lake) for e in m["files"] if e["key"] == key)
        lines = lake.get_bytes(key).splitlines()
        header = entry["format"] == "csv"
        assert len(lines) == entry["rows"] + header
        bad = []
        for line in lines:
            try:
                line.decode(entry["encoding"])
            except UnicodeDecodeError:
                bad.append(line)
        (spoiled,) = bad
        assert b"\xff\xfe" in spoiled and spoiled != lines[0]


def test_a_damaged_day_file_holds_its_rows_but_not_in_its_encoding(tmp_path):
    on = DAY + timedelta(days=1)
    batches = sim.TransactionSimulator().day(TINY, on, 0.2)  # at this rate a file is damaged
    (damaged,) = [b for b in batches if (b.defects["kind"] == sim.UNDECODABLE).any()]
    assert damaged.defects["key"].tolist() == [-1]  # the file, not its rows
    store = LocalStore(tmp_path)
    written = ExchangeSink(store).write_day(on, batches)
    marker = json.loads(store.get_bytes(written[-1]))
    (entry,) = [f for f in marker["files"] if f["table"] == damaged.contract.table]
    data = store.get_bytes(entry["key"])
    assert entry["encoding"] == "utf-8" and entry["rows"] == len(damaged.rows)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("utf-8", errors="replace").count("\n") == len(damaged.rows) + (
        entry["format"] == "csv"
    )


def test_characters_outside_gbk_only_go_to_utf8_or_gb18030_files(lake, history):
    bids = history["bids"]
    rare = bids.defects.loc[bids.defects["kind"] == "rare_characters", "key"]
    rows = bids.rows[bids.rows["bid_id"].isin(rare)]
    markers = {m["dt"]: m for m in _markers(lake)}
    for exported in rows["exported_at"].dt.date:
        entry = next(f for f in markers[exported.isoformat()]["files"] if f["table"] == "bids")
        assert entry["encoding"] in ("utf-8", "gb18030")


def test_deletes_are_listed_in_the_marker(tmp_path, days):
    deletes = [
        (DAY + timedelta(days=i), b.deletes)
        for i, day in enumerate(days, start=1)
        for b in day.values()
        if b.deletes
    ]
    on, keys = deletes[0]
    sink = ExchangeSink(LocalStore(tmp_path))
    written = sink.write_day(on, list(days[(on - DAY).days - 1].values()))
    marker = json.loads(LocalStore(tmp_path).get_bytes(written[-1]))
    assert marker["deletes"]["bids"] == keys


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, lake):
    again = _write(tmp_path / "again")
    other = _write(tmp_path / "other", seed=8)
    keys = lake.list("exchange/")
    assert keys == again.list("exchange/")
    assert all(lake.get_bytes(k) == again.get_bytes(k) for k in keys)
    assert any(lake.get_bytes(k) != other.get_bytes(k) for k in keys if k.endswith(".csv"))
