"""The lake and the extract/validate steps on the real S3 server and PostgreSQL sources."""

from datetime import date, datetime, timedelta

import pyarrow as pa
import pytest
from pydantic import SecretStr

from govlake import steps
from govlake.errors import LakeError, SourceError
from govlake.lake import MANIFEST, Lake, Partition
from govlake.simulator.sink import SqlSink
from tests.conftest import DAY, REGISTER, SUITE_CATCHES, keys_with

SCHEMA = pa.schema([("id", pa.int64())])


def test_partition_round_trip_and_replace_on_s3(services_settings):
    lake = Lake.from_settings(services_settings)
    part = Partition("raw", "credit.s3_round_trip", date(2026, 1, 2))
    for ids in ([1, 2, 3], [4]):
        with lake.write(part, SCHEMA) as writer:
            writer.write(pa.table({"id": ids}, schema=SCHEMA))
    assert lake.read_table(part).column("id").to_pylist() == [4]
    keys = lake.store.list(part.prefix + "/")
    assert len(keys) == 2 and keys[-1].endswith(MANIFEST) or keys[0].endswith(MANIFEST)
    assert lake.file_uris(part)[0].startswith(f"s3a://{services_settings.s3_bucket}/raw/")


def test_wrong_secret_is_one_actionable_line_without_the_secret(services_settings):
    wrong = services_settings.model_copy(update={"s3_secret_key": SecretStr("not-the-secret-42")})
    with pytest.raises(LakeError) as caught:
        Lake.from_settings(wrong).read_manifest(Partition("raw", "credit.x", DAY))
    message = str(caught.value)
    assert "rejected the credentials" in message and "GOVLAKE_S3_SECRET_KEY" in message
    assert "not-the-secret-42" not in message and "\n" not in message


def test_unreachable_s3_is_one_actionable_line(services_settings):
    gone = services_settings.model_copy(update={"s3_endpoint": "127.0.0.1:9"})
    with pytest.raises(LakeError, match="cannot reach S3 at 127.0.0.1:9"):
        Lake.from_settings(gone).read_manifest(Partition("raw", "credit.x", DAY))


def test_extract_and_validate_from_postgres_into_s3(services_settings, register):
    SqlSink(services_settings.source_url("credit")).replace(REGISTER, register.rows)
    extracted = steps.extract(services_settings, REGISTER.name, DAY, full=True)
    assert extracted["raw_rows"] == len(register.rows)
    assert "@" not in extracted["source"] or "***" in extracted["source"]
    checked = steps.validate(services_settings, REGISTER.name, DAY)
    expected = keys_with(register, "quarantine", SUITE_CATCHES)
    assert checked["quarantined_rows"] == len(expected)
    assert checked["clean_rows"] + checked["quarantined_rows"] == len(register.rows)
    lake = Lake.from_settings(services_settings)
    held = lake.read_table(Partition("quarantine", REGISTER.name, DAY))
    assert set(held.column("enterprise_id").to_pylist()) == expected


def test_postgres_and_sqlite_sources_hold_the_same_dirty_rows(
    services_settings, register, tmp_path
):
    sqlite = f"sqlite:///{tmp_path / 'credit.sqlite'}"
    for url in (services_settings.source_url("credit"), sqlite):
        SqlSink(url).replace(REGISTER, register.rows)
    from govlake.sources.sql import read_batches

    def rows(url):
        return pa.Table.from_batches(list(read_batches(url, REGISTER, None))).drop_columns(
            ["registered_capital"]
        )  # numeric text differs by driver (trailing zeros)

    in_postgres, in_sqlite = rows(services_settings.source_url("credit")), rows(sqlite)
    assert in_postgres.equals(in_sqlite)  # (compared outside the assert: no URL in its report)


def test_incremental_window_on_postgres(services_settings, register):
    SqlSink(services_settings.source_url("credit")).replace(REGISTER, register.rows)
    extracted = steps.extract(services_settings, REGISTER.name, DAY, full=False)
    start = datetime.combine(DAY, datetime.min.time()) - timedelta(
        hours=services_settings.extract_lookback_hours
    )
    end = datetime.combine(DAY, datetime.min.time()) + timedelta(days=1)
    stamps = register.rows["updated_at"]
    assert extracted["raw_rows"] == int(((stamps >= start) & (stamps < end)).sum())


def test_unreachable_source_database(services_settings):
    url = "postgresql+psycopg://govlake:hunter2-secret@127.0.0.1:9/src_credit"
    broken = services_settings.model_copy(update={"source_urls": {"credit": SecretStr(url)}})
    with pytest.raises(SourceError) as caught:
        steps.extract(broken, REGISTER.name, DAY, full=True)
    assert "hunter2-secret" not in str(caught.value)
    assert "127.0.0.1:9" in str(caught.value)
