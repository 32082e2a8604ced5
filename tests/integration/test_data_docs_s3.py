"""Data Docs with an S3 lake: built locally, uploaded to the bucket as pages a browser renders."""

from govlake import steps
from govlake.lake import Lake
from govlake.quality import docs
from govlake.simulator.sink import SqlSink
from tests.conftest import DAY, REGISTER


def test_the_site_is_uploaded_under_data_docs_without_identity_numbers(services_settings, register):
    SqlSink(services_settings.source_url("credit")).replace(REGISTER, register.rows)
    steps.extract(services_settings, REGISTER.name, DAY, full=True)
    steps.validate(services_settings, REGISTER.name, DAY)
    published = docs.publish(services_settings, DAY, required=[REGISTER.name])

    store = Lake.from_settings(services_settings).store
    prefix = f"data_docs/{DAY.isoformat()}/"
    bucket = services_settings.s3_bucket
    assert published["uri"] == f"s3a://{bucket}/{prefix}index.html"
    keys = store.list(prefix)
    local = docs.site_dir(services_settings, DAY)
    assert {k.removeprefix(prefix) for k in keys} == {
        p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()
    }
    for key in (f"{prefix}index.html", "data_docs/index.html"):
        assert store.client.stat_object(bucket, key).content_type == "text/html; charset=utf-8"
    numbers = {n.strip().upper() for n in register.rows["legal_rep_id_number"].dropna()}
    stored = [store.get_bytes(k).decode("utf-8", "ignore") for k in keys]
    stored.append(store.get_bytes(docs.validation_key(REGISTER.name, DAY)).decode())
    assert not [n for n in numbers if any(n in text for text in stored)]
