"""The govlake command as a user runs it: exit codes and one-line errors, secrets hidden."""

import json
import os
import subprocess
import sys
from pathlib import Path

GOVLAKE = str(Path(sys.executable).with_name("govlake"))


def _run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOVLAKE_")}
    environment.update(COLUMNS="200", **env)
    return subprocess.run(
        [GOVLAKE, *args], env=environment, capture_output=True, text=True, check=False
    )


def test_config_show_hides_secrets(tmp_path):
    done = _run(
        "config",
        "show",
        "--json",
        GOVLAKE_VAR_DIR=str(tmp_path),
        GOVLAKE_S3_SECRET_KEY="do-not-print-me",
        GOVLAKE_WAREHOUSE_URL="postgresql+psycopg://u:pg-password-9@h:5/w",
    )
    assert done.returncode == 0
    shown = json.loads(done.stdout)
    assert shown["s3_secret_key"] == "**********"
    assert "do-not-print-me" not in done.stdout and "pg-password-9" not in done.stdout


def test_an_unreachable_warehouse_is_one_line_without_the_password(tmp_path):
    done = _run(
        "warehouse",
        "migrate",
        GOVLAKE_VAR_DIR=str(tmp_path),
        GOVLAKE_WAREHOUSE_URL="postgresql+psycopg://u:pg-password-9@127.0.0.1:1/w",
    )
    assert done.returncode == 1
    assert done.stdout.strip().count("\n") == 0 and "Traceback" not in done.stdout + done.stderr
    assert "cannot connect to the warehouse" in done.stdout
    assert "pg-password-9" not in done.stdout + done.stderr


def test_production_without_secrets_says_which_are_missing():
    done = _run("config", "show", GOVLAKE_PROFILE="production")
    assert done.returncode == 2
    assert "GOVLAKE_S3_SECRET_KEY" in done.stdout and "Traceback" not in done.stderr


def test_an_unknown_system_is_a_usage_error(tmp_path):
    done = _run("extract", "nope", GOVLAKE_VAR_DIR=str(tmp_path))
    assert done.returncode == 2
    assert "known: approval, credit, enforcement, transaction" in done.stderr


def test_gate_override_is_recorded_and_listed(tmp_path):
    env = {"GOVLAKE_VAR_DIR": str(tmp_path), "USER": "zhang"}
    done = _run("gate", "override", "approval.cases", "2026-11-24", "--reason", "verified", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "released approval.cases 2026-11-24 by zhang: verified" in done.stdout
    assert "clear build_warehouse" in done.stdout
    listed = _run("gate", "list", "--date", "2026-11-24", **env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "0 held, 1 override(s) recorded for 2026-11-24" in listed.stdout
    unknown = _run("gate", "override", "approval.nope", "2026-11-24", "--reason", "x", **env)
    assert unknown.returncode != 0
