"""The work of each DAG task, callable without Airflow (tests and the CLI call these directly).

Every step takes the day it works on (the local date of the run's data interval) and returns a
small JSON-serialisable summary, which Airflow keeps as the task's XCom. Summaries carry counts,
rule names and locations, never row values.
"""

from __future__ import annotations

import logging
from collections import ChainMap
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from govlake import contracts, lineage, locks
from govlake.config import LOCAL_TZ, Settings, redact_url
from govlake.lake import Lake, Partition

if TYPE_CHECKING:
    import pyarrow as pa

    from govlake import load

log = logging.getLogger(__name__)
BUILD_DAY = "ops.warehouse_build"  # the day of the build the warehouse holds (one row)


def extract(settings: Settings, dataset: str, day: date, full: bool = False) -> dict:
    """Land the day's row versions of a source table (or all rows, if ``full``) in raw/."""
    contract = contracts.get(dataset)
    with locks.held(settings, locks.partition(dataset, day)):  # another run of it waits
        if contract.channel == "exchange":
            return _extract_files(settings, contract, day, full)
        return _extract_sql(settings, contract, day, full)


def _extract_sql(settings: Settings, contract: contracts.Contract, day: date, full: bool) -> dict:
    """Rows whose watermark falls in the day (plus the look-back), with the source's whole key
    set beside them: keys that vanish are hard deletes."""
    from govlake.sources.sql import Window, read_batches, read_keys, select_changes

    dataset = contract.name
    start = datetime.combine(day, time()) - timedelta(hours=settings.extract_lookback_hours)
    window = None if full else Window(start, datetime.combine(day + timedelta(days=1), time()))
    url = settings.source_url(contract.system)
    lake = Lake.from_settings(settings)
    metadata = {
        "mode": "full" if full else "incremental",
        "time_zone": LOCAL_TZ,  # of the window and of the rows' timestamps (source wall time)
        "window": None if window is None else [window.start.isoformat(), window.end.isoformat()],
        "source": redact_url(url),
        "query": " ".join(str(select_changes(contract, window)).split()),
    }
    partition = Partition("raw", dataset, day)
    with lake.write(partition, contract.raw_schema(), metadata) as writer:
        for batch in read_batches(url, contract, window, settings.extract_batch_rows):
            writer.write(batch)
        writer.attach("keys", read_keys(url, contract))  # read after the rows: the newer state
    lineage.report(
        inputs=[lineage.table(url, contract.table)],
        outputs=[lineage.partition(settings, partition, writer.rows)],
    )
    return {
        "dataset": dataset,
        "dt": day.isoformat(),
        "raw_rows": writer.rows,
        "source_keys": writer.attachments["keys"].num_rows,
        **metadata,
    }


def files_ready(settings: Settings, system: str, day: date) -> bool:
    """Whether the day's exchange file set is complete (its ``_ready.json`` is there)."""
    from govlake.sources.exchange import ready

    return ready(Lake.from_settings(settings).store, system, day) is not None


def _extract_files(settings: Settings, contract: contracts.Contract, day: date, full: bool) -> dict:
    """The table's records from the day's exchange file set (or every set up to the day, if
    ``full``). Undecodable or truncated files are quarantined whole and reported, not guessed;
    so are records that do not decode, left out of files otherwise read: raw rows + rejected
    records = the rows the file sets declare."""
    from govlake.sources import exchange

    lake = Lake.from_settings(settings)
    days = [d for d in exchange.file_set_days(lake.store, contract.system) if d <= day]
    days = days if full else [day]
    found: dict[str, list] = {
        "source_files": [],
        "rejected_files": [],
        "rejected_records": [],
        "deletes": [],
        "sequence_gaps": [],
    }
    merged = 0
    with lake.write(Partition("raw", contract.name, day), contract.raw_schema()) as writer:
        for file_day in days:
            with locks.held(settings, locks.file_set(contract.system, file_day), shared=True):
                read = exchange.read_day(lake.store, contract, file_day)
            table, resent = _merge_resends(read.table)
            writer.write(table)
            merged += resent
            found["source_files"] += [
                {k: f[k] for k in ("key", "encoding", "rows", "sha256")} for f in read.files
            ]
            found["rejected_files"] += [
                {k: r[k] for k in ("key", "rows_declared", "reason")} for r in read.rejected
            ]
            found["rejected_records"] += [
                {k: r[k] for k in ("key", "record", "offset", "reason")}
                for r in read.rejected_records
            ]
            found["deletes"] += read.deletes
            if not full:  # history file sets keep only each record's latest version
                found["sequence_gaps"] += read.sequence_gaps
        writer.metadata.update(
            mode="full" if full else "incremental",
            time_zone=LOCAL_TZ,
            resends_merged=merged,
            **found,
        )
    for rejected in found["rejected_files"]:
        log.warning("quarantined file %s", rejected["reason"])
    for rejected in found["rejected_records"]:
        log.warning("quarantined record %s", rejected["reason"])
    lineage.report(
        inputs=[
            lineage.lake_object(settings, f["key"])
            for f in found["source_files"] + found["rejected_files"]
        ],
        outputs=[lineage.partition(settings, Partition("raw", contract.name, day), writer.rows)],
    )
    return {
        "dataset": contract.name,
        "dt": day.isoformat(),
        "raw_rows": writer.rows,
        "source_files": len(found["source_files"]),
        "rejected_files": [r["reason"] for r in found["rejected_files"]],
        "rejected_records": len(found["rejected_records"]),
        "deletes": len(found["deletes"]),
        "resends_merged": merged,
        "sequence_gaps": found["sequence_gaps"],
    }


def _merge_resends(table: pa.Table) -> tuple[pa.Table, int]:
    """A re-sent record is the same version again (same sequence number, new export time):
    keep one copy and count the rest, so raw rows = clean + quarantined + merged re-sends."""
    import pyarrow as pa

    frame = table.to_pandas()
    same = [c for c in frame.columns if c != "exported_at"]
    kept = frame.sort_values("exported_at", kind="stable").drop_duplicates(same, keep="first")
    kept = kept.sort_index()
    return pa.Table.from_pandas(kept, schema=table.schema, preserve_index=False), len(frame) - len(
        kept
    )


def archive_files(settings: Settings, system: str, day: date, full: bool = False) -> dict:
    """Move the processed file sets out of the inbox, into the archive: the day's, or with
    ``full`` every set up to the day (a full load read them all)."""
    from govlake.sources import exchange

    store = Lake.from_settings(settings).store
    days = [d for d in exchange.file_set_days(store, system) if d <= day] if full else [day]
    archived = []
    for d in days:  # not while a run reads the set
        with locks.held(settings, locks.file_set(system, d)):
            archived += exchange.archive_day(store, system, d)
    return {"system": system, "dt": day.isoformat(), "archived_files": len(archived)}


def validate(settings: Settings, dataset: str, day: date) -> dict:
    """Normalise and validate the day's raw partition into clean/ and quarantine/, reconciled."""
    with locks.held(settings, locks.partition(dataset, day)):  # its raw/ stays as it is read
        return _validate(settings, contracts.get(dataset), day)


def _validate(settings: Settings, contract: contracts.Contract, day: date) -> dict:
    from govlake.quality import releases
    from govlake.quality.split import clean_schema, quarantine_schema, validate_and_split

    dataset = contract.name
    lake = Lake.from_settings(settings)
    raw = lake.read_table(Partition("raw", dataset, day), contract.raw_schema())
    rules = settings.project_dir / "expectations"
    references = _references(lake, contract, rules, day)
    released = releases.released_rules(lake.store, dataset)  # operators' overrides, every day
    result = validate_and_split(raw, contract, rules, references, released)
    summary = {"dataset": dataset, "dt": day.isoformat(), **result.summary}
    summary["newest_watermark"] = _newest(raw, contract.watermark)
    summary["gates"] = _gates(settings, lake, contract, day, summary)
    with lake.write(Partition("quarantine", dataset, day), quarantine_schema(contract)) as out:
        out.write(result.quarantine)
    with lake.write(
        Partition("clean", dataset, day),
        clean_schema(contract),
        {"quality": summary, "gates": summary["gates"]},
    ) as out:
        out.write(result.clean)
    if summary["gates"]["held"]:  # clean/ and quarantine/ are written all the same
        from govlake import alerts

        webhook = settings.alert_webhook_url
        alerts.day_held(
            webhook.get_secret_value() if webhook else None,
            dataset,
            day.isoformat(),
            summary["gates"]["failed"],
        )
    if result.validation is not None:  # GX's results, masked, for the day's Data Docs
        from govlake.quality import docs

        docs.save(lake.store, day, result.validation)
    lineage.report(
        inputs=[lineage.partition(settings, Partition("raw", dataset, day))],
        outputs=[
            lineage.partition(settings, Partition("clean", dataset, day), result.clean.num_rows),
            lineage.partition(
                settings, Partition("quarantine", dataset, day), result.quarantine.num_rows
            ),
        ],
    )
    return summary


def _newest(raw: pa.Table, column: str) -> str | None:
    """The newest watermark in a raw partition, as ISO text (None when it is empty)."""
    import pyarrow.compute as pc

    newest = pc.max(raw.column(column)).as_py() if raw.num_rows else None
    return newest.isoformat() if newest is not None else None


def _gates(
    settings: Settings, lake: Lake, contract: contracts.Contract, day: date, summary: dict
) -> dict:
    """The batch gates of the table's day (``govlake.quality.gates``), from manifests only."""
    from govlake.quality import gates

    raw = lake.read_manifest(Partition("raw", contract.name, day)) or {}
    days = [p.dt for p in lake.partitions("raw", contract.name, until=day)]
    history = [
        lake.read_manifest(Partition("raw", contract.name, d)) or {}
        for d in gates.history_days(days, day, settings.gates)
    ]
    failed = gates.evaluate(contract, raw, summary, history, settings.gates)
    return {"held": bool(failed), "failed": failed}


def _references(lake: Lake, contract: contracts.Contract, rules: Path, day: date) -> dict:
    """The parent tables the table's rules look up, as validated up to ``day`` (the DAG validates
    parents first): the latest clean version of each key, and every key quarantined. Only the
    columns the lookups name are read: a parent may hold a city's million rows."""
    from govlake.quality.rules import lookups
    from govlake.quality.split import clean_schema, quarantine_schema
    from govlake.quality.suite import Reference

    wanted: dict[str, set[str]] = {}
    for spec in lookups(contract, rules).values():
        wanted.setdefault(spec["table"], set()).update(spec.get("columns", []))
    found = {}
    for name, columns in sorted(wanted.items()):
        parent = contracts.get(name)
        if not lake.partitions("clean", name, until=day):
            continue  # never validated: its rules are skipped (and listed), not failed
        keys = list(parent.primary_key)
        clean = _history(
            lake, Partition("clean", name, day), clean_schema(parent), keys + sorted(columns)
        )
        held = _history(lake, Partition("quarantine", name, day), quarantine_schema(parent), keys)
        found[name] = Reference.of(parent, clean, held)
    return found


def _history(
    lake: Lake, last: Partition, schema: pa.Schema, columns: list[str] | None = None
) -> pa.Table:
    """Every committed partition of ``last``'s dataset up to its day, oldest first, as one table
    (of ``columns`` only, if given)."""
    import pyarrow as pa

    parts = lake.partitions(last.zone, last.dataset, until=last.dt)
    tables = [lake.read_table(p, schema, columns) for p in parts]
    if tables:
        return pa.concat_tables(tables, promote_options="default")
    empty = schema.empty_table()
    return empty.select(columns) if columns is not None else empty


def data_docs(settings: Settings, system: str, day: date) -> dict:
    """Rebuild the day's Data Docs from every table's saved validation (the system's tables must
    be among them) and publish them: ``<var_dir>/data_docs/<day>/``, and the bucket's
    ``data_docs/`` with an S3 lake."""
    from govlake.quality import docs

    mine = [c.name for c in contracts.CONTRACTS.values() if c.system == system]
    return docs.publish(settings, day, required=mine)


def check_day(settings: Settings, day: date) -> dict:
    """Before a build: every table's partitions up to ``day`` reconcile (raw rows = clean rows +
    quarantined rows, by the manifests of what is in the lake now) and none is held by a batch
    gate without a recorded override. Writes the held days to ``ops.held_days``; any problem
    fails the build, so nothing is published and the warehouse stays at its last build."""
    from govlake import load
    from govlake.errors import GateError

    url = warehouse_url(settings)
    status = day_status(Lake.from_settings(settings), day)
    released = {(o["dataset"], o["dt"]) for o in gate_overrides(url)}
    held = [h for h in status["held"] if (h["dataset"], h["dt"]) not in released]
    load.replace_held_days(
        url,
        [
            {"dataset": h["dataset"], "dt": h["dt"], "gate": f["gate"], "reason": f["reason"][:500]}
            for h in status["held"]
            for f in h["failed"]
        ],
        until=day,
    )
    problems = status["mismatches"] + [
        f"{h['dataset']} {h['dt']} held: "
        + "; ".join(f"{f['gate']}: {f['reason']}" for f in h["failed"])
        for h in held
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        hint = " — release with `govlake gate override`, then clear the task" if held else ""
        raise GateError(problems[0] + more + hint)
    return {
        "dt": day.isoformat(),
        "partitions": status["partitions"],
        "held": len(status["held"]),
        "released": len(status["held"]) - len(held),
    }


def gate_overrides(url: str) -> list[dict]:
    """The recorded gate overrides (ops.gate_overrides), their dt as a date."""
    from govlake import load

    rows = load.read_rows(url, load.GATE_OVERRIDES)
    return [{**r, "dt": _as_date(r["dt"])} for r in rows]


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def day_status(lake: Lake, until: date) -> dict:
    """From the manifests alone: partitions whose rows do not reconcile, and the days held by a
    batch gate (``{"dataset", "dt", "failed"}``), for every table up to ``until``."""
    mismatches: list[str] = []
    held: list[dict] = []
    checked = 0
    for dataset in contracts.CONTRACTS:
        for part in lake.partitions("raw", dataset, until=until):
            checked += 1
            raw = lake.read_manifest(part) or {}
            clean = lake.read_manifest(Partition("clean", dataset, part.dt))
            quarantine = lake.read_manifest(Partition("quarantine", dataset, part.dt))
            where = f"{dataset} {part.dt}"
            if clean is None or quarantine is None:
                mismatches.append(f"{where}: raw has {raw.get('rows')} rows but was not validated")
                continue
            raw_rows, clean_rows, held_rows = raw["rows"], clean["rows"], quarantine["rows"]
            if raw_rows != clean_rows + held_rows:
                merged = raw.get("resends_merged", 0)
                mismatches.append(
                    f"{where} does not reconcile: raw {raw_rows} (after {merged} re-sends merged)"
                    f" != clean {clean_rows} + quarantined {held_rows}"
                    f" ({clean_rows + held_rows - raw_rows:+d})"
                )
            gates = clean.get("gates") or {}
            if gates.get("held"):
                held.append({"dataset": dataset, "dt": part.dt, "failed": gates.get("failed", [])})
    return {"partitions": checked, "mismatches": mismatches, "held": held}


def transform(settings: Settings, day: date) -> dict:
    """Run the day's Spark build (clean/ to curated/) as a spark-submit job."""
    from govlake.transform import state
    from govlake.transform.build import CURATED
    from govlake.transform.submit import submit

    with locks.held(settings, locks.BUILD):
        built = submit(settings, "build_warehouse", ["--date", day.isoformat()])
    sources = contracts.CONTRACTS.values()  # every table: conformed, ranked state kept
    lineage.report(  # every clean partition up to the day, its quarantine and raw key sets
        inputs=[
            lineage.lake_object(settings, f"{zone}/{c.system}/{c.table}")
            for c in sources
            for zone in ("clean", "quarantine", "raw")
        ],
        outputs=[lineage.partition(settings, Partition("curated", t, day)) for t in CURATED]
        + [lineage.partition(settings, state.partition(c, day)) for c in sources],
    )
    return built


def migrate(settings: Settings) -> dict:
    from govlake import load

    url = warehouse_url(settings)
    load.migrate(url)
    return {"warehouse": redact_url(url), "revision": load.current_revision(url)}


def load_warehouse(settings: Settings, day: date) -> dict:
    """Publish the day's build atomically: every warehouse table replaced by its curated
    partition (only the rows that differ are written and removed), the data-quality record
    by what the lake's manifests say up to the day, and the build's day, all in one transaction
    (readers see the previous build or this one, never a mix).

    A build of a day older than the one the warehouse holds (a backfill behind the daily runs)
    is not loaded: the warehouse keeps the newer build, the day's lake partitions (raw, clean,
    curated) stay rewritten, and the summary says ``skipped`` and why (logged as a warning, kept
    as the task's XCom). The task succeeds, so a backfill completes.

    Only the day's committed build is read (``Lake.read_build``): a day whose transform was killed
    before it committed fails with a retryable :class:`~govlake.errors.LakeError`, the warehouse
    untouched."""
    import pyarrow as pa

    from govlake import load
    from govlake.quality.record import quality_tables
    from govlake.transform.build import CURATED

    url = warehouse_url(settings)
    lake = Lake.from_settings(settings)
    built = {BUILD_DAY: pa.table({"day": pa.array([day], pa.date32())})}
    try:
        with locks.held(settings, locks.BUILD):  # not while a build rewrites curated/
            curated = _CuratedTables(lake, day, CURATED)
            tables = ChainMap(curated, quality_tables(lake, day), built)
            published = load.publish(url, tables, load.AsOf(BUILD_DAY, "day", day))
    except load.OlderDay as older:
        return _skipped(url, "load", older)
    lineage.report(
        inputs=[lineage.partition(settings, Partition("curated", t, day)) for t in CURATED],
        outputs=[lineage.table(url, t) for t in published],
    )
    return {
        "warehouse": redact_url(url),
        "loaded": {t: done.rows for t, done in published.items()},
        "changed": {t: {"written": p.written, "removed": p.removed} for t, p in published.items()},
    }


def build_ready(settings: Settings, day: date) -> bool:
    """Whether the warehouse holds the build of ``day`` (or of a later day)."""
    from govlake import load

    url = warehouse_url(settings)
    built = [row["day"] for row in load.read_rows(url, BUILD_DAY)]
    return bool(built) and _as_date(built[0]) >= day


def publish(settings: Settings, day: date) -> dict:
    """Publish the portal as of ``day``: the day, the publicity rules and the credit scoring
    model replace the warehouse's ``ops.publication*`` and ``ops.credit_scoring*`` in one
    transaction, and so what every portal view and credit mart shows; returns how many penalty
    decisions are shown and why the others are not, how many decisions were published within
    7 working days, and the enterprises per credit grade. A day older than the portal's is
    skipped (as :func:`load_warehouse` skips it), so a backfill leaves the portal as of the
    newest day."""
    from govlake import load
    from govlake.publish import grading, publicity

    url = warehouse_url(settings)
    rules = publicity.rule_tables(settings.publicity, day)
    as_of = load.AsOf(publicity.PUBLICATION, "as_of", day)
    try:
        load.publish(url, rules | grading.scoring_tables(settings.credit_scoring), as_of)
    except load.OlderDay as older:
        return _skipped(url, "publish", older)
    status = ["is_shown", "not_published_reason", "withdrawn_reason"]
    lineage.report(
        inputs=[lineage.table(url, t) for t in (*publicity.SOURCES, *grading.SOURCES)],
        outputs=[lineage.table(url, v) for v in (*publicity.PORTAL_VIEWS, grading.GRADES)],
    )
    return {
        "warehouse": redact_url(url),
        "day": day.isoformat(),
        "penalties": load.group_counts(url, publicity.STATUS, status),
        "compliance": load.group_counts(url, publicity.COMPLIANCE, ["kind", "status"]),
        "shown": {v: load.row_count(url, v) for v in publicity.PORTAL_VIEWS},
        "grades": load.group_counts(url, grading.GRADES, ["grade"]),
    }


def feed_credit(settings: Settings, day: date) -> dict:
    """Push the credit records and grades the warehouse holds as of ``day``'s publish into the
    credit database (``GOVLAKE_CREDIT_DB_URL``); returns the rows written and removed per
    target table, or why the day was skipped."""
    from govlake.errors import CreditFeedError
    from govlake.publish import credit_feed

    if settings.credit_db_url is None:
        raise CreditFeedError("no credit database: set GOVLAKE_CREDIT_DB_URL")
    credit_url = settings.credit_db_url.get_secret_value()
    url = warehouse_url(settings)
    done = credit_feed.push(url, credit_url, day)
    lineage.report(
        inputs=[lineage.table(url, v) for v in credit_feed.SOURCES],
        outputs=[lineage.table(credit_url, t.name) for t in credit_feed.TARGET.sorted_tables],
    )
    return done


def _skipped(url: str, step: str, older: load.OlderDay) -> dict:
    """The summary of a step that left the warehouse as it was, for a newer day it holds."""
    day, newest = older.as_of.day.isoformat(), older.newest.isoformat()
    log.warning("%s of %s skipped: the warehouse holds %s, a later day", step, day, newest)
    return {
        "warehouse": redact_url(url),
        "day": day,
        "skipped": f"the warehouse holds {newest}, a later day",
        "newest": newest,
    }


class _CuratedTables(Mapping):
    """A day's curated tables by name, as its committed build lists them (its manifest read
    once, so every table is of the same build), each read from the lake only when the load
    reaches it, so one table at a time is in memory rather than the whole build."""

    def __init__(self, lake: Lake, day: date, tables: tuple[str, ...]) -> None:
        from govlake.errors import LakeError

        rerun = f"re-run the transform of {day.isoformat()}"
        build = lake.read_build(day)
        if build is None:
            unfinished = "its transform has not run or did not finish"
            raise LakeError(f"no committed build of {day.isoformat()} ({unfinished}): {rerun}")
        missing = [t for t in tables if t not in build["tables"]]
        if missing:
            raise LakeError(f"the build of {day.isoformat()} lacks {', '.join(missing)}: {rerun}")
        self.lake, self.tables = lake, tables
        self.manifests = {t: build["tables"][t] for t in tables}

    def __getitem__(self, table: str) -> pa.Table:
        return self.lake.read_files(self.manifests[table]["files"])

    def __iter__(self) -> Iterator[str]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)


def warehouse_url(settings: Settings) -> str:
    assert settings.warehouse_url is not None  # every profile sets or requires it
    url = settings.warehouse_url.get_secret_value()
    if url.startswith("duckdb:///"):
        Path(url.removeprefix("duckdb:///")).parent.mkdir(parents=True, exist_ok=True)
    return url
