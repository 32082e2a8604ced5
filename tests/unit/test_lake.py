from datetime import date

import pyarrow as pa
import pytest

from govlake.errors import LakeError
from govlake.lake import MANIFEST, Lake, Partition
from govlake.storage import LocalStore

SCHEMA = pa.schema([("id", pa.int64()), ("name", pa.string())])
PART = Partition("raw", "credit.enterprise_register", date(2026, 11, 23))


def _write(lake: Lake, ids: list[int], partition: Partition = PART) -> dict:
    with lake.write(partition, SCHEMA, {"mode": "test"}) as writer:
        for i in ids:
            writer.write(pa.table({"id": [i], "name": [f"n{i}"]}, schema=SCHEMA))
    return lake.read_manifest(partition)


def test_partition_layout():
    assert PART.prefix == "raw/credit/enterprise_register/dt=2026-11-23"


def test_write_then_read_round_trip(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    manifest = _write(lake, [1, 2, 3])
    assert manifest["rows"] == 3 and manifest["mode"] == "test"
    assert lake.read_table(PART).column("id").to_pylist() == [1, 2, 3]


def test_rewrite_replaces_the_whole_partition_and_removes_old_files(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    first = _write(lake, [1, 2, 3])
    second = _write(lake, [9])
    assert lake.read_table(PART).column("id").to_pylist() == [9]
    keys = lake.store.list(PART.prefix + "/")
    assert sorted(keys) == sorted([f"{PART.prefix}/{MANIFEST}", second["files"][0]["key"]])
    assert first["files"][0]["key"] not in keys


def test_failed_write_leaves_the_previous_partition(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    _write(lake, [1, 2])
    with pytest.raises(RuntimeError), lake.write(PART, SCHEMA) as writer:
        writer.write(pa.table({"id": [7], "name": ["x"]}, schema=SCHEMA))
        raise RuntimeError("source went away")
    assert lake.read_table(PART).column("id").to_pylist() == [1, 2]


def test_partitions_are_listed_in_date_order_up_to_a_day(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    for day in (date(2026, 11, 23), date(2026, 11, 21), date(2026, 11, 22)):
        _write(lake, [1], Partition("raw", PART.dataset, day))
    found = lake.partitions("raw", PART.dataset, until=date(2026, 11, 22))
    assert [p.dt.day for p in found] == [21, 22]


def test_missing_partition_is_a_clear_error(tmp_path):
    with pytest.raises(LakeError, match="has not been written"):
        Lake(LocalStore(tmp_path)).read_table(PART)


def test_an_attachment_is_committed_with_the_partition_and_replaced_with_it(tmp_path):
    import pyarrow.parquet as pq

    lake = Lake(LocalStore(tmp_path))
    for keys in ([1, 2, 3], [1, 3]):
        with lake.write(PART, SCHEMA) as writer:
            writer.write(pa.table({"id": keys, "name": ["x"] * len(keys)}, schema=SCHEMA))
            writer.attach("keys", pa.table({"id": keys}))
    assert pq.read_table(lake.attachment_uri(PART, "keys")).column("id").to_pylist() == [1, 3]
    assert lake.read_manifest(PART)["attachments"]["keys"]["rows"] == 2
    assert len(lake.store.list(PART.prefix + "/")) == 3  # manifest, rows, keys: nothing stale
    assert lake.attachment_uri(PART, "other") is None


def test_manifest_describes_schema_timings_and_the_airflow_run(tmp_path, monkeypatch):
    lake = Lake(LocalStore(tmp_path))
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "extract_credit")
    monkeypatch.setenv("AIRFLOW_CTX_DAG_RUN_ID", "manual__2026-11-24")
    manifest = _write(lake, [1])
    assert manifest["columns"] == {"id": "int64", "name": "string"}
    assert manifest["timings"]["seconds"] >= 0
    assert manifest["airflow"] == {"dag_id": "extract_credit", "run_id": "manual__2026-11-24"}
    other = Partition("raw", "credit.other", PART.dt)
    with lake.write(other, pa.schema([("id", pa.int32()), ("name", pa.string())])) as writer:
        writer.write(pa.table({"id": pa.array([1], pa.int32()), "name": ["a"]}))
    assert lake.read_manifest(other)["schema_fingerprint"] != manifest["schema_fingerprint"]
    assert _write(lake, [2])["schema_fingerprint"] == manifest["schema_fingerprint"]


def test_rewriting_identical_rows_gives_identical_data_bytes(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    first = lake.store.get_bytes(_write(lake, [1, 2])["files"][0]["key"])
    second = lake.store.get_bytes(_write(lake, [1, 2])["files"][0]["key"])
    assert first == second


def test_a_rewrite_deletes_older_runs_only(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    lake.store.put_bytes(b"as received", f"{PART.prefix}/files/bids.csv")
    _write(lake, [1])
    _write(lake, [2])
    assert lake.store.get_bytes(f"{PART.prefix}/files/bids.csv") == b"as received"
    assert len(lake.store.list(f"{PART.prefix}/run=")) == 1


def _in_flight(lake: Lake, ids: list[int]) -> str:
    """A write's files uploaded under its run, its commit still to come; returns the run."""
    import pyarrow.parquet as pq

    run = lake.new_run_prefix(PART)
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"id": ids, "name": [f"n{i}" for i in ids]}, schema=SCHEMA), sink)
    lake.store.put_bytes(sink.getvalue().to_pybytes(), f"{run}/part-00000.parquet")
    return run


def test_a_commit_leaves_another_write_in_flight_whole(tmp_path):
    """Two writers of one partition at once: the first to commit must not delete the files of
    the other, whose later commit then points at them (the last commit wins, whole)."""
    lake = Lake(LocalStore(tmp_path))
    late = _in_flight(lake, [7, 8])
    _write(lake, [1, 2, 3])
    lake.commit(PART, late, [{"key": f"{late}/part-00000.parquet", "rows": 2}], {}, {})
    assert lake.read_table(PART).column("id").to_pylist() == [7, 8]
    assert lake.store.list(f"{PART.prefix}/run=") == [f"{late}/part-00000.parquet"]


def test_a_commit_deletes_a_write_abandoned_hours_ago(tmp_path, monkeypatch):
    lake = Lake(LocalStore(tmp_path))
    abandoned = _in_flight(lake, [5])
    old = abandoned.replace("/run=", "/run=20000101T000000-")  # started long ago; writer died
    data = lake.store.get_bytes(f"{abandoned}/part-00000.parquet")
    lake.store.put_bytes(data, f"{old}/part-00000.parquet")
    manifest = _write(lake, [1])
    assert set(lake.store.list(f"{PART.prefix}/run=")) == {
        manifest["files"][0]["key"],
        f"{abandoned}/part-00000.parquet",  # still in flight: not the commit's to delete
    }
