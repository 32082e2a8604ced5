"""The transaction facts and marts on a hand-made trading history: three projects (one flagged
tenderer), their sections, bids (two sharing an agent, one of a withheld section), awards (one
above its ceiling, one revoked) and contracts (one late and above its award)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import duckdb
import pytest
from pyspark.sql.pandas.types import from_arrow_schema

from govlake import contracts, load
from govlake.transform import transaction as tx

SEPT, OCT = date(2026, 9, 1), date(2026, 10, 1)
SHARED_AGENT = "370202199001011234"  # both bids of section 11 name this 授权代表
# project: id, code, 交易类别, 交易方式, budget (万元), notice day, status, dq_flags
PROJECTS = [
    (1, "GC-1", "工程建设", "公开招标", 500, date(2026, 9, 10), "已成交", "tenderer_uscc_org_code"),
    (2, "CG-2", "政府采购", "询价", 100, date(2026, 9, 20), "已成交", "region_retired"),
    (3, "GC-3", "工程建设", "公开招标", 80, date(2026, 10, 5), "公告中", None),
]
# section: id, project, code, budget, opening, status, bid count, dq_flags
SECTIONS = [
    (11, 1, "GC-1-01", 300, datetime(2026, 9, 25, 9, 30), "已开标", 2,
     "few_bidders,short_bidding_period"),
    (12, 1, "GC-1-02", 200, datetime(2026, 10, 12, 9, 30), "已开标", 3, None),
    (21, 2, "CG-2-01", 100, datetime(2026, 9, 28, 9, 30), "已开标", 3, None),
    (31, 3, "GC-3-01", 80, datetime(2026, 10, 30, 9, 30), "公告中", None, None),
]  # fmt: skip
# bid: id, section (99 is withheld), bidder, agent, agent's ID number, amount, submitted, dq_flags
BIDS = [
    (101, 11, "甲公司", "张三", SHARED_AGENT, 290, datetime(2026, 9, 24, 10), None),
    (102, 11, "乙公司", "张三", SHARED_AGENT, 295, datetime(2026, 9, 24, 15), "shared_bid_agent"),
    (103, 21, "丙公司", "李四", "370202198502023456", 90, datetime(2026, 9, 27, 10), None),
    (104, 99, "丁公司", "王五", "370202197003034567", 70, datetime(2026, 9, 27, 11), None),
]
# award: id, section, winner, amount, awarded, published, status, dq_flags
AWARDS = [
    (111, 11, "甲公司", 310, date(2026, 9, 30), date(2026, 10, 2), "有效", "award_above_budget"),
    (112, 12, "乙公司", 190, date(2026, 10, 15), date(2026, 10, 16), "撤销", None),
    (121, 21, "丙公司", 95, date(2026, 10, 1), date(2026, 10, 8), "有效", None),
]
# contract: id, award, number, signed (201: 39 days after its award notice), amount, dq_flags
CONTRACTS = [
    (201, 111, "HT-1", date(2026, 11, 10), 320, "contract_above_award,late_contract"),
    (221, 121, "HT-2", date(2026, 10, 20), 95, None),
]
# The match table, with references of another role or dataset under the same keys (E-WRONG).
MATCHES = [
    ("transaction.projects", "1", "tenderer", "E-T1"),
    ("transaction.projects", "2", "tenderer", "E-T2"),
    ("transaction.projects", "3", "winner", "E-WRONG"),
    ("transaction.awards", "3", "tenderer", "E-WRONG"),
    ("transaction.bids", "101", "bidder", "E-B1"),
    ("transaction.bids", "101", "agent", "P-A"),
    ("transaction.bids", "102", "bidder", "E-B2"),
    ("transaction.bids", "102", "agent", "P-A"),
    ("transaction.bids", "103", "bidder", "E-B3"),
    ("transaction.bids", "103", "agent", None),  # unresolved
    ("transaction.awards", "111", "winner", "E-B1"),
    ("transaction.awards", "112", "winner", "E-B2"),
    ("transaction.awards", "121", "winner", "E-B3"),
    ("transaction.sections", "121", "winner", "E-WRONG"),
]
P1 = (1, "GC-1", "工程建设", "公开招标", date(2026, 9, 10))
P2 = (2, "CG-2", "政府采购", "询价", date(2026, 9, 20))
P3 = (3, "GC-3", "工程建设", "公开招标", date(2026, 10, 5))
NO_PROJECT = (None,) * 5
FLAGGED = {  # by hand from the dq_flags above: (fact, key, rule)
    (tx.FCT_PROJECT, 1, "tenderer_uscc_org_code"),
    (tx.FCT_SECTION, 11, "few_bidders"),
    (tx.FCT_SECTION, 11, "short_bidding_period"),
    (tx.FCT_BID, 102, "shared_bid_agent"),
    (tx.FCT_AWARD, 111, "award_above_budget"),
    (tx.FCT_CONTRACT, 201, "contract_above_award"),
    (tx.FCT_CONTRACT, 201, "late_contract"),
}
KEYS = {
    tx.FCT_PROJECT: ("project_id", tx.PROJECT_FLAGS),
    tx.FCT_SECTION: ("section_id", tx.SECTION_FLAGS),
    tx.FCT_BID: ("bid_id", tx.BID_FLAGS),
    tx.FCT_AWARD: ("award_id", tx.AWARD_FLAGS),
    tx.FCT_CONTRACT: ("contract_id", tx.CONTRACT_FLAGS),
}


def _source(spark, dataset: str, rows: list[dict]):
    """``rows`` as run.latest gives them: the contract's columns and dq_flags."""
    schema = from_arrow_schema(contracts.get(dataset).clean_schema()).add("dq_flags", "string")
    exchange = {"sequence_number": 1, "exported_at": datetime(2026, 11, 23, 2)}
    return spark.createDataFrame(
        [tuple({**exchange, **row}[name] for name in schema.names) for row in rows], schema
    )


def _wan(amount: int) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.000001"))


@pytest.fixture(scope="module")
def facts(spark):
    """Each fact as built from the facts above it, as pyarrow tables."""
    projects = _source(spark, tx.PROJECTS, [
        {"project_id": i, "project_code": code, "name": f"项目{i}", "category": category,
         "method": method, "tenderer_uscc": f"91370200MA0000000{i}", "tenderer_name": f"招标人{i}",
         "budget_wan": _wan(budget), "region_code": "370202", "published_on": published,
         "status": status, "dq_flags": flags}
        for i, code, category, method, budget, published, status, flags in PROJECTS
    ])  # fmt: skip
    sections = _source(spark, tx.SECTIONS, [
        {"section_id": i, "project_id": project, "section_code": code, "name": f"标段{i}",
         "budget_wan": _wan(budget), "bid_open_at": opening, "status": status,
         "bid_count": count, "dq_flags": flags}
        for i, project, code, budget, opening, status, count, flags in SECTIONS
    ])  # fmt: skip
    bids = _source(spark, tx.BIDS, [
        {"bid_id": i, "section_id": section, "bidder_code_type": "统一社会信用代码",
         "bidder_code": f"9137020000000{i}", "bidder_name": bidder, "agent_name": agent,
         "agent_id_number": number, "bid_amount_wan": _wan(amount), "submitted_at": submitted,
         "dq_flags": flags}
        for i, section, bidder, agent, number, amount, submitted, flags in BIDS
    ])  # fmt: skip
    awards = _source(spark, tx.AWARDS, [
        {"award_id": i, "section_id": section, "winner_uscc": f"9137020000000{i}",
         "winner_name": winner, "award_amount_wan": _wan(amount), "awarded_on": awarded,
         "published_on": published, "status": status, "dq_flags": flags}
        for i, section, winner, amount, awarded, published, status, flags in AWARDS
    ])  # fmt: skip
    signed = _source(spark, tx.CONTRACTS, [
        {"contract_id": i, "award_id": award, "contract_number": number, "signed_on": day,
         "amount_wan": _wan(amount), "dq_flags": flags}
        for i, award, number, day, amount, flags in CONTRACTS
    ])  # fmt: skip
    matches = spark.createDataFrame(
        MATCHES, "dataset string, source_key string, role string, entity_id string"
    )
    project_fact = tx.fct_tender_project(projects, matches)
    section_fact = tx.fct_tender_section(sections, project_fact)
    award_fact = tx.fct_award(awards, section_fact, matches)
    built = {
        tx.FCT_PROJECT: project_fact,
        tx.FCT_SECTION: section_fact,
        tx.FCT_BID: tx.fct_bid(bids, section_fact, matches),
        tx.FCT_AWARD: award_fact,
        tx.FCT_CONTRACT: tx.fct_contract(signed, award_fact),
    }
    return {table: rows.toArrow() for table, rows in built.items()}


def _by_key(facts, table: str, *columns: str) -> dict:
    key = KEYS[table][0]
    return {r[key]: tuple(r[c] for c in columns) for r in facts[table].to_pylist()}


def test_party_entities_come_from_the_match_table(facts):
    assert _by_key(facts, tx.FCT_PROJECT, "tenderer_entity_id") == {
        1: ("E-T1",),
        2: ("E-T2",),
        3: (None,),
    }
    assert _by_key(facts, tx.FCT_BID, "bidder_entity_id", "agent_entity_id") == {
        101: ("E-B1", "P-A"),
        102: ("E-B2", "P-A"),
        103: ("E-B3", None),
        104: (None, None),
    }
    assert _by_key(facts, tx.FCT_AWARD, "winner_entity_id") == {
        111: ("E-B1",),
        112: ("E-B2",),
        121: ("E-B3",),
    }
    assert _by_key(facts, tx.FCT_CONTRACT, "winner_entity_id") == {201: ("E-B1",), 221: ("E-B3",)}


def test_facts_carry_their_project_and_section(facts):
    assert _by_key(facts, tx.FCT_SECTION, *tx.PROJECT_CONTEXT) == {11: P1, 12: P1, 21: P2, 31: P3}
    assert _by_key(facts, tx.FCT_BID, *tx.SECTION_CONTEXT) == {
        101: (11, "GC-1-01", *P1),
        102: (11, "GC-1-01", *P1),
        103: (21, "CG-2-01", *P2),
        104: (99, None, *NO_PROJECT),  # its section is withheld: no context, its own key kept
    }
    assert _by_key(facts, tx.FCT_AWARD, *tx.SECTION_CONTEXT, "section_budget_wan") == {
        111: (11, "GC-1-01", *P1, _wan(300)),
        112: (12, "GC-1-02", *P1, _wan(200)),
        121: (21, "CG-2-01", *P2, _wan(100)),
    }
    contract_context = (*tx.SECTION_CONTEXT, "award_amount_wan", "award_published_on")
    assert _by_key(facts, tx.FCT_CONTRACT, *contract_context) == {
        201: (11, "GC-1-01", *P1, _wan(310), date(2026, 10, 2)),
        221: (21, "CG-2-01", *P2, _wan(95), date(2026, 10, 8)),
    }


def test_flag_columns_follow_dq_flags(facts):
    flagged = {
        (table, row[key], rule)
        for table, (key, rules) in KEYS.items()
        for row in facts[table].to_pylist()
        for rule in rules
        if row[f"flag_{rule}"]
    }
    assert flagged == FLAGGED
    assert all(
        not facts[table].column(f"flag_{rule}").null_count
        for table, (_, rules) in KEYS.items()
        for rule in rules
    )
    # dq_flags is kept as the quality step wrote it, other flags included.
    assert _by_key(facts, tx.FCT_PROJECT, "dq_flags")[2] == ("region_retired",)


def test_no_fact_holds_an_id_number(facts):
    for table, rows in facts.items():
        assert not [c for c in rows.column_names if "id_number" in c], table
        values = {v for column in rows.to_pydict().values() for v in column}
        assert not {bid[4] for bid in BIDS} & values, table


@pytest.fixture(scope="module")
def warehouse(facts, tmp_path_factory) -> str:
    """A migrated DuckDB warehouse holding the facts (its url)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('transaction') / 'w.duckdb'}"
    load.migrate(url)
    load.replace_tables(url, facts)
    return url


def _query(url: str, sql: str, *parameters) -> list[tuple]:
    with duckdb.connect(url.removeprefix("duckdb:///"), read_only=True) as con:
        return con.execute(sql, list(parameters)).fetchall()


def test_facts_have_exactly_the_migration_columns(facts, warehouse):
    for table, rows in facts.items():
        declared = _query(
            warehouse,
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            *table.split("."),
        )
        assert [c for (c,) in declared] == rows.column_names, table
        assert load.row_count(warehouse, table) == rows.num_rows


def test_the_monthly_mart_gives_the_hand_computed_figures(warehouse):
    got = _query(warehouse, "select * from mart.transaction_monthly")
    no_flags = (0,) * 7
    # Every record counts in its project's notice month: P1's revoked award (published in
    # October) and its late contract (November) fall in September; bid 104 has no project.
    expected = {
        (SEPT, "工程建设", "公开招标"): (1, 2, 2, 1, 1, _wan(310), 1, _wan(320), *(1,) * 7),
        (SEPT, "政府采购", "询价"): (1, 1, 1, 1, 0, _wan(95), 1, _wan(95), *no_flags),
        (OCT, "工程建设", "公开招标"): (1, 1, 0, 0, 0, 0, 0, 0, *no_flags),
        (None, None, None): (0, 0, 1, 0, 0, 0, 0, 0, *no_flags),
    }
    assert {row[:3]: row[3:] for row in got} == expected


def test_the_red_flag_mart_has_one_row_per_flag(warehouse):
    got = _query(
        warehouse,
        "select record_type, record_id, project_code, section_code, rule, flagged_on, "
        "amount_wan, compared_amount_wan from mart.transaction_red_flags order by 1, 2, 5",
    )
    section = ("GC-1", "GC-1-01")
    assert got == [
        ("award", 111, *section, "award_above_budget", date(2026, 9, 30), _wan(310), _wan(300)),
        ("bid", 102, *section, "shared_bid_agent", date(2026, 9, 24), _wan(295), None),
        ("contract", 201, *section, "contract_above_award", date(2026, 11, 10), _wan(320),
         _wan(310)),
        ("contract", 201, *section, "late_contract", date(2026, 11, 10), _wan(320), _wan(310)),
        ("project", 1, "GC-1", None, "tenderer_uscc_org_code", date(2026, 9, 10), _wan(500),
         None),
        ("section", 11, *section, "few_bidders", date(2026, 9, 25), _wan(300), None),
        ("section", 11, *section, "short_bidding_period", date(2026, 9, 25), _wan(300), None),
    ]  # fmt: skip
