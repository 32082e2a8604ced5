"""Superset as a local service of a stack: gunicorn on loopback, metadata in the stack's PostgreSQL,
charts reading the warehouse as a login of the ``govlake_bi`` group role (``mart`` only).

Superset runs from its own virtual environment, ``.venv-bi`` (``make bi``): it cannot share the
pipeline's (SQLAlchemy < 2). govlake never imports it; it runs its commands and talks to its REST
API. Everything lives in ``var/services/<name>/superset/``:

    superset_config.py   the config (no secret: SECRET_KEY and the metadata URL come from the
                         environment of the processes)
    state.json           port, the stack ports it was started against, the Superset version
                         whose metadata schema and roles are in place (no secrets)
    superset.pid  superset.log  setup.log

Secrets (SECRET_KEY, the admin's password, the BI login's password) are generated once into the
stack's ``secrets.json`` (0600); ``GOVLAKE_SUPERSET_ADMIN_PASSWORD``, when set at a start, becomes
the admin's password (kept there; the admin user is reset to it).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from govlake import locks, services
from govlake.config import PROJECT_DIR
from govlake.services import ServiceError

if TYPE_CHECKING:
    from govlake.services import ServiceStack

DATABASE = "superset"  # the metadata database in the stack's PostgreSQL
ADMIN = "admin"
BI_LOGIN = "govlake_bi_superset"  # a login in the govlake_bi group role (migration 0011)
BI_GROUP = "govlake_bi"
WAREHOUSE = "govlake"
DEFAULT_PORT = 8088
VENV = PROJECT_DIR / ".venv-bi"
START_TIMEOUT = 120.0
SETUP_TIMEOUT = 600.0
WORKERS = "2"
CONFIG = '''"""Written by govlake (superset_service.py); secrets come from the environment."""
import os

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URL"]
DATA_DIR = os.environ["SUPERSET_HOME"]
WTF_CSRF_ENABLED = True
TALISMAN_ENABLED = False  # plain http on loopback
SUPERSET_WEBSERVER_TIMEOUT = 120
FEATURE_FLAGS = {"DASHBOARD_RBAC": False}
CACHE_CONFIG = {"CACHE_TYPE": "SimpleCache", "CACHE_DEFAULT_TIMEOUT": 300}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}  # charts always show the warehouse as it is
PREVENT_UNSAFE_DB_CONNECTIONS = False  # the warehouse is on 127.0.0.1
'''


@dataclass
class SupersetService:
    """A running Superset: where it listens and who may log in (passwords hidden from repr)."""

    home: Path
    port: int
    pid: int | None
    admin_password: str = field(repr=False)
    bi_password: str = field(repr=False)
    bi_url: str = field(repr=False)  # the warehouse as the BI login sees it (with its password)
    user: str = ADMIN

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def home(state_dir: Path) -> Path:
    return state_dir / "superset"


def binary(name: str = "superset") -> Path:
    path = VENV / "bin" / name
    if not path.exists():
        raise ServiceError(f"{path} not found: make bi (Superset's own virtual environment)")
    return path


def up(stack: ServiceStack) -> SupersetService:
    """Start Superset against ``stack`` or return it if it already runs healthy against it.

    The caller holds the stack's lock (``services.up``)."""
    root = home(stack.state_dir)
    root.mkdir(mode=0o700, exist_ok=True)
    creds = _credentials(stack.state_dir)
    state = services._read_json(root / "state.json")
    pid = _pid(root)
    if state.get("stack_ports") == [stack.pg_port, stack.s3_port] and pid and _healthy(state):
        _setup_bi_login(stack, creds)
        return _service(stack, root, state["port"], pid, creds)
    stop(stack.state_dir)
    try:
        return _start(stack, root, creds, state)
    except BaseException:
        stop(stack.state_dir)
        raise


def stop(state_dir: Path, fast: bool = False) -> None:
    """Stop gunicorn (its master and workers: one process group)."""
    root = home(state_dir)
    pid = _pid(root)
    services._terminate(pid, signal.SIGKILL if fast else signal.SIGTERM, group=True)
    (root / "superset.pid").unlink(missing_ok=True)


def status(state_dir: Path) -> dict:
    root = home(state_dir)
    state = services._read_json(root / "state.json")
    if not state:
        return {"running": False}
    pid = _pid(root)
    return {
        "running": bool(pid) and _healthy(state),
        "url": f"http://127.0.0.1:{state['port']}",
        "pid": pid,
        "user": ADMIN,
        "password": str(state_dir / "secrets.json") + " (superset_admin_password)",
        "log": str(root / "superset.log"),
    }


# --------------------------------------------------------------------------- start


def _start(stack: ServiceStack, root: Path, creds: dict, old: dict) -> SupersetService:
    superset = str(binary())
    gunicorn = str(binary("gunicorn"))
    _create_database(stack)
    _setup_bi_login(stack, creds)
    services._write_file(root / "superset_config.py", CONFIG, private=False)
    env = _env(stack, root, creds)
    version = _version(superset, env)
    if old.get("initialised") != version:  # db upgrade + init: ~15 s, once per version
        _run([superset, "db", "upgrade"], env, root)
        _run([superset, "init"], env, root)
    _admin(superset, env, root, creds)
    with locks.file_lock(stack.state_dir.parent / ".start.lock"):
        port = services._free_port([old.get("port"), DEFAULT_PORT], set())
        cmd = [
            gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", WORKERS,
            "--worker-class", "gthread", "--threads", "4", "--timeout", "120",
            "--limit-request-line", "0", "--limit-request-field_size", "0",
            "superset.app:create_app()",
        ]  # fmt: skip
        with open(root / "superset.log", "ab") as log:
            child = subprocess.Popen(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=root, start_new_session=True,
            )  # fmt: skip
        services._CHILDREN[child.pid] = child
        services._write_file(root / "superset.pid", f"{child.pid}\n", private=False)
        state = {
            "port": port,
            "stack_ports": [stack.pg_port, stack.s3_port],
            "initialised": version,
        }
        services._write_file(root / "state.json", json.dumps(state, indent=2) + "\n", private=False)
        deadline = time.monotonic() + START_TIMEOUT
        while not _healthy(state):
            if not services._alive(child.pid):
                raise ServiceError(f"Superset exited during start: read {root / 'superset.log'}")
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"Superset was not healthy after {START_TIMEOUT:.0f} s: read "
                    f"{root / 'superset.log'}"
                )
            time.sleep(0.5)
    return _service(stack, root, port, child.pid, creds)


def _service(stack: ServiceStack, root: Path, port: int, pid, creds: dict) -> SupersetService:
    return SupersetService(
        home=root,
        port=port,
        pid=pid,
        admin_password=_admin_password(creds),
        bi_password=creds["superset_bi_password"],
        bi_url=bi_url(stack, creds["superset_bi_password"]),
    )


def bi_url(
    stack: ServiceStack,
    password: str | None = None,
    driver: str = "psycopg2",
    database: str = WAREHOUSE,
) -> str:
    """The stack's warehouse (``database``) as the BI login, with ``driver`` (psycopg2 is
    Superset's; govlake's own venv has psycopg 3)."""
    secret = f":{password}" if password else ""
    return f"postgresql+{driver}://{BI_LOGIN}{secret}@127.0.0.1:{stack.pg_port}/{database}"


def _env(stack: ServiceStack, root: Path, creds: dict) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")
    return {
        **{key: os.environ[key] for key in keep if key in os.environ},
        "SUPERSET_CONFIG_PATH": str(root / "superset_config.py"),
        "SUPERSET_HOME": str(root),
        "SUPERSET_SECRET_KEY": creds["superset_secret_key"],
        "SUPERSET_METADATA_URL": stack.pg_url(DATABASE).replace("+psycopg:", "+psycopg2:"),
        "FLASK_APP": "superset",
        "PYTHONUNBUFFERED": "1",
    }


def _version(superset: str, env: dict[str, str]) -> str:
    python = str(Path(superset).with_name("python"))
    code = "import importlib.metadata as m; print(m.version('apache-superset'))"
    done = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    return done.stdout.strip()


def _run(cmd: list[str], env: dict[str, str], root: Path, secret: str | None = None) -> None:
    log = root / "setup.log"
    with open(log, "ab") as out:
        shown = " ".join(c if c != secret else "***" for c in cmd[1:])
        out.write(f"$ superset {shown}\n".encode())
        out.flush()
        try:
            done = subprocess.run(
                cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=root, timeout=SETUP_TIMEOUT,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise ServiceError(f"`superset {cmd[1]}` took too long: read {log}") from None
    if done.returncode != 0:
        raise ServiceError(f"`superset {shown}` failed: read {log}")


def _admin(superset: str, env: dict[str, str], root: Path, creds: dict) -> None:
    """The admin user, its password the current one (created once, reset when it changed)."""
    password = _admin_password(creds)
    python = str(Path(superset).with_name("python"))
    probe = (
        "from superset.app import create_app\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    from superset import security_manager as sm\n"
        f"    user = sm.find_user({ADMIN!r})\n"
        "    import sys\n"
        "    sys.exit(0 if user is None else 3)\n"
    )
    done = subprocess.run([python, "-c", probe], env=env, capture_output=True, cwd=root)
    if done.returncode == 0:
        cmd = [
            superset, "fab", "create-admin", "--username", ADMIN, "--firstname", "govlake",
            "--lastname", "admin", "--email", "admin@govlake.invalid", "--password", password,
        ]  # fmt: skip
    elif done.returncode == 3:
        cmd = [superset, "fab", "reset-password", "--username", ADMIN, "--password", password]
    else:
        raise ServiceError(f"Superset's app does not start: {done.stderr.decode()[-500:]}")
    _run(cmd, env, root, secret=password)


def _admin_password(creds: dict) -> str:
    return creds["superset_admin_password"]


def _create_database(stack: ServiceStack) -> None:
    import psycopg
    from psycopg import sql

    with _superuser(stack) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(DATABASE), sql.Identifier(services.ROLE)
                )
            )
    del psycopg


def _setup_bi_login(stack: ServiceStack, creds: dict) -> None:
    """The login Superset reads the warehouse as: a member of govlake_bi (SELECT on mart only)."""
    from psycopg import sql

    with _superuser(stack) as conn:
        conn.execute(
            sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {name}) "
                "THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
            ).format(name=sql.Literal(BI_GROUP), role=sql.Identifier(BI_GROUP))
        )
        verifier = conn.pgconn.encrypt_password(
            creds["superset_bi_password"].encode(), BI_LOGIN.encode(), b"scram-sha-256"
        ).decode()
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BI_LOGIN,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        conn.execute(
            sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                sql.Identifier(BI_LOGIN), sql.Literal(verifier)
            )
        )
        conn.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(BI_GROUP), sql.Identifier(BI_LOGIN))
        )


def _superuser(stack: ServiceStack):
    import psycopg

    return psycopg.connect(
        host=str(stack.pg_dir / "run"), port=stack.pg_port, user="postgres", dbname="postgres",
        autocommit=True, connect_timeout=10,
    )  # fmt: skip


def _credentials(state_dir: Path) -> dict:
    path = state_dir / "secrets.json"
    creds = services._read_json(path)
    keys = ("superset_secret_key", "superset_admin_password", "superset_bi_password")
    missing = [key for key in keys if key not in creds]
    given = os.environ.get("GOVLAKE_SUPERSET_ADMIN_PASSWORD")
    if missing or (given and given != creds.get("superset_admin_password")):
        creds.update({key: secrets.token_urlsafe(32) for key in missing})
        if given:  # kept, so later commands (dashboards import) log in without it set
            creds["superset_admin_password"] = given
        services._write_file(path, json.dumps(creds) + "\n", private=True)
    return creds


def _pid(root: Path) -> int | None:
    pid = services._read_pid(root / "superset.pid")
    if not pid:
        return None
    args = services._CHILDREN[pid].args if pid in services._CHILDREN else services._args(pid)
    return pid if any("gunicorn" in str(a) for a in args) and services._alive(pid) else None


def _healthy(state: dict, timeout: float = 3) -> bool:
    url = f"http://127.0.0.1:{state['port']}/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # nosec B310 # http only
            return response.read().strip() == b"OK"
    except (OSError, urllib.error.URLError):
        return False
