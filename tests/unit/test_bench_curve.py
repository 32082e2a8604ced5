"""The scaling curve reads the kept figures of each scale and says how each cost grows."""

from __future__ import annotations

from govlake import bench_curve


def _results(scale: str, clean_rows: int, seconds: float, seed: int = 7) -> dict:
    stage = {"seconds": seconds / 2, "peak_rss_mb": 1000}
    return {
        "scale": scale,
        "seed": seed,
        "until": "2026-12-03",
        "sources": {"rows": clean_rows},
        "warehouse": {
            "clean_rows": clean_rows,
            "seconds": seconds,
            "transform": stage,
            "load": stage,
            "reference": {"seconds": seconds / 4},
            "incremental": {"seconds": 30.0, "day_rows": 5000},
        },
    }


def test_points_come_smallest_first_with_the_growth_since_the_one_before(tmp_path):
    for scale, rows, seconds in (("city", 4_000_000, 200.0), ("city*0.25", 1_000_000, 50.0)):
        bench_curve.save(tmp_path, _results(scale, rows, seconds))
    bench_curve.save(tmp_path, _results("city*4", 16_000_000, 1600.0, seed=8))  # another seed

    found = bench_curve.points(tmp_path, 7, "2026-12-03")

    assert [p["scale"] for p in found] == ["city*0.25", "city"]
    assert "growth" not in found[0]
    assert found[1]["growth"]["full_seconds"] == 1.0  # four times the rows, four times the time
    assert found[1]["growth"]["peak_rss_mb"] == 0.0  # the same memory
    assert found[1]["growth"]["incremental_seconds"] == 0.0  # follows the delta, not the total
    assert found[1]["microseconds_per_row"] == 50.0


def test_a_superlinear_cost_shows_a_growth_above_one(tmp_path):
    bench_curve.save(tmp_path, _results("city", 4_000_000, 200.0))
    bench_curve.save(tmp_path, _results("city*4", 16_000_000, 1600.0))

    (_, larger) = bench_curve.points(tmp_path, 7, "2026-12-03")

    assert larger["growth"]["full_seconds"] == 1.5  # 8× the time for 4× the rows
