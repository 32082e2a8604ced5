"""Data Docs: every table's validation results as Great Expectations' static site, with no
personal data in it.

The validate step keeps what GX found (:func:`report`, saved by :func:`save` at
``quality/<system>/<table>/dt=<D>/validation.json`` in the lake): the suite's results with

- every sample value of a personal-data column masked (the contract's ``pii`` columns and lookup
  columns brought in from a parent's ``pii`` columns): ``370202********1237``, ``138****5678``,
  ``张**``;
- anything shaped like an identity number (18 characters, or the old 15 digits) and any mobile
  number masked wherever it appears, whatever the column (defence in depth); an all-digit
  统一社会信用代码 with a valid checksum is not a person's number and stays;
- GX's complete row lists (``unexpected_list``, ``unexpected_index_list``, its pandas query) left
  out: the row split has used them already. The docs show GX's first 20 samples, and row indexes
  (batch positions, no values) beside them.

:func:`publish` renders one site per day from the saved results of every table validated that day
(each extract DAG's last task rebuilds it, so it ends up with all four systems), under
``<var_dir>/data_docs/<D>/``, with ``<var_dir>/data_docs/index.html`` listing the days. GX 1.x has
no S3 store for Data Docs: with an S3 lake the site is built locally the same way, then uploaded
to the bucket under ``data_docs/``. A rebuild replaces the day's site whole. A page GX fails to
render (GX itself only logs it) fails the build, and the previous site stays: it is never
published half-made. As a last check every page is scrubbed like the saved results.

Sample values are source data and may be hostile (``<script>``, ``onerror=``); GX writes them into
its pages as raw markup, so everything an expectation found is HTML-escaped just before GX renders
it (the saved results keep the values as they were).
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from govlake import contracts, locks
from govlake.config import Settings
from govlake.errors import GovlakeError
from govlake.identifiers import USCC_PLACEHOLDER, id_number_check_char, is_valid_uscc
from govlake.lake import Lake, Partition
from govlake.quality.rules import lookups

if TYPE_CHECKING:
    from govlake.storage import Store

log = logging.getLogger(__name__)

ZONE = "quality"  # lake prefix of the saved validation results (not a partition: no manifest)
VALIDATION = "validation.json"
SITE = "data_docs"  # under var_dir locally, and the bucket's prefix with an S3 lake
SITE_NAME = "govlake"  # GX's name of the site (its index page's title)
# GX's complete lists: every failing value and row; the site shows the partial (first 20) ones.
COMPLETE = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")
# An identity number: 18 characters (the last may be X) or the old 15 digits, standing alone.
_ID_LIKE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|\d{15})(?![\dA-Za-z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".js": "application/javascript",
    ".ico": "image/x-icon",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
    ".otf": "font/otf",
}


class DataDocsError(GovlakeError):
    """Data Docs could not be built or published in full."""

    retryable = False  # a page GX cannot render renders no better on a retry


# ---------------------------------------------------------------------------------- masking


def mask(value: Any) -> Any:
    """A personal value as people may see it: an identity number ``370202********1237`` (DOMAIN.md:
    6, stars, 4), a phone ``138****5678``, a name ``张**``; other text keeps its first character."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value)
    if not text:
        return text
    if len(text) >= 15 and text.isascii() and text.isalnum():
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    if len(text) >= 11 and text.isascii() and text.isalnum():
        return text[:3] + "*" * (len(text) - 7) + text[-4:]
    if len(text) == 1:
        return "*"
    return text[:1] + "*" * min(len(text) - 1, 8)


def scrub(text: str) -> str:
    """``text`` with every identity-like number and mobile number in it masked."""
    return _MOBILE.sub(lambda m: mask(m[0]), _ID_LIKE.sub(_mask_number, text))


def _mask_number(found: re.Match) -> str:
    number = found[0]
    person = len(number) == 18 and id_number_check_char(number[:17]) == number[17]
    if number == USCC_PLACEHOLDER or len(number) == 18 and not person and is_valid_uscc(number):
        return number  # an all-digit legal-entity code, published by law
    return mask(number)


def scrub_all(value: Any) -> Any:
    """Every string in a JSON-like value scrubbed (keys included)."""
    return _map_strings(value, scrub, keys=True)


def _mask_strings(value: Any) -> Any:
    """Every string in a JSON-like value masked (numbers stay: they are statistics)."""
    return _map_strings(value, mask)


def _escape_strings(value: Any) -> Any:
    """Every string in a JSON-like value HTML-escaped. GX puts sample values into its pages as
    raw markup, and they are source data: a ``<script>`` in a name must show, not run. (GX does
    escape its sentences' parameters, which come from govlake's own suites: those stay as they
    are, or they would show escaped twice.)"""
    return _map_strings(value, html.escape)


def _map_strings(value: Any, change: Callable[[str], Any], keys: bool = False) -> Any:
    """``value`` (JSON-like) with ``change`` applied to every string in it (to keys too if
    ``keys``); other values as they are."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, Mapping):
        return {
            (change(k) if keys and isinstance(k, str) else k): _map_strings(v, change, keys)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_map_strings(v, change, keys) for v in value]
    return value


def personal_columns(contract: contracts.Contract, expectations_dir: Path) -> set[str]:
    """The batch's columns that hold personal data: the contract's ``pii`` columns, and the lookup
    columns (``<lookup>__<column>``) that bring in a parent's ``pii`` column."""
    found = set(contract.pii_columns)
    for name, spec in lookups(contract, expectations_dir).items():
        parent = contracts.get(spec["table"])
        found |= {f"{name}__{c}" for c in spec.get("columns", []) if c in parent.pii_columns}
    return found


def _columns(kwargs: Mapping) -> list[str]:
    """The columns an expectation reads, in the order GX reports multi-column values."""
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_A"):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _mask_sample(value: Any, columns: list[str], personal: set[str]) -> Any:
    """One unexpected value (a scalar, a row as a dict, or a row as a list in column order)."""
    if isinstance(value, Mapping):
        return {k: _mask_any(v) if k in personal else v for k, v in value.items()}
    if isinstance(value, list | tuple) and len(columns) > 1 and len(value) == len(columns):
        return [_mask_any(v) if c in personal else v for c, v in zip(columns, value, strict=True)]
    return _mask_any(value)


def _mask_any(value: Any) -> Any:
    if isinstance(value, Mapping | list | tuple):
        return _mask_strings(value)
    return mask(value)


def _mask_result(result: Mapping, columns: list[str], personal: set[str]) -> dict:
    """One expectation's ``result`` as the docs may keep it."""
    kept = {k: v for k, v in result.items() if k not in COMPLETE}
    if personal & set(columns):
        if "partial_unexpected_list" in kept:
            kept["partial_unexpected_list"] = [
                _mask_sample(v, columns, personal) for v in kept["partial_unexpected_list"]
            ]
        if "partial_unexpected_counts" in kept:
            kept["partial_unexpected_counts"] = [
                {**e, "value": _mask_sample(e.get("value"), columns, personal)}
                for e in kept["partial_unexpected_counts"]
            ]
        for key in ("observed_value", "details"):
            if key in kept:
                kept[key] = _mask_strings(kept[key])
    if "partial_unexpected_index_list" in kept:  # row positions; with index columns, their values
        kept["partial_unexpected_index_list"] = [
            {k: _mask_any(v) if k in personal else v for k, v in i.items()}
            if isinstance(i, Mapping)
            else i
            for i in kept["partial_unexpected_index_list"]
        ]
    return kept


def report(results: dict, contract: contracts.Contract, expectations_dir: Path) -> dict:
    """What is kept of one validation for people to read (JSON-serialisable, already masked).
    ``results``: GX's serialised suite result (``quality.engine.results``)."""
    personal = personal_columns(contract, expectations_dir)
    slim = json.loads(json.dumps(results))  # a deep copy, and proof that it is JSON
    for outcome in slim["results"]:
        columns = _columns(outcome["expectation_config"].get("kwargs", {}))
        outcome["result"] = _mask_result(outcome.get("result") or {}, columns, personal)
    return {
        "dataset": contract.name,
        "validated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "masked_columns": sorted(personal),
        "result": scrub_all(slim),
    }


# ------------------------------------------------------------------------ saved results


def validation_key(dataset: str, day: date) -> str:
    return f"{Partition(ZONE, dataset, day).prefix}/{VALIDATION}"


def save(store: Store, day: date, saved: dict) -> str:
    """Keep a :func:`report` in the lake (replacing the day's previous one); returns its key."""
    key = validation_key(saved["dataset"], day)
    data = json.dumps(scrub_all(saved), ensure_ascii=False, indent=1).encode()
    store.put_bytes(data, key)
    return key


def load(store: Store, dataset: str, day: date) -> dict | None:
    data = store.get_bytes(validation_key(dataset, day))
    return json.loads(data) if data is not None else None


# ----------------------------------------------------------------------------- the site


def site_dir(settings: Settings, day: date | None = None) -> Path:
    """The local site: ``<var_dir>/data_docs`` (the list of days), or one day's site."""
    root = settings.var_dir / SITE
    return root if day is None else root / day.isoformat()


def located(settings: Settings, day: date) -> dict:
    """Where the day's Data Docs are, if they have been built (for the run summary)."""
    index = site_dir(settings, day) / "index.html"
    if not index.exists():
        return {"index": None, "uri": None}
    uri = None
    if settings.uses_s3:
        uri = Lake.from_settings(settings).store.uri(f"{SITE}/{day.isoformat()}/index.html")
    return {"index": str(index), "uri": uri}


def publish(settings: Settings, day: date, required: Sequence[str] = ()) -> dict:
    """Build the day's site from every table's saved validation of the day and publish it.

    ``required``: datasets whose validation must be there (the calling DAG's tables)."""
    started = time.perf_counter()
    store = Lake.from_settings(settings).store
    root = site_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    # Builds of one day run one at a time on a machine, so the last one sees every saved result.
    with locks.file_lock(root / ".lock"):
        saved = [r for name in contracts.CONTRACTS if (r := load(store, name, day)) is not None]
        missing = sorted(set(required) - {r["dataset"] for r in saved})
        if missing:
            raise DataDocsError(
                f"no saved validation of {', '.join(missing)} for {day}: run its validate task"
            )
        index = build_site(saved, day, site_dir(settings, day))
        days = _write_days_index(root)
        uri = None
        if settings.uses_s3:
            uri = _upload(store, index.parent, f"{SITE}/{day.isoformat()}")
            _upload_days_index(store)
    published = {
        "dt": day.isoformat(),
        "index": str(index),
        "uri": uri,
        "suites": sorted(r["dataset"] for r in saved),
    }
    published["seconds"] = round(time.perf_counter() - started, 2)
    log.info("Data Docs for %s (%d suites, %d days): %s", day, len(saved), days, index)
    return published


def build_site(saved: Sequence[dict], day: date, target: Path) -> Path:
    """Render saved validations as a GX Data Docs site at ``target`` (replaced whole); returns
    its index.html. Fails (leaving ``target`` as it was) if a page does not render."""
    names = [r["dataset"] for r in saved]
    if len(set(names)) != len(names):
        raise ValueError(f"one validation per table and day, got {sorted(names)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.parent / f".build-{uuid.uuid4().hex[:8]}"
    try:
        _render(saved, day, building)
        _check_pages(building, names)
        _list_tables(building, saved, day)
        _prune_static(building)
        _scrub_files(building)
        _replace(building, target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target / "index.html"


def _render(saved: Sequence[dict], day: date, out: Path) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    import govlake.quality.expectations  # noqa: F401  (registers govlake's own expectations)

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    for name in list(context.list_data_docs_sites()):  # the default site is a temporary dir
        context.delete_data_docs_site(name)
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(out),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    schema = ExpectationSuiteValidationResultSchema()
    for item in saved:
        dataset = item["dataset"]
        document = _for_rendering(item, day)
        result = schema.load(document)
        configs = [r.expectation_config for r in result.results]
        suite = gx.ExpectationSuite(name=dataset, expectations=configs, notes=_suite_notes(item))
        if len(suite.expectations) != len(configs):
            raise DataDocsError(f"{dataset}: the saved suite has expectations GX cannot read")
        context.suites.add(suite)
        run = RunIdentifier(run_name=day.isoformat(), run_time=item["validated_at"])
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=dataset), run, dataset)
        context.validation_results_store.set(key, result)
    with _gx_problems() as problems:
        context.build_data_docs(site_names=[SITE_NAME])
    if problems:
        raise DataDocsError(f"Data Docs for {day} did not render: {problems[0]}")


def _for_rendering(item: dict, day: date) -> dict:
    """The saved result with what the pages show beside it: its run, its table and each
    expectation's govlake rule (name, outcome and why) as a note. What each expectation found
    (its samples, observed values, errors) is HTML-escaped: it comes from the source data."""
    document = json.loads(json.dumps(item["result"]))
    meta = document.setdefault("meta", {})
    meta["run_id"] = {"run_name": day.isoformat(), "run_time": item["validated_at"]}
    meta.setdefault("batch_spec", {})["data_asset_name"] = item["dataset"]
    for outcome in document.get("results", []):
        found = {k: v for k, v in outcome.items() if k != "expectation_config"}
        outcome.update(_escape_strings(found))
        result = outcome.get("result") or {}
        if "partial_unexpected_index_list" in result and "partial_unexpected_list" in result:
            # GX shows row indexes beside the values only from its complete lists: give it the
            # sample (masked values, row positions) as those.
            result["unexpected_list"] = result["partial_unexpected_list"]
            result["unexpected_index_list"] = result["partial_unexpected_index_list"]
        config = outcome.get("expectation_config") or {}
        rule = (config.get("meta") or {}).get("rule")
        if rule:
            held = config["meta"].get("outcome")
            note = f"govlake rule **{rule}**: rows failing it are {_OUTCOMES.get(held, held)}"
            why = config["meta"].get("why")
            config["notes"] = [note] + ([why] if why else [])
            if not _gx_renders(config.get("type", "")):  # govlake's own: no GX sentence for it
                config["description"] = f"{rule}: {why}" if why else rule
    return document


def _gx_renders(expectation_type: str) -> bool:
    """Whether GX has a sentence for the expectation (its own, not one govlake defines)."""
    from great_expectations.expectations.registry import get_expectation_impl

    return get_expectation_impl(expectation_type).__module__.startswith("great_expectations.")


_OUTCOMES = {"quarantine": "held in quarantine", "flag": "loaded with a flag"}


def _suite_notes(item: dict) -> list[str]:
    contract = contracts.get(item["dataset"])
    notes = [
        f"{contract.title} ({contract.name}): structural rules from its contract, domain rules "
        f"from expectations/{contract.name}.json."
    ]
    if item.get("masked_columns"):
        columns = ", ".join(item["masked_columns"])
        notes.append(f"Sample values of personal-data columns ({columns}) are masked.")
    return notes


@contextmanager
def _gx_problems() -> Iterator[list[str]]:
    """GX logs a page it could not render (or a result it could not find) and goes on; collect
    those messages so the build can fail instead."""
    problems: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            problems.append(record.getMessage().strip().splitlines()[-1][:500])

    handler = Collect(level=logging.WARNING)  # a page or a result skipped: site_builder warns
    handler.addFilter(lambda r: r.levelno >= logging.ERROR or r.name.endswith("site_builder"))
    logger = logging.getLogger("great_expectations.render")  # a content block failed: errors
    logger.addHandler(handler)
    try:
        yield problems
    finally:
        logger.removeHandler(handler)


def _check_pages(site: Path, names: Sequence[str]) -> None:
    """One suite page and one validation page per table, and the index."""
    missing = [
        name
        for name in names
        if not (site / "expectations" / f"{name.replace('.', '/')}.html").exists()
        or not list((site / "validations" / name.replace(".", "/")).rglob("*.html"))
    ]
    if missing or not (site / "index.html").exists():
        raise DataDocsError(f"Data Docs pages missing for {missing or 'the index'}")


_INDEX_MAIN = '<div class="col-md-10 col-lg-10 col-xs-12 pl-md-4 pr-md-3">'


def _list_tables(site: Path, saved: Sequence[dict], day: date) -> None:
    """GX's index fills its tables with JavaScript from CDNs, so on a network without them it
    is empty: put a plain list of the day's tables and their pages at the top of it."""
    rows = []
    for item in sorted(saved, key=lambda r: r["dataset"]):
        name = item["dataset"]
        (page,) = (site / "validations" / name.replace(".", "/")).rglob("*.html")
        stats = item["result"].get("statistics", {})
        status = "passed" if item["result"].get("success") else "failed"
        failed = stats.get("unsuccessful_expectations", 0)
        evaluated = stats.get("evaluated_expectations", 0)
        rows.append(
            f'<tr><td><a href="{html.escape(page.relative_to(site).as_posix())}">'
            f"{html.escape(name)}</a></td><td>{html.escape(contracts.get(name).title)}</td>"
            f"<td>{status}</td><td>{failed} of {evaluated}</td>"
            f'<td><a href="expectations/{html.escape(name.replace(".", "/"))}.html">suite</a></td>'
            "</tr>"
        )
    listing = (
        f'\n<div id="govlake-tables" class="mb-4"><h3>Tables validated for {day.isoformat()}</h3>'
        '<table class="table table-sm"><thead><tr><th>table</th><th>title</th><th>status</th>'
        "<th>failed expectations</th><th>rules</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table><p>Sample values of personal-data columns are masked.</p></div>\n"
    )
    index = site / "index.html"
    text = index.read_text(encoding="utf-8")
    anchor = _INDEX_MAIN if _INDEX_MAIN in text else "<body>"
    if anchor not in text:
        raise DataDocsError("GX's index page has changed shape: cannot list the tables on it")
    index.write_text(text.replace(anchor, anchor + listing, 1), encoding="utf-8")


def _prune_static(site: Path) -> None:
    """GX copies 4 MB of images and fonts its pages do not use (the styles are inline, the rest
    comes from CDNs): keep only what a page refers to."""
    used = set()
    for page in site.rglob("*.html"):
        used |= set(re.findall(r"static/[^\"'\s)?#]+", page.read_text(encoding="utf-8")))
    for asset in (site / "static").rglob("*"):
        if asset.is_file() and asset.relative_to(site).as_posix() not in used:
            asset.unlink()


def _scrub_files(site: Path) -> None:
    """Last line of defence: no page shows an identity-like or mobile number."""
    for page in site.rglob("*"):
        if page.suffix in (".html", ".css", ".js", ".json"):
            text = page.read_text(encoding="utf-8")
            cleaned = scrub(text)
            if cleaned != text:
                log.warning("masked a number in %s that the saved result did not", page.name)
                page.write_text(cleaned, encoding="utf-8")


def _replace(built: Path, target: Path) -> None:
    old = target.parent / f".old-{uuid.uuid4().hex[:8]}"
    if target.exists():
        target.rename(old)
    built.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _days_page(days: Sequence[str]) -> str:
    links = "\n".join(
        f'<li><a href="{html.escape(d)}/index.html">{html.escape(d)}</a></li>' for d in days
    )
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        "<title>govlake Data Docs</title></head>\n<body><h1>govlake Data Docs</h1>\n"
        "<p>Validation results of every table, one site per day (newest first). Sample values "
        "of personal-data columns are masked.</p>\n"
        f"<ul>\n{links}\n</ul></body></html>\n"
    )


def _write_days_index(root: Path) -> int:
    days = sorted(
        (p.name for p in root.iterdir() if _DAY.match(p.name) and (p / "index.html").exists()),
        reverse=True,
    )
    (root / "index.html").write_text(_days_page(days), encoding="utf-8")
    return len(days)


def _upload(store: Store, site: Path, prefix: str) -> str:
    """Put every file of the built site under ``prefix``; drop what an older build left there."""
    keys = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(site).as_posix()}"
        store.put_bytes(path.read_bytes(), key, content_type=_content_type(path))
        keys.append(key)
    stale = [k for k in store.list(prefix + "/") if k not in set(keys)]
    store.delete(stale)
    return store.uri(f"{prefix}/index.html")


def _upload_days_index(store: Store) -> None:
    parts = (k.split("/") for k in store.list(SITE + "/"))
    days = sorted({p[1] for p in parts if len(p) == 3 and p[2] == "index.html"}, reverse=True)
    page = _days_page(days).encode()
    store.put_bytes(page, f"{SITE}/index.html", content_type=_CONTENT_TYPES[".html"])


def _content_type(path: Path) -> str:
    return _CONTENT_TYPES.get(path.suffix, "application/octet-stream")
