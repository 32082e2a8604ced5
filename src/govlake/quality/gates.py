"""Batch gates: whether a table's day looks like a normal day of that table, from manifests alone.

A failed gate holds the day (DESIGN.md, "Raw is a change log"): validate still writes clean/ and
quarantine/, but the day's build stops with the reason until an operator records an override.
Every function here is pure: it reads the raw partition's manifest, the validation summary,
the previous raw partitions' manifests and the contract, and returns the failed gates as
``[{"gate": name, "reason": one line with the numbers}]``. Nothing reads row values.

The gates:

- ``volume``: the raw rows are inside the contract's daily band, scaled by
  ``GOVLAKE_GATES__VOLUME_SCALE`` (1.0 = city) and widened by ``volume_slack_rows``; the band's
  maximum counts each day the extraction window covers (the look-back doubles it). A full
  snapshot is exempt.
- ``trailing``: the raw rows are within the range of the last incremental days, widened by a
  factor (only with a week of history or more, and only where the counts are large enough not
  to be noise).
- ``schema_drift``: the raw schema's fingerprint equals the previous raw partition's.
- ``freshness``: for incremental SQL loads of tables expected to change every day, the newest
  watermark in the partition is recent enough before the interval's end.
- ``quarantine_share``: quarantined rows plus the declared rows of rejected files and the records
  rejected from files otherwise read, over all rows, stays under a threshold (once there are
  enough of them to be more than noise).
"""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govlake.config import GateSettings
    from govlake.contracts import Contract

GATES = ("volume", "trailing", "schema_drift", "freshness", "quarantine_share")


def evaluate(
    contract: Contract,
    raw: dict,
    quality: dict,
    history: list[dict],
    settings: GateSettings,
) -> list[dict]:
    """The gates the day fails. ``raw`` is the day's raw manifest, ``quality`` the validation
    summary (with ``newest_watermark``, ISO text or None), ``history`` the raw manifests of the
    earlier partitions, oldest first."""
    checks = (
        ("volume", volume(contract, raw, settings)),
        ("trailing", trailing(raw, history, settings)),
        ("schema_drift", schema_drift(raw, history)),
        ("freshness", freshness(contract, raw, quality.get("newest_watermark"), settings)),
        ("quarantine_share", quarantine_share(raw, quality, settings)),
    )
    return [{"gate": gate, "reason": reason} for gate, reason in checks if reason]


def _full(raw: dict) -> bool:
    return raw.get("mode") == "full"


def _window_days(raw: dict) -> float:
    """How many days of changes the partition covers: 1, or more with the look-back."""
    window = raw.get("window")
    if not window:
        return 1.0
    start, end = (datetime.fromisoformat(w) for w in window)
    return max(1.0, (end - start) / timedelta(days=1))


def band(contract: Contract, raw: dict, settings: GateSettings) -> tuple[int, int]:
    """The raw rows a normal day of the table may have, at the configured scale."""
    low, high = contract.daily_volume
    low_rows = math.floor(low * settings.volume_scale) - settings.volume_slack_rows
    high_rows = math.ceil(high * settings.volume_scale * _window_days(raw))
    return max(0, low_rows), high_rows + settings.volume_slack_rows


def volume(contract: Contract, raw: dict, settings: GateSettings) -> str | None:
    if _full(raw):  # the first load of a system is a snapshot: exempt
        return None
    rows = int(raw["rows"])
    low, high = band(contract, raw, settings)
    where = "below" if rows < low else "above" if rows > high else None
    if where is None:
        return None
    return (
        f"raw rows {rows} {where} the band {low}–{high} "
        f"(contract {contract.daily_volume[0]}–{contract.daily_volume[1]} a day "
        f"×{settings.volume_scale:g} scale)"
    )


def trailing(raw: dict, history: list[dict], settings: GateSettings) -> str | None:
    """Rows within the range of the last incremental days, widened by ``trailing_factor``: with
    at least a week of history the week's rhythm (a Sunday's few changes) is inside the range,
    so only a day unlike any recent one fails. Skipped while the median is a small, noisy count."""
    if _full(raw):
        return None
    earlier = [m for m in history if m.get("mode") == "incremental"][-settings.trailing_days :]
    if len(earlier) < settings.trailing_min_days:
        return None
    counts = [int(m["rows"]) for m in earlier]
    if statistics.median(counts) < settings.trailing_min_rows:
        return None
    rows, factor = int(raw["rows"]), settings.trailing_factor
    low, high = min(counts) / factor, max(counts) * factor
    if low <= rows <= high:
        return None
    return (
        f"raw rows {rows} outside {low:g}–{high:g}: the last {len(counts)} days' "
        f"{min(counts)}–{max(counts)} rows, ÷/×{factor:g}"
    )


def schema_drift(raw: dict, history: list[dict]) -> str | None:
    if not history:
        return None
    before = history[-1]
    if before.get("schema_fingerprint") == raw.get("schema_fingerprint"):
        return None
    old, new = before.get("columns", {}), raw.get("columns", {})
    changes = [f"added {c}" for c in new if c not in old]
    changes += [f"removed {c}" for c in old if c not in new]
    changes += [f"{c} {old[c]}→{new[c]}" for c in new if c in old and old[c] != new[c]]
    return (
        f"schema {raw.get('schema_fingerprint')} differs from {before.get('dt')}'s "
        f"{before.get('schema_fingerprint')}" + (f": {', '.join(changes)}" if changes else "")
    )


def freshness(
    contract: Contract, raw: dict, newest: str | None, settings: GateSettings
) -> str | None:
    """Incremental SQL loads of a table expected to change every day (at least
    ``freshness_min_expected_rows`` a day at this scale, so that a day without a change is not
    chance): the newest watermark must be within ``freshness_hours`` of the interval's end."""
    window = raw.get("window")
    if _full(raw) or not window or raw.get("mode") != "incremental":
        return None
    expected = contract.daily_volume[0] * settings.volume_scale
    if expected < settings.freshness_min_expected_rows:
        return None
    end = datetime.fromisoformat(window[1])
    limit = end - timedelta(hours=settings.freshness_hours)
    if newest is not None and datetime.fromisoformat(newest) >= limit:
        return None
    seen = f"newest {contract.watermark} {newest}" if newest else "no rows"
    return (
        f"{seen}, older than {settings.freshness_hours:g} h before {end:%Y-%m-%d %H:%M} "
        f"(expected ≥ {expected:g} changes a day)"
    )


def quarantine_share(raw: dict, quality: dict, settings: GateSettings) -> str | None:
    rejected = sum(int(r.get("rows_declared") or 0) for r in raw.get("rejected_files", []))
    rejected += len(raw.get("rejected_records", []))
    bad = int(quality.get("quarantined_rows", 0)) + rejected
    total = int(raw["rows"]) + rejected
    if bad < settings.quarantine_min_rows or not total:
        return None
    share = bad / total
    if share <= settings.quarantine_share:
        return None
    files = f" (incl. {rejected} rows of rejected files or records)" if rejected else ""
    return (
        f"{bad} of {total} rows quarantined{files}: {share:.1%} above "
        f"{settings.quarantine_share:.1%}"
    )


def history_days(days: list[date], day: date, settings: GateSettings) -> list[date]:
    """Which earlier partitions' manifests the gates need: the last ``trailing_days`` (the
    newest of them also serves the schema comparison)."""
    return [d for d in days if d < day][-max(settings.trailing_days, 1) :]
