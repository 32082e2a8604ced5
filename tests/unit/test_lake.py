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


def _in_flight(lake: Lake, ids: list[int], partition: Partition = PART) -> str:
    """A write's files uploaded under its run, its commit still to come; returns the run."""
    import pyarrow.parquet as pq

    run = lake.new_run_prefix(partition)
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
    lake.commit(
        Lake.manifest(PART, late, [{"key": f"{late}/part-00000.parquet", "rows": 2}], {}, {})
    )
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


CURATED = [Partition("curated", t, PART.dt) for t in ("core.dim_date", "core.entity")]


def _built(lake: Lake, ids: list[int], partition: Partition) -> dict:
    """A curated table's run written, uncommitted; the manifest the build commits it with."""
    run = _in_flight(lake, ids, partition)
    files = [{"key": f"{run}/part-00000.parquet", "rows": len(ids)}]
    return Lake.manifest(partition, run, files, {"id": "bigint"}, {"sources": []})


def _ids(lake: Lake, partition: Partition) -> list[int]:
    return lake.read_table(partition).column("id").to_pylist()


def test_a_build_commits_its_curated_tables_together_with_their_row_counts(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    manifests = [_built(lake, [1, 2], CURATED[0]), _built(lake, [3], CURATED[1])]
    assert lake.read_build(PART.dt) is None and lake.read_manifest(CURATED[0]) is None
    build = lake.commit_build(PART.dt, manifests)
    assert lake.read_build(PART.dt) == build
    assert {t: m["rows"] for t, m in build["tables"].items()} == {
        "core.dim_date": 2,
        "core.entity": 1,
    }
    assert _ids(lake, CURATED[0]) == [1, 2] and _ids(lake, CURATED[1]) == [3]
    with pytest.raises(ValueError, match="commit_build"):
        lake.commit(manifests[0])  # a curated table alone would publish part of a build


def test_a_killed_build_leaves_the_previous_build_whole(tmp_path):
    """A build killed after writing some of its tables: their runs are never read; the rebuild's
    commit deletes the runs it replaced and those abandoned long ago, not one that may still be
    in flight."""
    lake = Lake(LocalStore(tmp_path))
    previous = lake.commit_build(PART.dt, [_built(lake, [1], p) for p in CURATED])
    killed = _in_flight(lake, [9], CURATED[0])  # the killed build's first table, minutes ago
    abandoned = killed.replace("/run=", "/run=20000101T000000-")  # one killed long ago
    lake.store.put_bytes(b"left by a killed build", f"{abandoned}/part-00000.parquet")
    assert lake.read_build(PART.dt) == previous and _ids(lake, CURATED[0]) == [1]
    rebuilt = lake.commit_build(PART.dt, [_built(lake, [2], p) for p in CURATED])
    assert _ids(lake, CURATED[0]) == [2] and _ids(lake, CURATED[1]) == [2]
    committed = {p: rebuilt["tables"][p.dataset]["files"][0]["key"] for p in CURATED}
    assert set(lake.store.list(f"{CURATED[0].prefix}/run=")) == {
        committed[CURATED[0]],
        f"{killed}/part-00000.parquet",
    }
    assert lake.store.list(f"{CURATED[1].prefix}/run=") == [committed[CURATED[1]]]


def test_a_build_commits_only_curated_partitions_of_its_day(tmp_path):
    lake = Lake(LocalStore(tmp_path))
    with pytest.raises(ValueError, match="curated partitions of 2026-11-23 only"):
        lake.commit_build(PART.dt, [_built(lake, [1], PART)])
