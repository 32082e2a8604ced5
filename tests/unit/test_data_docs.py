"""Data Docs: every table's validation results as GX's static site, with no personal data in it.

All 20 tables of the simulator's tiny history are validated (their defects include invalid
identity numbers, of persons, legal representatives, applicants, parties and agents); the site
built from their saved results must have each suite's pages and no identity number of the input,
valid or invalid, in any file, and neither may the saved results.
"""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from govlake import steps
from govlake.config import Settings
from govlake.contracts import CONTRACTS
from govlake.identifiers import USCC_PLACEHOLDER, is_valid_uscc
from govlake.lake import Lake, Partition
from govlake.quality import docs
from govlake.quality.split import validate_and_split
from govlake.storage import LocalStore
from tests.conftest import DAY, EXPECTATIONS, REGISTER, TINY
from tests.malformed import HOSTILE_TEXT
from tests.truth import history, raw_table, score

CHROMIUM = "/usr/bin/chromium"
MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
ID_SHAPED = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dA-Za-z])")


@pytest.fixture(scope="module")
def tiny_history():
    return history(TINY, rate=0.02)


@pytest.fixture(scope="module")
def saved(tiny_history) -> list[dict]:
    """Every table's masked validation result, validated parents first (as the DAGs do)."""
    return [split.validation for split in score(tiny_history, EXPECTATIONS).results.values()]


@pytest.fixture(scope="module")
def personal_values(tiny_history) -> set[str]:
    """Every identity number the input's personal-data columns hold, valid or not."""
    found = set()
    for batch in tiny_history.values():
        for column in batch.contract.pii_columns:
            for value in batch.rows[column].dropna().astype(str):
                if ID_SHAPED.search(value.strip().upper()):
                    found |= {value, value.strip(), value.strip().upper()}
    return found


@pytest.fixture(scope="module")
def site(saved, tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("docs") / DAY.isoformat()
    started = time.perf_counter()
    index = docs.build_site(saved, DAY, target)
    return {"index": index, "root": target, "seconds": time.perf_counter() - started}


def _text_of_every_file(root: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "ignore") for p in sorted(root.rglob("*")) if p.is_file()
    )


def test_masks():
    assert docs.mask("370202199001011237") == "370202********1237"
    assert docs.mask("13812345678") == "138****5678"
    assert docs.mask("张三丰") == "张**"
    assert docs.mask(None) is None and docs.mask("") == ""
    assert docs.scrub("号码370202199001011237。") == "号码370202********1237。"
    assert docs.scrub("旧号 370202900101123") == "旧号 370202*****1123"
    assert docs.scrub("手机13812345678") == "手机138****5678"
    # Legal-entity codes are published by law: a valid all-digit one, and the placeholder, stay.
    for code in ("91350100M000100Y43", "00000000000000000X"):
        assert docs.scrub(code) == code


def test_saved_results_mask_personal_samples_and_keep_no_complete_lists(tiny_history):
    batch = tiny_history[REGISTER.name]
    kept = validate_and_split(raw_table(batch), REGISTER, EXPECTATIONS).validation
    text = json.dumps(kept, ensure_ascii=False)
    assert not any(n in text for n in batch.rows["legal_rep_id_number"].dropna())
    assert kept["masked_columns"] == ["legal_rep_id_number"]
    (checked,) = [
        r
        for r in kept["result"]["results"]
        if r["expectation_config"]["meta"]["rule"] == "legal_rep_id_number_valid"
    ]
    samples = checked["result"]["partial_unexpected_list"]
    assert samples and all(MASKED_ID.match(v) for v in samples)
    assert all(isinstance(i, int) for i in checked["result"]["partial_unexpected_index_list"])
    for outcome in kept["result"]["results"]:
        assert not set(outcome["result"]) & set(docs.COMPLETE)


def test_saved_results_hold_no_identity_number(saved, personal_values):
    text = json.dumps(saved, ensure_ascii=False)
    assert not [n for n in personal_values if n in text]


def test_the_site_has_every_suite_and_its_results(site, saved):
    root = site["root"]
    assert site["index"] == root / "index.html" and site["index"].exists()
    assert len(saved) == len(CONTRACTS) == 20
    for name in CONTRACTS:
        path = name.replace(".", "/")
        assert (root / "expectations" / f"{path}.html").exists(), name
        (page,) = (root / "validations" / path).rglob("*.html")
        assert name in page.read_text(encoding="utf-8")
    (page,) = (root / "validations" / "credit" / "enterprise_register").rglob("*.html")
    text = page.read_text(encoding="utf-8")
    assert "legal_rep_id_number_valid" in text  # govlake's rule, with why it exists
    assert "MOD 11-2 checksum" in text
    assert re.search(r"\d{6}\*{8}[\dX]{4}", text)  # the failing number, masked


def test_no_file_of_the_site_shows_an_identity_number(site, personal_values):
    text = _text_of_every_file(site["root"])
    assert not [n for n in personal_values if n in text]
    shown = {n for n in ID_SHAPED.findall(text) if not is_valid_uscc(n)}
    assert shown <= {USCC_PLACEHOLDER}  # 个体工商户's placeholder code, in a rule's explanation


def test_the_index_lists_every_table_without_javascript(site):
    """GX fills its index with JavaScript from CDNs; the plain list on top works offline."""
    links: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "a":
                links.append(dict(attrs).get("href") or "")

    Links().feed(site["index"].read_text(encoding="utf-8"))
    local = [h for h in links if not h.startswith(("http", "#"))]
    assert {h.split("/")[0] for h in local} >= {"validations", "expectations"}
    assert all((site["root"] / h).exists() for h in local), local
    assert len([h for h in local if h.startswith("validations/")]) == 20


def test_twenty_suites_build_in_seconds(site):
    assert site["seconds"] < 30, site["seconds"]  # about 2 s here, GX's import included


def test_only_used_static_files_are_kept(site):
    static = [p for p in (site["root"] / "static").rglob("*") if p.is_file()]
    assert [p.name for p in static] == ["favicon.ico"]


def test_a_page_gx_cannot_render_fails_the_build_and_keeps_the_old_site(
    saved, tmp_path, monkeypatch
):
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    target = tmp_path / DAY.isoformat()
    docs.build_site(saved[:2], DAY, target)
    before = sorted(p.relative_to(target) for p in target.rglob("*"))

    def broken(self, *args, **kwargs):
        raise RuntimeError("cannot render")

    monkeypatch.setattr(ValidationResultsPageRenderer, "render", broken)
    with pytest.raises(docs.DataDocsError, match="did not render"):
        docs.build_site(saved, DAY, target)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir()] == [DAY.isoformat()]  # no half-built copy


# The simulator's hostile catalogue, and the other classic ways to run script from a value.
HOSTILE_SAMPLES = [*HOSTILE_TEXT, '<img src=x onerror="alert(2)">', "a\"'b&amp;c</td></tr>"]
INJECTED_ATTRIBUTES = {"onerror", "onmouseover"}


@pytest.fixture(scope="module")
def hostile_site(saved, tmp_path_factory) -> Path:
    """The register's validation page, every sample of every expectation a hostile value."""
    (register,) = [json.loads(json.dumps(r)) for r in saved if r["dataset"] == REGISTER.name]
    for outcome in register["result"]["results"]:
        found = outcome["result"]
        if "partial_unexpected_list" in found:
            found["partial_unexpected_list"] = list(HOSTILE_SAMPLES)
            found["partial_unexpected_index_list"] = list(range(len(HOSTILE_SAMPLES)))
            found["partial_unexpected_counts"] = [{"value": v, "count": 1} for v in HOSTILE_SAMPLES]
    target = tmp_path_factory.mktemp("hostile") / DAY.isoformat()
    docs.build_site([register], DAY, target)
    (page,) = (target / "validations" / "credit" / "enterprise_register").rglob("*.html")
    return page


class _Markup(HTMLParser):
    """A page's elements (tag, attributes) and the text it shows (its scripts' code left out)."""

    def __init__(self, page: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.shown: list[str] = []
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.shown).append(data)


def test_hostile_samples_show_as_text_and_inject_no_markup(hostile_site):
    markup = _Markup(hostile_site.read_text(encoding="utf-8"))
    assert not [code for code in markup.scripts if "alert(" in code]
    assert not [tag for tag, attrs in markup.elements if set(attrs) & INJECTED_ATTRIBUTES]
    assert not [tag for tag, _ in markup.elements if tag == "b"]
    shown = "".join(markup.shown)
    for value in HOSTILE_SAMPLES:  # as sent: escaped once, not twice
        assert shown.count(value) >= 2, value  # in the samples and in their counts
    assert "&lt;" not in shown


def test_hostile_samples_run_nothing_in_a_browser(hostile_site):
    """Chromium opens the page: no dialog, no injected element, the values shown as text."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is not installed: run `make test` (make browser)"
    dialogs: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
            page.route("http*://**", lambda route: route.abort())  # offline: GX's CDNs
            page.goto(hostile_site.as_uri(), wait_until="load")
            injected = page.locator("img[onerror], b[onmouseover]").count()
            shown = page.inner_text("body")
        finally:
            browser.close()
    assert dialogs == [] and injected == 0
    assert "<script>alert('x')</script>" in shown


def _validate_credit_pair(settings: Settings, tiny_history) -> None:
    """Land persons and the register in raw/, then run the validate step on each."""
    lake = Lake.from_settings(settings)
    for name in ("credit.persons", REGISTER.name):
        batch = tiny_history[name]
        with lake.write(Partition("raw", name, DAY), batch.contract.raw_schema()) as out:
            out.write(raw_table(batch))
        steps.validate(settings, name, DAY)


def test_validate_saves_masked_results_and_publish_rebuilds_the_day(
    embedded, tiny_history, personal_values
):
    _validate_credit_pair(embedded, tiny_history)
    lake = Lake.from_settings(embedded)
    key = docs.validation_key(REGISTER.name, DAY)
    assert key == "quality/credit/enterprise_register/dt=2026-11-23/validation.json"
    stored = lake.store.get_bytes(key).decode()
    assert not [n for n in personal_values if n in stored]

    first = docs.publish(embedded, DAY, required=["credit.persons", REGISTER.name])
    index = embedded.var_dir / "data_docs" / DAY.isoformat() / "index.html"
    assert first["index"] == str(index) and first["uri"] is None
    assert first["suites"] == ["credit.enterprise_register", "credit.persons"]
    days = (embedded.var_dir / "data_docs" / "index.html").read_text(encoding="utf-8")
    assert f'href="{DAY.isoformat()}/index.html"' in days
    files = sorted(p.relative_to(index.parent) for p in index.parent.rglob("*"))
    again = docs.publish(embedded, DAY)  # a re-run rebuilds the same site
    assert sorted(p.relative_to(index.parent) for p in index.parent.rglob("*")) == files
    assert again["index"] == first["index"]
    assert docs.located(embedded, DAY) == {"index": str(index), "uri": None}
    text = _text_of_every_file(embedded.var_dir / "data_docs")
    assert not [n for n in personal_values if n in text]


def test_the_step_needs_every_table_of_its_system(embedded, tiny_history):
    _validate_credit_pair(embedded, tiny_history)
    with pytest.raises(docs.DataDocsError, match="no saved validation of credit.abnormal"):
        steps.data_docs(embedded, "credit", DAY)
    assert docs.located(embedded, DAY) == {"index": None, "uri": None}


class _Bucket(LocalStore):
    """A local directory standing in for the bucket, remembering each object's content type."""

    def __init__(self, root: Path):
        super().__init__(root)
        self.types: dict[str, str | None] = {}

    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> None:
        super().put_bytes(data, key)
        self.types[key] = content_type

    def uri(self, key: str) -> str:
        return f"s3a://govlake/{key}"


def test_with_an_s3_lake_the_site_is_built_locally_then_uploaded(saved, tmp_path, monkeypatch):
    settings = Settings(
        profile="embedded", var_dir=tmp_path / "var", s3_endpoint="127.0.0.1:9", _env_file=None
    )
    bucket = _Bucket(tmp_path / "bucket")
    monkeypatch.setattr(docs.Lake, "from_settings", classmethod(lambda cls, s: cls(bucket)))
    for item in saved[:3]:
        docs.save(bucket, DAY, item)
    bucket.put_bytes(b"old", f"data_docs/{DAY.isoformat()}/validations/gone.html")
    published = docs.publish(settings, DAY)
    day = f"data_docs/{DAY.isoformat()}"
    assert published["uri"] == f"s3a://govlake/{day}/index.html"
    local = settings.var_dir / day
    assert published["index"] == str(local / "index.html")
    uploaded = {k.removeprefix(day + "/") for k in bucket.list(day + "/")}
    assert uploaded == {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    assert bucket.types[f"{day}/index.html"] == "text/html; charset=utf-8"
    assert bucket.types["data_docs/index.html"] == "text/html; charset=utf-8"
    assert docs.located(settings, DAY)["uri"] == published["uri"]


def _chromium(*args: str) -> str:
    """Headless Chromium (Debian's, installed by ``make test``) on a file URL: what it rendered."""
    import shutil
    import subprocess

    browser = shutil.which("chromium")
    assert browser, "chromium is not installed: run `make test` (it installs Debian's chromium)"
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_the_site_opens_in_a_browser_with_every_suite_and_no_identity_number(site, personal_values):
    """As a person opens it: Chromium renders the index and a validation page; what it shows
    names every table, the failing rule and its masked value, and no identity number."""
    index = _chromium("--dump-dom", site["index"].as_uri())
    assert all(name in index for name in CONTRACTS)
    (page,) = (site["root"] / "validations" / "credit" / "enterprise_register").rglob("*.html")
    rendered = _chromium("--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert "legal_rep_id_number_valid" in rendered
    assert re.search(r"\d{6}\*{8}[\dX]{4}", rendered)
    assert not [n for n in personal_values if n in index + rendered]
    shots = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "data_docs_enterprise_register.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,1600", page.as_uri())
    assert shot.stat().st_size > 10_000  # a page was drawn, not a blank
