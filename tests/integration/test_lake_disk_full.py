"""The lake directory's disk fills up mid-write (an embedded lake on a small tmpfs, mounted by
root): the extract fails with a LakeError naming the lake directory and the cause, the previous
partition stays whole and visible, no half-written file is left, and once space is freed a re-run
lands the same data.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from govlake import pipeline, steps
from govlake.config import Settings
from govlake.errors import LakeError
from govlake.lake import Lake
from tests.conftest import DAY, REGISTER
from tests.integration.test_extract_faults import PART, _landed


def _mount(lake_dir: Path, size: str, remount: bool = False) -> bool:
    options = f"remount,size={size}" if remount else f"size={size}"
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(lake_dir)]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0  # noqa: S603


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory) -> Iterator[Settings]:
    """Embedded settings whose lake directory is a tmpfs of its own, the register landed once."""
    var_dir = tmp_path_factory.mktemp("disk_full")
    lake_dir = var_dir / "small_lake"
    lake_dir.mkdir()
    if not _mount(lake_dir, "16m"):
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        settings = Settings(var_dir=var_dir, lake_dir=lake_dir, _env_file=None)
        pipeline.seed_sources(settings, DAY, "tiny")
        steps.extract(settings, REGISTER.name, DAY, full=True)
        yield settings
    finally:
        subprocess.run(["umount", "-l", str(lake_dir)], check=False)  # noqa: S603, S607


def _files(lake_dir: Path) -> set[Path]:
    return {p for p in lake_dir.rglob("*") if p.is_file()}


def test_a_full_lake_disk_fails_the_write_cleanly(small_lake):
    lake_dir = small_lake.lake_dir
    before, files = _landed(small_lake), _files(lake_dir)
    disk = os.statvfs(lake_dir)
    used_kib = (disk.f_blocks - disk.f_bfree) * disk.f_frsize // 1024
    assert _mount(lake_dir, f"{used_kib + 8}k", remount=True)  # a few KiB left
    with pytest.raises(LakeError, match="No space left on device") as failed:
        steps.extract(small_lake, REGISTER.name, DAY, full=True)
    assert str(lake_dir) in str(failed.value) and "\n" not in str(failed.value)
    assert _landed(small_lake) == before  # the previous partition, whole and visible
    assert Lake.from_settings(small_lake).read_manifest(PART)["run"] == before[0]
    leftovers = {p for p in _files(lake_dir) - files if p.stat().st_size}
    assert not leftovers, leftovers  # nothing half-written

    assert _mount(lake_dir, "16m", remount=True)  # space freed
    steps.extract(small_lake, REGISTER.name, DAY, full=True)
    run, data = _landed(small_lake)
    assert run != before[0] and data == before[1]
