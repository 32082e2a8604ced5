"""Lineage through a real Airflow run (`airflow dags test`), embedded profile.

One run of extract_credit with the OpenLineage provider on and its default file transport: the
COMPLETE event of each extract task names the source table it read and the raw partition it
landed; each validate task reads that partition and writes the clean and quarantine ones. The
source is reached with a URL that carries a password, which no event may show.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govlake import pipeline
from govlake.airflow_cli import dags_test, migrate_metadata
from govlake.config import Settings
from govlake.contracts import CONTRACTS
from tests.conftest import DAY, fail_fast_settings

pytestmark = pytest.mark.e2e
PASSWORD = "Lineage-S3cret-9f2c"
CREDIT = sorted(c.table for c in CONTRACTS.values() if c.system == "credit")


def _settings(var_dir) -> Settings:
    return fail_fast_settings(var_dir, profile="embedded")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("lineage"))
    pipeline.seed_sources(settings, DAY, "tiny")
    migrate_metadata(settings)
    database = settings.source_url("credit").removeprefix("sqlite:///")
    with pytest.MonkeyPatch.context() as env:  # the tasks read the source as a user with a password
        env.setenv(
            "GOVLAKE_SOURCE_URLS__CREDIT", f"sqlite://govlake:{PASSWORD}@localhost/{database}"
        )
        dags_test(settings, "extract_credit", DAY, {"full": True})
    files = sorted((settings.var_dir / "lineage").iterdir())
    text = "".join(f.read_text() for f in files)
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    complete = {
        e["job"]["name"]: e
        for e in events
        if e["eventType"] == "COMPLETE" and e["job"]["name"].count(".") == 2
    }
    return {"settings": settings, "files": files, "text": text, "complete": complete}


def _names(datasets: list[dict]) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in datasets}


def _partition(settings: Settings, zone: str, table: str) -> tuple[str, str]:
    path = settings.lake_dir.resolve() / zone / "credit" / table / f"dt={DAY.isoformat()}"
    return ("file", str(path))


def test_the_file_transport_writes_under_var_lineage(run):
    assert [f.name for f in run["files"]] == ["openlineage.jsonl"]
    assert set(run["complete"]) == {
        f"extract_credit.{t}.{s}" for t in CREDIT for s in ("extract", "validate")
    }
    assert all(e["job"]["namespace"] == "govlake" for e in run["complete"].values())


def test_extract_events_name_the_source_table_and_the_landed_partition(run):
    settings = run["settings"]
    source = Path(settings.source_url("credit").removeprefix("sqlite:///")).resolve()
    for table in CREDIT:
        event = run["complete"][f"extract_credit.{table}.extract"]
        assert _names(event["inputs"]) == {(f"sqlite://{source}", f"main.{table}")}
        assert _names(event["outputs"]) == {_partition(settings, "raw", table)}
        (output,) = event["outputs"]
        assert output["outputFacets"]["outputStatistics"]["rowCount"] > 0


def test_validate_events_read_raw_and_write_clean_and_quarantine(run):
    settings = run["settings"]
    for table in CREDIT:
        event = run["complete"][f"extract_credit.{table}.validate"]
        assert _names(event["inputs"]) == {_partition(settings, "raw", table)}
        assert _names(event["outputs"]) == {
            _partition(settings, "clean", table),
            _partition(settings, "quarantine", table),
        }
    register = run["complete"]["extract_credit.enterprise_register.extract"]
    validated = run["complete"]["extract_credit.enterprise_register.validate"]
    rows = {
        o["name"].split("/")[-4]: o["outputFacets"]["outputStatistics"]["rowCount"]
        for o in validated["outputs"]
    }
    assert (
        rows["clean"] + rows["quarantine"]
        == (register["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"])
    )


def test_no_password_or_secret_in_the_events(run):
    assert PASSWORD not in run["text"]
    assert "govlake@" not in run["text"]  # no user name in a URL either
    assert "password" not in run["text"].lower()
