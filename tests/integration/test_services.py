"""The local services manager against the real servers: S3 and PostgreSQL, auth, lifecycle."""

from __future__ import annotations

import io
import json
import os
import signal
import stat
from pathlib import Path

import psycopg
import pytest
from minio import Minio
from minio.error import S3Error

from govlake import services

pytestmark = pytest.mark.services

# SeaweedFS answers a wrong secret with AccessDenied, an unknown key with InvalidAccessKeyId.
AUTH_ERRORS = {"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId"}
VAR_DIR = Path(__file__).resolve().parents[2] / "var"  # where conftest starts the session stack


def _minio(env: dict[str, str], secret: str | None = None, key: str | None = None) -> Minio:
    return Minio(
        env["GOVLAKE_S3_ENDPOINT"],
        access_key=key or env["GOVLAKE_S3_ACCESS_KEY"],
        secret_key=secret or env["GOVLAKE_S3_SECRET_KEY"],
        secure=False,
        region="us-east-1",
    )


def _libpq(url: str) -> str:
    """SQLAlchemy URL -> libpq URL."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _running(pid: int) -> bool:
    """The process exists and is not a zombie (this machine's init reaps late)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _stack_pids(stack: services.ServiceStack) -> set[int]:
    """The weed process, the postmaster and all postmaster children."""
    pids = {stack.s3_pid, stack.pg_pid}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == stack.pg_pid:
                pids.add(int(entry.name))
    return {pid for pid in pids if pid}


def test_s3_round_trip(services_env):
    client = _minio(services_env)
    bucket = services_env["GOVLAKE_S3_BUCKET"]
    assert client.bucket_exists(bucket)
    body = "统一社会信用代码 round trip".encode()
    client.put_object(bucket, "it/services/hello.txt", io.BytesIO(body), len(body))
    response = client.get_object(bucket, "it/services/hello.txt")
    try:
        assert response.read() == body
    finally:
        response.close()
        response.release_conn()
    listed = [o.object_name for o in client.list_objects(bucket, prefix="it/", recursive=True)]
    assert listed == ["it/services/hello.txt"]
    client.remove_object(bucket, "it/services/hello.txt")
    assert list(client.list_objects(bucket, prefix="it/", recursive=True)) == []


def test_s3_rejects_wrong_secret_and_unknown_key(services_env):
    bucket = services_env["GOVLAKE_S3_BUCKET"]
    with pytest.raises(S3Error) as wrong_secret:
        _minio(services_env, secret="not-the-secret").bucket_exists(bucket)
    assert wrong_secret.value.code in AUTH_ERRORS
    with pytest.raises(S3Error) as unknown_key:
        _minio(services_env, key="NOSUCHKEY", secret="x" * 30).bucket_exists(bucket)
    assert unknown_key.value.code in AUTH_ERRORS


def test_postgres_password_login_and_databases(services_env):
    urls = {
        "govlake": services_env["GOVLAKE_WAREHOUSE_URL"],
        "src_credit": services_env["GOVLAKE_SOURCE_URLS__CREDIT"],
        "src_approval": services_env["GOVLAKE_SOURCE_URLS__APPROVAL"],
        "src_enforcement": services_env["GOVLAKE_SOURCE_URLS__ENFORCEMENT"],
        "credit_db": services_env["GOVLAKE_CREDIT_DB_URL"],
    }
    for database, url in urls.items():
        assert url.startswith("postgresql+psycopg://govlake:")
        with psycopg.connect(_libpq(url), connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT current_user, current_database(), pg_get_userbyid(datdba), version()"
                " FROM pg_database WHERE datname = current_database()"
            ).fetchone()
            assert row[:3] == ("govlake", database, "govlake")
            assert row[3].startswith("PostgreSQL 15")
            # The owner can create tables in its database (PG 15 public schema).
            conn.execute("CREATE TEMP TABLE t (x int)")


def test_postgres_rejects_wrong_password(services_env):
    url = services_env["GOVLAKE_WAREHOUSE_URL"]
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(_libpq(url.replace(password, "wrong-password")), connect_timeout=5)


def test_up_is_idempotent(services_stack):
    again = services.up(services_stack.name, VAR_DIR)
    assert (again.pg_port, again.s3_port) == (services_stack.pg_port, services_stack.s3_port)
    assert (again.pg_pid, again.s3_pid) == (services_stack.pg_pid, services_stack.s3_pid)
    assert again.env() == services_stack.env()


def test_status_reports_running_without_secrets(services_stack):
    report = services.status(services_stack.name, VAR_DIR)
    assert report["running"] is True
    assert report["postgres"]["port"] == services_stack.pg_port
    assert report["s3"]["port"] == services_stack.s3_port
    assert report["postgres"]["pid"] == services_stack.pg_pid
    assert report["s3"]["pid"] == services_stack.s3_pid
    shown = json.dumps(report)
    for secret in (
        services_stack.pg_password,
        services_stack.s3_access_key,
        services_stack.s3_secret_key,
    ):
        assert secret not in shown
        assert secret not in repr(services_stack)
    assert services.status("never-started", VAR_DIR)["running"] is False


def test_secrets_are_private_and_never_logged(services_stack):
    state_dir = services_stack.state_dir
    env_file = services_stack.env_file
    lines = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert lines == services_stack.env()
    for private in (env_file, state_dir / "secrets.json", state_dir / "s3.json"):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    logs = services_stack.s3_log.read_text() + services_stack.pg_log.read_text()
    assert services_stack.pg_password not in logs
    assert services_stack.s3_secret_key not in logs


def test_second_stack_runs_beside_the_first_and_stops_cleanly(services_stack):
    name = f"{services_stack.name}-second"
    try:
        second = services.up(name, VAR_DIR)
        assert {second.pg_port, second.s3_port}.isdisjoint(
            {services_stack.pg_port, services_stack.s3_port}
        )
        assert second.s3_access_key != services_stack.s3_access_key
        assert _minio(second.env()).bucket_exists("govlake")

        # A crashed S3 server (stale pid file) is noticed and restarted on the same ports.
        os.killpg(second.s3_pid, signal.SIGKILL)
        restarted = services.up(name, VAR_DIR)
        assert restarted.s3_pid != second.s3_pid
        assert (restarted.pg_port, restarted.s3_port) == (second.pg_port, second.s3_port)
        assert _minio(restarted.env()).bucket_exists("govlake")

        pids = _stack_pids(restarted)
        assert len(pids) >= 3 and all(_running(pid) for pid in pids)
    finally:
        services.down(name, VAR_DIR, purge=True)
    assert not [pid for pid in pids if _running(pid)]
    assert not restarted.state_dir.exists()
    assert services.status(name, VAR_DIR)["running"] is False
    services.down(name, VAR_DIR)  # idempotent

    # The first stack was not touched.
    assert services.status(services_stack.name, VAR_DIR)["running"] is True
    with psycopg.connect(_libpq(services_stack.env()["GOVLAKE_WAREHOUSE_URL"])) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert _minio(services_stack.env()).bucket_exists("govlake")
