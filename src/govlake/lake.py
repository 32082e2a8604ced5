"""The lake: object-store paths and atomic partition writes, on a local directory or S3.

Layout: ``<zone>/<system>/<table>/dt=<YYYY-MM-DD>/`` with zones exchange, raw, quarantine, clean
and curated. A partition is written whole and replaced whole: the data files of a write go under
a fresh ``run=<id>/`` prefix, then ``_manifest.json`` is put in one request. The manifest is the
commit point on both backends (S3 has no rename): readers follow it, so they see the old partition
or the new one, never a mix. Files of older runs are deleted after the commit.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from govlake.config import Settings
from govlake.errors import CredentialsError, LakeError

if TYPE_CHECKING:
    import pyarrow as pa
    from minio import Minio

ZONES = ("exchange", "raw", "quarantine", "clean", "curated")
MANIFEST = "_manifest.json"


class Store(Protocol):
    def put_file(self, local_path: Path, key: str) -> None: ...
    def put_bytes(self, data: bytes, key: str) -> None: ...
    def get_bytes(self, key: str) -> bytes | None: ...
    def list(self, prefix: str) -> list[str]: ...
    def delete(self, keys: Iterable[str]) -> None: ...
    def uri(self, key: str) -> str: ...
    def describe(self) -> str: ...


class LocalStore:
    """A directory. Writes go through a temporary file and an atomic rename."""

    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, local_path: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(local_path, target)

    def put_bytes(self, data: bytes, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.exists() else None

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return sorted(
            str(p.relative_to(self.root))
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            _prune_empty_dirs(path.parent, stop=self.root)

    def uri(self, key: str) -> str:
        return str(self._path(key))

    def describe(self) -> str:
        return str(self.root)


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    while directory != stop and directory.exists() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


class S3Store:
    """A bucket on any S3 server, spoken to with the minio SDK."""

    def __init__(self, client: Minio, bucket: str, endpoint: str):
        self.client, self.bucket, self.endpoint = client, bucket, endpoint

    @contextmanager
    def _errors(self) -> Iterator[None]:
        from minio.error import S3Error
        from urllib3.exceptions import HTTPError

        try:
            yield
        except S3Error as exc:
            if exc.code in {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}:
                raise CredentialsError(
                    f"S3 at {self.endpoint} rejected the credentials ({exc.code}): "
                    "check GOVLAKE_S3_ACCESS_KEY and GOVLAKE_S3_SECRET_KEY"
                ) from None
            if exc.code == "NoSuchBucket":
                raise LakeError(
                    f"bucket {self.bucket!r} does not exist on {self.endpoint}: "
                    "create it or set GOVLAKE_S3_BUCKET"
                ) from None
            raise LakeError(f"S3 at {self.endpoint}: {exc.code}: {exc.message}") from None
        except HTTPError as exc:
            raise LakeError(
                f"cannot reach S3 at {self.endpoint} ({type(exc).__name__}): is it running? "
                "(`make up`, or check GOVLAKE_S3_ENDPOINT)"
            ) from None

    def put_file(self, local_path: Path, key: str) -> None:
        with self._errors():
            self.client.fput_object(self.bucket, key, str(local_path))
        local_path.unlink(missing_ok=True)

    def put_bytes(self, data: bytes, key: str) -> None:
        import io

        with self._errors():
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data))

    def get_bytes(self, key: str) -> bytes | None:
        from minio.error import S3Error

        with self._errors():
            try:
                response = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if exc.code == "NoSuchKey":
                    return None
                raise
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def list(self, prefix: str) -> list[str]:
        with self._errors():
            objects = self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            return sorted(o.object_name for o in objects)

    def delete(self, keys: Iterable[str]) -> None:
        from minio.deleteobjects import DeleteObject

        with self._errors():
            errors = list(self.client.remove_objects(self.bucket, [DeleteObject(k) for k in keys]))
        if errors:
            raise LakeError(f"S3 could not delete {len(errors)} objects: {errors[0]}")

    def uri(self, key: str) -> str:
        return f"s3a://{self.bucket}/{key}"

    def describe(self) -> str:
        return f"s3://{self.bucket} on {self.endpoint}"


def open_store(settings: Settings) -> Store:
    if not settings.uses_s3:
        assert settings.lake_dir is not None  # the embedded profile always sets it
        return LocalStore(settings.lake_dir)
    import urllib3
    from minio import Minio

    if settings.s3_access_key is None or settings.s3_secret_key is None:
        raise LakeError("GOVLAKE_S3_ENDPOINT is set but GOVLAKE_S3_ACCESS_KEY/SECRET_KEY are not")
    # Few, quick retries: an unreachable server should fail in seconds with a clear message.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=3, read=60),
        retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504)),
    )
    client = Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http,
    )
    return S3Store(client, settings.s3_bucket, settings.s3_endpoint)


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
        data = self.store.get_bytes(f"{partition.prefix}/{MANIFEST}")
        return json.loads(data) if data is not None else None

    def file_uris(self, partition: Partition) -> list[str]:
        manifest = self.read_manifest(partition)
        if manifest is None:
            raise LakeError(f"partition {partition.prefix} has not been written")
        return [self.store.uri(f["key"]) for f in manifest["files"]]

    def read_table(self, partition: Partition, schema: pa.Schema | None = None) -> pa.Table:
        """A whole partition as one Arrow table (for the partitions a task handles, not years)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        manifest = self.read_manifest(partition)
        if manifest is None:
            raise LakeError(f"partition {partition.prefix} has not been written")
        tables = [
            pq.read_table(pa.BufferReader(self.store.get_bytes(f["key"])))
            for f in manifest["files"]
        ]
        if not tables:
            return (schema or pa.schema([])).empty_table()
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
        self._commit(partition, writer, metadata or {})

    def _commit(self, partition: Partition, writer: PartitionWriter, metadata: dict) -> None:
        run = self.new_run_prefix(partition)
        local, rows = writer.finish()
        key = f"{run}/part-00000.parquet"
        self.store.put_file(local, key)
        self.commit(partition, run, [{"key": key, "rows": rows}], writer.schema.names, metadata)

    @staticmethod
    def new_run_prefix(partition: Partition) -> str:
        """Where a new write of ``partition`` puts its files before committing them."""
        return f"{partition.prefix}/run={datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"

    def commit(
        self,
        partition: Partition,
        run: str,
        files: list[dict],
        columns: list[str],
        metadata: dict,
    ) -> dict:
        """Make ``files`` (already under ``run``) the partition's content; drop older runs."""
        manifest = {
            "zone": partition.zone,
            "dataset": partition.dataset,
            "dt": partition.dt.isoformat(),
            "run": run.rsplit("/", 1)[-1],
            "rows": sum(f["rows"] for f in files),
            "files": files,
            "columns": columns,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **metadata,
        }
        stale = [
            k
            for k in self.store.list(partition.prefix + "/")
            if not k.startswith(run + "/") and not k.endswith(MANIFEST)
        ]
        self.store.put_bytes(
            json.dumps(manifest, ensure_ascii=False, indent=1).encode(),
            f"{partition.prefix}/{MANIFEST}",
        )
        self.store.delete(stale)
        return manifest

    def partitions(self, zone: str, dataset: str, until: date | None = None) -> list[Partition]:
        """The committed partitions of a dataset, oldest first (those up to ``until``)."""
        base = Partition(zone, dataset, date.min).prefix.rsplit("/", 1)[0]
        found = []
        for key in self.store.list(base + "/"):
            if key.endswith("/" + MANIFEST):
                dt = date.fromisoformat(key.split("/dt=", 1)[1].split("/", 1)[0])
                if until is None or dt <= until:
                    found.append(Partition(zone, dataset, dt))
        return sorted(found, key=lambda p: p.dt)


class PartitionWriter:
    """A Parquet file written batch by batch to local disk, so memory stays bounded."""

    def __init__(self, schema: pa.Schema):
        import pyarrow.parquet as pq

        self.schema = schema
        fd, name = tempfile.mkstemp(suffix=".parquet", prefix="govlake-")
        os.close(fd)
        self.path = Path(name)
        self.rows = 0
        self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")

    def write(self, data: pa.RecordBatch | pa.Table) -> None:
        if data.schema != self.schema:
            data = data.select(self.schema.names).cast(self.schema)
        self._writer.write(data)
        self.rows += data.num_rows

    def finish(self) -> tuple[Path, int]:
        self._writer.close()
        return self.path, self.rows

    def abort(self) -> None:
        self._writer.close()
        self.path.unlink(missing_ok=True)
