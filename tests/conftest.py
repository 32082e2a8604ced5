"""Shared fixtures: an isolated var directory and the simulated enterprise register."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from govlake.config import PROJECT_DIR, Settings
from govlake.contracts import get
from govlake.simulator.credit import enterprise_register

DAY = date(2026, 11, 23)
REGISTER = get("credit.enterprise_register")
EXPECTATIONS = PROJECT_DIR / "expectations"


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Embedded-profile settings whose lake, warehouse and sources live in a temporary directory."""
    for name in ("GOVLAKE_PROFILE", "GOVLAKE_S3_ENDPOINT", "GOVLAKE_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "sources").mkdir()
    return Settings(profile="embedded", var_dir=tmp_path, _env_file=None)


@pytest.fixture(scope="session")
def register_rows():
    """300 simulated register rows with their ground truth."""
    return enterprise_register(300, DAY)
