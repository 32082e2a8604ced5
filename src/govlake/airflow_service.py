"""Airflow as a local service of a stack: API server (UI and REST), scheduler, DAG processor and
triggerer, scheduling govlake's DAGs against the stack's PostgreSQL and S3 server.

``govlake services up`` (``make up``) starts it after PostgreSQL and the S3 server; the test
suite's stacks do not, unless a test asks (``services.up(..., airflow=True)``). Everything lives
in ``var/services/<name>/airflow/``, which is also ``AIRFLOW_HOME``:

    state.json        API port, process ids, the stack ports it was started against (no secrets)
    passwords.json    the simple auth manager's password file (0600): user ``admin``
    airflow.env       AIRFLOW_* and GOVLAKE_* variables of the processes (0600), to run the
                      ``airflow`` command against this instance
    <process>.pid     "pid start-time boot-id" of api-server, scheduler, dag-processor, triggerer
    <process>.log     their output; db-migrate.log the metadata migration
    logs/             task logs (read by the UI)

Choices: the metadata database is ``airflow`` in the stack's PostgreSQL (owned by the govlake
role), so the scheduler runs the LocalExecutor (SQLite would serialise every task). The API port
is chosen free at start (8080 if free). Nothing else listens: the scheduler and triggerer are
started with ``--skip-serve-logs`` (their log servers would bind every interface on fixed ports);
the API server reads task logs from ``logs/`` on this same machine. Secrets (JWT secret, API
secret key, Fernet key, admin password) are generated once into the stack's ``secrets.json``
(0600) and reach the processes only through their environment. Each process runs in its own
session; stopping signals its process group and then kills whatever is left in its session, so
task processes (own process groups) do not outlive it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from govlake import locks, services
from govlake.services import ServiceError

if TYPE_CHECKING:
    from govlake.services import ServiceStack

DATABASE = "airflow"
ADMIN = "admin"
API_DEFAULT_PORT = 8080
# The API server binds its port once the app is imported; on 2 busy cores that takes ~20 s.
LISTEN_TIMEOUT = 120.0
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0  # the scheduler lets running task processes finish their shutdown
MIGRATE_TIMEOUT = 600.0
# Started in this order; stopped all at once.
PROCESSES = {
    "api-server": ["api-server", "--host", "127.0.0.1"],  # "--port" added at start
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
    "triggerer": ["triggerer", "--skip-serve-logs"],
}
HEALTH_PARTS = ("metadatabase", "scheduler", "dag_processor", "triggerer")
# Sized for a 2-core machine; each can be overridden from the environment of `govlake services up`.
TUNABLES = {
    "AIRFLOW__CORE__PARALLELISM": "2",
    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
    "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "60",  # new DAG files show within a minute
    "AIRFLOW__TRIGGERER__CAPACITY": "100",
}
SECRET_KEYS = (
    "airflow_admin_password",
    "airflow_jwt_secret",
    "airflow_api_secret_key",
    "airflow_fernet_key",
)


@dataclass
class AirflowService:
    """A running Airflow: where it listens, who may log in (the password hidden from repr)."""

    home: Path
    port: int
    pids: dict[str, int]
    admin_password: str = field(repr=False)
    user: str = ADMIN

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def password_file(self) -> Path:
        return self.home / "passwords.json"

    @property
    def env_file(self) -> Path:
        return self.home / "airflow.env"


# --------------------------------------------------------------------------- public API


def home(state_dir: Path) -> Path:
    return state_dir / "airflow"


def up(stack: ServiceStack, var_dir: Path) -> AirflowService:
    """Start Airflow against ``stack`` or return it if it already runs healthy against it.

    The caller holds the stack's lock (``services.up``)."""
    root = home(stack.state_dir)
    root.mkdir(mode=0o700, exist_ok=True)
    creds = _credentials(stack.state_dir)
    state = services._read_json(root / "state.json")
    pids = {proc: _pid(root, proc) for proc in PROCESSES}
    same_stack = state.get("stack_ports") == [stack.pg_port, stack.s3_port]
    if same_stack and all(pids.values()) and _healthy(_health(state["port"])):
        return AirflowService(root, state["port"], pids, creds["airflow_admin_password"])
    stop(stack.state_dir)  # stale, half-running or started against other ports: afresh
    try:
        return _start(stack, var_dir, root, creds, state.get("port"))
    except BaseException:
        stop(stack.state_dir)  # leave no orphans
        raise


def stop(state_dir: Path, fast: bool = False) -> None:
    """Stop every Airflow process of the stack and whatever runs in their sessions."""
    root = home(state_dir)
    leaders = []
    for proc in PROCESSES:
        recorded = _recorded(root, proc)  # None for a pid file from before a reboot
        if recorded and (_pid(root, proc) or not services._alive(recorded[0])):
            # Ours, or dead: its session may still hold orphans (a pid is not reused while it
            # names a session), so sweep it either way.
            leaders.append(recorded[0])
    if not leaders:
        return
    first = signal.SIGKILL if fast else signal.SIGTERM
    for pid in leaders:
        # A live leader shuts down its own children; a dead one's orphans get the signal direct.
        targets = (
            [(os.killpg, pid)] if services._alive(pid) else [(os.kill, m) for m in _session(pid)]
        )
        for kill, target in targets:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(target, first)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(_session(pid) for pid in leaders) and time.monotonic() < deadline:
        _reap(leaders)
        time.sleep(0.1)
    for pid in leaders:
        for member in _session(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(member, signal.SIGKILL)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(_session(pid) for pid in leaders) and time.monotonic() < deadline:
        _reap(leaders)
        time.sleep(0.05)
    _reap(leaders, wait=True)
    for proc in PROCESSES:
        (root / f"{proc}.pid").unlink(missing_ok=True)


def status(state_dir: Path) -> dict:
    """Processes, URL, health (GET /api/v2/monitor/health) and where the password is; no secret."""
    root = home(state_dir)
    state = services._read_json(root / "state.json")
    if not state:
        return {"running": False}
    pids = {proc: _pid(root, proc) for proc in PROCESSES}
    health = _health(state["port"]) if pids["api-server"] else None
    url = f"http://127.0.0.1:{state['port']}"
    pg_port = state["stack_ports"][0]
    return {
        "running": all(pids.values()) and _healthy(health),
        "url": url,
        "port": state["port"],
        "pids": pids,
        "health": {part: (health or {}).get(part, {}).get("status") for part in HEALTH_PARTS},
        "user": ADMIN,
        "password_file": str(root / "passwords.json"),
        "env_file": str(root / "airflow.env"),
        "logs": str(root),
        "executor": "LocalExecutor",
        "metadata_db": f"postgresql://{services.ROLE}@127.0.0.1:{pg_port}/{DATABASE}",
    }


# --------------------------------------------------------------------------- start


def _start(
    stack: ServiceStack, var_dir: Path, root: Path, creds: dict, old_port: int | None
) -> AirflowService:
    airflow = str(Path(sys.executable).with_name("airflow"))
    if not Path(airflow).exists():
        raise ServiceError(f"{airflow} not found: make install")
    _create_database(stack)
    _write_passwords(root, creds)
    # The port goes into the environment (execution API URL), so it is chosen before migrating;
    # only the start lock below keeps another stack from taking it, so check again there.
    port = services._free_port([old_port, API_DEFAULT_PORT], set())
    env = _env(stack, var_dir, root, port, creds)
    _migrate(airflow, root, env)
    with locks.file_lock(stack.state_dir.parent / ".start.lock"):
        if not services._port_free(port):
            port = services._free_port([API_DEFAULT_PORT], set())
            env = _env(stack, var_dir, root, port, creds)
        _write_env_file(root, env)
        for proc, args in PROCESSES.items():
            extra = ["--port", str(port)] if proc == "api-server" else []
            _spawn(root, proc, [airflow, *args, *extra], env)
        state = {"port": port, "stack_ports": [stack.pg_port, stack.s3_port]}
        services._write_file(root / "state.json", json.dumps(state, indent=2) + "\n", private=False)
        # Hold the lock until the API server has bound its port: no other start may pick it.
        _wait(root, lambda: services._listening(port), LISTEN_TIMEOUT, "its API port to listen")
    _wait(root, lambda: _healthy(_health(port)), START_TIMEOUT, "a healthy /api/v2/monitor/health")
    pids = {proc: _pid(root, proc) for proc in PROCESSES}
    return AirflowService(root, port, pids, creds["airflow_admin_password"])


def _env(stack: ServiceStack, var_dir: Path, root: Path, port: int, creds: dict) -> dict[str, str]:
    """The processes' environment: the DAG settings of ``airflow dags test`` (airflow_env), the
    stack's GOVLAKE_* connections, and this instance's own home, database, port and secrets."""
    from govlake.airflow_cli import airflow_env
    from govlake.config import Profile, Settings

    settings = Settings(profile=Profile.services, var_dir=var_dir)
    url = f"http://127.0.0.1:{port}"
    return {
        **airflow_env(settings),
        **{key: value for key, value in TUNABLES.items() if key not in os.environ},
        **stack.env(),
        "GOVLAKE_PROJECT_DIR": str(settings.project_dir),  # also the processes' working directory
        "AIRFLOW_HOME": str(root),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": stack.pg_url(DATABASE),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(root / "passwords.json"),
        "AIRFLOW__CORE__FERNET_KEY": creds["airflow_fernet_key"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__SECRET_KEY": creds["airflow_api_secret_key"],
        # Signs the task tokens the scheduler hands out and the API server checks: one secret.
        "AIRFLOW__API_AUTH__JWT_SECRET": creds["airflow_jwt_secret"],
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(root / "logs"),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(root / "dag_bundles"),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",  # would bind 0.0.0.0:8974
    }


def _create_database(stack: ServiceStack) -> None:
    """Database ``airflow`` owned by the govlake role (superuser over the 0700 unix socket)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=str(stack.pg_dir / "run"), port=stack.pg_port, user="postgres", dbname="postgres",
        autocommit=True, connect_timeout=10,
    ) as conn:  # fmt: skip
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(services.ROLE)
                )
            )


def _credentials(state_dir: Path) -> dict:
    """The stack's secrets plus Airflow's, generated once into ``secrets.json`` (0600)."""
    path = state_dir / "secrets.json"
    creds = services._read_json(path)
    missing = [key for key in SECRET_KEYS if key not in creds]
    if missing:
        generated = {
            "airflow_admin_password": secrets.token_urlsafe(18),
            "airflow_jwt_secret": secrets.token_urlsafe(48),
            "airflow_api_secret_key": secrets.token_urlsafe(32),
            "airflow_fernet_key": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
        creds.update({key: generated[key] for key in missing})
        services._write_file(path, json.dumps(creds) + "\n", private=True)
    return creds


def _write_passwords(root: Path, creds: dict) -> None:
    # Present before the API server starts, so it never generates (and prints) a password.
    passwords = {ADMIN: creds["airflow_admin_password"]}
    services._write_file(root / "passwords.json", json.dumps(passwords) + "\n", private=True)


def _write_env_file(root: Path, env: dict[str, str]) -> None:
    """What `airflow` needs to act on this instance (e.g. `airflow backfill create`); 0600."""
    keys = sorted(key for key in env if key.startswith(("AIRFLOW", "GOVLAKE_")))
    text = "".join(f"{key}={shlex.quote(env[key])}\n" for key in keys)
    services._write_file(root / "airflow.env", text, private=True)


def _migrate(airflow: str, root: Path, env: dict[str, str]) -> None:
    log = root / "db-migrate.log"
    with open(log, "wb") as out:
        try:
            done = subprocess.run(
                [airflow, "db", "migrate"], env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=root, timeout=MIGRATE_TIMEOUT,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise ServiceError(
                f"`airflow db migrate` took over {MIGRATE_TIMEOUT:.0f} s: read {log}"
            ) from None
    if done.returncode != 0:
        raise ServiceError(f"`airflow db migrate` failed: read {log}")


def _spawn(root: Path, proc: str, cmd: list[str], env: dict[str, str]) -> None:
    with open(root / f"{proc}.log", "ab") as log:
        # Own session: a Ctrl-C in the terminal of `govlake services up` does not reach it, and
        # stop() finds every process it started, task processes included, by session id.
        child = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=env["GOVLAKE_PROJECT_DIR"], start_new_session=True,
        )  # fmt: skip
    services._CHILDREN[child.pid] = child
    identity = f"{child.pid} {_start_time(child.pid)} {_boot_id()}\n"
    services._write_file(root / f"{proc}.pid", identity, private=False)


def _wait(root: Path, ready, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        for proc in PROCESSES:
            if not _pid(root, proc):
                raise ServiceError(f"Airflow's {proc} exited during start: read {root / proc}.log")
        if time.monotonic() > deadline:
            logs = ", ".join(f"{proc}.log" for proc in PROCESSES)
            raise ServiceError(
                f"Airflow was not up after {timeout:.0f} s (waiting for {what}): "
                f"read {logs} in {root}"
            )
        time.sleep(0.5)


# --------------------------------------------------------------------------- health and processes


def _health(port: int, timeout: float = 3) -> dict | None:
    """The API server's health report, or None if it does not answer."""
    url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310 # http only
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _healthy(health: dict | None) -> bool:
    return bool(health) and all(
        (health.get(part) or {}).get("status") == "healthy" for part in HEALTH_PARTS
    )


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot: with the pid, it names one process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def _recorded(root: Path, proc: str) -> tuple[int, str] | None:
    """(pid, start time) from ``proc``'s pid file, if it was written since the last boot."""
    try:
        pid, started, boot = (root / f"{proc}.pid").read_text().split()[:3]
    except (OSError, ValueError):
        return None
    return (int(pid), started) if pid.isdigit() and boot == _boot_id() else None


def _pid(root: Path, proc: str) -> int | None:
    """The pid of ``proc`` if the process recorded in its pid file still runs."""
    recorded = _recorded(root, proc)
    if not recorded:
        return None
    pid, started = recorded
    # Guard against pid reuse: the same pid started at the same time is the same process.
    return pid if services._alive(pid) and _start_time(pid) == started else None


def _session(sid: int) -> list[int]:
    """Live (non-zombie) processes of session ``sid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def _reap(pids: list[int], wait: bool = False) -> None:
    """Collect exit statuses of the leaders this process started, so none stays a zombie."""
    for pid in pids:
        child = services._CHILDREN.get(pid)
        if child is None:
            continue
        if wait:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=STOP_TIMEOUT)
            services._CHILDREN.pop(pid, None)
        else:
            child.poll()
