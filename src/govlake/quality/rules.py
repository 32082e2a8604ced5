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


def validation_order(datasets: list[str], expectations_dir: Path) -> list[str]:
    """``datasets`` with every table after the tables its rules look up (as the DAGs run them)."""
    from govlake import contracts

    done: list[str] = []
    pending = list(datasets)
    while pending:
        ready = [
            name
            for name in pending
            if referenced_tables(contracts.get(name), expectations_dir) & set(datasets) <= set(done)
        ]
        if not ready:
            raise ValueError(f"lookup cycle among {pending}")
        done.append(ready[0])
        pending.remove(ready[0])
    return done
