"""Backup and restore of the warehouse and of the lake (README, "Recovery").

- PostgreSQL warehouse: ``pg_dump`` in its custom format. A restore goes into an empty database:
  the migrations first create the model and the cluster's group roles (which a dump does not
  carry), then ``pg_restore --clean`` replaces every object with the dump's, grants included,
  in one transaction. The password travels in the child's environment, never on its command line.
- DuckDB warehouse (embedded): a copy of the file, taken while a read-only connection holds it,
  so no writer can be in the middle of a publish.
- Lake: every object of the bucket or directory as a file, with a manifest of each object's
  SHA-256; a restore checks every file against it before it writes anything back.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from govlake import load
from govlake.config import redact_url
from govlake.errors import GovlakeError
from govlake.storage import Store

MANIFEST = "govlake-backup.json"  # in a lake backup's directory
Progress = Callable[[int, int], None]  # (objects done, objects in all)


def _quiet(done: int, total: int) -> None:
    """No progress shown."""


class BackupError(GovlakeError):
    retryable = False


def backup_warehouse(url: str, target: Path) -> dict:
    """Write a backup of the warehouse at ``url`` to the file ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "duckdb":
        import duckdb

        with duckdb.connect(parsed.database, read_only=True):  # no writer while we copy
            shutil.copyfile(parsed.database, target)
    else:
        _pg("pg_dump", url, ["--format=custom", f"--file={target}"])
    return {"warehouse": redact_url(url), "backup": str(target), "bytes": target.stat().st_size}


def restore_warehouse(url: str, source: Path) -> dict:
    """Restore the backup ``source`` into the warehouse at ``url``, which must be empty (a new
    database, or a DuckDB file that does not exist yet)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "duckdb":
        if Path(parsed.database).exists():
            raise BackupError(f"{parsed.database} exists: restore into a new file")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, parsed.database)
    else:
        if load.current_revision(url) is not None:
            raise BackupError(f"the warehouse at {redact_url(url)} is not empty: use a new one")
        load.migrate(url)  # the group roles the dump's grants name, and the model it replaces
        options = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _pg("pg_restore", url, [*options, "--exit-on-error", str(source)], database_flag=True)
    return {"warehouse": redact_url(url), "restored_from": str(source)}


def _pg(tool: str, url: str, args: list[str], database_flag: bool = False) -> None:
    """Run ``pg_dump`` or ``pg_restore`` of the server's version against ``url``."""
    from govlake.services import pg_bindir

    parsed = make_url(url)
    connect = [f"--host={parsed.host}", f"--port={parsed.port or 5432}"]
    connect += [f"--username={parsed.username}"]
    database = [f"--dbname={parsed.database}"] if database_flag else [str(parsed.database)]
    env = os.environ | ({"PGPASSWORD": parsed.password} if parsed.password else {})
    done = subprocess.run(
        [str(pg_bindir() / tool), *connect, "--no-password", *args, *database],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise BackupError(f"{tool} of {redact_url(url)} failed: {lines[-1]}")


def backup_lake(store: Store, target: Path, progress: Progress = _quiet) -> dict:
    """Copy every object of the lake to files under ``target``, with their SHA-256."""
    digests = {}
    keys = sorted(store.list(""))
    for done, key in enumerate(keys, 1):
        progress(done, len(keys))
        data = store.get_bytes(key)
        if data is None:  # deleted since the listing (a rewrite's clean-up): not part of it
            continue
        path = target / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digests[key] = hashlib.sha256(data).hexdigest()
    (target / MANIFEST).write_text(json.dumps(digests, indent=1, sort_keys=True))
    return {"objects": len(digests), "backup": str(target)}


def restore_lake(store: Store, source: Path, progress: Progress = _quiet) -> dict:
    """Put every object of the backup under ``source`` back into the lake, once each file's
    SHA-256 is checked against the backup's manifest."""
    digests = json.loads((source / MANIFEST).read_text())
    for key, digest in digests.items():
        if hashlib.sha256((source / key).read_bytes()).hexdigest() != digest:
            raise BackupError(f"{source / key} differs from its backup's SHA-256: not restored")
    for done, key in enumerate(digests, 1):
        store.put_file(source / key, key)
        progress(done, len(digests))
    return {"objects": len(digests), "restored_from": str(source)}
