"""The credit record fact (信用记录) on hand-made records of the five record tables: one event
per record, its party's entity from the match table, and whether it holds on a given day (ended,
superseded, lifted, repaired or not started yet); the register's SCD type 2 history from clean
partitions (a version re-sent through the look-back, an unchanged re-send, a name changed and
changed back); and the credit profile mart's figures worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govlake import contracts, load
from govlake.quality.split import clean_schema
from govlake.transform import credit as c
from govlake.transform.conform import clean_versions, latest_versions
from tests.handmade import filled

AS_OF = date(2026, 6, 1)
U1, U2, U3 = "91370200MA00000011", "91370200MA00000022", "91370200MA00000033"
# Entity ids unlike the USCCs: the fact must take them from the match table.
E1, E2, E3, E4 = "E-firm-1", "E-firm-2", "E-firm-3", "E-firm-4"
PERSON = "P" + "1" * 32
ID_NUMBER = "370202199001011237"


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# record -> (uscc, tax year, level, rated on)
TAX = {
    1: (U1, 2024, "B", d(4, 1, 2025)),  # superseded by 2 on 2026-04-01
    2: (U1, 2025, "A", d(4, 1)),
    3: (U2, 2025, "M", d(4, 15)),  # holds: its successor 4 comes after AS_OF
    4: (U2, 2026, "C", d(8, 1)),  # not rated yet on AS_OF
}
# record -> (uscc, listed on, removed on)
ABNORMAL = {
    1: (U1, d(1, 10), d(3, 1)),  # removed
    2: (U1, d(2, 1), None),  # repaired away by repairs 1 and 5 (the first approval counts)
    3: (U2, d(3, 1), None),  # one repair pending, one rejected
    4: (U2, AS_OF, None),  # listed on the day itself
    5: (U3, d(5, 1), AS_OF),  # removed on the day itself; no match: no entity
}
# record -> (uscc, listed on, expires on)
SERIOUS = {1: (U2, d(1, 1, 2025), d(1, 1, 2028)), 2: (U3, d(1, 1), d(1, 1, 2029))}
# record -> (party type, uscc, listed on, status)
DEBTORS = {1: ("法人", U3, d(2, 1), "在列"), 2: ("自然人", None, d(5, 1, 2025), "已移除")}
# repair -> (uscc, record table, record id, applied on, decision, decided on)
REPAIRS = {
    1: (U1, "abnormal_operations", 2, d(5, 10), "已通过", d(5, 20)),
    2: (U2, "abnormal_operations", 3, d(5, 25), "待审核", None),
    3: (U2, "abnormal_operations", 3, d(3, 20), "未通过", d(4, 1)),
    4: (U3, "serious_dishonesty", 2, d(6, 20), "已通过", d(7, 1)),  # after AS_OF
    5: (U1, "abnormal_operations", 2, d(5, 21), "已通过", d(5, 28)),
}
PARTIES = {
    (c.TAX, "listed"): {1: E1, 2: E1, 3: E2, 4: E2},
    (c.ABNORMAL, "listed"): {1: E1, 2: E1, 3: E2, 4: E2},
    (c.SERIOUS, "listed"): {1: E2, 2: E3},
    (c.DEBTORS, "debtor"): {1: E3, 2: PERSON},
    (c.REPAIRS, "repaired"): {1: E1, 2: E2, 3: E2, 4: E3, 5: E1},
}
DECOYS = [
    ("approval.cases", "5", "listed", "E-another-table"),  # the abnormal record 5's id elsewhere
    (c.ABNORMAL, "5", "legal_rep", "E-another-role"),
]
# event key -> (entity, event on, ends on, repaired on, level, active on AS_OF), by hand
EXPECTED = {
    "tax_credit_levels:1": (E1, d(4, 1, 2025), d(4, 1), None, "B", False),
    "tax_credit_levels:2": (E1, d(4, 1), None, None, "A", True),
    "tax_credit_levels:3": (E2, d(4, 15), d(8, 1), None, "M", True),
    "tax_credit_levels:4": (E2, d(8, 1), None, None, "C", False),
    "abnormal_operations:1": (E1, d(1, 10), d(3, 1), None, None, False),
    "abnormal_operations:2": (E1, d(2, 1), None, d(5, 20), None, False),
    "abnormal_operations:3": (E2, d(3, 1), None, None, None, True),
    "abnormal_operations:4": (E2, AS_OF, None, None, None, True),
    "abnormal_operations:5": (None, d(5, 1), AS_OF, None, None, False),
    "serious_dishonesty:1": (E2, d(1, 1, 2025), d(1, 1, 2028), None, None, True),
    "serious_dishonesty:2": (E3, d(1, 1), d(1, 1, 2029), d(7, 1), None, True),
    "dishonest_debtors:1": (E3, d(2, 1), None, None, None, True),
    "dishonest_debtors:2": (PERSON, d(5, 1, 2025), None, None, None, False),
    "credit_repairs:1": (E1, d(5, 20), None, None, None, True),
    "credit_repairs:2": (E2, None, None, None, None, False),  # pending: not in effect
    "credit_repairs:3": (E2, None, None, None, None, False),  # rejected
    "credit_repairs:4": (E3, d(7, 1), None, None, None, False),  # approved after AS_OF
    "credit_repairs:5": (E1, d(5, 28), None, None, None, True),
}
UPDATED = datetime(2026, 5, 31, 18)


def _latest(spark, dataset: str, rows: list[dict]):
    """``rows`` as run.latest gives them: the contract's clean columns and ``dq_flags``."""
    schema = contracts.get(dataset).clean_schema().append(pa.field("dq_flags", pa.string()))
    return spark.createDataFrame(pa.Table.from_pylist(rows, schema))


def _records(spark) -> dict:
    name = {"enterprise_name": "某某有限公司", "authority": "青岛市市场监督管理局"}
    return {
        c.TAX: _latest(
            spark,
            c.TAX,
            [
                {"record_id": k, "uscc": u, "enterprise_name": "某某有限公司", "tax_year": y,
                 "level": level, "rated_on": on, "updated_at": UPDATED}
                for k, (u, y, level, on) in TAX.items()
            ],
        ),
        c.ABNORMAL: _latest(
            spark,
            c.ABNORMAL,
            [
                {"record_id": k, "uscc": u, "reason": "未按规定报送年度报告", "listed_on": on,
                 "removed_on": off, "updated_at": UPDATED, **name,
                 "dq_flags": "rule_a,rule_b" if k == 3 else None}
                for k, (u, on, off) in ABNORMAL.items()
            ],
        ),
        c.SERIOUS: _latest(
            spark,
            c.SERIOUS,
            [
                {"record_id": k, "uscc": u, "sector": "税务", "reason": "严重失信",
                 "listed_on": on, "expires_on": off, "updated_at": UPDATED, **name}
                for k, (u, on, off) in SERIOUS.items()
            ],
        ),
        c.DEBTORS: _latest(
            spark,
            c.DEBTORS,
            [
                {"record_id": k, "party_type": kind, "uscc": u, "party_name": "被执行人",
                 "person_id": None if u else 9, "id_number": None if u else ID_NUMBER,
                 "case_number": f"(2026)鲁0202执{k}号", "court": "青岛市市南区人民法院",
                 "listed_on": on, "status": status, "updated_at": UPDATED}
                for k, (kind, u, on, status) in DEBTORS.items()
            ],
        ),
        c.REPAIRS: _latest(
            spark,
            c.REPAIRS,
            [
                {"repair_id": k, "uscc": u, "record_table": table, "record_id": record,
                 "applied_on": applied, "decision": decision, "decided_on": decided,
                 "updated_at": UPDATED}
                for k, (u, table, record, applied, decision, decided) in REPAIRS.items()
            ],
        ),
    }  # fmt: skip


@pytest.fixture(scope="module")
def events(spark):
    found = [
        (dataset, str(key), role, entity)
        for (dataset, role), entities in PARTIES.items()
        for key, entity in entities.items()
    ]
    matches = spark.createDataFrame(
        found + DECOYS, "dataset string, source_key string, role string, entity_id string"
    )
    return c.fct_credit_event(_records(spark), matches, AS_OF)


def _by_key(events) -> dict[str, dict]:
    return {r["event_key"]: r for r in events.toArrow().to_pylist()}


def test_every_record_is_one_event_of_its_type(events):
    rows = _by_key(events)
    assert sorted(rows) == sorted(EXPECTED)
    kinds = {(r["dataset"], r["event_type"]) for r in rows.values()}
    assert kinds == {
        (c.TAX, "纳税信用等级"),
        (c.ABNORMAL, "经营异常名录"),
        (c.SERIOUS, "严重失信主体名单"),
        (c.DEBTORS, "失信被执行人"),
        (c.REPAIRS, "信用修复"),
    }
    assert all(k == f"{r['dataset'][7:]}:{r['record_id']}" for k, r in rows.items())
    assert events.columns == list(c.EVENT_COLUMNS)
    assert rows["serious_dishonesty:1"]["summary"] == "税务：严重失信"
    assert rows["dishonest_debtors:2"]["summary"] == "(2026)鲁0202执2号（已移除）"
    assert rows["dishonest_debtors:1"]["authority"] == "青岛市市南区人民法院"
    assert rows["credit_repairs:3"]["summary"] == "abnormal_operations:3 未通过"
    assert rows["tax_credit_levels:2"]["summary"] == "2025年度"
    assert rows["abnormal_operations:3"]["dq_flags"] == "rule_a,rule_b"  # carried as it is


def test_dates_levels_and_whether_each_event_holds_on_the_day(events):
    got = {
        k: (r["entity_id"], r["event_on"], r["ends_on"], r["repaired_on"], r["level"],
            r["is_active"])
        for k, r in _by_key(events).items()
    }  # fmt: skip
    assert got == EXPECTED


def test_the_party_is_its_matched_entity_never_its_id_number(events):
    assert not [col for col in events.columns if "id_number" in col or col == "uscc"]
    values = {v for r in events.toArrow().to_pylist() for v in r.values()}
    assert ID_NUMBER not in values
    assert not {"E-another-table", "E-another-role"} & values


# --- the register's history ---------------------------------------------------------------

REGISTER = contracts.get(c.REGISTER)
A, B, A_AGAIN = "青岛甲有限公司", "青岛乙有限公司", "青岛甲有限公司"
T = [datetime(2026, m, 1, 9) for m in range(1, 6)]
SOLE_TRADER = "370200600012345"  # a 个体工商户 under the placeholder USCC
# partition day -> versions (enterprise, name, status, updated_at)
PARTITIONS = {
    "2026-01-01": [(1, A, "存续", T[0]), (2, "李记小吃店", "存续", T[0])],
    "2026-01-02": [(1, A, "存续", T[0])],  # the same version again (look-back)
    "2026-03-01": [(1, B, "在业", T[2]), (1, A, "在业", T[1])],  # a late arrival, in order by
    "2026-03-05": [(1, B, "在业", datetime(2026, 3, 5, 9))],  # watermark; unchanged re-send
    "2026-04-01": [(1, A_AGAIN, "在业", T[3]), (3, "青岛丙有限公司", "存续", T[3])],
}


def _version(key: int, name: str, status: str, at: datetime) -> dict:
    return {
        "enterprise_id": key,
        "uscc": "00000000000000000X" if key == 2 else f"91370200MA0000000{key}",
        "registration_number": SOLE_TRADER if key == 2 else None,
        "name": name,
        "entity_type": "个体工商户" if key == 2 else "企业",
        "region_code": "370202",
        "status": status,
        "updated_at": at,
        "dq_flags": [],
    }


@pytest.fixture(scope="module")
def history(spark, tmp_path_factory):
    root: Path = tmp_path_factory.mktemp("clean")
    files = []
    for dt, versions in PARTITIONS.items():
        folder = root / "credit.enterprise_register" / f"dt={dt}"
        folder.mkdir(parents=True)
        rows = pa.Table.from_pylist([_version(*v) for v in versions], clean_schema(REGISTER))
        pq.write_table(rows, folder / "part-0.parquet")
        files.append((dt, [str(folder / "part-0.parquet")]))
    versions = clean_versions(spark, REGISTER, files, [])
    # Enterprise 3 is withheld (its latest version quarantined): not in the entity master.
    register = latest_versions(spark, REGISTER, files, []).where("enterprise_id <> 3")
    return versions, c.dim_entity_history(versions, register)


def test_every_clean_version_counts_once(history):
    versions, _ = history
    assert sorted((r.enterprise_id, r.updated_at) for r in versions.collect()) == [
        (1, T[0]), (1, T[1]), (1, T[2]), (1, datetime(2026, 3, 5, 9)), (1, T[3]),
        (2, T[0]), (3, T[3]),
    ]  # fmt: skip


def test_history_collapses_unchanged_versions_into_periods(history):
    _, periods = history
    got = [
        (r.entity_id, r.enterprise_id, r.name, r.status, r.valid_from, r.valid_to, r.is_current)
        for r in periods.orderBy("enterprise_id", "valid_from").collect()
    ]
    firm = "E91370200MA00000001"
    assert got == [
        (firm, 1, A, "存续", T[0], T[1], False),
        (firm, 1, A, "在业", T[1], T[2], False),
        (firm, 1, B, "在业", T[2], T[3], False),  # the 03-05 re-send changed neither
        (firm, 1, A_AGAIN, "在业", T[3], None, True),  # back to the first name: a new period
        ("R" + SOLE_TRADER, 2, "李记小吃店", "存续", T[0], None, True),
    ]
    assert periods.columns == [
        "entity_id", "enterprise_id", "name", "status", "valid_from", "valid_to", "is_current"
    ]  # fmt: skip


# --- the profile mart ---------------------------------------------------------------------

ENTITIES = [
    (E1, "enterprise", U1, "青岛甲有限公司", "存续"),
    (E2, "enterprise", U2, "青岛乙有限公司", "吊销"),
    (E3, "enterprise", U3, "青岛丙有限公司", "存续"),
    (E4, "enterprise", None, "李记小吃店", "存续"),  # nothing on record
    (PERSON, "person", None, "张三", None),  # not an enterprise: no profile
]
# decision -> (party entity, fine 万元, revoked)
PENALTIES = {
    1: (E2, "0.5", False),
    2: (E2, "1.2", False),
    3: (E2, "3", True),
    4: (E1, None, False),
    5: (PERSON, "0.1", False),
}
# entity -> (active tax, abnormal, serious, debtors, repairs, level, on a list, penalties,
#            fines, last event day), by hand from EXPECTED and PENALTIES
PROFILE = {
    E1: (1, 0, 0, 0, 2, "A", False, 1, Decimal(0), d(5, 28)),
    E2: (1, 2, 1, 0, 0, "M", True, 2, Decimal("1.7"), d(8, 1)),
    E3: (0, 0, 1, 1, 0, None, True, 0, Decimal(0), d(7, 1)),
    E4: (0, 0, 0, 0, 0, None, False, 0, Decimal(0), None),
}


def test_the_profile_gives_the_hand_computed_figures(events, tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    load.migrate(url)
    entities = [
        {"entity_id": e, "entity_kind": kind, "uscc": u, "name": n, "status": s,
         "registered": True}
        for e, kind, u, n, s in ENTITIES
    ]  # fmt: skip
    penalties = [
        {"decision_id": k, "party_entity_id": e, "decision_date": d(3, 1),
         "fine_amount_wan": Decimal(fine) if fine else None, "is_revoked": revoked}
        for k, (e, fine, revoked) in PENALTIES.items()
    ]  # fmt: skip
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        penalty_rows = filled(con, "core.fct_penalty_decision", penalties)
        loaded_columns = con.execute(
            "select column_name from duckdb_columns() where schema_name = 'core' and "
            "table_name = 'fct_credit_event' order by column_index"
        ).fetchall()
    assert [n for (n,) in loaded_columns] == events.columns  # the loader would drop extras
    load.replace_tables(
        url,
        {
            "core.entity": pa.Table.from_pylist(entities),
            c.FCT_CREDIT_EVENT: events.toArrow(),
            "core.fct_penalty_decision": penalty_rows,
        },
    )
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        rows = con.execute(
            "select entity_id, uscc, name, status, active_tax_credit_levels, "
            "active_abnormal_operations, active_serious_dishonesty, active_dishonest_debtors, "
            "active_credit_repairs, tax_credit_level, on_dishonesty_list, penalties_in_force, "
            "fine_amount_wan_in_force, last_event_on from mart.credit_profile order by 1"
        ).fetchall()
    assert rows == [
        (e, u, n, s, *PROFILE[e]) for e, kind, u, n, s in ENTITIES if kind == "enterprise"
    ]
