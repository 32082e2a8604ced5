"""The lake: object-store paths and atomic partition writes, on a local directory or S3.

Layout: ``<zone>/<system>/<table>/dt=<YYYY-MM-DD>/`` with zones exchange (the inbox of file
sets; ``archive/exchange/`` once processed), raw, quarantine, clean, curated and state (each
table's ranked versions after a build, ``govlake.transform.state``). A partition is
written whole and replaced whole: the data files of a write go under a fresh ``run=<id>/``
prefix, then ``_manifest.json`` is put in one request. The manifest is the commit point on both
backends (S3 has no rename): readers follow it, so they see the old partition or the new one,
never a mix. A commit deletes the files of the manifest it replaced (and of writes abandoned
hours ago), never those of another write still in flight, so two writers of one partition at once
leave the last one's content whole (the steps also take turns: ``govlake.locks``). The manifest
also records the schema's fingerprint, the write's timings and the Airflow run that made it.

The curated partitions of a day are one warehouse build: each table's run is written as above,
but no table has a manifest of its own. One build manifest (``curated/_builds/dt=<day>/``),
listing every table's manifest, is put last and commits them all at once, so a build killed
midway leaves the previous build whole and readable (its runs are garbage, dropped as abandoned).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from govlake.config import Settings
from govlake.errors import LakeError
from govlake.storage import Store, open_store

if TYPE_CHECKING:
    import pyarrow as pa

ZONES = ("exchange", "archive", "raw", "quarantine", "clean", "curated", "state")
MANIFEST = "_manifest.json"
BUILT = "curated"  # the zone whose partitions of a day are committed together (commit_build)
RUN_TIME = "%Y%m%dT%H%M%S"  # a run's id starts with its start time (UTC)
# A write unfinished this long after it started was abandoned (its writer died): the next commit
# deletes its files. Far longer than any write takes.
ABANDONED = timedelta(hours=6)


@dataclass(frozen=True)
class Partition:
    zone: str
    dataset: str  # system.table
    dt: date

    @property
    def prefix(self) -> str:
        system, table = self.dataset.split(".", 1)
        return f"{self.zone}/{system}/{table}/dt={self.dt.isoformat()}"


class Lake:
    def __init__(self, store: Store):
        self.store = store

    @classmethod
    def from_settings(cls, settings: Settings) -> Lake:
        return cls(open_store(settings))

    def read_manifest(self, partition: Partition) -> dict | None:
        """The partition's committed manifest; a curated partition's is in its day's build."""
        if partition.zone == BUILT:
            build = self.read_build(partition.dt) or {"tables": {}}
            return build["tables"].get(partition.dataset)
        data = self.store.get_bytes(f"{partition.prefix}/{MANIFEST}")
        return json.loads(data) if data is not None else None

    def read_build(self, day: date) -> dict | None:
        """The day's committed build: ``tables`` maps each curated table to its manifest."""
        data = self.store.get_bytes(_build_key(day))
        return json.loads(data) if data is not None else None

    def file_uris(self, partition: Partition) -> list[str]:
        manifest = self.read_manifest(partition)
        if manifest is None:
            raise LakeError(f"partition {partition.prefix} has not been written")
        return [self.store.uri(f["key"]) for f in manifest["files"]]

    def read_table(
        self,
        partition: Partition,
        schema: pa.Schema | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """A whole partition as one Arrow table (for the partitions a task handles, not years);
        with ``columns``, only those (Parquet reads no other column)."""
        manifest = self.read_manifest(partition)
        if manifest is None:
            raise LakeError(f"partition {partition.prefix} has not been written")
        return self.read_files(manifest["files"], schema, columns)

    def read_files(
        self, files: list[dict], schema: pa.Schema | None = None, columns: list[str] | None = None
    ) -> pa.Table:
        """The rows of a manifest's ``files``, as one Arrow table."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        tables = [
            pq.read_table(pa.BufferReader(self.store.get_bytes(f["key"])), columns=columns)
            for f in files
        ]
        if not tables:
            empty = (schema or pa.schema([])).empty_table()
            return empty.select(columns) if columns is not None else empty
        return pa.concat_tables(tables)

    @contextmanager
    def write(
        self, partition: Partition, schema: pa.Schema, metadata: dict | None = None
    ) -> Iterator[PartitionWriter]:
        """Stream record batches into a partition; on a clean exit the partition is replaced."""
        writer = PartitionWriter(schema)
        try:
            yield writer
        except BaseException:
            writer.abort()
            raise
        self._commit(partition, writer, {**(metadata or {}), **writer.metadata})

    def _commit(self, partition: Partition, writer: PartitionWriter, metadata: dict) -> None:
        run = self.new_run_prefix(partition)
        local, rows = writer.finish()
        key = f"{run}/part-00000.parquet"
        self.store.put_file(local, key)
        attachments = {}
        for role, table in writer.attachments.items():
            attachments[role] = {"key": f"{run}/{role}.parquet", "rows": table.num_rows}
            self.store.put_bytes(_parquet_bytes(table), attachments[role]["key"])
        if attachments:
            metadata = {**metadata, "attachments": attachments}
        columns = {f.name: str(f.type) for f in writer.schema}
        metadata = {**metadata, "timings": writer.timings(), **_orchestrator_run()}
        self.commit(self.manifest(partition, run, [{"key": key, "rows": rows}], columns, metadata))

    def attachment_uri(self, partition: Partition, role: str) -> str | None:
        """Where a partition's attachment (e.g. the source's key set) is, if it has one."""
        manifest = self.read_manifest(partition) or {}
        found = manifest.get("attachments", {}).get(role)
        return self.store.uri(found["key"]) if found else None

    @staticmethod
    def new_run_prefix(partition: Partition) -> str:
        """Where a new write of ``partition`` puts its files before committing them."""
        return f"{partition.prefix}/run={datetime.now(UTC):{RUN_TIME}}-{uuid.uuid4().hex[:8]}"

    @staticmethod
    def manifest(
        partition: Partition,
        run: str,
        files: list[dict],
        columns: dict[str, str],
        metadata: dict,
    ) -> dict:
        """The manifest that makes ``files`` (already under ``run``) the partition's content,
        for :meth:`commit` (or :meth:`commit_build`).

        ``columns`` maps each column to its type; their fingerprint lets a reader see at a glance
        whether two partitions share a schema."""
        own = {"zone", "dataset", "dt", "run", "rows", "files", "columns", "schema_fingerprint"}
        own |= {"written_at"}
        if own & metadata.keys():
            raise ValueError(f"manifest metadata may not redefine {sorted(own & metadata.keys())}")
        return {
            "zone": partition.zone,
            "dataset": partition.dataset,
            "dt": partition.dt.isoformat(),
            "run": run.rsplit("/", 1)[-1],
            "rows": sum(f["rows"] for f in files),
            "files": files,
            "columns": columns,
            "schema_fingerprint": schema_fingerprint(columns),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **metadata,
        }

    def commit(self, manifest: dict) -> dict:
        """Make a manifest's files its partition's content; drop older runs."""
        partition = _partition_of(manifest)
        if partition.zone == BUILT:
            raise ValueError(f"{partition.prefix} is committed with its day's build (commit_build)")
        replaced = (self.read_manifest(partition) or {}).get("run")
        self.store.put_bytes(_json(manifest), f"{partition.prefix}/{MANIFEST}")
        self.store.delete(self._stale(partition, manifest["run"], replaced))
        return manifest

    def commit_build(self, day: date, manifests: list[dict]) -> dict:
        """Make the curated partitions of ``manifests`` the day's build, in one put: readers see
        the build it replaces or this one, whole. Then drops the replaced build's runs and those
        abandoned long ago (a killed build's)."""
        partitions = [_partition_of(m) for m in manifests]
        if any(p.zone != BUILT or p.dt != day for p in partitions):
            raise ValueError(f"a build of {day} commits curated partitions of {day} only")
        replaced = (self.read_build(day) or {"tables": {}})["tables"]
        build = {
            "dt": day.isoformat(),
            "tables": {m["dataset"]: m for m in manifests},
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **_orchestrator_run(),
        }
        self.store.put_bytes(_json(build), _build_key(day))
        for partition, manifest in zip(partitions, manifests, strict=True):
            earlier = replaced.get(partition.dataset, {}).get("run")
            self.store.delete(self._stale(partition, manifest["run"], earlier))
        return build

    def _stale(self, partition: Partition, run: str, replaced: str | None) -> list[str]:
        """The files a commit of ``run`` makes garbage: the replaced manifest's, and those of
        writes abandoned long ago (a writer that died). Never another write's still in flight:
        its own commit would point at deleted files. Only ``run=`` folders: other keys under the
        prefix (a quarantined exchange file's copy under files/) are not the partition's."""
        started = _run_started(run)
        stale = []
        for key in self.store.list(f"{partition.prefix}/run="):
            other = key.removeprefix(partition.prefix + "/").split("/", 1)[0]
            if other != run and (other == replaced or started - _run_started(other) > ABANDONED):
                stale.append(key)
        return stale

    def partitions(self, zone: str, dataset: str, until: date | None = None) -> list[Partition]:
        """The committed partitions of a dataset, oldest first (those up to ``until``); not for
        the curated zone, whose partitions a day's build lists (:meth:`read_build`)."""
        base = Partition(zone, dataset, date.min).prefix.rsplit("/", 1)[0]
        found = []
        for key in self.store.list(base + "/"):
            if key.endswith("/" + MANIFEST):
                dt = date.fromisoformat(key.split("/dt=", 1)[1].split("/", 1)[0])
                if until is None or dt <= until:
                    found.append(Partition(zone, dataset, dt))
        return sorted(found, key=lambda p: p.dt)


def _partition_of(manifest: dict) -> Partition:
    return Partition(manifest["zone"], manifest["dataset"], date.fromisoformat(manifest["dt"]))


def _build_key(day: date) -> str:
    return f"{BUILT}/_builds/dt={day.isoformat()}/{MANIFEST}"


def _json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode()


def _run_started(run: str) -> datetime:
    """When the write of a run (its folder's name, ``run=<time>-<id>``) started."""
    started = run.removeprefix("run=").split("-", 1)[0]
    return datetime.strptime(started, RUN_TIME).replace(tzinfo=UTC)


def _orchestrator_run() -> dict:
    """The Airflow run that wrote the partition (Airflow exports it to the task's environment)."""
    names = {"dag_id": "AIRFLOW_CTX_DAG_ID", "run_id": "AIRFLOW_CTX_DAG_RUN_ID"}
    found = {key: os.environ[var] for key, var in names.items() if os.environ.get(var)}
    return {"airflow": found} if found else {}


def schema_fingerprint(columns: dict[str, str]) -> str:
    """A short hash of the column names and types, in order."""
    text = json.dumps(list(columns.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _parquet_bytes(table: pa.Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


class PartitionWriter:
    """A Parquet file written batch by batch to local disk, so memory stays bounded; small
    attachments (such as the source's key set) are committed beside it, in the same manifest."""

    def __init__(self, schema: pa.Schema):
        import pyarrow.parquet as pq

        self.schema = schema
        fd, name = tempfile.mkstemp(suffix=".parquet", prefix="govlake-")
        os.close(fd)
        self.path = Path(name)
        self.rows = 0
        self.attachments: dict[str, pa.Table] = {}
        self.metadata: dict = {}  # what the writer learns while writing, for the manifest
        self._started = (datetime.now(UTC), time.perf_counter())
        # zstd alone compresses these rows smaller and faster than with dictionary pages on top.
        self._writer = pq.ParquetWriter(self.path, schema, compression="zstd", use_dictionary=False)

    def attach(self, role: str, table: pa.Table) -> None:
        self.attachments[role] = table

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        if data.schema != self.schema:
            data = data.select(self.schema.names).cast(self.schema)
        self._writer.write(data)
        self.rows += data.num_rows

    def finish(self) -> tuple[Path, int]:
        self._writer.close()
        return self.path, self.rows

    def timings(self) -> dict:
        """When the write started and how long it took (reading the source included)."""
        started_at, started = self._started
        return {
            "started_at": started_at.isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 3),
        }

    def abort(self) -> None:
        self._writer.close()
        self.path.unlink(missing_ok=True)
