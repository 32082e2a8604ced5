"""Transaction dimensions and facts (filled in by the warehouse issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govlake.transform.run import BuildRun

TABLES: tuple[str, ...] = ()


def build(run: BuildRun) -> None:
    """Writes this domain's TABLES."""
