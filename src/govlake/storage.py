"""Object storage: a local directory or an S3 bucket (spoken to with the minio SDK), behind one
small interface. The lake's partitions and the simulator's exchange files are written through it.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from govlake.config import Settings
from govlake.errors import CredentialsError, LakeError

if TYPE_CHECKING:
    from minio import Minio


class Store(Protocol):
    def put_file(self, local_path: Path, key: str) -> None: ...
    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> None: ...
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
        with self._writing(key, partial=target):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(local_path, target)

    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> None:
        target = self._path(key)
        with self._writing(key):  # the old file stays until the new one is whole
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

    @contextmanager
    def _writing(self, key: str, partial: Path | None = None) -> Iterator[None]:
        """A full disk (or quota) fails the write as a LakeError naming the lake directory, and
        leaves no half-written file behind (readers trust only committed manifests anyway)."""
        try:
            yield
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            if partial is not None:
                partial.unlink(missing_ok=True)  # a half-copied file
            raise LakeError(
                f"cannot write {key} to the lake directory {self.root}: {exc.strerror}; "
                "free space there and re-run"
            ) from None

    def get_bytes(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.exists() else None

    def list(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, as S3 lists them (a prefix need not end at a "/")."""
        folder = self._path(prefix.rpartition("/")[0]) if "/" in prefix else self.root
        if not folder.exists():
            return []
        keys = (
            str(p.relative_to(self.root))
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-")
        )
        return sorted(k for k in keys if k.startswith(prefix))

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

    def put_bytes(self, data: bytes, key: str, content_type: str | None = None) -> None:
        """``content_type`` matters where objects are served (Data Docs pages), not for data."""
        import io

        kind = content_type or "application/octet-stream"
        with self._errors():
            self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=kind)

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
