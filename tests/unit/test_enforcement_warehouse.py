"""The penalty decision fact (行政处罚决定) and its marts on hand-made decisions: revocation by
status or by record, penalty types split into child rows, flag columns, the party's entity from
the match table, and the monthly mart figures worked out by hand."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from govlake import contracts, load
from govlake.transform import enforcement as e
from tests.conftest import EXPECTATIONS

A, B = ("11370200MB0000001A", "甲市场监管局"), ("11370200MB0000002B", "乙市场监管局")
SEPT, OCT = date(2026, 9, 1), date(2026, 10, 1)
# decision: (authority, power, decided, status, 处罚类别, fine 万元, confiscation, procedure, flags)
DECISIONS = {
    1: (A, 10, date(2026, 9, 15), "已执行", "警告;罚款;没收违法所得", "0.2", "0.1", "普通", None),
    2: (A, 10, date(2026, 9, 20), "已撤销", "罚款", "0.5", None, "普通", "fine_outside_band"),
    3: (A, 10, date(2026, 9, 28), "已执行", " 罚款 ; 没收违法所得;", "1", "0.3", "普通", None),
    4: (A, 20, date(2026, 10, 2), "待执行", "罚款", "0.01", None, "简易",
        "decision_entered_late,simple_procedure_over_threshold"),
    5: (B, 10, date(2026, 9, 30), "待执行", "罚款;罚款", "0.05", None, "简易", "fine_in_yuan"),
}  # fmt: skip
# Decision 3 still says 已执行 but was revoked twice (the latest record counts); decision 2 says
# 已撤销 and has a record too.
REVOCATIONS = [(1, 3, date(2026, 10, 5)), (2, 3, date(2026, 10, 20)), (3, 2, date(2026, 10, 1))]
REVOKED_ON = {1: None, 2: date(2026, 10, 1), 3: date(2026, 10, 20), 4: None, 5: None}
# 信用修复 (record table, record, decision, decided on): decision 1's first approval counts; a
# rejected repair and another table's record with the same number do not.
REPAIRS = [
    ("penalty_decisions", 1, "已通过", date(2026, 10, 12)),
    ("penalty_decisions", 1, "已通过", date(2026, 10, 9)),
    ("penalty_decisions", 2, "未通过", date(2026, 10, 9)),
    ("abnormal_operations", 3, "已通过", date(2026, 10, 9)),
    ("penalty_decisions", 4, "待审核", None),
]
SECTORS = {10: "市场监管", 20: "安全生产"}
PERSON = "P" + "0" * 32
MATCHES = [
    (e.DECISIONS, "1", "party", "E91370200MA0000001X"),
    (e.DECISIONS, "4", "party", PERSON),
    (e.DECISIONS, "2", "legal_rep", "Enot-the-party"),  # another role of decision 2
    ("approval.cases", "5", "party", "Eanother-table"),  # another table's row 5
]


def _latest(spark, dataset: str, rows: list[dict]):
    """``rows`` as run.latest gives them: the contract's clean columns and ``dq_flags``."""
    schema = contracts.get(dataset).clean_schema().append(pa.field("dq_flags", pa.string()))
    return spark.createDataFrame(pa.Table.from_pylist(rows, schema))


def _decision(key: int) -> dict:
    (uscc, name), power, decided, status, types, fine, seized, procedure, flags = DECISIONS[key]
    person = key == 4
    return {
        "decision_id": key,
        "decision_number": f"青市监罚〔2026〕{key}号",
        "party_type": "自然人" if person else "法人及非法人组织",
        "party_name": f"当事人{key}",
        "party_uscc": None if person else f"91370200MA000000{key}X",
        "party_id_number": "370202199001011237" if person else None,
        "violation_type": "违法行为",
        "violation_facts": "经查，当事人违反了有关规定。",
        "legal_basis": "《中华人民共和国行政处罚法》第九条",
        "penalty_types": types,
        "penalty_content": "处罚内容",
        "fine_amount_wan": Decimal(fine),
        "confiscation_amount_wan": Decimal(seized) if seized else None,
        "procedure_type": procedure,
        "power_id": power,
        "standard_id": power * 10,
        "decision_date": decided,
        "entered_at": datetime(decided.year, decided.month, decided.day, 17),
        "authority_name": name,
        "authority_uscc": uscc,
        "status": status,
        "updated_at": datetime(2026, 10, 31),
        "dq_flags": flags,
    }


@pytest.fixture(scope="module")
def sources(spark):
    powers = _latest(
        spark,
        e.POWERS,
        [
            {"power_id": p, "power_code": f"P{p}", "name": f"职权{p}", "sector": sector,
             "department_name": "市场监管局", "department_uscc": A[0], "legal_basis": "依据"}
            for p, sector in SECTORS.items()
        ],
    )  # fmt: skip
    standards = _latest(
        spark,
        e.STANDARDS,
        [
            {"standard_id": p * 10, "power_id": p, "circumstance": "一般", "description": "情形",
             "fine_min_yuan": Decimal("100.00"), "fine_max_yuan": Decimal("20000.00")}
            for p in SECTORS
        ],
    )  # fmt: skip
    decisions = _latest(spark, e.DECISIONS, [_decision(k) for k in DECISIONS])
    revocations = _latest(
        spark,
        e.REVOCATIONS,
        [
            {"revocation_id": r, "decision_id": d, "revoked_on": on, "reason": "依法撤销"}
            for r, d, on in REVOCATIONS
        ],
    )
    repairs = _latest(
        spark,
        e.REPAIRS,
        [
            {"repair_id": i, "uscc": A[0], "record_table": table, "record_id": record,
             "applied_on": date(2026, 10, 1), "decision": decision, "decided_on": on,
             "updated_at": datetime(2026, 10, 31)}
            for i, (table, record, decision, on) in enumerate(REPAIRS, start=1)
        ],
    )  # fmt: skip
    matches = spark.createDataFrame(
        MATCHES, "dataset string, source_key string, role string, entity_id string"
    )
    return powers, standards, decisions, revocations, repairs, matches


@pytest.fixture(scope="module")
def facts(sources):
    powers, _, decisions, revocations, repairs, matches = sources
    first = decisions.sparkSession.createDataFrame(
        [(k, date(2026, 10, k)) for k in (1, 2)], "decision_id bigint, first_published_on date"
    )
    rows = e.fct_penalty_decision(decisions, powers, revocations, repairs, first, matches)
    return {r["decision_id"]: r for r in rows.toArrow().to_pylist()}, rows


def test_revocation_is_applied_from_status_and_records(facts):
    by_id, _ = facts
    assert {k: r["revoked_on"] for k, r in by_id.items()} == REVOKED_ON
    assert {k for k, r in by_id.items() if r["is_revoked"]} == {2, 3}
    assert {k: r["status"] for k, r in by_id.items()}[3] == "已执行"  # kept as the source wrote it


def test_a_penalty_is_repaired_by_its_first_approved_repair(facts):
    by_id, _ = facts
    assert {k: r["repaired_on"] for k, r in by_id.items() if r["repaired_on"]} == {
        1: date(2026, 10, 9)
    }


def test_penalty_types_become_child_rows(sources):
    decisions = sources[2]
    rows = e.fct_penalty_decision_type(decisions).collect()
    assert sorted((r.decision_id, r.penalty_type) for r in rows) == [
        (1, "没收违法所得"),
        (1, "罚款"),
        (1, "警告"),
        (2, "罚款"),
        (3, "没收违法所得"),
        (3, "罚款"),  # trimmed, the empty last part dropped
        (4, "罚款"),
        (5, "罚款"),  # listed twice, one row
    ]


def test_flag_columns_follow_dq_flags(facts):
    by_id, _ = facts
    fired = {k: {rule for rule in e.FLAG_RULES if r[f"flag_{rule}"]} for k, r in by_id.items()}
    assert fired == {
        1: set(),
        2: {"fine_outside_band"},
        3: set(),
        4: {"decision_entered_late", "simple_procedure_over_threshold"},
        5: {"fine_in_yuan"},
    }


def test_flag_rules_are_the_expectation_files_flag_rules():
    suite = json.loads((EXPECTATIONS / "enforcement.penalty_decisions.json").read_text())
    flags = {x["meta"]["rule"] for x in suite["expectations"] if x["meta"]["outcome"] == "flag"}
    assert set(e.FLAG_RULES) == flags


def test_the_party_is_its_entity_never_its_id_number(facts):
    by_id, rows = facts
    assert {k: r["party_entity_id"] for k, r in by_id.items()} == {
        1: "E91370200MA0000001X",
        2: None,
        3: None,
        4: PERSON,
        5: None,
    }
    assert not [c for c in rows.columns if "id_number" in c]
    assert {k: r["sector"] for k, r in by_id.items()} == {1: "市场监管", 2: "市场监管",
        3: "市场监管", 4: "安全生产", 5: "市场监管"}  # fmt: skip
    assert {r["decision_month"] for r in by_id.values()} == {SEPT, OCT}


def test_the_marts_give_the_hand_computed_figures(sources, facts, tmp_path):
    powers, standards, decisions, *_ = sources
    built = {
        e.DIM_PENALTY_POWER: e.dim_penalty_power(powers),
        e.DIM_DISCRETION_STANDARD: e.dim_discretion_standard(standards),
        e.FCT_PENALTY_DECISION: facts[1],
        e.FCT_PENALTY_DECISION_TYPE: e.fct_penalty_decision_type(decisions),
    }
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    load.migrate(url)
    load.replace_tables(url, {table: rows.toArrow() for table, rows in built.items()})
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        for table, rows in built.items():  # the loader ignores extra columns: none may be lost
            schema, name = table.split(".")
            columns = con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?"
                " order by column_index",
                [schema, name],
            ).fetchall()
            assert [c for (c,) in columns] == rows.columns
        monthly = con.execute(
            "select month, authority_uscc, authority_name, sector, decisions, revoked_decisions, "
            "decisions_in_force, fine_amount_wan_in_force, confiscation_amount_wan_in_force, "
            "simple_procedure_decisions, ordinary_procedure_decisions, flagged_decisions "
            "from mart.enforcement_monthly order by 1, 2"
        ).fetchall()
        types = con.execute(
            "select month, penalty_type, decisions_in_force "
            "from mart.enforcement_penalty_types_monthly order by 1, 2"
        ).fetchall()
    assert monthly == [
        # 1, 2 and 3: 2 revoked (by status) and 3 (by record); amounts of 1 only; 2 flagged
        (SEPT, *A, "市场监管", 3, 2, 1, Decimal("0.2"), Decimal("0.1"), 0, 3, 1),
        (SEPT, *B, "市场监管", 1, 0, 1, Decimal("0.05"), Decimal("0"), 1, 0, 1),  # 5
        (OCT, *A, "安全生产", 1, 0, 1, Decimal("0.01"), Decimal("0"), 1, 0, 1),  # 4
    ]
    assert types == sorted(
        [(SEPT, "警告", 1), (SEPT, "罚款", 2), (SEPT, "没收违法所得", 1), (OCT, "罚款", 1)]
    )
