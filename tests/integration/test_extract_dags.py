"""All four extract DAGs through real Airflow runs (`airflow dags test`), in both profiles:
SQLite sources and a local lake (embedded), PostgreSQL sources and the S3 server (services).

Day 1 is the first, full load; day 2 the next day's changes; before day 3 a transaction commits
late (its watermark falls in day 2, after day 2 was extracted), which day 3's look-back must
catch, and three of day 3's exchange files arrive damaged (one cut short, one in GB18030 bytes
while declared UTF-8, one missing two records). Day 3 is then run again: the partitions must
come out identical.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from govlake import contracts, pipeline
from govlake.airflow_cli import migrate_metadata
from govlake.config import Settings, redact_url
from govlake.lake import Lake, Partition, schema_fingerprint
from govlake.simulator import run as simulator
from govlake.simulator.sink import SqlSink
from tests.conftest import DAY, REGISTER, fail_fast_settings
from tests.integration.conftest import fresh_bucket

DAY2, DAY3 = DAY + timedelta(days=1), DAY + timedelta(days=2)
SQL = [c for c in contracts.CONTRACTS.values() if c.channel == "sql"]
FILES = [c for c in contracts.CONTRACTS.values() if c.channel == "exchange"]
LATE_STATUS = "注销"  # a deregistration committed late


@pytest.fixture(scope="module", params=["embedded", "services"])
def runs(request, tmp_path_factory):
    with pytest.MonkeyPatch.context() as env:
        if request.param == "services":
            stack = request.getfixturevalue("services_stack")
            for key, value in stack.env().items():
                env.setenv(key, value)
            env.setenv("GOVLAKE_S3_BUCKET", fresh_bucket(stack, "extract-dags"))
        settings = fail_fast_settings(tmp_path_factory.mktemp(request.param))
        yield _run_three_days(settings)


def _run_three_days(settings: Settings) -> dict:
    quiet = lambda _: None  # noqa: E731
    seeded = pipeline.seed_sources(settings, DAY, "tiny")
    migrate_metadata(settings)
    pipeline.extract_day(settings, DAY, True, quiet)
    day1 = _partitions(settings, DAY)
    simulator.day(settings, DAY2)
    pipeline.extract_day(settings, DAY2, False, quiet)
    day2, day2_windows = _partitions(settings, DAY2), _window_counts(settings, DAY2)
    late_key = _commit_late(settings)
    simulator.day(settings, DAY3)
    damaged = _damage_files(Lake.from_settings(settings).store, DAY3)
    pipeline.extract_day(settings, DAY3, False, quiet)
    day3 = _partitions(settings, DAY3)
    pipeline.extract_day(settings, DAY3, False, quiet)
    return {
        "settings": settings,
        "seeded": seeded,
        "day1": day1,
        "day2": day2,
        "day2_windows": day2_windows,
        "late_key": late_key,
        "damaged": damaged,
        "day3": day3,
        "day3_again": _partitions(settings, DAY3),
        "day3_raw_register": Lake.from_settings(settings).read_table(
            Partition("raw", REGISTER.name, DAY3)
        ),
    }


def _partitions(settings: Settings, day) -> dict:
    """Per dataset and zone: the manifest and a digest of the data files' bytes."""
    lake = Lake.from_settings(settings)
    found = {}
    for contract in contracts.CONTRACTS.values():
        for zone in ("raw", "clean", "quarantine"):
            manifest = lake.read_manifest(Partition(zone, contract.name, day))
            assert manifest is not None, f"{zone}/{contract.name} of {day} was not committed"
            digest = hashlib.sha256()
            for entry in manifest["files"]:
                digest.update(lake.store.get_bytes(entry["key"]))
            found[zone, contract.name] = {"manifest": manifest, "data": digest.hexdigest()}
    return found


def _window_counts(settings: Settings, day) -> dict[str, int]:
    """Source rows whose watermark falls in the day or the look-back before it, counted by SQL."""
    start = datetime.combine(day, time()) - timedelta(hours=settings.extract_lookback_hours)
    end = datetime.combine(day + timedelta(days=1), time())
    counts = {}
    for contract in SQL:
        engine = sa.create_engine(settings.source_url(contract.system), poolclass=sa.pool.NullPool)
        table = contract.source_table(sa.MetaData())
        mark = table.c[contract.watermark]
        stmt = sa.select(sa.func.count()).where(mark >= start, mark < end)
        with engine.connect() as conn:
            counts[contract.name] = conn.execute(stmt.select_from(table)).scalar_one()
    return counts


def _commit_late(settings: Settings) -> int:
    """A register row changed at 23:59 on day 2 but committed after day 2 was extracted."""
    sink = SqlSink(settings.source_url("credit"))
    key = int(sink.keys(REGISTER)[3])
    row = sink.read(REGISTER, [key])
    row["status"] = LATE_STATUS
    row[REGISTER.watermark] = datetime.combine(DAY2, time(23, 59))
    sink.upsert(REGISTER, row)
    return key


def _damage_files(store, day) -> dict[str, dict]:
    """Damage the day's three fullest files as transfers and front-ends do; the
    marker is rewritten to match wherever the sender would have described the damaged bytes."""
    from govlake.sources.exchange import ready_key

    marker = json.loads(store.get_bytes(ready_key("transaction", day)))
    by_rows = sorted(marker["files"], key=lambda e: -e["rows"])
    gap = next(e for e in by_rows if e["format"] == "jsonl")
    gbk, cut = [e for e in by_rows if e is not gap][:2]
    assert gap["rows"] >= 4 and cut["rows"] >= 1, "the day is too quiet to damage"
    lines = store.get_bytes(gap["key"]).decode(gap["encoding"]).splitlines(keepends=True)
    base = int(day.strftime("%Y%m%d")) * 1_000_000  # re-sent older versions keep older numbers
    numbers = sorted(n for n in (json.loads(x)["sequence_number"] for x in lines) if n > base)
    missing = numbers[1:3]  # two consecutive numbers of the day, below its largest
    kept = [line for line in lines if json.loads(line)["sequence_number"] not in missing]
    _rewrite(store, gap, "".join(kept).encode(gap["encoding"]), rows=len(kept))
    text = store.get_bytes(gbk["key"]).decode(gbk["encoding"])
    assert not text.isascii(), "the file must hold Chinese text to be mis-encoded"
    _rewrite(store, gbk, text.encode("gb18030"), encoding="utf-8")  # GBK's superset
    store.put_bytes(store.get_bytes(cut["key"])[: cut["bytes"] // 2], cut["key"])
    store.put_bytes(json.dumps(marker, ensure_ascii=False).encode(), ready_key("transaction", day))
    return {
        "gap": {"table": gap["table"], "missing": (missing[0], missing[1])},
        "undecodable": {"table": gbk["table"]},
        "truncated": {"table": cut["table"]},
    }


def _rewrite(store, entry: dict, data: bytes, **described) -> None:
    store.put_bytes(data, entry["key"])
    entry.update(described, bytes=len(data), sha256=hashlib.sha256(data).hexdigest())


def _exchange_rows(lake: Lake, contract: contracts.Contract, days) -> int:
    """Rows the trading centre's markers declare for ``contract`` over ``days``."""
    from govlake.sources.exchange import ready

    markers = [ready(lake.store, contract.system, d) for d in days]
    return sum(e["rows"] for m in markers for e in m["files"] if e["table"] == contract.table)


def test_every_partition_reconciles(runs):
    for day in ("day1", "day2", "day3"):
        for contract in contracts.CONTRACTS.values():
            raw = runs[day]["raw", contract.name]["manifest"]
            clean = runs[day]["clean", contract.name]["manifest"]["quality"]
            assert clean["clean_rows"] + clean["quarantined_rows"] == raw["rows"], contract.name


def test_full_load_lands_every_source_row(runs):
    for contract in SQL:
        manifest = runs["day1"]["raw", contract.name]["manifest"]
        assert manifest["mode"] == "full" and manifest["window"] is None
        assert manifest["rows"] == runs["seeded"][contract.name], contract.name
        assert manifest["attachments"]["keys"]["rows"] == runs["seeded"][contract.name]
    for contract in FILES:
        manifest = runs["day1"]["raw", contract.name]["manifest"]
        rejected = sum(r["rows_declared"] for r in manifest["rejected_files"])
        rejected += len(manifest["rejected_records"])
        landed = manifest["rows"] + manifest["resends_merged"] + rejected
        assert landed == runs["seeded"][contract.name], contract.name


def test_next_day_lands_the_changes_and_the_look_back(runs):
    for contract in SQL:
        manifest = runs["day2"]["raw", contract.name]["manifest"]
        assert manifest["mode"] == "incremental"
        assert manifest["rows"] == runs["day2_windows"][contract.name], contract.name
        assert manifest["rows"] < runs["seeded"][contract.name]
    lake = Lake.from_settings(runs["settings"])
    for contract in FILES:
        manifest = runs["day2"]["raw", contract.name]["manifest"]
        rejected = sum(r["rows_declared"] for r in manifest["rejected_files"])
        rejected += len(manifest["rejected_records"])
        landed = manifest["rows"] + manifest["resends_merged"] + rejected
        assert landed == _exchange_rows(lake, contract, [DAY2]), contract.name


def test_a_late_commit_is_caught_by_the_look_back(runs):
    raw = runs["day3_raw_register"].to_pandas().set_index(REGISTER.primary_key[0])
    assert raw.loc[runs["late_key"], "status"] == LATE_STATUS
    late = raw.loc[runs["late_key"], REGISTER.watermark]
    assert late.date() == DAY2  # it belongs to day 2, yet only day 3's run could see it


def test_manifests_describe_the_run_without_secrets(runs):
    settings = runs["settings"]
    urls = [settings.source_url(c.system) for c in SQL]
    secrets = {make_url(u).password for u in urls} - {None}
    secrets |= {s.get_secret_value() for s in (settings.s3_secret_key,) if s is not None}
    for (zone, dataset), found in runs["day2"].items():
        manifest = found["manifest"]
        contract = contracts.get(dataset)
        text = json.dumps(manifest, ensure_ascii=False)
        assert not [s for s in secrets if s in text]
        assert manifest["airflow"]["dag_id"] == f"extract_{contract.system}"
        assert manifest["timings"]["seconds"] >= 0 and manifest["written_at"]
        if zone == "raw":
            columns = {f.name: str(f.type) for f in contract.raw_schema()}
            assert manifest["schema_fingerprint"] == schema_fingerprint(columns)
    for contract in SQL:
        manifest = runs["day2"]["raw", contract.name]["manifest"]
        assert manifest["source"] == redact_url(settings.source_url(contract.system))
        assert f"FROM {contract.table} WHERE" in manifest["query"]
    for contract in FILES:
        files = runs["day2"]["raw", contract.name]["manifest"]["source_files"]
        assert files and all(len(f["sha256"]) == 64 for f in files)


def test_processed_file_sets_are_archived(runs):
    store = Lake.from_settings(runs["settings"]).store
    assert store.list("exchange/transaction/") == []
    archived = store.list("archive/exchange/transaction/")
    assert {f"dt={d.isoformat()}" for d in (DAY, DAY2, DAY3)} <= {k.split("/")[3] for k in archived}


def test_rerunning_a_day_gives_identical_partitions(runs):
    for part, found in runs["day3"].items():
        again = runs["day3_again"][part]
        assert again["data"] == found["data"], part
        assert again["manifest"]["rows"] == found["manifest"]["rows"], part
        assert again["manifest"]["run"] != found["manifest"]["run"], part  # it did run again


def test_damaged_files_are_quarantined_with_their_reason_and_gaps_reported(runs):
    damaged, day3 = runs["damaged"], runs["day3"]
    store = Lake.from_settings(runs["settings"]).store

    def manifest(kind: str) -> dict:
        return day3["raw", f"transaction.{damaged[kind]['table']}"]["manifest"]

    (cut,) = manifest("truncated")["rejected_files"]
    assert "truncated or altered" in cut["reason"] and manifest("truncated")["rows"] == 0
    (gbk,) = manifest("undecodable")["rejected_files"]
    assert "declared UTF-8 but byte" in gbk["reason"] and manifest("undecodable")["rows"] == 0
    for rejected in (cut, gbk):
        table = rejected["key"].rsplit("/", 1)[-1].split(".")[0]
        assert store.list(f"quarantine/transaction/{table}/dt={DAY3.isoformat()}/files/")
    gap = manifest("gap")
    assert not gap["rejected_files"] and gap["rows"] > 0
    assert [tuple(g) for g in gap["sequence_gaps"]] == [damaged["gap"]["missing"]]


def test_the_history_came_in_every_encoding(runs):
    encodings = {
        f["encoding"]
        for contract in FILES
        for f in runs["day1"]["raw", contract.name]["manifest"]["source_files"]
    }
    assert encodings == {"utf-8", "gbk", "gb18030"}
