"""The leaders' dashboards in a real Superset 6.1 (``.venv-bi``) on the session's stack, over the
suite's one built warehouse (``built_warehouse``): imported from dashboards/ with the database
entry rewritten to the BI login, exported back, and opened in headless Chromium (Debian's, driven
by Playwright) as a leader would: every chart renders data and no error, the figures are the
marts', and a screenshot per dashboard lands in var/screenshots/superset_<slug>.png."""

from __future__ import annotations

import json
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from playwright.sync_api import sync_playwright

from govlake import dashboards, services, superset_service
from tests.integration.conftest import VAR_DIR

SLUGS = ("approval", "enforcement", "transactions", "credit", "data_quality")
SCREENSHOTS = VAR_DIR / "screenshots"
CHROMIUM = "/usr/bin/chromium"
RENDER_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def superset(services_stack, built_warehouse):
    started = time.monotonic()
    stack = services.up(services_stack.name, VAR_DIR, superset=True)
    print(f"Superset up in {time.monotonic() - started:.1f} s")
    counts = dashboards.deploy(stack, database=built_warehouse["database"])
    print(f"Superset up and dashboards imported in {time.monotonic() - started:.1f} s")
    return {"stack": stack, "service": stack.superset, "counts": counts}


@pytest.fixture(scope="module")
def api(superset):
    service = superset["service"]
    with dashboards.Superset.login(service.url, service.user, service.admin_password) as client:
        yield client


@pytest.fixture(scope="module")
def mart(superset, built_warehouse):
    """A query on the built warehouse as the BI login: what the marts say."""
    stack, service = superset["stack"], superset["service"]
    url = sa.make_url(
        superset_service.bi_url(
            stack, service.bi_password, "psycopg", database=built_warehouse["database"]
        )
    )
    conn = psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=url.username,
        password=url.password, autocommit=True,
    )  # fmt: skip

    def query(sql: str) -> list[tuple]:
        return conn.execute(sql).fetchall()

    yield query
    conn.close()


def test_superset_runs_on_loopback_and_refuses_a_wrong_password(superset):
    service = superset["service"]
    assert service.url.startswith("http://127.0.0.1:")
    report = services.status(superset["stack"].name, VAR_DIR)["superset"]
    assert report["running"] is True and report["url"] == service.url
    assert service.admin_password not in json.dumps(report)
    with pytest.raises(dashboards.DashboardError, match="refused the login"):
        dashboards.Superset.login(service.url, service.user, "not-the-password")


def test_the_bundle_is_imported_whole(superset, api):
    assert superset["counts"] == {"databases": 1, "datasets": 14, "charts": 23, "dashboards": 5}
    assert {d["slug"] for d in api.all("dashboard")} == set(SLUGS)
    assert len(api.all("chart")) == 23


def test_the_database_entry_is_the_bi_login_on_this_stack(superset, api, built_warehouse):
    (database,) = api.all("database")
    shown = api.get(f"/api/v1/database/{database['id']}/connection")["result"]["sqlalchemy_uri"]
    url = sa.make_url(shown)
    assert url.username == superset_service.BI_LOGIN
    assert (url.host, url.port) == ("127.0.0.1", superset["stack"].pg_port)
    assert url.database == built_warehouse["database"]
    assert superset["service"].bi_password not in shown  # Superset masks it


def test_the_bi_login_reads_mart_and_nothing_else(mart):
    assert mart("SELECT COUNT(*) FROM mart.approval_kpi_monthly")[0][0] > 0
    for relation in ("core.fct_case", "restricted.person_identity", "dq.table_runs"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            mart(f"SELECT 1 FROM {relation} LIMIT 1")  # noqa: S608 (a constant)


def test_export_gives_back_the_committed_bundle(api, tmp_path):
    written = dashboards.write_bundle(dashboards.export_bundle(api), tmp_path)
    committed = dashboards.read_bundle()
    assert set(written) == set(committed)
    exported = dashboards.read_bundle(tmp_path)
    for path, asset in committed.items():
        if path != "metadata.yaml":  # its timestamp is the export's
            assert _essence(exported[path]) == _essence(asset), path


def _essence(asset: dict) -> dict:
    """An asset less what an instance adds or numbers itself: empty chart params (an import
    adds ``annotation_layers: []``), the chart's ``datasource`` id, and the chart ids in a
    dashboard's layout (its charts are named by uuid)."""
    if isinstance(asset.get("position"), dict):
        position = {}
        for key, node in asset["position"].items():
            if isinstance(node, dict) and node.get("type") == "CHART":
                meta = {k: v for k, v in node["meta"].items() if k not in ("chartId", "sliceName")}
                node = {**node, "meta": meta}
            position[key] = node
        return {**asset, "position": position}
    if "params" not in asset or not isinstance(asset["params"], dict):
        return asset
    params = {
        key: value
        for key, value in asset["params"].items()
        if value not in ([], {}, None, "") and key != "datasource"
    }
    return {**asset, "params": params}


# --------------------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def browser(superset):
    """Chromium logged in through Superset's login page, as a person would."""
    assert Path(CHROMIUM).exists(), "chromium is not installed: run `make test` (make browser)"
    service = superset["service"]
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = chromium.new_context(viewport={"width": 1600, "height": 2000}, locale="zh-CN")
        page = context.new_page()
        page.goto(f"{service.url}/login/")
        page.fill("#username, input[name=username]", service.user)
        page.fill("#password, input[name=password]", service.admin_password)
        page.keyboard.press("Enter")
        page.wait_for_url("**/superset/welcome/**", timeout=60_000)
        yield context
        chromium.close()


@pytest.fixture(scope="module")
def rendered(superset, browser, api):
    """Each dashboard opened once: the chart data the browser received, by chart name."""
    names = {c["id"]: c["slice_name"] for c in api.all("chart")}
    shown = {}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for slug in SLUGS:
        shown[slug] = _open(browser, superset["service"].url, slug, api, names)
    return shown


def _open(browser, url: str, slug: str, api, names: dict[int, str]) -> dict:
    (dashboard,) = [d for d in api.all("dashboard") if d["slug"] == slug]
    expected = {c["id"] for c in api.get(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]}
    replies: dict[int, dict] = {}

    def record(response) -> None:
        if "/api/v1/chart/data" not in response.url:
            return
        chart_id = _chart_id(response)
        try:
            body = response.json()
        except Exception as exc:  # noqa: BLE001 (recorded as the chart's error)
            body = {"message": f"unreadable reply: {exc}"}
        replies[chart_id] = {"status": response.status, "body": body}

    page = browser.new_page()
    page.on("response", record)
    started = time.monotonic()
    page.goto(f"{url}/superset/dashboard/{slug}/?standalone=1")
    while set(replies) < expected or page.locator(".loading").count():
        assert time.monotonic() - started < RENDER_TIMEOUT, f"{slug}: charts still loading"
        page.wait_for_timeout(250)
    page.wait_for_timeout(1500)  # the ECharts animations end
    errors = page.locator(".dashboard-component-chart-holder [role=alert]").all_inner_texts()
    text = page.inner_text("body")
    page.screenshot(path=str(SCREENSHOTS / f"superset_{slug}.png"), full_page=True)
    page.close()
    return {
        "seconds": time.monotonic() - started,
        "errors": errors,
        "text": text,
        "title": dashboard["dashboard_title"],
        "charts": {names[cid]: reply for cid, reply in replies.items() if cid in expected},
        "expected": {names[cid] for cid in expected},
    }


def _chart_id(response) -> int:
    query = urllib.parse.parse_qs(urllib.parse.urlparse(response.url).query)
    if "form_data" in query:
        form = json.loads(query["form_data"][0])
        if "slice_id" in form:
            return int(form["slice_id"])
    body = response.request.post_data_json or {}
    return int((body.get("form_data") or {}).get("slice_id") or -1)


def _rows(chart: dict) -> list[dict]:
    return chart["body"]["result"][0]["data"]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_chart_renders_data_and_no_error(rendered, slug):
    shown = rendered[slug]
    assert shown["title"] in shown["text"]  # the Chinese title, as text on the page
    assert shown["errors"] == []
    assert set(shown["charts"]) == shown["expected"]
    for name, chart in shown["charts"].items():
        assert chart["status"] == 200, (name, chart["body"])
        for result in chart["body"]["result"]:
            assert not result.get("error"), (name, result["error"])
            assert result["rowcount"] > 0 and result["data"], f"{slug}: {name} shows no data"
    assert (SCREENSHOTS / f"superset_{slug}.png").stat().st_size > 20_000


def _number(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def test_approval_figures_are_the_marts(rendered, mart):
    charts = rendered["approval"]["charts"]
    (total,) = mart("SELECT SUM(accepted_cases) FROM mart.approval_kpi_monthly")[0]
    assert _rows(charts["受理件数"]) == [{"受理件数": total}]
    assert str(total) in rendered["approval"]["text"]  # on the page as the big number
    by_department = dict(
        mart(
            "SELECT department_name, SUM(online_cases) FROM mart.approval_kpi_monthly "
            "GROUP BY 1 ORDER BY SUM(accepted_cases) DESC"
        )
    )
    bars = _rows(charts["各部门办件量(全部与网上,前20)"])
    assert len(bars) == min(20, len(by_department))
    for bar in bars:
        assert bar["网上受理件数"] == by_department[bar["department_name"]]


def test_enforcement_figures_are_the_marts(rendered, mart):
    charts = rendered["enforcement"]["charts"]
    (total,) = mart("SELECT SUM(decisions) FROM mart.enforcement_monthly")[0]
    assert _rows(charts["处罚决定数"]) == [{"处罚决定数": total}]
    statuses = dict(mart("SELECT status, COUNT(*) FROM mart.publication_compliance GROUP BY 1"))
    listed = _rows(charts["双公示时效明细(滞后最长在前)"])
    assert len(listed) == min(sum(statuses.values()), 100)
    assert {r["status"] for r in listed} <= set(statuses)
    on_time = sum(r["按时"] or 0 for r in _rows(charts["双公示时效(7个工作日)"]))
    assert on_time == statuses.get("on_time", 0)


def test_transaction_figures_are_the_marts(rendered, mart):
    charts = rendered["transactions"]["charts"]
    (amount,) = mart("SELECT SUM(award_amount_wan) FROM mart.transaction_monthly")[0]
    (shown,) = _rows(charts["成交金额(万元)"])
    assert _number(shown["成交金额(万元)"]) == _number(amount)
    flags = dict(mart("SELECT rule, COUNT(*) FROM mart.transaction_red_flags GROUP BY rule"))
    assert {r["rule"]: r["预警数"] for r in _rows(charts["预警数(按规则)"])} == flags


def test_credit_figures_are_the_marts(rendered, mart):
    charts = rendered["credit"]["charts"]
    grades = dict(mart("SELECT grade, COUNT(entity_id) FROM mart.credit_grade GROUP BY grade"))
    assert {r["grade"]: r["主体数"] for r in _rows(charts["信用等级分布"])} == grades
    serious = mart("SELECT COUNT(*) FROM mart.credit_profile WHERE active_serious_dishonesty > 0")
    assert len(_rows(charts["严重失信主体"])) == min(serious[0][0], 100)


def test_data_quality_figures_are_the_marts(rendered, mart):
    charts = rendered["data_quality"]["charts"]
    fresh = {s: str(d) for s, d in mart("SELECT source_system, last_dt FROM mart.dq_freshness")}
    rows = _rows(charts["各来源新鲜度"])
    shown = {r["source_system"]: _day(r["last_dt"]) for r in rows}
    assert shown == fresh
    rates = dict(mart("SELECT dataset, MIN(pass_rate) FROM mart.dq_pass_rates GROUP BY dataset"))
    bars = {r["dataset"]: _number(r["合格率"]) for r in _rows(charts["各表合格率(最新批次最低)"])}
    assert bars == {k: _number(v) for k, v in rates.items()}


def _day(value) -> str:
    """A date as Superset's JSON gives it (epoch milliseconds or ISO text) -> YYYY-MM-DD."""
    if isinstance(value, int | float):
        import datetime as dt

        return dt.datetime.fromtimestamp(value / 1000, dt.UTC).date().isoformat()
    return str(value)[:10]


def test_stopping_superset_ends_gunicorn_and_its_workers(superset, rendered):
    """Last in this file (the stack's own down does the same at the end of the session)."""
    stack, service = superset["stack"], superset["service"]
    workers = [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and services._alive(int(p.name)) and _parent(int(p.name)) == service.pid
    ]
    assert workers  # gunicorn's master forks its workers
    superset_service.stop(stack.state_dir)
    assert not services._alive(service.pid)
    assert not any(services._alive(pid) for pid in workers)
    assert services.status(stack.name, VAR_DIR)["superset"]["running"] is False


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
