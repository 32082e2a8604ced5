"""The 双公示 publicity rules as the warehouse applies them (migration 0013).

A publish run writes its logical date and the rules of :class:`~govlake.config.PublicitySettings`
into ``ops.publication*``; ``mart.penalty_publicity`` and the ``portal.v1_*`` views read them from
there. Writing them with the day, rather than compiling them into the views, keeps the rules
configuration and lets a backfill or rebuild show exactly what the rules allowed on its day.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from govlake.config import PublicitySettings

PUBLICATION, PERIODS, EXEMPT_TYPES = (
    "ops.publication",
    "ops.publication_periods",
    "ops.publication_exempt_types",
)
STATUS = "mart.penalty_publicity"  # each penalty decision's publicity as of the publication day
# Each portal view -> its party name columns -> the column giving the party's type.
PARTY_COLUMNS = {
    "portal.v1_penalty_publicity": {"party_name": "party_type"},
    "portal.v1_licence_publicity": {"holder_name": "holder_type"},
    "portal.v1_publication_compliance": {},  # decisions and authorities, no party
    "portal.v1_transaction_results": {},  # winners are organisations (by USCC), no person
    "portal.v1_service_statistics": {},  # departments and counts, no party
}
COMPLIANCE = "mart.publication_compliance"  # each decision's lag to publication (7 working days)
PORTAL_VIEWS = tuple(PARTY_COLUMNS)
# What the portal shows of the decisions themselves: the same for a rebuild from a new
# extraction (the compliance list also depends on the days the lake first held them).
PUBLICITY_VIEWS = ("portal.v1_penalty_publicity", "portal.v1_licence_publicity")
SOURCES = (  # the warehouse tables the views read
    "core.fct_penalty_decision",
    "core.fct_penalty_decision_type",
    "core.fct_licence_decision",
    "core.fct_award",
    "core.fct_tender_section",
    "core.fct_tender_project",
    "core.dim_department",
    "mart.approval_kpi_monthly",
)


def rule_tables(rules: PublicitySettings, day: date) -> dict[str, pa.Table]:
    """The ``ops.publication*`` tables for a publish run of ``day``."""
    periods = [("all", "", rules.min_months, rules.max_months)] + [
        ("sector", sector, months, max(months, rules.max_months))
        for sector, months in sorted(rules.sector_min_months.items())
    ]
    return {
        PUBLICATION: pa.Table.from_pylist(
            [
                {
                    "as_of": day,
                    "low_fine_person_yuan": rules.low_fine_person_yuan,
                    "low_fine_organisation_yuan": rules.low_fine_organisation_yuan,
                    "publish_simple_procedure": rules.publish_simple_procedure,
                }
            ]
        ),
        PERIODS: pa.Table.from_pylist(
            [
                dict(zip(("applies_to", "scope", "min_months", "max_months"), row, strict=True))
                for row in periods
            ],
            pa.schema(
                [
                    ("applies_to", pa.string()),
                    ("scope", pa.string()),
                    ("min_months", pa.int32()),
                    ("max_months", pa.int32()),
                ]
            ),
        ),
        EXEMPT_TYPES: pa.table({"penalty_type": pa.array(rules.exempt_types, pa.string())}),
    }
