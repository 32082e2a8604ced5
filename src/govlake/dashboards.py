"""Superset dashboards kept as code: the unzipped YAML bundle in ``dashboards/`` (``databases/``,
``datasets/``, ``charts/``, ``dashboards/``, ``metadata.yaml``), imported into a running Superset
per environment, exported back from one, and validated against the warehouse's schema.

- **import**: the bundle is zipped with every database entry's ``sqlalchemy_uri`` rewritten to
  the environment's warehouse (the BI login's, its password sent beside the file, as Superset's
  import API takes it), then posted to ``/api/v1/dashboard/import/`` with ``overwrite``.
- **export**: every dashboard of the instance through ``/api/v1/dashboard/export/``, unzipped into
  the bundle directory with the database URI made the placeholder :data:`PLACEHOLDER_URI`
  (exports never carry passwords, but they do carry a host and port).
- **validate**: every chart's dataset is in the bundle, every dataset's table and columns exist in
  the warehouse (only ``mart``, which the BI role reads), and every column a chart names is one of
  its dataset's, so a renamed column fails CI, not a leader.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from govlake.config import PROJECT_DIR
from govlake.errors import GovlakeError

if TYPE_CHECKING:
    import httpx

ASSETS_DIR = PROJECT_DIR / "dashboards"
KINDS = ("databases", "datasets", "charts", "dashboards")
PLACEHOLDER_URI = "postgresql+psycopg2://govlake_bi_superset:XXXXXXXXXX@warehouse:5432/govlake"
MASKED = "XXXXXXXXXX"  # what Superset puts in place of a password
BI_SCHEMAS = {"mart"}
# Chart params that name columns of the chart's dataset.
COLUMN_PARAMS = (
    "groupby",
    "columns",
    "all_columns",
    "x_axis",
    "series",
    "entity",
    "granularity_sqla",
)
METRIC_PARAMS = (
    "metrics",
    "metric",
    "percent_metrics",
    "timeseries_limit_metric",
    "x",
    "y",
    "size",
)


class DashboardError(GovlakeError):
    """The bundle is wrong or Superset refused it; the message says which asset and why."""


# --------------------------------------------------------------------------- the bundle


def read_bundle(directory: Path = ASSETS_DIR) -> dict[str, dict]:
    """Every asset YAML of the bundle, by its path relative to ``directory``."""
    assets = {}
    for path in sorted(directory.rglob("*.yaml")):
        relative = path.relative_to(directory).as_posix()
        if relative == "metadata.yaml" or relative.split("/")[0] in KINDS:
            assets[relative] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if "metadata.yaml" not in assets:
        raise DashboardError(f"{directory} holds no bundle (no metadata.yaml)")
    return assets


# Superset's importers overwrite only their own kind (a dashboard import keeps existing charts,
# datasets and databases as they are), so an import posts one bundle per kind, in this order:
# (API resource, metadata type, the kinds the bundle holds).
IMPORTS = (
    ("database", "Database", ("databases",)),
    ("dataset", "SqlaTable", ("databases", "datasets")),
    ("chart", "Slice", ("databases", "datasets", "charts")),
    ("dashboard", "Dashboard", KINDS),
)


def zip_bundle(
    assets: dict[str, dict],
    database_uri: str,
    kinds: tuple[str, ...] = KINDS,
    metadata_type: str = "Dashboard",
) -> bytes:
    """The bundle (its assets of ``kinds``) as Superset's import takes it, each database pointed
    at ``database_uri`` (given with its password masked: the password goes beside the file)."""
    buffer = io.BytesIO()
    chosen = {
        relative: content
        for relative, content in assets.items()
        if relative.split("/")[0] in kinds or relative == "metadata.yaml"
    }
    chosen["metadata.yaml"] = {**assets["metadata.yaml"], "type": metadata_type}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative, content in chosen.items():
            if relative.startswith("databases/"):
                content = {**content, "sqlalchemy_uri": database_uri}
            if relative.startswith("datasets/"):  # the database's own (default) catalog
                content = {**content, "catalog": None}
            text = yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
            archive.writestr(f"bundle/{relative}", text)
    return buffer.getvalue()


def write_bundle(archive: bytes, directory: Path = ASSETS_DIR) -> list[str]:
    """Unzip an export into ``directory`` (replacing the assets there), database URIs made the
    placeholder; returns the paths written."""
    exported = {}
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        for name in source.namelist():
            if name.endswith(".yaml"):  # drop the export's top folder
                exported[name.split("/", 1)[1]] = yaml.safe_load(source.read(name))
    owners = {}  # chart uuid -> the slug of the dashboard it is on
    for relative, content in exported.items():
        if relative.startswith("dashboards/"):
            for node in (content.get("position") or {}).values():
                if isinstance(node, dict) and node.get("type") == "CHART":
                    owners[node["meta"]["uuid"]] = content.get("slug") or "chart"
    written = {}
    for relative, content in exported.items():
        if relative.startswith("databases/"):
            content["sqlalchemy_uri"] = PLACEHOLDER_URI
        if relative.startswith("datasets/"):
            content["catalog"] = None  # PostgreSQL's catalog is the environment's database name
        written[_stable_name(relative, content, owners)] = content
    for kind in KINDS:
        for old in (directory / kind).rglob("*.yaml"):
            old.unlink()
    (directory / "metadata.yaml").unlink(missing_ok=True)
    for relative, content in written.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(content, allow_unicode=True, sort_keys=True), "utf-8")
    return sorted(written)


def _stable_name(relative: str, content: dict, owners: dict[str, str]) -> str:
    """English file names that do not change between exports (Superset names files after the
    Chinese titles, which it strips, and the instance's ids): datasets by table, dashboards by
    slug, charts by their dashboard's slug, type and uuid."""
    kind = relative.split("/")[0]
    if kind == "datasets":
        return f"datasets/{content['schema']}/{content['table_name']}.yaml"
    if kind == "dashboards" and content.get("slug"):
        return f"dashboards/{content['slug']}.yaml"
    if kind == "charts":
        owner = owners.get(content["uuid"], "chart")
        return f"charts/{owner}/{content['viz_type']}_{content['uuid'][:8]}.yaml"
    return relative


# --------------------------------------------------------------------------- validate


def warehouse_columns(url: str, schemas: set[str] = BI_SCHEMAS) -> dict[str, set[str]]:
    """``schema.relation`` -> its column names, for the tables and views of ``schemas`` that the
    URL's user can see (information_schema: the same in PostgreSQL and DuckDB)."""
    import sqlalchemy as sa

    query = sa.text(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE table_schema IN :schemas"
    ).bindparams(sa.bindparam("schemas", expanding=True))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(query, {"schemas": sorted(schemas)}).all()
    finally:
        engine.dispose()
    found: dict[str, set[str]] = {}
    for schema, table, column in rows:
        found.setdefault(f"{schema}.{table}", set()).add(column)
    return found


def validate(assets: dict[str, dict], columns: dict[str, set[str]]) -> list[str]:
    """What is wrong with the bundle against the warehouse's ``columns`` (empty: all good)."""
    problems = []
    datasets = {a["uuid"]: (p, a) for p, a in assets.items() if p.startswith("datasets/")}
    charts = {a["uuid"]: (p, a) for p, a in assets.items() if p.startswith("charts/")}
    databases = {a["uuid"] for p, a in assets.items() if p.startswith("databases/")}
    dataset_columns: dict[str, set[str]] = {}
    for uuid, (path, dataset) in datasets.items():
        relation = f"{dataset.get('schema')}.{dataset['table_name']}"
        if dataset.get("database_uuid") not in databases:
            problems.append(f"{path}: its database is not in the bundle")
        if dataset.get("sql"):
            problems.append(f"{path}: a virtual dataset (SQL in the chart layer); use a mart view")
        if dataset.get("schema") not in BI_SCHEMAS:
            problems.append(f"{path}: {relation} is outside mart, which the BI role reads")
            continue
        if relation not in columns:
            problems.append(f"{path}: {relation} does not exist in the warehouse")
            continue
        physical = {c["column_name"] for c in dataset.get("columns", []) if not c.get("expression")}
        for missing in sorted(physical - columns[relation]):
            problems.append(f"{path}: column {missing} is not in {relation}")
        metric_names = {m["metric_name"] for m in dataset.get("metrics", [])}
        dataset_columns[uuid] = (physical & columns[relation]) | {
            c["column_name"] for c in dataset.get("columns", []) if c.get("expression")
        }
        dataset_columns[uuid] |= {f"metric:{m}" for m in metric_names}
    for path, chart in charts.values():
        uuid = chart.get("dataset_uuid")
        if uuid not in datasets:
            problems.append(f"{path}: its dataset {uuid} is not in the bundle")
            continue
        if uuid not in dataset_columns:
            continue  # the dataset's own problem is reported
        for name in sorted(chart_columns(chart.get("params") or {})):
            if name not in dataset_columns[uuid]:
                problems.append(
                    f"{path}: column {name} is not in {datasets[uuid][1]['table_name']}"
                )
    for path, dashboard in assets.items():
        if not path.startswith("dashboards/"):
            continue
        for node in (dashboard.get("position") or {}).values():
            if isinstance(node, dict) and node.get("type") == "CHART":
                chart_uuid = node.get("meta", {}).get("uuid")
                if chart_uuid not in charts:
                    problems.append(f"{path}: chart {chart_uuid} is not in the bundle")
    return problems


def chart_columns(params: dict[str, Any]) -> set[str]:
    """The dataset columns (and ``metric:<name>`` saved metrics) a chart's params name."""
    names: set[str] = set()

    def column(value: Any) -> None:
        if isinstance(value, str) and value:
            names.add(value)
        elif isinstance(value, dict) and value.get("expressionType") != "SQL":
            # an adhoc column or a SIMPLE metric's column
            inner = value.get("column") if "column" in value else value
            if isinstance(inner, dict) and inner.get("column_name"):
                names.add(inner["column_name"])

    def metric(value: Any) -> None:
        if isinstance(value, str) and value:
            names.add(f"metric:{value}")
        elif isinstance(value, dict) and value.get("expressionType") == "SIMPLE":
            column(value)

    for key in COLUMN_PARAMS:
        value = params.get(key)
        for item in value if isinstance(value, list) else [value]:
            column(item)
    for key in METRIC_PARAMS:
        value = params.get(key)
        for item in value if isinstance(value, list) else [value]:
            metric(item)
    for order in params.get("order_by_cols") or []:  # raw tables: '["column", ascending]'
        column(json.loads(order)[0])
    for flt in params.get("adhoc_filters") or []:
        if flt.get("expressionType") == "SIMPLE" and isinstance(flt.get("subject"), str):
            names.add(flt["subject"])
    return names


# --------------------------------------------------------------------------- Superset's REST API


@dataclass
class Superset:
    """A logged-in REST session (JWT, CSRF token and its session cookie, a Referer)."""

    url: str
    client: httpx.Client

    @classmethod
    def login(cls, url: str, user: str, password: str, timeout: float = 120) -> Superset:
        import httpx

        client = httpx.Client(base_url=url, timeout=timeout, headers={"Referer": url})
        reply = client.post(
            "/api/v1/security/login",
            json={"username": user, "password": password, "provider": "db", "refresh": True},
        )
        if reply.status_code != 200:
            client.close()
            raise DashboardError(f"Superset at {url} refused the login of {user}")
        client.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
        csrf = client.get("/api/v1/security/csrf_token/")
        csrf.raise_for_status()
        client.headers["X-CSRFToken"] = csrf.json()["result"]
        return cls(url, client)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Superset:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, path: str, **params) -> Any:
        reply = self.client.get(path, params=params or None)
        _check(reply, path)
        return reply.json()

    def post(self, path: str, body: dict) -> Any:
        reply = self.client.post(path, json=body)
        _check(reply, path)
        return reply.json()

    def all(self, resource: str) -> list[dict]:
        """Every row of a list endpoint (``dashboard``, ``chart``, ``dataset``, ``database``)."""
        rows, page = [], 0
        while True:
            q = f"(page:{page},page_size:100)"
            result = self.get(f"/api/v1/{resource}/", q=q)["result"]
            rows += result
            if len(result) < 100:
                return rows
            page += 1


def _check(reply, what: str) -> None:
    if reply.status_code >= 400:
        raise DashboardError(f"Superset answered {reply.status_code} to {what}: {reply.text[:500]}")


def import_bundle(api: Superset, assets: dict[str, dict], warehouse_url: str) -> dict[str, int]:
    """Import (overwrite) the bundle with its databases pointed at ``warehouse_url`` (an
    SQLAlchemy URL with the BI login and its password); returns the assets counted by kind."""
    import sqlalchemy as sa

    url = sa.make_url(warehouse_url)
    password = url.password or ""
    masked = url.set(drivername="postgresql+psycopg2", password=MASKED)
    uri = masked.render_as_string(hide_password=False)
    passwords = {p: password for p in assets if p.startswith("databases/")}  # by path in the zip
    for resource, metadata_type, kinds in IMPORTS:
        archive = zip_bundle(assets, uri, kinds, metadata_type)
        reply = api.client.post(
            f"/api/v1/{resource}/import/",
            files={"formData": ("bundle.zip", archive, "application/zip")},
            data={"overwrite": "true", "passwords": json.dumps(passwords)},
        )
        _check(reply, f"the {resource} import")
    return {kind: sum(p.startswith(f"{kind}/") for p in assets) for kind in KINDS}


def export_bundle(api: Superset) -> bytes:
    """Every dashboard of the instance (with its charts, datasets and databases) as one zip."""
    ids = [row["id"] for row in api.all("dashboard")]
    if not ids:
        raise DashboardError(f"Superset at {api.url} has no dashboard to export")
    reply = api.client.get(
        "/api/v1/dashboard/export/", params={"q": f"!({','.join(map(str, ids))})"}
    )
    _check(reply, "the dashboard export")
    return reply.content


def chart_data(api: Superset, chart_id: int) -> dict:
    """What a chart's saved query returns now (``/api/v1/chart/<id>/data/``): its first query's
    ``data`` rows, ``rowcount`` and any ``error``."""
    reply = api.client.get(f"/api/v1/chart/{chart_id}/data/", params={"format": "json"})
    if reply.status_code >= 400:
        return {"data": [], "rowcount": 0, "error": reply.text[:500]}
    result = reply.json()["result"][0]
    return {"data": result.get("data") or [], "rowcount": result.get("rowcount", 0),
            "error": result.get("error")}  # fmt: skip


# --------------------------------------------------------------------------- one stack


def schema_columns(directory: Path) -> dict[str, set[str]]:
    """The ``mart`` columns as the migrations define them: a scratch DuckDB migrated to head."""
    from govlake import load

    url = f"duckdb:///{directory / 'schema.duckdb'}"
    load.migrate(url)
    return warehouse_columns(url)


def check(assets: dict[str, dict], columns: dict[str, set[str]]) -> None:
    problems = validate(assets, columns)
    if problems:
        raise DashboardError(
            f"the dashboards do not fit the warehouse ({len(problems)}): " + "; ".join(problems)
        )


def deploy(stack, directory: Path = ASSETS_DIR, database: str = "govlake") -> dict[str, int]:
    """Migrate the stack's warehouse (``database``), validate the bundle against what the BI login
    sees there, and import it into the stack's Superset (``services.up(..., superset=True)``)
    pointed at that database."""
    from govlake import load, superset_service

    service = stack.superset
    if service is None:
        raise DashboardError("Superset is not started on this stack")
    load.migrate(stack.pg_url(database))
    assets = read_bundle(directory)
    password = service.bi_password
    columns = warehouse_columns(
        superset_service.bi_url(stack, password, driver="psycopg", database=database)
    )
    check(assets, columns)
    with Superset.login(service.url, service.user, service.admin_password) as api:
        return import_bundle(
            api, assets, superset_service.bi_url(stack, password, database=database)
        )


def export_from(stack, directory: Path = ASSETS_DIR) -> list[str]:
    """Export every dashboard of the stack's Superset into ``directory``."""
    service = stack.superset
    if service is None:
        raise DashboardError("Superset is not started on this stack")
    with Superset.login(service.url, service.user, service.admin_password) as api:
        return write_bundle(export_bundle(api), directory)
