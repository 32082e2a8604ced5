"""The warehouse's record of data quality (``dq.table_runs``, ``dq.rule_counts``), rebuilt from
the lake's manifests at every load: the manifests are the truth, so a re-run or a backfill that
rewrote a partition is reflected exactly, and the record needs no writer in the validate tasks.
"""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa

from govlake import contracts
from govlake.lake import Lake, Partition

TABLE_RUNS = pa.schema(
    [
        ("dataset", pa.string()),
        ("dt", pa.date32()),
        ("source_system", pa.string()),
        ("raw_rows", pa.int64()),
        ("clean_rows", pa.int64()),
        ("quarantined_rows", pa.int64()),
        ("flagged_rows", pa.int64()),
        ("resends_merged", pa.int64()),
        ("rejected_files", pa.int32()),
        ("reconciled", pa.bool_()),
        ("held", pa.bool_()),
        ("validated_at", pa.timestamp("us", tz="UTC")),
    ]
)
RULE_COUNTS = pa.schema(
    [
        ("dataset", pa.string()),
        ("dt", pa.date32()),
        ("rule", pa.string()),
        ("outcome", pa.string()),
        ("rows", pa.int64()),
    ]
)
# quality summary key -> outcome recorded (normalisations count values changed, per column:rule)
# and released rows, loaded clean because an operator released the rule (quality.releases)
OUTCOMES = {
    "quarantined_by": "quarantine",
    "flagged_by": "flag",
    "normalised_values": "normalise",
    "released_by": "released",
}


def quality_tables(lake: Lake, until: date) -> dict[str, pa.Table]:
    """``dq.table_runs`` and ``dq.rule_counts`` for every validated partition up to ``until``."""
    runs, rules = [], []
    for contract in contracts.CONTRACTS.values():
        for clean in lake.partitions("clean", contract.name, until=until):
            run, counts = _table_day(lake, contract, clean.dt)
            runs.append(run)
            rules.extend(counts)
    return {
        "dq.table_runs": pa.Table.from_pylist(runs, TABLE_RUNS),
        "dq.rule_counts": pa.Table.from_pylist(rules, RULE_COUNTS),
    }


def _table_day(lake: Lake, contract: contracts.Contract, dt: date) -> tuple[dict, list[dict]]:
    def manifest(zone: str) -> dict:
        return lake.read_manifest(Partition(zone, contract.name, dt)) or {}

    raw, clean, held = manifest("raw"), manifest("clean"), manifest("quarantine")
    quality = clean.get("quality", {})
    run = {
        "dataset": contract.name,
        "dt": dt,
        "source_system": contract.system,
        "raw_rows": raw.get("rows", 0),
        "clean_rows": clean.get("rows", 0),
        "quarantined_rows": held.get("rows", 0),
        "flagged_rows": quality.get("flagged_rows", 0),
        "resends_merged": raw.get("resends_merged", 0),
        "rejected_files": len(raw.get("rejected_files", [])),
        "reconciled": bool(raw) and raw.get("rows") == clean.get("rows", 0) + held.get("rows", 0),
        "held": bool(clean.get("gates", {}).get("held", False)),
        "validated_at": datetime.fromisoformat(clean["written_at"]),
    }
    counts = [
        {"dataset": contract.name, "dt": dt, "rule": rule, "outcome": outcome, "rows": rows}
        for key, outcome in OUTCOMES.items()
        for rule, rows in sorted(quality.get(key, {}).items())
    ]
    return run, counts
