"""The dashboards kept as code (dashboards/): the committed bundle fits the warehouse schema the
migrations define, a renamed column fails validation, and no file carries a password or an
environment's address."""

from __future__ import annotations

import copy
import io
import zipfile

import pytest
import yaml

from govlake import dashboards

SLUGS = {
    "approval": "政务服务",
    "enforcement": "执法监督",
    "transactions": "公共资源交易",
    "credit": "信用",
    "data_quality": "数据质量",
}


@pytest.fixture(scope="module")
def assets() -> dict[str, dict]:
    return dashboards.read_bundle()


@pytest.fixture(scope="module")
def columns(tmp_path_factory) -> dict[str, set[str]]:
    return dashboards.schema_columns(tmp_path_factory.mktemp("schema"))


def test_the_committed_bundle_fits_the_migrated_schema(assets, columns):
    assert dashboards.validate(assets, columns) == []


def test_five_dashboards_with_chinese_titles_and_english_slugs(assets):
    found = {
        a["slug"]: a["dashboard_title"] for p, a in assets.items() if p.startswith("dashboards/")
    }
    assert found == SLUGS
    for slug in SLUGS:
        assert f"dashboards/{slug}.yaml" in assets


def test_every_dataset_is_a_mart_table_not_sql_in_the_chart_layer(assets):
    datasets = [a for p, a in assets.items() if p.startswith("datasets/")]
    assert datasets
    assert all(d["schema"] == "mart" and not d.get("sql") for d in datasets)


def test_a_renamed_column_fails_validation(assets, columns):
    renamed = copy.deepcopy(columns)
    renamed["mart.approval_kpi_monthly"] = (
        renamed["mart.approval_kpi_monthly"] - {"online_rate"}
    ) | {"online_share"}
    problems = dashboards.validate(assets, renamed)
    assert any(
        p.startswith("datasets/mart/approval_kpi_monthly.yaml") and "online_rate" in p
        for p in problems
    ), problems
    # and the chart of 网办率 that reads it
    assert any(p.startswith("charts/approval/") and "online_rate" in p for p in problems), problems


def test_a_missing_view_and_a_chart_without_its_dataset_fail(assets, columns):
    gone = {k: v for k, v in columns.items() if k != "mart.dq_freshness"}
    assert any("mart.dq_freshness does not exist" in p for p in dashboards.validate(assets, gone))
    broken = dict(assets)
    path = next(p for p in assets if p.startswith("charts/credit/"))
    broken[path] = {**assets[path], "dataset_uuid": "00000000-0000-0000-0000-000000000000"}
    assert any(p.startswith(path) for p in dashboards.validate(broken, columns))


def test_a_chart_column_its_dataset_lacks_fails(assets, columns):
    path = next(p for p in assets if p.startswith("charts/approval/"))
    chart = copy.deepcopy(assets[path])
    chart["params"]["groupby"] = ["no_such_column"]
    problems = dashboards.validate({**assets, path: chart}, columns)
    assert any(p.startswith(path) and "no_such_column" in p for p in problems), problems


def test_the_bundle_carries_no_password_and_import_rewrites_the_database(assets):
    (database,) = [a for p, a in assets.items() if p.startswith("databases/")]
    assert database["sqlalchemy_uri"] == dashboards.PLACEHOLDER_URI
    text = "".join(path.read_text() for path in dashboards.ASSETS_DIR.rglob("*.yaml"))
    assert "password" not in text.lower()
    uri = "postgresql+psycopg2://bi:XXXXXXXXXX@127.0.0.1:15432/govlake"
    archive = zipfile.ZipFile(io.BytesIO(dashboards.zip_bundle(assets, uri)))
    (name,) = [n for n in archive.namelist() if n.startswith("bundle/databases/")]
    assert yaml.safe_load(archive.read(name))["sqlalchemy_uri"] == uri
    assert len(archive.namelist()) == len(assets)
