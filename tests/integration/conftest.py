"""Integration tests run against a real PostgreSQL 15 and a real S3 server (SeaweedFS).

One stack per test session, named ``test-<pid>`` so it never collides with a ``make up`` stack
("local") or another session; it is stopped and deleted at the end, also when tests fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from govlake import services

VAR_DIR = Path(__file__).resolve().parents[2] / "var"


def _purge_stale_test_stacks() -> None:
    """Remove test stacks whose session was killed before its teardown ran."""
    for state_dir in (VAR_DIR / "services").glob("test-*"):
        owner = state_dir.name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            services.down(state_dir.name, VAR_DIR, purge=True)


@pytest.fixture(scope="session")
def services_stack() -> Iterator[services.ServiceStack]:
    name = f"test-{os.getpid()}"
    _purge_stale_test_stacks()
    try:
        yield services.up(name, VAR_DIR)
    finally:
        services.down(name, VAR_DIR, purge=True)


@pytest.fixture(scope="session")
def services_env(services_stack: services.ServiceStack) -> dict[str, str]:
    """The GOVLAKE_* variables that point govlake at the session's services."""
    return services_stack.env()
