"""The simulator's hostile-string catalogue through validation and into the DuckDB warehouse.

SQL injection, HTML and emoji load unchanged as inert data; control characters, NUL and bidi
overrides are removed and the change is counted; text over the contract's limit is quarantined.
The inert ones then load into DuckDB and come back byte for byte, and a query filtering on them
still runs (no string is ever spliced into SQL).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from govlake import load
from govlake.quality.split import FLAGS, REASONS, validate_and_split
from tests.conftest import EXPECTATIONS, REGISTER, REGISTER_SCHEMA, TABLE
from tests.malformed import HOSTILE_TEXT, REMOVABLE
from tests.truth import raw_table

LIMIT = REGISTER.column("name").max_length


@pytest.fixture(scope="module")
def named(register) -> pa.Table:
    """Clean register rows whose names carry each catalogue entry: inert, removable, too long."""
    clean = set(register.rows["enterprise_id"]) - set(register.defects["key"])
    raw = raw_table(register)
    base = raw.filter(pc.is_in(raw.column("enterprise_id"), pa.array(sorted(clean))))
    values = [*HOSTILE_TEXT, *(f"青岛{m}公司" for m in REMOVABLE), "长" * (LIMIT + 1)]
    rows = base.slice(0, len(values))
    return rows.set_column(rows.schema.get_field_index("name"), "name", pa.array(values))


def test_each_catalogue_entry_gets_exactly_its_outcome(named):
    raw = named
    result = validate_and_split(raw, REGISTER, EXPECTATIONS)
    assert result.clean.num_rows + result.quarantine.num_rows == raw.num_rows
    loaded = {row["enterprise_id"]: row for row in result.clean.to_pylist()}
    ids = raw.column("enterprise_id").to_pylist()
    for key, sent in zip(ids[: len(HOSTILE_TEXT)], HOSTILE_TEXT, strict=True):
        assert loaded[key]["name"] == sent and not loaded[key][FLAGS]  # inert: unchanged
    removed = ids[len(HOSTILE_TEXT) : -1]
    assert [loaded[k]["name"] for k in removed] == ["青岛公司"] * len(REMOVABLE)
    assert result.normalised["name:text"] == len(REMOVABLE)  # the removals are recorded
    (held,) = result.quarantine.to_pylist()
    assert held["enterprise_id"] == ids[-1] and held[REASONS] == ["name_max_length"]


def test_inert_strings_arrive_unchanged_in_the_warehouse(named, tmp_path):
    raw = named
    clean = validate_and_split(raw, REGISTER, EXPECTATIONS).clean
    flags = pa.array([",".join(f) or None for f in clean.column(FLAGS).to_pylist()], pa.string())
    staged = pa.table(
        {f.name: clean.column(f.name) for f in REGISTER_SCHEMA if f.name != FLAGS} | {FLAGS: flags}
    ).cast(REGISTER_SCHEMA)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    load.migrate(url)
    assert load.replace_table(url, TABLE, staged) == clean.num_rows
    with duckdb.connect(url.removeprefix("duckdb:///")) as con:
        for sent in HOSTILE_TEXT:
            query = "select name from core.stg_enterprise_register where name = ?"
            found = con.execute(query, [sent]).fetchall()
            assert found == [(sent,)]
        tables = con.execute("select count(*) from information_schema.tables").fetchone()[0]
    assert tables > 1  # "DROP TABLE" stayed text
