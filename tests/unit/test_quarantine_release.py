"""Quarantine releases (govlake.quality.releases): a recorded override of one rule for one row key
that every later split applies, reconciled and counted like any other outcome."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from govlake import cli, steps
from govlake.config import Settings
from govlake.lake import Lake, Partition
from govlake.quality import record, releases
from govlake.quality.split import FLAGS, RELEASED, validate_and_split
from govlake.simulator import run as simulator
from tests.conftest import DAY, EXPECTATIONS, REGISTER

DATASET = "credit.enterprise_register"
RULE = "region_code_known"


@pytest.fixture
def validated(embedded: Settings) -> Settings:
    simulator.init(embedded, 7, "tiny", DAY, 0.1)
    steps.extract(embedded, DATASET, DAY, full=True)
    steps.validate(embedded, DATASET, DAY)
    return embedded


def _held(lake: Lake, rule: str) -> list[dict]:
    return [r for r in releases.quarantined(lake, DATASET) if r["reasons"] == [rule]]


def _clean_flags(lake: Lake, key: str) -> list[str] | None:
    clean = lake.read_table(Partition("clean", DATASET, DAY))
    found = clean.filter(pc.equal(pc.cast(clean.column("enterprise_id"), pa.string()), key))
    return found.column(FLAGS).to_pylist()[0] if found.num_rows else None


def _reconciles(lake: Lake) -> bool:
    rows = {z: lake.read_manifest(Partition(z, DATASET, DAY))["rows"] for z in ("raw", "clean")}
    held = lake.read_manifest(Partition("quarantine", DATASET, DAY))["rows"]
    return rows["raw"] == rows["clean"] + held


def test_a_release_moves_the_row_to_clean_and_a_rerun_keeps_it(validated):
    lake = Lake.from_settings(validated)
    key = _held(lake, RULE)[0]["key"]
    other = _held(lake, "legal_rep_id_number_valid")[0]["key"]
    with pytest.raises(releases.ReleaseError, match="not quarantined for uscc_valid"):
        releases.release(lake, DATASET, key, "uscc_valid", "checked", "zhang")
    done = releases.release(lake, DATASET, key, RULE, "code confirmed by the registry", "zhang")
    assert done["days"] == [DAY] and done["released_at"].endswith("+00:00")
    assert releases.released_rules(lake.store, DATASET) == {key: {RULE}}

    for _ in range(2):  # the re-validation, then a re-run: the release holds for both
        summary = steps.validate(validated, DATASET, DAY)
        assert _clean_flags(lake, key) == [RELEASED + RULE]
        assert key not in {r["key"] for r in releases.quarantined(lake, DATASET)}
        assert summary["released_rows"] == 1 and summary["released_by"] == {RULE: 1}
        assert summary["quarantined_by"].get(RULE, 0) == len(_held(lake, RULE))
        assert _reconciles(lake) and not steps.day_status(lake, DAY)["mismatches"]
        assert _clean_flags(lake, other) is None  # an unreleased key stays quarantined

    counts = record.quality_tables(lake, DAY)["dq.rule_counts"].to_pylist()
    assert {"rule": RULE, "outcome": "released", "rows": 1} in [
        {k: c[k] for k in ("rule", "outcome", "rows")} for c in counts
    ]


def test_a_row_failing_another_rule_stays_quarantined(validated):
    lake = Lake.from_settings(validated)
    key = _held(lake, RULE)[0]["key"]
    raw = lake.read_table(Partition("raw", DATASET, DAY), REGISTER.raw_schema())
    ids = pc.cast(raw.column("enterprise_id"), pa.string())
    uscc = pc.if_else(pc.equal(ids, key), "91110000MA0000000X", raw.column("uscc"))
    twice = raw.set_column(raw.schema.get_field_index("uscc"), "uscc", uscc)  # now fails 2 rules
    split = validate_and_split(twice, REGISTER, EXPECTATIONS, releases={key: {RULE}})
    held = split.quarantine.filter(
        pc.equal(pc.cast(split.quarantine["enterprise_id"], "string"), key)
    )
    assert held.column("dq_reasons").to_pylist() == [sorted(["uscc_valid", RULE])]
    assert split.summary["released_rows"] == 0
    both = validate_and_split(twice, REGISTER, EXPECTATIONS, releases={key: {RULE, "uscc_valid"}})
    assert both.summary["released_by"] == {RULE: 1, "uscc_valid": 1}
    assert both.clean.num_rows + both.quarantine.num_rows == raw.num_rows


def test_the_cli_lists_and_releases_without_row_values(validated, monkeypatch):
    monkeypatch.setattr(cli, "get_settings", lambda: validated)
    monkeypatch.setattr(cli.console, "width", 200)
    lake = Lake.from_settings(validated)
    key = _held(lake, RULE)[0]["key"]
    runner = CliRunner()
    listed = runner.invoke(cli.app, ["quarantine", "list", DATASET, "--rule", RULE])
    assert listed.exit_code == 0, listed.output
    assert key in listed.output and RULE in listed.output
    raw = lake.read_table(Partition("quarantine", DATASET, DAY))
    for column in REGISTER.pii_columns:
        for value in raw.column(column).to_pylist():
            assert not value or str(value) not in listed.output
    args = ["quarantine", "release", DATASET, key, "--rule", RULE, "--reason", "ok", "--by", "li"]
    done = runner.invoke(cli.app, args)
    assert done.exit_code == 0, done.output
    assert f"released {DATASET} key {key} from {RULE} by li: ok" in done.output
    assert f"re-run validate for {DAY.isoformat()}" in done.output
    wrong = runner.invoke(cli.app, [*args[:4], "--rule", "uscc_valid", "--reason", "x"])
    assert isinstance(wrong.exception, releases.ReleaseError)
