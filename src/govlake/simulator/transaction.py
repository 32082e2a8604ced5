"""The public resource trading centre (公共资源交易中心): projects, sections, bids, awards and
contracts.

There is no database to read back, so each project's whole life is drawn once, from the day its
notice is published (its cohort): the notice and its sections (标段), a notice change (澄清变更)
or a termination (终止), the opening (开标) with its bids, the award (sometimes exported late,
sometimes revoked), the contract, the odd bid record hard-deleted, the odd version re-sent.
A cohort is a pure function of (world, day, rate), so any day is rebuilt from the cohorts whose
lives reach it. Every record version carries the day it is exported; a day's file set holds the
versions exported that day plus re-sent copies and deletes; the history holds the latest
version of every record exported by its last day, written as one file set per history day.

Red flags (FLAG kinds) are drawn with the life, because they shape other tables: a section with
fewer than three bidders has fewer bids, an award above the ceiling is the winner's bid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from govlake import workdays
from govlake.contracts import transaction as t
from govlake.contracts.model import Contract
from govlake.identifiers import USCC_PLACEHOLDER
from govlake.simulator import vectors as v
from govlake.simulator.base import TRUTH_COLUMNS, Batch, day_times, entity_truth, finish
from govlake.simulator.defects import FLAG, KINDS, NORMALISE, QUARANTINE, DefectKind, Target
from govlake.simulator.defects import register as register_kind
from govlake.simulator.exchange import INVALID_BYTES, UNDECODABLE, ExchangeSink, file_key
from govlake.simulator.world import World

SYSTEM = "transaction"
EPOCH = date(2000, 1, 1)  # ids count days from here: project_id = day number * 10 000 + n
LIFESPAN = 190  # days from a notice to the last export or delete its project can cause
RESEND_DAYS = 5  # a copy is re-sent at most this many days after the version
NO_DAY = np.datetime64("NaT", "D")

# Life events: changes, not defects (share of the records they can happen to).
POSTPONE = 0.08  # notice changed (澄清变更): opening a week later
TERMINATE = 0.05  # project terminated (终止) before its opening
REVOKE = 0.05  # award revoked (撤销) days after its notice; no contract follows
LATE_AWARD = 0.08  # award record exported 3-30 days after its notice
LATE_CONTRACT_EXPORT = 0.06  # contract record exported 3-30 days after signing
DELETE_BID = 0.06  # of a section's 4th and later bids: withdrawn, record deleted later
# Flags and re-sends: share of eligible records per unit of the defect rate.
_FLAG_SHARE = {
    "few_bidders": 2.0,
    "short_bidding_period": 1.0,
    "award_above_budget": 1.0,
    "late_contract": 1.0,
    "contract_above_award": 0.5,
    "shared_bid_agent": 0.5,
    "resent_record": 1.5,
}
# The column whose value shows each flag, for the manifest.
FLAG_COLUMNS = {
    "few_bidders": "bid_count",
    "short_bidding_period": "bid_open_at",
    "award_above_budget": "award_amount_wan",
    "late_contract": "signed_on",
    "contract_above_award": "amount_wan",
    "shared_bid_agent": "agent_id_number",
}

_PREFIX = {"工程建设": "JSGC", "政府采购": "ZFCG", "土地使用权出让": "TDCR", "产权交易": "CQJY"}
_METHODS = {  # method shares per category
    "工程建设": {"公开招标": 0.85, "邀请招标": 0.15},
    "政府采购": {
        "公开招标": 0.5,
        "竞争性磋商": 0.2,
        "竞争性谈判": 0.1,
        "询价": 0.1,
        "单一来源": 0.1,
    },
    "土地使用权出让": {"挂牌": 0.7, "拍卖": 0.25, "公开招标": 0.05},
    "产权交易": {"挂牌": 0.6, "拍卖": 0.2, "协议": 0.2},
}
# Median (万元) and log-sd of a section's budget, per category.
_BUDGET = {
    "工程建设": (600, 1.0),
    "政府采购": (80, 1.1),
    "土地使用权出让": (3000, 0.8),
    "产权交易": (400, 1.2),
}
_DISTRICTS = dict(
    zip(
        v.QINGDAO_REGIONS,
        "市南区 市北区 黄岛区 崂山区 李沧区 城阳区 即墨区 胶州市 平度市 莱西市".split(),
        strict=True,
    )
)
_PLACES = np.array(
    "香港中路 辽阳西路 重庆路 长江路 海尔路 黑龙江路 滨海大道 松岭路 九水东路".split()
)
_WORKS = np.array(
    "道路改造工程 雨污分流改造工程 学校新建工程 老旧小区改造工程 排水管网工程".split()
)
_GOODS = np.array(
    "办公设备采购项目 物业管理服务采购项目 医疗设备采购项目 信息化系统建设项目".split()
)
_ASSETS = np.array("国有房产 闲置设备 机动车辆 国有股权".split())
_OPEN_TIMES = np.array([9 * 60, 9 * 60 + 30, 10 * 60, 14 * 60 + 30]).astype("timedelta64[m]")


# -- defect kinds of this system ----------------------------------------------------------------


def _few_bidders(frame, rows, column, rng, **_):
    """One or two bidders where the law wants three; the section was opened and awarded anyway."""
    frame.loc[rows, column] = rng.integers(1, 3, len(rows))


def _short_notice(frame, rows, column, rng, **_):
    """Bids opened 10-19 days after an open tender's notice (the law wants 20)."""
    frame.loc[rows, column] = rng.integers(10, 20, len(rows))


def _above_ceiling(frame, rows, column, rng, **_):
    """An award 1-12% above the section's ceiling price (最高限价)."""
    frame.loc[rows, column] = rng.uniform(1.01, 1.12, len(rows))


def _late_signing(frame, rows, column, rng, **_):
    """A contract signed 31-75 days after the award notice (due within 30)."""
    frame.loc[rows, column] = rng.integers(31, 76, len(rows))


def _contract_above_award(frame, rows, column, rng, **_):
    frame.loc[rows, column] = rng.uniform(1.03, 1.25, len(rows))


def _shared_agent(frame, rows, column, rng, **_):
    """The previous bid's agent (same section) also acts for this bidder: 委托同一人办理投标."""
    agent = ["agent_name", "agent_id_number", "_person"]
    frame.loc[rows, agent] = frame.loc[rows - 1, agent].to_numpy()


def _awarded_before_opening(frame, rows, column, rng, **_):
    opened = pd.to_datetime(frame.loc[rows, "_opened_on"])
    early = opened - pd.to_timedelta(rng.integers(1, 6, len(rows)), unit="D")
    frame.loc[rows, column] = early.dt.strftime("%Y-%m-%d")


def _signed_before_award(frame, rows, column, rng, **_):
    published = pd.to_datetime(frame.loc[rows, "_award_published"])
    early = published - pd.to_timedelta(rng.integers(1, 11, len(rows)), unit="D")
    frame.loc[rows, column] = early.dt.strftime("%Y-%m-%d")


def _bid_after_opening(frame, rows, column, rng, **_):
    late = pd.to_timedelta(rng.integers(60, 48 * 3600, len(rows)), unit="s")
    frame.loc[rows, column] = frame.loc[rows, "_open_at"].to_numpy() + late.to_numpy()


def _whole_record(frame, rows, column, rng, **_):
    """Nothing to change in a value: the exchange re-sends the record or damages the file."""


for _kind in (
    DefectKind("few_bidders", FLAG, _few_bidders),
    DefectKind("short_bidding_period", FLAG, _short_notice),
    DefectKind("award_above_budget", FLAG, _above_ceiling),
    DefectKind("late_contract", FLAG, _late_signing),
    DefectKind("contract_above_award", FLAG, _contract_above_award),
    DefectKind("shared_bid_agent", FLAG, _shared_agent),
    DefectKind("awarded_before_opening", QUARANTINE, _awarded_before_opening),
    DefectKind("signed_before_award", QUARANTINE, _signed_before_award),
    DefectKind("bid_after_opening", QUARANTINE, _bid_after_opening),
    DefectKind("resent_record", NORMALISE, _whole_record),
    DefectKind(UNDECODABLE, QUARANTINE, _whole_record),
    DefectKind(INVALID_BYTES, QUARANTINE, _whole_record),
):
    register_kind(_kind)

TARGETS = {
    "projects": [
        Target("bad_uscc_checksum", "tenderer_uscc"),
        Target("uscc_org_code_mismatch", "tenderer_uscc", 0.5),
        Target("fullwidth_code", "tenderer_uscc"),
        Target("lower_case_code", "project_code"),
        Target("duplicate_business_key", "project_code"),
        Target("unknown_region", "region_code"),
        Target("padded_code", "region_code"),
        Target("required_null", "name"),
        Target("too_long", "name"),
        Target("control_characters", "name"),
        Target("hostile_text", "name"),
        Target("rare_characters", "tenderer_name"),
        Target("future_date", "published_on"),
        Target("mixed_date_format", "published_on", 2.0),
    ],
    "sections": [
        Target("orphan_reference", "project_id"),
        Target("duplicate_business_key", "section_code"),
        Target("padded_code", "section_code"),
        Target("fullwidth_code", "section_code"),
        Target("required_null", "bid_open_at"),
        Target("too_long", "name"),
        Target("control_characters", "name"),
        Target("hostile_text", "name"),
    ],
    "bids": [
        Target("orphan_reference", "section_id"),
        Target("bad_id_checksum", "agent_id_number"),
        Target("impossible_birth_date", "agent_id_number"),
        Target("padded_code", "bidder_code"),
        Target("fullwidth_code", "bidder_code"),
        Target("required_null", "bidder_name"),
        Target("too_long", "bidder_name"),
        Target("control_characters", "bidder_name"),
        Target("hostile_text", "bidder_name"),
        Target("rare_characters", "agent_name"),
        Target("bid_after_opening", "submitted_at"),
    ],
    "awards": [
        Target("bad_uscc_checksum", "winner_uscc"),
        Target("lower_case_code", "winner_uscc"),
        Target("padded_code", "winner_uscc"),
        Target("orphan_reference", "section_id"),
        Target("duplicate_business_key", "section_id"),
        Target("required_null", "winner_name"),
        Target("rare_characters", "winner_name"),
        Target("hostile_text", "winner_name"),
        Target("future_date", "awarded_on"),
        Target("mixed_date_format", "published_on"),
        Target("awarded_before_opening", "awarded_on"),
    ],
    "contracts": [
        Target("orphan_reference", "award_id"),
        Target("duplicate_business_key", "contract_number"),
        Target("lower_case_code", "contract_number"),
        Target("padded_code", "contract_number"),
        Target("required_null", "amount_wan"),
        Target("future_date", "signed_on"),
        Target("mixed_date_format", "signed_on"),
        Target("signed_before_award", "signed_on"),
    ],
}
# Files that can arrive undecodable: each row holds Chinese text, so mixed bytes always break.
_DAMAGEABLE = ("projects", "sections", "bids", "awards")
# A record with invalid bytes is quarantined alone only within a tenth of its file's records.
_SPOILABLE_ROWS = 10


class TransactionSimulator:
    system = SYSTEM
    channel = "exchange"

    def history(self, world: World, rate: float) -> list[Batch]:
        """The latest version of every record exported by ``world.until``; no deletes, no
        re-sends (a history is one version per key). One file, on one day, is undecodable; one
        record of another holds invalid bytes."""
        window = _window(world, world.start, world.until, rate)
        until = np.datetime64(world.until, "D")
        rng = v.rng_for(world.seed, SYSTEM, "history")
        batches = []
        for contract in t.CONTRACTS:
            versions = window[contract.table]
            alive = (versions["_export"] <= until) & ~(versions["_delete"] <= until)
            latest = versions[alive].drop_duplicates(contract.primary_key[0], keep="last")
            batches.append(_batch(contract, latest, rate, rng))
        pick = v.rng_for(world.seed, SYSTEM, UNDECODABLE, "history")
        table = pick.choice(_DAMAGEABLE)
        batch = next(b for b in batches if b.contract.table == table)
        days = np.unique(batch.rows["exported_at"].to_numpy().astype("datetime64[D]"))
        if rate > 0 and len(days):
            _damage(batch, pick.choice(days).astype(object))
        if rate > 0:
            _spoil_a_record(batches, v.rng_for(world.seed, SYSTEM, INVALID_BYTES, "history"))
        return batches

    def day(
        self, world: World, day: date, rate: float, sink: ExchangeSink | None = None
    ) -> list[Batch]:
        """The file set of ``day``: versions exported that day, re-sent copies, deletes. The
        exchange cannot be read back, so ``sink`` is not consulted: cohorts rebuild the past."""
        window = _window(world, day - timedelta(days=LIFESPAN + RESEND_DAYS), day, rate)
        stamp = np.datetime64(day, "D")
        rng = v.rng_for(world.seed, SYSTEM, "day", day)
        batches = []
        for contract in t.CONTRACTS:
            versions = window[contract.table]
            today = versions[versions["_export"] == stamp]
            resent = versions[versions["_resend"] == stamp].assign(_change="resent")
            resent["exported_at"] = day_times(rng, len(resent), day)
            deletes = versions.loc[versions["_delete"] == stamp, contract.primary_key[0]]
            changes = {
                "inserts": int((today["_change"] == "insert").sum()),
                "updates": int((today["_change"] == "update").sum()),
                "late": int((today["_change"] == "late").sum()),
                "revocations": int((today["_change"] == "revocation").sum()),
                "resent": len(resent),
                "deletes": len(deletes),
            }
            batch = _batch(contract, pd.concat([today, resent]), rate, rng, **changes)
            batch.deletes = [int(k) for k in deletes]
            batches.append(batch)
        pick = v.rng_for(world.seed, SYSTEM, UNDECODABLE, day)
        damageable = [b for b in batches if b.contract.table in _DAMAGEABLE and len(b.rows)]
        if damageable and pick.random() < min(1.0, 5 * rate):
            _damage(damageable[pick.integers(len(damageable))], day)
        pick = v.rng_for(world.seed, SYSTEM, INVALID_BYTES, day)
        if pick.random() < min(1.0, 5 * rate):
            _spoil_a_record(batches, pick)
        return batches


# -- batches ------------------------------------------------------------------------------------


def _batch(contract: Contract, rows: pd.DataFrame, rate: float, rng, **changes) -> Batch:
    """Generic defects go into rows no life event has marked: flagged versions, versions that
    will be re-sent and re-sent copies stay as drawn (at most one defect per row)."""
    (key,) = contract.primary_key
    resent = rows["_change"] == "resent"
    reserved = resent | rows["_flag"].notna() | rows["_resend"].notna()
    batch = finish(contract, rows[~reserved], TARGETS[contract.table], rate, rng, **changes)
    kept = rows[reserved]
    batch.rows = (
        pd.concat([batch.rows, kept[contract.column_names]], ignore_index=True)
        .sort_values([key, "exported_at"], kind="stable")
        .reset_index(drop=True)
    )
    flagged = kept[~resent[reserved] & kept["_flag"].notna()]
    batch.defects = pd.concat(
        [
            batch.defects,
            _manifest(flagged[key], flagged["_flag"], flagged["_flag"].map(FLAG_COLUMNS), FLAG),
            _manifest(
                kept.loc[resent[reserved], key], "resent_record", "sequence_number", NORMALISE
            ),
        ],
        ignore_index=True,
    )
    batch.entities = _entities(rows, key)
    return batch


def _manifest(keys, kind, column, outcome) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": np.asarray(keys, dtype=np.int64),
            "kind": kind,
            "column": column,
            "outcome": outcome,
        }
    )


def _entities(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """Who each row names: the enterprise (tenderer, bidder, winner) and the bid agent."""
    parts = []
    if "_entity" in rows:
        parts.append(entity_truth(rows[key], "enterprise", rows["_entity"]))
    if "_person" in rows:
        parts.append(entity_truth(rows[key], "person", rows["_person"]))
    if not parts:
        return pd.DataFrame(columns=TRUTH_COLUMNS)
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def _damage(batch: Batch, day: date) -> None:
    """Make ``batch``'s file of ``day`` undecodable: the whole file is quarantined, so it is one
    manifest row (key -1, column = the file's key) instead of its rows' own defects."""
    key = file_key(SYSTEM, day, batch.contract.table)
    in_file = batch.rows["exported_at"].to_numpy().astype("datetime64[D]") == np.datetime64(day)
    keys = batch.rows.loc[in_file, batch.contract.primary_key[0]]
    kept = batch.defects[~batch.defects["key"].isin(keys)]
    batch.defects = pd.concat(
        [kept, _manifest([-1], UNDECODABLE, key, QUARANTINE)], ignore_index=True
    )


def _spoil_a_record(batches: list[Batch], pick: np.random.Generator) -> None:
    """Give one record invalid bytes: a record with no defect of its own, the only version of its
    key in a file of at least :data:`_SPOILABLE_ROWS` records that is not damaged whole. It is
    quarantined alone, so it is one manifest row (its key, column = the file's key)."""
    candidates = []
    for batch in batches:
        (key,) = batch.contract.primary_key
        days = batch.rows["exported_at"].to_numpy().astype("datetime64[D]")
        damaged = set(batch.defects.loc[batch.defects["kind"] == UNDECODABLE, "column"])
        for day in np.unique(days):
            rows = batch.rows[days == day]
            file = file_key(SYSTEM, day.astype(object), batch.contract.table)
            if len(rows) < _SPOILABLE_ROWS or file in damaged:
                continue
            alone = rows[~rows[key].duplicated(keep=False) & ~rows[key].isin(batch.defects["key"])]
            candidates += [(batch, file, k) for k in alone[key]]
    if not candidates:
        return
    batch, file, record = candidates[pick.integers(len(candidates))]
    batch.defects = pd.concat(
        [batch.defects, _manifest([record], INVALID_BYTES, file, QUARANTINE)], ignore_index=True
    )


# -- the window of cohorts ----------------------------------------------------------------------

Columns = dict[str, np.ndarray]  # one table's columns, all of the same length
_EXTRAS = {
    "projects": ["_entity"],
    "sections": [],
    "bids": ["_entity", "_person", "_open_at"],
    "awards": ["_entity", "_opened_on"],
    "contracts": ["_award_published"],
}
_LIFE = ["_export", "_change", "_flag", "_next", "_delete", "_resend"]


def _window(world: World, first: date, last: date, rate: float) -> dict[str, pd.DataFrame]:
    """Every version of every record of the cohorts published in [first, last] (and not before
    the history), ordered by export, with its sequence number."""
    first = max(first, world.start)
    cohorts = [
        _cohort(world, first + timedelta(days=i), rate) for i in range((last - first).days + 1)
    ]
    window = {}
    for contract in t.CONTRACTS:
        frame = pd.DataFrame(_cat([c[contract.table] for c in cohorts]))
        if "bid_count" in frame:
            frame["bid_count"] = frame["bid_count"].astype("Int64")
        window[contract.table] = _sequenced(frame, contract.primary_key[0])
    return window


def _sequenced(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """Sequence numbers: the export day (YYYYMMDD) then the rank of the version within the day."""
    frame = frame.sort_values(["_export", "exported_at", key], kind="stable")
    frame = frame.reset_index(drop=True)
    rank = frame.groupby("_export").cumcount().to_numpy() + 1
    frame["sequence_number"] = _yyyymmdd(frame["_export"].to_numpy()) * 1_000_000 + rank
    return frame


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    days = days.astype("datetime64[D]")
    years, months = days.astype("datetime64[Y]"), days.astype("datetime64[M]")
    return (
        (years.astype(np.int64) + 1970) * 10_000
        + (months - years).astype(np.int64) * 100
        + 100
        + (days - months).astype(np.int64)
        + 1
    )


def _take(columns: Columns, rows, **changed) -> Columns:
    """Some rows of ``columns`` (an index or a mask), with some columns replaced."""
    taken = {name: values[rows] for name, values in columns.items()}
    size = len(next(iter(taken.values())))
    for name, value in changed.items():
        taken[name] = value if np.ndim(value) else np.full(size, value, dtype=object)
    return taken


def _cat(parts: list[Columns]) -> Columns:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


@dataclass(frozen=True)
class _Parties:
    """The world's enterprises and persons as arrays, for fancy indexing."""

    entity_id: np.ndarray
    uscc: np.ndarray
    registration_number: np.ndarray
    name: np.ndarray
    coded: np.ndarray  # positions of the entities with a real USCC (not the placeholder)
    firms: np.ndarray  # positions of the companies (企业): tenderers, owners, transferors
    person_id: np.ndarray
    person_name: np.ndarray
    id_number: np.ndarray


@lru_cache(maxsize=2)
def _parties(world: World) -> _Parties:
    enterprises, persons = world.enterprises(), world.persons()
    uscc = enterprises["uscc"].to_numpy()
    return _Parties(
        enterprises["entity_id"].to_numpy(),
        uscc,
        enterprises["registration_number"].to_numpy(),
        enterprises["name"].to_numpy(),
        np.flatnonzero(uscc != USCC_PLACEHOLDER),
        np.flatnonzero(enterprises["entity_type"].to_numpy() == "企业"),
        persons["person_id"].to_numpy(),
        persons["name"].to_numpy(),
        persons["id_number"].to_numpy(),
    )


def total_projects(world: World) -> int:
    """Projects over the history: city 20 000 (with about 100 000 bids), at least 120."""
    return max(120, world.scale.facts // 50)


def _odds(world: World, rate: float) -> dict[str, float]:
    floor = 0.15 if total_projects(world) < 500 else 0.0  # a tiny history shows every flag
    return {k: 0.0 if rate <= 0 else min(0.3, max(rate * w, floor)) for k, w in _FLAG_SHARE.items()}


# -- one cohort: the lives of the projects published on one day -----------------------------------


@lru_cache(maxsize=1024)
def _cohort(world: World, day: date, rate: float) -> dict[str, Columns]:
    """The versions of every record of the projects published on ``day``, per table."""
    rng = v.rng_for(world.seed, SYSTEM, "cohort", day)
    odds = _odds(world, rate)
    parties = _parties(world)
    n = int(rng.poisson(total_projects(world) / world.scale.history_days))
    projects = _projects(rng, day, n, parties, odds)
    sections = _sections(rng, projects, odds)
    bids = _bids(rng, sections, parties, odds)
    awards = _awards(rng, sections, bids, parties, odds)
    lives = {
        "projects": _project_versions(rng, projects, sections, awards),
        "sections": _section_versions(rng, sections, bids),
        "bids": bids,
        "awards": _award_versions(rng, awards),
        "contracts": _contracts(rng, awards),
    }
    kept = {}
    for contract in t.CONTRACTS:
        table = contract.table
        versions = _with_resends(rng, lives[table], odds)
        names = [c for c in contract.column_names if c != "sequence_number"]
        kept[table] = {c: versions[c] for c in names + _EXTRAS[table] + _LIFE}
    return kept


def _mutate(kind: str, values: np.ndarray, rows: np.ndarray, rng) -> None:
    """Apply a registered kind's mutation to ``values[rows]``."""
    if len(rows):
        frame = pd.DataFrame({"value": values[rows]})
        KINDS[kind].mutate(frame, frame.index.to_numpy(), "value", rng)
        values[rows] = frame["value"].to_numpy()


def _projects(rng, day: date, n: int, parties: _Parties, odds) -> Columns:
    serial = np.arange(1, n + 1)
    category = rng.choice(np.array(t.CATEGORIES), n, p=[0.4, 0.45, 0.07, 0.08])
    method = _methods(rng, category)
    region = rng.choice(v.QINGDAO_REGIONS, n)
    tenderer = parties.firms[rng.integers(0, len(parties.firms), n)]
    published = np.full(n, np.datetime64(day, "D"))
    notice = _notice_days(rng, method, category)
    short = (method == "公开招标") & (rng.random(n) < odds["short_bidding_period"])
    _mutate("short_bidding_period", notice, np.flatnonzero(short), rng)
    postponed = ~short & (rng.random(n) < POSTPONE)
    terminated = ~postponed & (rng.random(n) < TERMINATE)
    open_days = notice + 7 * postponed
    return {
        "project_id": (day - EPOCH).days * 10_000 + serial,
        "project_code": _codes(category, region, day, serial),
        "name": _project_names(rng, category, region, parties.name[tenderer], day, serial),
        "category": category,
        "method": method,
        "tenderer_uscc": parties.uscc[tenderer],
        "tenderer_name": parties.name[tenderer],
        "region_code": region,
        "published_on": published.astype(str),
        "_entity": parties.entity_id[tenderer],
        "_published": published,
        "_notice": notice,
        "_short": short,
        "_postponed": postponed,
        "_postponed_on": published
        + np.where(postponed, 1 + (rng.random(n) * (notice - 2)).astype(int), 0),
        "_opened": published + open_days,
        "_terminated": terminated,
        "_terminated_on": np.where(
            terminated, published + 1 + (rng.random(n) * (open_days - 1)).astype(int), NO_DAY
        ),
    }


def _methods(rng, category: np.ndarray) -> np.ndarray:
    choices = [
        rng.choice(np.array(list(shares)), len(category), p=list(shares.values()))
        for shares in _METHODS.values()
    ]
    return np.select([category == c for c in _METHODS], choices, "")


def _notice_days(rng, method: np.ndarray, category: np.ndarray) -> np.ndarray:
    """Days from notice to opening: 20+ for tenders, land and property; less for negotiation."""
    n = len(method)
    return np.select(
        [
            np.isin(method, ["公开招标", "邀请招标"]) | ~np.isin(category, t.CEILING_CATEGORIES),
            method == "竞争性磋商",
            np.isin(method, ["竞争性谈判", "询价"]),
        ],
        [rng.integers(20, 36, n), rng.integers(10, 21, n), rng.integers(3, 11, n)],
        rng.integers(5, 11, n),
    )


def _codes(category, region, day: date, serial) -> np.ndarray:
    prefix = np.array([_PREFIX[c] for c in t.CATEGORIES])[_category_index(category)]
    tail = np.strings.add(day.strftime("%Y%m%d"), _zfill(serial, 4))
    return np.strings.add(np.strings.add(prefix, region), tail)


def _category_index(category: np.ndarray) -> np.ndarray:
    """Positions in t.CATEGORIES."""
    order = np.argsort(t.CATEGORIES)
    return order[np.searchsorted(np.array(t.CATEGORIES), category, sorter=order)]


def _project_names(rng, category, region, tenderer, day: date, serial) -> np.ndarray:
    """Works and land by place (市南区香港中路…工程); purchases and transfers by their owner."""
    n = len(category)
    district = np.array(list(_DISTRICTS.values()))[
        np.searchsorted(np.array(list(_DISTRICTS)), region)
    ]
    place = np.strings.add(district, rng.choice(_PLACES, n))
    parcel = np.strings.add(
        np.strings.add(f"{day.year}-", _zfill(serial, 3)), "号地块国有建设用地使用权出让"
    )
    return np.select(
        [category == "工程建设", category == "政府采购", category == "土地使用权出让"],
        [
            np.strings.add(place, rng.choice(_WORKS, n)),
            np.strings.add(tenderer.astype(str), rng.choice(_GOODS, n)),
            np.strings.add(place, parcel),
        ],
        np.strings.add(np.strings.add(tenderer.astype(str), rng.choice(_ASSETS, n)), "转让项目"),
    )


def _sections(rng, p: Columns, odds) -> Columns:
    category = p["category"]
    counts = np.where(
        np.isin(category, t.CEILING_CATEGORIES),
        1 + np.minimum(rng.poisson(0.3, len(category)), 5),
        1,
    )
    s = _take(p, np.repeat(np.arange(len(category)), counts))
    n = len(s["project_id"])
    number = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    category, method = s["category"], s["method"]
    median, spread = (
        np.array([_BUDGET[c][i] for c in t.CATEGORIES])[_category_index(category)] for i in (0, 1)
    )
    bids = np.where(s["_terminated"], 0, _bid_counts(rng, method))
    few = (
        np.isin(method, t.THREE_BIDDER_METHODS)
        & ~s["_terminated"]
        & ~s["_short"]
        & (rng.random(n) < odds["few_bidders"])
    )
    _mutate("few_bidders", bids, np.flatnonzero(few), rng)
    ceiling = np.isin(category, t.CEILING_CATEGORIES)
    factor = np.where(ceiling, rng.uniform(0.85, 0.99, n), rng.uniform(1.02, 1.3, n))
    above = ceiling & ~s["_terminated"] & (rng.random(n) < odds["award_above_budget"])
    _mutate("award_above_budget", factor, np.flatnonzero(above), rng)
    factor[~ceiling & (bids < 2)] = 1.0  # one bidder in an auction buys at the start price
    budget = np.round(median * np.exp(spread * rng.standard_normal(n)), 2)
    suffix = np.select(
        [category == "工程建设", category == "政府采购"],
        [
            np.strings.add(np.strings.add("第", number.astype(str)), "标段"),
            np.strings.add(np.strings.add("第", number.astype(str)), "包"),
        ],
        "",
    )
    return s | {
        "section_id": s["project_id"] * 10 + number,
        "section_code": np.strings.add(np.strings.add(s["project_code"], "-"), _zfill(number, 2)),
        "name": np.strings.add(s["name"], suffix),
        "budget_wan": budget,
        "bid_open_at": s["_opened"].astype("datetime64[us]") + rng.choice(_OPEN_TIMES, n),
        "_n_bids": bids,
        "_few": few,
        "_above": above,
        "_award_amount": np.round(budget * factor, 4),
    }


def _bid_counts(rng, method: np.ndarray) -> np.ndarray:
    n = len(method)
    return np.select(
        [
            np.isin(method, t.THREE_BIDDER_METHODS),
            np.isin(method, ["单一来源", "协议"]),
            method == "拍卖",
        ],
        [
            3 + np.minimum(rng.poisson(2.2, n), 12),
            np.ones(n, int),
            2 + np.minimum(rng.poisson(1.5, n), 8),
        ],
        1 + np.minimum(rng.poisson(0.5, n), 5),
    )


def _bids(rng, sections: Columns, parties: _Parties, odds) -> Columns:
    counts = sections["_n_bids"]
    s = _take(sections, np.repeat(np.arange(len(counts)), counts))
    n, everyone = len(s["section_id"]), len(parties.entity_id)
    rank = np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)  # 0 is the winner
    winner = parties.coded[rng.integers(0, len(parties.coded), len(counts))]  # has a USCC
    who = _distinct(rng, winner, everyone, counts, rank)
    budget, award = s["budget_wan"], s["_award_amount"]
    ceiling = np.isin(s["category"], t.CEILING_CATEGORIES)
    loser = np.where(
        ceiling,
        budget * rng.uniform(0.8, 1.0, n),
        budget + (award - budget) * rng.uniform(0, 0.95, n),
    )
    open_at = s["bid_open_at"]
    lead = np.minimum(s["_notice"], 10) * 86_400 - 43_200  # submitted after the notice
    code_type, code = _bidder_codes(rng, parties, who)
    people = len(parties.person_id)
    agent = _distinct(rng, rng.integers(0, people, len(counts)), people, counts, rank)
    agents = pd.DataFrame(
        {
            "agent_name": parties.person_name[agent],
            "agent_id_number": parties.id_number[agent],
            "_person": parties.person_id[agent],
        }
    )
    shared = (rank == 1) & (rng.random(n) < odds["shared_bid_agent"])
    if shared.any():
        KINDS["shared_bid_agent"].mutate(agents, np.flatnonzero(shared), "agent_id_number", rng)
    export = open_at.astype("datetime64[D]")
    # A bid withdrawn before the opening is exported anyway and its record deleted later;
    # never one of the first three of a section.
    deleted = (rank >= 3) & (rng.random(n) < DELETE_BID)
    return {
        "bid_id": s["section_id"] * 100 + rank + 1,
        "section_id": s["section_id"],
        "bidder_code_type": code_type,
        "bidder_code": code,
        "bidder_name": v.name_variants(rng, pd.Series(parties.name[who])),
        "agent_name": agents["agent_name"].to_numpy(),
        "agent_id_number": agents["agent_id_number"].to_numpy(),
        "bid_amount_wan": np.round(np.where(rank == 0, award, loser), 4),
        "submitted_at": open_at - (rng.random(n) * (lead - 3600) + 3600).astype("timedelta64[s]"),
        "exported_at": open_at + rng.integers(3600, 4 * 3600, n).astype("timedelta64[s]"),
        "_export": export,
        "_change": np.full(n, "insert", dtype=object),
        "_flag": np.where(shared, "shared_bid_agent", None),
        "_next": np.full(n, NO_DAY),
        "_delete": np.where(deleted, export + rng.integers(1, 21, n), NO_DAY),
        "_entity": parties.entity_id[who],
        "_person": agents["_person"].to_numpy(),
        "_who": who,
        "_open_at": open_at,
    }


def _distinct(rng, first: np.ndarray, pool: int, counts: np.ndarray, rank: np.ndarray):
    """Members of a pool, distinct within each group (a section's bidders, its agents): the
    group's first, then strides under 1/16 of the pool (a section has at most 15 bids)."""
    stride = rng.integers(1, max(2, pool // 16), len(counts))
    return (np.repeat(first, counts) + rank * np.repeat(stride, counts)) % pool


def _bidder_codes(rng, parties: _Parties, who: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The code a bid carries: USCC, the organisation code inside it (``MA3C0001-1``), or the
    注册号 of a 个体工商户 without a USCC."""
    uscc = parties.uscc[who].astype(str)
    org = np.strings.add(
        np.strings.add(np.strings.slice(uscc, 8, 16), "-"), np.strings.slice(uscc, 16, 17)
    )
    placeholder = uscc == USCC_PLACEHOLDER
    org_only = ~placeholder & (rng.random(len(who)) < 0.12)
    kinds = np.select([placeholder, org_only], [t.CODE_TYPES[2], t.CODE_TYPES[1]], t.CODE_TYPES[0])
    codes = np.where(
        placeholder, parties.registration_number[who], np.where(org_only, org, uscc).astype(object)
    )
    return kinds, codes


def _awards(rng, sections: Columns, bids: Columns, parties: _Parties, odds) -> Columns:
    """One award per opened section; its record versions come from _award_versions."""
    s = _take(sections, sections["_n_bids"] > 0)
    who = bids["_who"][bids["bid_id"] % 100 == 1]  # the winners, in section order
    n = len(who)
    quick = np.isin(s["method"], ["单一来源", "协议", "挂牌"])
    opened = s["_opened"]
    awarded = opened + rng.integers(np.where(quick, 1, 3), np.where(quick, 6, 11))
    published = add_workdays(awarded, rng.integers(1, 3, n))
    late = rng.random(n) < LATE_AWARD
    export = published + np.where(late, rng.integers(3, 31, n), 0)
    revoked = rng.random(n) < REVOKE
    sign_days = rng.integers(5, 31, n)
    contract_factor = np.ones(n)
    late_signing = ~revoked & (rng.random(n) < odds["late_contract"])
    _mutate("late_contract", sign_days, np.flatnonzero(late_signing), rng)
    dearer = ~revoked & ~late_signing & (rng.random(n) < odds["contract_above_award"])
    _mutate("contract_above_award", contract_factor, np.flatnonzero(dearer), rng)
    return {
        "award_id": s["section_id"],
        "section_id": s["section_id"],
        "winner_uscc": parties.uscc[who],
        "winner_name": v.name_variants(rng, pd.Series(parties.name[who])),
        "award_amount_wan": s["_award_amount"],
        "awarded_on": awarded.astype(str),
        "published_on": published.astype(str),
        "status": np.full(n, "有效", dtype=object),
        "exported_at": _day_time(rng, export),
        "_export": export,
        "_change": np.where(late, "late", "insert").astype(object),
        "_flag": np.where(s["_above"], "award_above_budget", None),
        "_next": np.where(revoked, export + rng.integers(3, 21, n), NO_DAY),
        "_delete": np.full(n, NO_DAY),
        "_entity": parties.entity_id[who],
        "_opened_on": opened.astype(str),
        "_published": published,
        "_project_id": s["project_id"],
        "_section_code": s["section_code"],
        "_sign_days": sign_days,
        "_contract_factor": contract_factor,
        "_contract_flag": np.select(
            [late_signing, dearer], ["late_contract", "contract_above_award"], None
        ),
    }


def _contracts(rng, awards: Columns) -> Columns:
    a = _take(awards, np.isnat(awards["_next"]))  # revoked awards get no contract
    n = len(a["award_id"])
    signed = a["_published"] + a["_sign_days"]
    late = rng.random(n) < LATE_CONTRACT_EXPORT
    # Never before its award: a late award holds its contract back.
    export = np.maximum(signed + np.where(late, rng.integers(3, 31, n), 0), a["_export"])
    return {
        "contract_id": a["award_id"],
        "award_id": a["award_id"],
        "contract_number": np.strings.add("HT", a["_section_code"].astype(str)),
        "signed_on": signed.astype(str),
        "amount_wan": np.round(a["award_amount_wan"] * a["_contract_factor"], 4),
        "exported_at": _day_time(rng, export),
        "_export": export,
        "_change": np.where(export - signed >= 3, "late", "insert").astype(object),
        "_flag": a["_contract_flag"],
        "_next": np.full(n, NO_DAY),
        "_delete": np.full(n, NO_DAY),
        "_award_published": a["_published"].astype(str),
    }


# -- versions: what each record looks like each time it is exported ------------------------------


def _project_versions(rng, p: Columns, sections: Columns, awards: Columns) -> Columns:
    """Published (公告中), then 已成交 when its last section's result is published, or 终止."""
    n = len(p["project_id"])
    row = np.searchsorted(p["project_id"], sections["project_id"])
    budget = np.round(np.bincount(row, weights=sections["budget_wan"], minlength=n), 2)
    done = np.full(n, -1, dtype=np.int64)
    np.maximum.at(
        done,
        np.searchsorted(p["project_id"], awards["_project_id"]),
        awards["_published"].astype(np.int64),
    )
    final = np.where(p["_terminated"], p["_terminated_on"], done.astype("datetime64[D]"))
    base = p | {"budget_wan": budget, "_flag": np.full(n, None), "_delete": np.full(n, NO_DAY)}
    first = _take(
        base, slice(None), status="公告中", _export=p["_published"], _change="insert", _next=final
    )
    last = _take(
        base,
        slice(None),
        status=np.where(p["_terminated"], "终止", "已成交"),
        _export=final,
        _change=np.where(p["_terminated"], "revocation", "update"),
        _next=np.full(n, NO_DAY),
    )
    return _stamped(rng, _cat([first, last]))


def _section_versions(rng, s: Columns, bids: Columns) -> Columns:
    """Published; re-sent with the later opening after a notice change; opened (已开标, with the
    count of valid bids: not those withdrawn, whose records are deleted later) or terminated."""
    n = len(s["section_id"])
    valid = np.bincount(
        np.searchsorted(s["section_id"], bids["section_id"]),
        weights=np.isnat(bids["_delete"]),
        minlength=n,
    )
    postponed, terminated = s["_postponed"], s["_terminated"]
    final = np.where(terminated, s["_terminated_on"], s["_opened"])
    base = s | {"_delete": np.full(n, NO_DAY), "bid_count": np.full(n, np.nan)}
    short = np.where(s["_short"], "short_bidding_period", None)
    first = _take(
        base,
        slice(None),
        status="公告中",
        _export=s["_published"],
        _change="insert",
        bid_open_at=s["bid_open_at"] - np.where(postponed, 7, 0).astype("timedelta64[D]"),
        _flag=short,
        _next=np.where(postponed, s["_postponed_on"], final),
    )
    changed = _take(
        base,
        postponed,
        status="公告中",
        _export=s["_postponed_on"][postponed],
        _change="update",
        _flag=short[postponed],
        _next=final[postponed],
    )
    last = _take(
        base,
        slice(None),
        status=np.where(terminated, "终止", "已开标"),
        bid_count=np.where(terminated, np.nan, valid),
        _export=final,
        _change=np.where(terminated, "revocation", "update"),
        _flag=np.where(s["_few"], "few_bidders", short),
        _next=np.full(n, NO_DAY),
    )
    versions = _stamped(rng, _cat([first, changed, last]))
    opening = versions["status"] == "已开标"  # the opening record goes out right after it
    versions["exported_at"][opening] = versions["bid_open_at"][opening] + np.timedelta64(30, "m")
    return versions


def _award_versions(rng, a: Columns) -> Columns:
    """Published (有效); re-sent as 撤销 if the award is revoked."""
    revoked = ~np.isnat(a["_next"])
    again = _take(
        a,
        revoked,
        status="撤销",
        _export=a["_next"][revoked],
        _change="revocation",
        _next=np.full(int(revoked.sum()), NO_DAY),
    )
    again["exported_at"] = _day_time(rng, again["_export"])
    return _cat([a, again])


def _stamped(rng, versions: Columns) -> Columns:
    versions["_export"] = versions["_export"].astype("datetime64[D]")
    versions["exported_at"] = _day_time(rng, versions["_export"])
    return versions


def _with_resends(rng, versions: Columns, odds) -> Columns:
    """Some versions are sent again a few days later, while still the record's latest."""
    n = len(versions["_export"])
    resend = versions["_export"] + rng.integers(1, RESEND_DAYS + 1, n)
    superseded = (versions["_next"] <= resend) | (versions["_delete"] <= resend)
    chosen = (rng.random(n) < odds["resent_record"]) & ~superseded
    return versions | {"_resend": np.where(chosen, resend, NO_DAY)}


def _day_time(rng, days: np.ndarray) -> np.ndarray:
    """Export times within office hours (08:00-20:00) of the given days."""
    seconds = rng.integers(8 * 3600, 20 * 3600, len(days)).astype("timedelta64[s]")
    return (days.astype("datetime64[D]") + seconds).astype("datetime64[us]")


def add_workdays(days: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The ``n``-th working day after each of ``days`` (statutory holidays and 调休 make-up days
    from chinese_calendar; in years it does not know yet, weekends only)."""
    days = days.astype("datetime64[D]")
    if not len(days):
        return days
    calendar = np.arange(days.min(), days.max() + int(n.max()) * 3 + 30)
    worked = np.cumsum([workdays.is_workday(d) for d in calendar.astype(object)])
    reached = worked[(days - calendar[0]).astype(int)] + n
    return calendar[np.searchsorted(worked, reached)]


def _zfill(numbers: np.ndarray, width: int) -> np.ndarray:
    return np.strings.mod(f"%0{width}d", numbers)
