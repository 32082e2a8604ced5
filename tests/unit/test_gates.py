"""Batch gates, one by one, on small hand-made manifests (govlake.quality.gates)."""

from __future__ import annotations

from govlake.alerts import day_held
from govlake.config import GateSettings
from govlake.contracts import get
from govlake.quality import gates

CASES = get("approval.cases")  # daily_volume (200, 15000), watermark updated_at
REGISTER = get("credit.enterprise_register")  # daily_volume (200, 20000)
CITY = GateSettings(_env_file=None)
WINDOW = ["2026-11-23T00:00:00", "2026-11-25T00:00:00"]  # the day 11-24 and a 24 h look-back


def raw(rows: int, mode: str = "incremental", **extra) -> dict:
    manifest = {
        "dt": "2026-11-24",
        "rows": rows,
        "mode": mode,
        "window": WINDOW if mode == "incremental" else None,
        "columns": {"id": "int64", "name": "string"},
        "schema_fingerprint": "aaaa",
    }
    return {**manifest, **extra}


def days(*rows: int) -> list[dict]:
    return [raw(n, dt=f"2026-11-{i + 1:02d}") for i, n in enumerate(rows)]


def quality(quarantined: int = 0, newest: str | None = "2026-11-24T21:00:00") -> dict:
    return {"quarantined_rows": quarantined, "newest_watermark": newest}


def failed(contract, manifest, summary=None, history=(), settings=CITY) -> dict[str, str]:
    found = gates.evaluate(contract, manifest, summary or quality(), list(history), settings)
    return {f["gate"]: f["reason"] for f in found}


def test_a_normal_city_day_passes_every_gate():
    assert failed(CASES, raw(5_000), history=days(*[4_000] * 10)) == {}


def test_volume_below_and_above_the_band():
    low = failed(CASES, raw(12))["volume"]
    assert low == "raw rows 12 below the band 170–30030 (contract 200–15000 a day ×1 scale)"
    # The look-back makes the window two days: twice the daily maximum, plus the slack.
    assert "above the band 170–30030" in failed(CASES, raw(30_031))["volume"]
    assert "volume" not in failed(CASES, raw(30_030))


def test_volume_band_follows_the_scale():
    demo = GateSettings(_env_file=None, volume_scale=0.025, volume_slack_rows=0)
    assert gates.band(CASES, raw(0), demo) == (5, 750)
    assert (
        "below the band 5–750 (contract 200–15000 a day ×0.025 scale)"
        in (failed(CASES, raw(3), settings=demo)["volume"])
    )
    files = raw(300, window=None)  # an exchange file set: one day, no look-back
    assert gates.band(CASES, files, demo) == (5, 375)


def test_a_full_snapshot_is_exempt_from_the_volume_gates():
    assert failed(CASES, raw(25_000_000, mode="full"), history=days(*[4_000] * 10)) == {}


def test_trailing_range_needs_a_week_of_history():
    assert "trailing" not in failed(CASES, raw(300), history=days(*[4_000] * 6))
    reason = failed(CASES, raw(300), history=days(*[4_000] * 7))["trailing"]
    assert reason == "raw rows 300 outside 800–20000: the last 7 days' 4000–4000 rows, ÷/×5"
    assert "trailing" in failed(CASES, raw(25_000), history=days(*[4_000] * 7))


def test_trailing_range_keeps_the_weeks_rhythm():
    week = days(4_000, 4_200, 3_900, 4_100, 3_800, 600, 250)  # Saturday and Sunday: days off
    assert "trailing" not in failed(CASES, raw(250), history=week)
    assert "trailing" not in failed(CASES, raw(4_300), history=week)
    assert "trailing" in failed(CASES, raw(30), history=week)


def test_trailing_ignores_small_noisy_counts_and_full_loads():
    assert "trailing" not in failed(CASES, raw(0), history=days(*[3] * 14))
    history = days(*[4_000] * 5) + [raw(9_000_000, mode="full")] + days(4_000)
    assert "trailing" not in failed(CASES, raw(300), history=history)  # 6 incremental days


def test_schema_drift_names_the_columns():
    before = raw(4_000, dt="2026-11-23")
    now = raw(
        4_000, columns={"id": "string", "name": "string", "note": "string"}, schema_fingerprint="b"
    )
    reason = failed(CASES, now, history=[before])["schema_drift"]
    assert reason == "schema b differs from 2026-11-23's aaaa: added note, id int64→string"
    assert "schema_drift" not in failed(CASES, raw(4_000), history=[before])
    assert "schema_drift" not in failed(CASES, now)  # nothing to compare with


def test_freshness_for_tables_expected_to_change_daily():
    stale = quality(newest="2026-11-23T18:00:00")  # nothing changed during 11-24 itself
    reason = failed(CASES, raw(4_000), stale)["freshness"]
    assert reason == (
        "newest updated_at 2026-11-23T18:00:00, older than 24 h before 2026-11-25 00:00 "
        "(expected ≥ 200 changes a day)"
    )
    assert "no rows" in failed(CASES, raw(0), quality(newest=None))["freshness"]
    assert "freshness" not in failed(CASES, raw(4_000), quality(newest="2026-11-24T00:00:00"))


def test_freshness_skips_full_loads_files_and_tables_that_may_rest():
    stale = quality(newest="2026-11-01T00:00:00")
    assert "freshness" not in failed(CASES, raw(4_000, mode="full"), stale)
    assert "freshness" not in failed(CASES, raw(4_000, window=None), stale)  # exchange files
    demo = GateSettings(_env_file=None, volume_scale=0.025)  # 200 a day at city: 5 at demo
    assert "freshness" not in failed(CASES, raw(4_000), stale, settings=demo)
    assert "freshness" not in failed(get("approval.departments"), raw(3), stale)  # min 0


def test_quarantine_share_counts_rejected_files_and_records():
    assert "quarantine_share" not in failed(CASES, raw(4_000), quality(quarantined=200))
    reason = failed(CASES, raw(4_000), quality(quarantined=201))["quarantine_share"]
    assert reason == "201 of 4000 rows quarantined: 5.0% above 5.0%"
    rejected = raw(400, rejected_files=[{"key": "x", "rows_declared": 100, "reason": "bad"}])
    reason = failed(CASES, rejected, quality(quarantined=5))["quarantine_share"]
    assert reason == (
        "105 of 500 rows quarantined (incl. 100 rows of rejected files or records): "
        "21.0% above 5.0%"
    )
    records = [{"key": "x", "record": n, "offset": 0, "reason": "bad"} for n in range(30)]
    reason = failed(CASES, raw(370, rejected_records=records), quality(quarantined=0))
    assert reason["quarantine_share"].startswith("30 of 400 rows quarantined (incl. 30 rows")


def test_quarantine_share_needs_enough_bad_rows_to_mean_something():
    assert "quarantine_share" not in failed(CASES, raw(26), quality(quarantined=8))
    assert "quarantine_share" in failed(CASES, raw(100), quality(quarantined=20))


def test_every_failed_gate_is_reported_with_its_name():
    found = gates.evaluate(REGISTER, raw(0), quality(newest=None), [], CITY)
    assert [f["gate"] for f in found] == ["volume", "freshness"]
    assert set(gates.GATES) >= {f["gate"] for f in found}


def test_history_days_are_the_last_trailing_days_before_the_day():
    from datetime import date, timedelta

    all_days = [date(2026, 11, 1) + timedelta(days=i) for i in range(30)]
    chosen = gates.history_days(all_days, date(2026, 11, 20), CITY)
    assert chosen == all_days[5:19]


def test_a_held_day_alert_names_the_day_and_how_to_release_it():
    payload = day_held(None, "approval.cases", "2026-11-24", [{"gate": "volume", "reason": "r"}])
    assert payload["event"] == "day_held"
    assert payload["gates"] == ["volume"]
    assert "govlake gate override approval.cases 2026-11-24" in payload["summary"]
