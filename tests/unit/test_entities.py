"""Entity resolution rules (govlake.transform.entities) on hand-made references, in Spark."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from govlake.transform import entities as E

SECRET = b"test-secret"
PERSON_ID = "370202199001011237"  # a valid 身份证号码 (the register's person 7)
REGISTER = [  # enterprise_id, uscc, registration_number, name, entity_type, status
    (1, "91370200MA3C0001X5", "370200000000001", "青岛海湾物流（青岛）有限公司", "企业", "存续"),
    (2, "91370200MA3C0002X1", "370200000000002", "青岛同名商贸有限公司", "企业", "存续"),
    (3, "91370200MA3C0003X8", "370200000000003", "青岛同名商贸有限公司", "企业", "注销"),
    (4, "00000000000000000X", "370200600000004", "张记小吃店", "个体工商户", "存续"),
    (5, "91370200MA3C0001X5", "370200000000005", "重复登记", "企业", "存续"),  # USCC twice
]
COLUMNS = [
    "enterprise_id", "uscc", "registration_number", "name", "entity_type", "status",
]  # fmt: skip
BIDS = [  # bid_id, code type, code, bidder name, agent name, agent ID
    (1, "统一社会信用代码", "91370200MA3C0001X5", "青岛海湾物流(青岛)有限公司", "李四", PERSON_ID),
    (2, "组织机构代码", "MA3C0001-X", "x", None, None),
    (3, "工商注册号", "370200600000004", "张记小吃店", None, None),
    (4, "统一社会信用代码", "91370200MA3C0009X6", "外地公司", None, "110101199003071234"),
    (5, "统一社会信用代码", None, "青岛海湾物流 （青岛）有限公司 ", None, None),
    (6, "统一社会信用代码", None, "青岛同名商贸有限公司", None, None),  # two such names
]


@pytest.fixture(scope="module")
def master(spark):
    register = spark.createDataFrame(REGISTER, COLUMNS)
    persons = spark.createDataFrame([(7, "李四", PERSON_ID)], ["person_id", "name", "id_number"])
    bids = spark.createDataFrame(
        BIDS,
        ["bid_id", "bidder_code_type", "bidder_code", "bidder_name", "agent_name",
         "agent_id_number"],
    )  # fmt: skip
    tables = {
        "credit.enterprise_register": register.withColumns(
            {"legal_rep_name": F.lit(None).cast("string"), "legal_rep_id_number": F.lit(None)}
        ),
        "credit.persons": persons,
        "transaction.bids": bids,
    }
    built = E.entity_master(tables, SECRET)
    return {
        "entities": {r.entity_id: r for r in built.entities.collect()},
        "matches": {(r.source_key, r.role): r for r in built.matches.collect()},
        "identities": built.identities.collect(),
    }


def _bidder(master, bid: int):
    match = master["matches"][(str(bid), "bidder")]
    return match.entity_id, match.rule


def test_each_rule_resolves_its_kind_of_reference(master):
    assert _bidder(master, 1) == ("E91370200MA3C0001X5", "uscc")
    assert _bidder(master, 2) == ("E91370200MA3C0001X5", "org_code")  # MA3C0001-X
    assert _bidder(master, 3) == ("R370200600000004", "registration_number")  # no USCC
    assert _bidder(master, 5) == ("E91370200MA3C0001X5", "name")  # brackets and spaces


def test_an_ambiguous_name_is_not_guessed(master):
    assert _bidder(master, 6) == (None, "unresolved")


def test_a_code_outside_the_register_is_an_entity_of_its_own(master):
    assert _bidder(master, 4) == ("E91370200MA3C0009X6", "unregistered_uscc")
    record = master["entities"]["E91370200MA3C0009X6"]
    assert (record.name, record.registered, record.org_code) == ("外地公司", False, "MA3C0009X")


def test_a_code_registered_twice_is_one_entity_with_the_first_record(master):
    record = master["entities"]["E91370200MA3C0001X5"]
    assert (record.register_id, record.name) == ("1", "青岛海湾物流（青岛）有限公司")
    assert sum(e.uscc == "91370200MA3C0001X5" for e in master["entities"].values()) == 1


def test_persons_are_keyed_by_the_hmac_of_their_id_number(master):
    known = master["matches"][("1", "agent")]
    assert (known.entity_id, known.rule) == (E.person_key(SECRET, PERSON_ID), "id_number")
    assert master["entities"][known.entity_id].register_id == "7"
    other = master["matches"][("4", "agent")]
    assert other.rule == "unregistered_id_number"
    assert E.person_key(b"another secret", PERSON_ID) != known.entity_id
    assert PERSON_ID not in {str(v) for e in master["entities"].values() for v in e}


def test_id_numbers_stay_in_the_restricted_identity_table(master):
    identities = {r.entity_id: r.id_number for r in master["identities"]}
    assert identities[E.person_key(SECRET, PERSON_ID)] == PERSON_ID
    assert len(identities) == 2  # the register's person and the unregistered agent


@pytest.mark.parametrize("secret", [SECRET, b"k" * 64, bytes(range(200))])  # short, block, long
def test_the_jvm_person_key_is_the_python_hmac(spark, secret):
    numbers = [PERSON_ID, "11010119900307123X", "护照E12345678", None, ""]
    rows = spark.createDataFrame([(n,) for n in numbers], "id_number string")
    found = [r.entity_id for r in E.with_person_keys(rows, secret).collect()]
    assert found == [E.person_key(secret, n) if n else None for n in numbers]
