"""The ``govlake`` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from govlake.config import LOCAL_TZ, DagSettings, get_settings
from govlake.errors import GovlakeError

app = typer.Typer(
    help="govlake: a city's e-government data, extracted, checked, warehoused.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
services_app = typer.Typer(
    help="Local PostgreSQL, S3 server, Airflow and Superset (the services profile).",
    no_args_is_help=True,
)
warehouse_app = typer.Typer(help="The warehouse schema.", no_args_is_help=True)
simulate_app = typer.Typer(help="The simulated department systems.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(services_app, name="services")
app.add_typer(warehouse_app, name="warehouse")
gate_app = typer.Typer(help="Batch gates: held days and their overrides.", no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")
app.add_typer(gate_app, name="gate")
quarantine_app = typer.Typer(help="Quarantined rows and their releases.", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")
backup_app = typer.Typer(help="Back up the warehouse or the lake.", no_args_is_help=True)
app.add_typer(backup_app, name="backup")
restore_app = typer.Typer(help="Restore the warehouse or the lake.", no_args_is_help=True)
app.add_typer(restore_app, name="restore")
dashboards_app = typer.Typer(
    help="Superset dashboards kept as code in dashboards/ (import, export, validate).",
    no_args_is_help=True,
)
app.add_typer(dashboards_app, name="dashboards")
console = Console()


def _yesterday() -> date:
    return datetime.now(ZoneInfo(LOCAL_TZ)).date() - timedelta(days=1)


@config_app.command("show")
def config_show(as_json: bool = typer.Option(False, "--json", help="print JSON")) -> None:
    """Print the effective settings, secrets redacted."""
    shown = get_settings().redacted()
    if as_json:
        console.print_json(json.dumps(shown, default=str))
        return
    table = Table("setting", "value", title=f"govlake settings ({shown['profile']})")
    for name, value in shown.items():
        table.add_row(
            name, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
        )
    console.print(table)


@services_app.command("up")
def services_up(
    name: str = "local",
    airflow: bool = typer.Option(
        True, help="also start Airflow (API server and UI, scheduler, DAG processor, triggerer)"
    ),
    superset: bool = typer.Option(
        True, help="also start Superset and import the dashboards of dashboards/"
    ),
) -> None:
    """Start PostgreSQL, the S3 server, Airflow and Superset on loopback; print where."""
    from govlake import dashboards, services

    parts = ["PostgreSQL", "the S3 server"] + ["Airflow"] * airflow + ["Superset"] * superset
    what = ", ".join(parts[:-1]) + " and " + parts[-1]
    with console.status(f"starting {what}"):
        stack = services.up(
            name, var_dir=get_settings().var_dir, airflow=airflow, superset=superset
        )
        counts = dashboards.deploy(stack) if superset else None
    _print_status(services.status(name, var_dir=get_settings().var_dir))
    say(f"use them: [bold]set -a; . {stack.state_dir / 'govlake.env'}; set +a[/]")
    if stack.airflow:
        say(
            f"Airflow UI: [bold]{stack.airflow.url}[/] (user {stack.airflow.user}, password in "
            f"{stack.airflow.password_file}); the airflow command: "
            f"set -a; . {stack.airflow.env_file}; set +a"
        )
    if stack.superset:
        say(
            f"Superset: [bold]{stack.superset.url}[/] (user {stack.superset.user}, password "
            f"superset_admin_password in {stack.state_dir / 'secrets.json'}); "
            f"dashboards imported: {counts}"
        )


@services_app.command("down")
def services_down(
    name: str = "local", purge: bool = typer.Option(False, help="delete data")
) -> None:
    """Stop the local services, Airflow included (data is kept unless --purge)."""
    from govlake import services

    services.down(name, var_dir=get_settings().var_dir, purge=purge)
    console.print(f"services {name!r} stopped")


@services_app.command("status")
def services_status(name: str = "local") -> None:
    """Show whether the local services run, and where."""
    from govlake import services

    _print_status(services.status(name, var_dir=get_settings().var_dir))


def _print_status(status: dict) -> None:
    table = Table("key", title="local services")
    table.add_column("value", overflow="fold")  # paths and URLs whole, to copy
    for key, value in status.items():
        if isinstance(value, dict):  # one row per part: postgres.port, airflow.url, ...
            for part, shown in value.items():
                text = json.dumps(shown) if isinstance(shown, dict) else str(shown)
                table.add_row(f"{key}.{part}", text)
        else:
            table.add_row(str(key), str(value))
    console.print(table)


@dashboards_app.command("import")
def dashboards_import(name: str = "local") -> None:
    """Import dashboards/ into the stack's Superset (started if need be), the database entry
    pointed at the stack's warehouse as the BI login; validated first."""
    from govlake import dashboards, services

    stack = services.up(name, var_dir=get_settings().var_dir, superset=True)
    counts = dashboards.deploy(stack)
    say(f"imported {counts} into {stack.superset.url}")


@dashboards_app.command("export")
def dashboards_export(name: str = "local") -> None:
    """Export every dashboard of the stack's Superset into dashboards/ (database URI made a
    placeholder)."""
    from govlake import dashboards, services

    stack = services.up(name, var_dir=get_settings().var_dir, superset=True)
    written = dashboards.export_from(stack)
    say(f"wrote {len(written)} files into {dashboards.ASSETS_DIR}")


@dashboards_app.command("validate")
def dashboards_validate(
    warehouse_url: str = typer.Option(
        None, help="check against this warehouse (default: the schema the migrations define)"
    ),
) -> None:
    """Check that every chart's dataset and every dataset's columns exist in the warehouse."""
    import tempfile
    from pathlib import Path

    from govlake import dashboards

    assets = dashboards.read_bundle()
    if warehouse_url:
        columns = dashboards.warehouse_columns(warehouse_url)
    else:
        with tempfile.TemporaryDirectory() as scratch:
            columns = dashboards.schema_columns(Path(scratch))
    dashboards.check(assets, columns)
    kinds = {k: sum(p.startswith(f"{k}/") for p in assets) for k in dashboards.KINDS}
    say(f"dashboards/ is valid: {kinds}")


@warehouse_app.command("migrate")
def warehouse_migrate() -> None:
    """Upgrade the warehouse schema to the latest Alembic revision."""
    from govlake import steps

    console.print(steps.migrate(get_settings()))


@backup_app.command("warehouse")
def backup_warehouse(
    target: str = typer.Argument(..., help="the backup file to write"),
) -> None:
    """Back up the warehouse (pg_dump, or a copy of the DuckDB file)."""
    from govlake import backup, steps

    console.print(backup.backup_warehouse(steps.warehouse_url(get_settings()), Path(target)))


@restore_app.command("warehouse")
def restore_warehouse(
    source: str = typer.Argument(..., help="a file `govlake backup warehouse` wrote"),
) -> None:
    """Restore a warehouse backup into GOVLAKE_WAREHOUSE_URL, which must be a new database."""
    from govlake import backup, steps

    console.print(backup.restore_warehouse(steps.warehouse_url(get_settings()), Path(source)))


@backup_app.command("lake")
def backup_lake(target: str = typer.Argument(..., help="an empty directory to write")) -> None:
    """Copy every object of the lake to files, with their SHA-256."""
    from govlake import backup
    from govlake.storage import open_store

    with _objects_progress("backing up the lake") as progress:
        done = backup.backup_lake(open_store(get_settings()), Path(target), progress)
    console.print(done)


@restore_app.command("lake")
def restore_lake(
    source: str = typer.Argument(..., help="a directory `govlake backup lake` wrote"),
) -> None:
    """Check a lake backup against its SHA-256s, then put every object back."""
    from govlake import backup
    from govlake.storage import open_store

    with _objects_progress("restoring the lake") as progress:
        done = backup.restore_lake(open_store(get_settings()), Path(source), progress)
    console.print(done)


@contextmanager
def _objects_progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over a lake's objects, as the callback the backup functions take."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@simulate_app.command("init")
def simulate_init(
    until: str = typer.Option(
        None, help="last day of the history, YYYY-MM-DD (default: yesterday)"
    ),
    scale: str = typer.Option("demo", help="tiny, demo, city, or one of them times n: city*2"),
    seed: int = typer.Option(7, help="same seed, scale and dates give identical data"),
    rate: float = typer.Option(0.02, help="share of rows given a known defect"),
) -> None:
    """Create the department systems' history (replacing what was there) and its ground truth."""
    from govlake.simulator import run as simulator

    last = date.fromisoformat(until) if until else _yesterday()
    with console.status(f"simulating {scale} history up to {last}"):
        counts = simulator.init(get_settings(), seed, scale, last, rate)
    _print_counts(f"simulated history up to {last} ({scale}, seed {seed})", counts)


@simulate_app.command("day")
def simulate_day(
    day: str = typer.Argument(..., help="the day, YYYY-MM-DD, after the history"),
) -> None:
    """Append one day's changes to every simulated system."""
    from govlake.simulator import run as simulator

    changes = simulator.day(get_settings(), date.fromisoformat(day))
    table = Table("table", "changes", title=f"simulated changes of {day}")
    for name, counts in changes.items():
        table.add_row(name, ", ".join(f"{k} {v}" for k, v in counts.items()))
    console.print(table)


@gate_app.command("list")
def gate_list(
    day: str = typer.Option(None, "--date", help="only this day, YYYY-MM-DD (default: all)"),
) -> None:
    """Show the days a batch gate holds (from the lake's manifests) and the recorded overrides."""
    from govlake import load, steps
    from govlake.lake import Lake

    settings = get_settings()
    url = settings.warehouse_url.get_secret_value()
    on = date.fromisoformat(day) if day else None
    load.migrate(url)  # a no-op once the warehouse is at the latest revision
    status = steps.day_status(Lake.from_settings(settings), on or date.max)
    overrides = {(o["dataset"], o["dt"]): o for o in steps.gate_overrides(url)}
    held = [h for h in status["held"] if on is None or h["dt"] == on]
    table = Table("dataset", "date", "gate", "reason", "status", title="held days")
    for h in held:
        released = overrides.get((h["dataset"], h["dt"]))
        shown = (
            f"released by {released['overridden_by']} at {released['overridden_at']:%Y-%m-%d %H:%M}"
            f" UTC: {released['reason']}"
            if released
            else "[red]held[/]"
        )
        for f in h["failed"]:
            table.add_row(h["dataset"], h["dt"].isoformat(), f["gate"], escape(f["reason"]), shown)
    console.print(table)
    others = [o for k, o in overrides.items() if on in (None, k[1])]
    say(
        f"{sum(1 for h in held if (h['dataset'], h['dt']) not in overrides)} held, "
        f"{len(others)} override(s) recorded{f' for {on}' if on else ''}"
    )


@gate_app.command("override")
def gate_override(
    dataset: str = typer.Argument(..., help="the table, system.table"),
    day: str = typer.Argument(..., help="the held day, YYYY-MM-DD"),
    reason: str = typer.Option(..., "--reason", help="why the day may be published"),
    by: str = typer.Option(None, "--by", help="who releases it (default: $USER)"),
) -> None:
    """Record that an operator releases a held day; then clear the day's build task."""
    import os

    from govlake import contracts, load
    from govlake.lake import Lake, Partition

    if dataset not in contracts.CONTRACTS:
        raise typer.BadParameter(f"no table {dataset!r}; known: {', '.join(contracts.CONTRACTS)}")
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise typer.BadParameter("--reason must say why, in at most 500 characters")
    on = date.fromisoformat(day)
    who = (by or os.environ.get("USER") or "unknown").strip()[:100] or "unknown"
    settings = get_settings()
    url = settings.warehouse_url.get_secret_value()
    load.migrate(url)
    load.record_override(url, dataset, on, reason, who, datetime.now(UTC).replace(tzinfo=None))
    clean = Lake.from_settings(settings).read_manifest(Partition("clean", dataset, on)) or {}
    note = "" if (clean.get("gates") or {}).get("held") else " (it is not held at present)"
    say(f"released {dataset} {on} by {who}: {escape(reason)}{note}")
    say(
        f"now clear build_warehouse's check_day task for {on} and any later failed day "
        f"(Airflow UI, or: airflow tasks clear build_warehouse -t check_day -s {on} -y)"
    )


@quarantine_app.command("list")
def quarantine_list(
    dataset: str = typer.Argument(..., help="the table, system.table"),
    day: str = typer.Option(None, "--date", help="only this day, YYYY-MM-DD (default: all)"),
    rule: str = typer.Option(None, "--rule", help="only rows failing this rule"),
    limit: int = typer.Option(50, "--limit", help="at most this many rows"),
) -> None:
    """Show quarantined rows: key, day and failing rules only (never row values, no PII)."""
    from govlake import contracts
    from govlake.lake import Lake
    from govlake.quality import releases

    if dataset not in contracts.CONTRACTS:
        raise typer.BadParameter(f"no table {dataset!r}; known: {', '.join(contracts.CONTRACTS)}")
    lake = Lake.from_settings(get_settings())
    rows = releases.quarantined(lake, dataset, date.fromisoformat(day) if day else None)
    rows = [r for r in rows if rule is None or rule in r["reasons"]]
    released = releases.released_rules(lake.store, dataset)
    key = "+".join(contracts.get(dataset).primary_key)
    table = Table(key, "date", "rules", "released", title=f"quarantined rows of {dataset}")
    for r in rows[: max(limit, 0)]:
        done = sorted(released.get(r["key"], set()) & set(r["reasons"]))
        shown = (escape(r["key"]), r["dt"].isoformat(), ", ".join(r["reasons"]), ", ".join(done))
        table.add_row(*shown)
    console.print(table)
    say(f"{len(rows)} quarantined row(s){f', {limit} shown' if len(rows) > limit else ''}")


@quarantine_app.command("release")
def quarantine_release(
    dataset: str = typer.Argument(..., help="the table, system.table"),
    key: str = typer.Argument(..., help="the row's primary key, as text"),
    rule: str = typer.Option(..., "--rule", help="the quarantine rule to release for the key"),
    reason: str = typer.Option(..., "--reason", help="why the row may load"),
    by: str = typer.Option(None, "--by", help="who releases it (default: $USER)"),
) -> None:
    """Record that an operator releases one rule for one row key; every later validation of the
    key applies it. Then re-run validate for the days listed."""
    import os

    from govlake import contracts
    from govlake.lake import Lake
    from govlake.quality import releases

    if dataset not in contracts.CONTRACTS:
        raise typer.BadParameter(f"no table {dataset!r}; known: {', '.join(contracts.CONTRACTS)}")
    who = (by or os.environ.get("USER") or "unknown").strip()[:100] or "unknown"
    lake = Lake.from_settings(get_settings())
    done = releases.release(lake, dataset, key, rule, reason, who)
    days = ", ".join(d.isoformat() for d in done["days"])
    say(f"released {dataset} key {escape(key)} from {rule} by {who}: {escape(done['reason'])}")
    say(
        f"re-run validate for {days} (clear the extract DAG's validate task, or: govlake extract "
        f"{contracts.get(dataset).system} --date DAY)"
    )


@app.command()
def extract(
    system: str = typer.Argument(..., help="approval, credit, enforcement or transaction"),
    day: str = typer.Option(None, "--date", help="the day, YYYY-MM-DD (default: yesterday)"),
    full: bool = typer.Option(False, "--full", help="a full snapshot instead of the day's changes"),
) -> None:
    """Extract and validate one system's tables for a day, without Airflow (same code)."""
    from rich.progress import Progress

    from govlake import contracts, steps

    settings = get_settings()
    run_on = date.fromisoformat(day) if day else _yesterday()
    tables = [c for c in contracts.CONTRACTS.values() if c.system == system]
    if not tables:
        known = sorted({c.system for c in contracts.CONTRACTS.values()})
        raise typer.BadParameter(f"no tables for {system!r}; known: {', '.join(known)}")
    table = Table(
        "table", "extracted", "clean", "quarantined", "flagged", title=f"{system} for {run_on}"
    )
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task(f"extract_{system}", total=len(tables) * 2)
        for contract in tables:
            progress.update(bar, description=f"extracting {contract.name}")
            landed = steps.extract(settings, contract.name, run_on, full=full)
            progress.update(bar, advance=1, description=f"validating {contract.name}")
            checked = steps.validate(settings, contract.name, run_on)
            progress.update(bar, advance=1)
            table.add_row(
                contract.name,
                str(landed["raw_rows"]),
                str(checked["clean_rows"]),
                str(checked["quarantined_rows"]),
                str(checked["flagged_rows"]),
            )
        if any(c.channel == "exchange" for c in tables):
            steps.archive_files(settings, system, run_on, full=full)
    console.print(table)


@app.command()
def bench(
    scale: str = typer.Option(
        "city", help="simulator scale of the sources; several, comma-separated, for the curve"
    ),
    seed: int = typer.Option(7, help="simulator seed"),
    until: str = typer.Option(
        None, help="last day of the simulated history, YYYY-MM-DD (default: yesterday)"
    ),
    postgres: bool = typer.Option(True, help="also time extraction from PostgreSQL"),
    airflow: bool = typer.Option(True, help="also time a one-day run under airflow dags test"),
    scale_out: bool = typer.Option(
        True, help="also run the full transform at local[1] and on a standalone cluster"
    ),
) -> None:
    """Speed figures: full-year extraction from SQLite and PostgreSQL against a naive baseline,
    validation, the warehouse build and load against a DuckDB SQL reference, its scale-out and
    one incremental day under Airflow and through the warehouse (var/bench/results.json); then
    the scaling curve over every scale benchmarked with the same seed and last day."""
    from govlake import bench as benchmarks
    from govlake import bench_curve

    last = date.fromisoformat(until) if until else _yesterday()
    var_dir = get_settings().var_dir
    for each in (s.strip() for s in scale.split(",")):
        with console.status(f"benchmarking the {each} scale") as status:
            results = benchmarks.run_all(
                var_dir,
                scale=each,
                seed=seed,
                until=last,
                postgres=postgres,
                airflow=airflow,
                scale_out=scale_out,
                progress=lambda text, status=status: status.update(text),
            )
        for table in benchmarks.tables(results):
            console.print(table)
        console.print(f"figures written to {results['results_file']}")
    console.print(bench_curve.table(bench_curve.points(var_dir / "bench", seed, last.isoformat())))


@app.command("spark-profile")
def spark_profile(
    events: str = typer.Argument(..., help="the folder GOVLAKE_SPARK_EVENT_LOG_DIR named"),
    top: int = typer.Option(25, help="how many of the slowest writes to show"),
) -> None:
    """The latest build's writes from its Spark event log, slowest first: wall seconds, task
    seconds and the cores each kept busy."""
    from govlake import spark_profile as profile

    log = profile.newest_log(Path(events))
    console.print(profile.table(profile.by_name(profile.queries(log))[:top], str(log)))


@app.command()
def soak(
    days: int = typer.Option(30, min=3, help="days of daily runs"),
    scale: str = typer.Option("tiny", help="simulator scale of the sources"),
    until: str = typer.Option(None, help="the last day, YYYY-MM-DD (default: yesterday)"),
) -> None:
    """Convergence: daily runs with re-runs and a backfill run twice among them, against a clean
    build from the same final source state; every warehouse table compared (var/soak/)."""
    from rich.progress import Progress

    from govlake import soak as convergence

    last = date.fromisoformat(until) if until else _yesterday()
    total = len(convergence.schedule(last - timedelta(days=days - 1), days))
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("soak", total=total)

        def show(done: int, text: str) -> None:
            progress.update(bar, completed=done, description=escape(text))

        result = convergence.run_soak(get_settings().var_dir / "soak", days, scale, last, show)
    console.print(convergence.table(result))
    timings = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.seconds.items())
    say(f"{timings}; {total} runs")
    if not result.converged:
        say("[red]the daily path and the clean build differ[/]")
        raise typer.Exit(1)


def _print_counts(title: str, counts: dict[str, int]) -> None:
    table = Table("table", "rows", title=title)
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


@app.command()
def run(
    day: str = typer.Option(None, "--date", help="the day to run, YYYY-MM-DD (default: yesterday)"),
    scale: str = typer.Option("demo", help="simulator scale: tiny, demo, city (or e.g. demo*2)"),
) -> None:
    """Seed the simulated sources, run the DAGs for one day with Airflow, print a summary."""
    from govlake import pipeline

    # A demo run fails fast instead of waiting out retry back-offs.
    fail_fast = DagSettings.fail_fast()
    settings = get_settings().model_copy(update={"dag": fail_fast})
    settings = settings.model_copy(update={"gates": _gates_at(settings, scale)})
    run_on = date.fromisoformat(day) if day else _yesterday()
    with console.status("seeding the simulated department systems") as status:
        pipeline.seed_sources(settings, run_on, scale)
        summary = pipeline.run_day(
            settings, run_on, full=True, progress=lambda text: status.update(text)
        )
    _print_summary(summary)


def _gates_at(settings, scale: str):
    """The batch gates' settings for sources simulated at ``scale``: the contracts' daily volumes
    are the city's, so the volume band is scaled to the simulated days."""
    from govlake.simulator.world import scale_named

    factor = scale_named(scale).volume_scale
    return settings.gates.model_copy(update={"volume_scale": round(factor, 6)})


def _print_summary(summary: dict) -> None:
    table = Table(
        "table",
        "extracted",
        "clean",
        "quarantined",
        "flagged",
        title=f"govlake run for {summary['day']}",
    )
    for t in summary["tables"]:
        table.add_row(
            t["dataset"],
            str(t["raw_rows"]),
            str(t.get("clean_rows")),
            str(t.get("quarantined_rows")),
            str(t.get("flagged_rows")),
        )
    console.print(table)
    for t in summary["tables"]:
        for reason in t.get("rejected_files", []):
            say(f"quarantined file {reason}")
        if t.get("rejected_records"):
            say(f"quarantined {t['rejected_records']} records of {t['dataset']} that do not decode")
        for rule, rows in t.get("quarantined_by", {}).items():
            say(f"failed check {rule} on {t['dataset']}: {rows} rows quarantined")
        for rule, rows in t.get("flagged_by", {}).items():
            say(f"flag {rule} on {t['dataset']}: {rows} rows loaded with the flag")
    for name, count in summary["warehouse"].items():
        say(f"loaded [bold]{count}[/] rows into {name}")
    for view, count in summary["portal"].items():
        say(f"the portal shows [bold]{count}[/] rows in {view}")
    credit = summary.get("credit_db") or {}
    if credit.get("records"):
        records = ", ".join(f"{n} {status}" for status, n in sorted(credit["records"].items()))
        grades = ", ".join(f"{grade} {n}" for grade, n in sorted(credit["grades"].items()))
        say(f"the credit database holds {records} records; enterprises per grade: {grades}")
    say(f"warehouse: {summary['warehouse_url']}")
    say(f"lake: {summary['lake']}")
    say(f"Airflow run logs: {summary['airflow_logs']}")
    docs = summary.get("data_docs") or {}
    if docs.get("index"):
        published = f" (published at {docs['uri']})" if docs.get("uri") else ""
        say(f"Data Docs: {docs['index']}{published}")
    else:
        say("Data Docs: not built for this day (each extract DAG's data_docs task builds them)")


def say(text: str) -> None:
    """One line, never wrapped (paths and URLs stay copyable)."""
    console.print(text, soft_wrap=True, highlight=False)


def main() -> None:
    """Entry point: errors a user can act on print as one line, not a traceback."""
    try:
        app(standalone_mode=False)
    except GovlakeError as exc:
        say(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(1)
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        say(f"[red]settings error:[/] {escape(problems)}")
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors, shown as the command line shows them
        exc.show()
        sys.exit(getattr(exc, "exit_code", 2))
