import pyarrow as pa
import pytest
import sqlalchemy as sa

from govlake.contracts import CONTRACTS, Column, Contract, for_system, get


def test_registry_names_and_lookup():
    assert "credit.enterprise_register" in CONTRACTS
    assert get("credit.enterprise_register") in for_system("credit")
    assert all(c.system == "credit" for c in for_system("credit"))
    with pytest.raises(KeyError, match="no contract"):
        get("credit.nope")


@pytest.mark.parametrize("contract", CONTRACTS.values(), ids=CONTRACTS.keys())
def test_every_contract_drives_consistent_schemas(contract):
    raw, clean = contract.raw_schema(), contract.clean_schema()
    assert raw.names == clean.names == contract.column_names
    table = contract.source_table(sa.MetaData())
    assert [c.name for c in table.columns] == contract.column_names
    assert [c.name for c in table.primary_key.columns] == list(contract.primary_key)
    assert clean.field(contract.watermark).type == pa.timestamp("us")


def test_register_schema_details():
    register = get("credit.enterprise_register")
    assert register.raw_schema().field("established_on").type == pa.string()  # loose at source
    assert register.clean_schema().field("established_on").type == pa.date32()
    assert register.clean_schema().field("registered_capital").type == pa.decimal128(20, 4)
    assert register.pii_columns == ["legal_rep_id_number"]


def test_bad_declarations_fail_early():
    with pytest.raises(ValueError, match="unknown source type"):
        Column("x", "blob", "string", "x")
    with pytest.raises(ValueError, match="unknown columns"):
        Contract(
            "s", "t", "t", (Column("a", "integer", "int64", "a"),), ("a",), ("b",), "a", "a", (0, 1)
        )
