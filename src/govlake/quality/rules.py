"""The hand-written rule files, ``expectations/<system>.<table>.json``, read without GX: the DAG
factory orders validation by their lookups while Airflow parses DAG files, so this stays light."""

from __future__ import annotations

import json
from pathlib import Path

from govlake.contracts import Contract


def document(contract: Contract, expectations_dir: Path) -> dict:
    """The table's rule file, parsed ({} when the table has none)."""
    path = expectations_dir / f"{contract.name}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def lookups(contract: Contract, expectations_dir: Path) -> dict[str, dict]:
    """The table's declared lookups: name -> {table, key, columns}."""
    return document(contract, expectations_dir).get("lookups", {})


def referenced_tables(contract: Contract, expectations_dir: Path) -> set[str]:
    """The parent tables whose state the table's rules read (validate those first)."""
    return {spec["table"] for spec in lookups(contract, expectations_dir).values()}
