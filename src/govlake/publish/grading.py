"""The credit scoring model (信用评价, DOMAIN.md §7.2) as the warehouse applies it (migration 0016).

A publish run writes :class:`~govlake.config.CreditScoringSettings` into ``ops.credit_scoring*``;
``mart.credit_grade_points`` and ``mart.credit_grade`` read the model from there, so it stays
configuration and every grade names the model it was given under (``model_version``: a digest of
the model, so the same settings always give the same version).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pyarrow as pa

from govlake.config import CreditScoringSettings

SCORING, PENALTY_BANDS, RECORD_POINTS, OVERRIDES = (
    "ops.credit_scoring",
    "ops.credit_penalty_bands",
    "ops.credit_record_points",
    "ops.credit_overrides",
)
RECORDS = "mart.credit_records"  # every record fed to the credit database, in force or not
POINTS = "mart.credit_grade_points"  # the points each record in force counts
GRADES = "mart.credit_grade"  # every enterprise's score and grade
SOURCES = (  # the warehouse tables the marts read
    "core.entity",
    "core.fct_penalty_decision",
    "core.fct_licence_decision",
    "core.fct_credit_event",
)


def model_version(model: CreditScoringSettings) -> str:
    """``m-`` and 12 hex digits of the model's canonical JSON: equal settings, equal version."""
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return "m-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]


def scoring_tables(model: CreditScoringSettings) -> dict[str, pa.Table]:
    """The ``ops.credit_scoring*`` tables for ``model``."""
    points = [
        (record_type, level, value)
        for record_type, levels in sorted(model.record_points.items())
        for level, value in sorted(levels.items())
    ]
    return {
        SCORING: pa.Table.from_pylist(
            [
                {
                    "model_version": model_version(model),
                    "base_points": model.base_points,
                    "grade_a_points": model.grade_a_points,
                    "grade_b_points": model.grade_b_points,
                    "grade_c_points": model.grade_c_points,
                    "penalty_recent_months": model.penalty_recent_months,
                    "penalty_older_percent": model.penalty_older_percent,
                    "bonus_cap": model.bonus_cap,
                }
            ]
        ),
        PENALTY_BANDS: pa.table(
            {
                "min_fine_wan": pa.array(
                    [Decimal(str(fine)) for fine in model.penalty_fine_bands], pa.decimal128(18, 4)
                ),
                "points": pa.array(list(model.penalty_fine_bands.values()), pa.int32()),
            }
        ),
        RECORD_POINTS: pa.Table.from_pylist(
            [dict(zip(("record_type", "level", "points"), p, strict=True)) for p in points],
            pa.schema(
                [("record_type", pa.string()), ("level", pa.string()), ("points", pa.int32())]
            ),
        ),
        OVERRIDES: pa.table({"record_type": pa.array(model.grade_d_records, pa.string())}),
    }
