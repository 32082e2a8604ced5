"""Transaction (公共资源交易): one fact per record type of the trading centre, from the project
(交易项目) down through its sections (标段/包), bids (投标), awards (中标/成交) and contracts
(合同).

Every fact below the project carries its project's context (code, 交易类别 ``category`` = the
sector of DOMAIN.md §5.1, 交易方式 ``method``, notice date) so marts and the portal slice by it
without a join, and the amounts its red flags compare: an award its section's budget (最高限价,
for ``award_above_budget``), a contract its award's amount and notice date
(``contract_above_award``, ``late_contract``). Parties are referenced by entity (core.entity),
never by ID number: a bid's 授权代表 is a natural person and appears as ``agent_entity_id``
only. A record whose parent is withheld keeps its own keys and has no context (NULL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from govlake.transform.entities import entity_of
from govlake.transform.flags import flag_columns

if TYPE_CHECKING:
    from govlake.transform.run import BuildRun

FCT_PROJECT, FCT_SECTION, FCT_BID, FCT_AWARD, FCT_CONTRACT = (
    "core.fct_tender_project",  # 交易项目
    "core.fct_tender_section",  # 标段(包)
    "core.fct_bid",  # 投标(竞买)记录
    "core.fct_award",  # 中标(成交)结果
    "core.fct_contract",  # 合同
)
TABLES = (FCT_PROJECT, FCT_SECTION, FCT_BID, FCT_AWARD, FCT_CONTRACT)
PROJECTS, SECTIONS, BIDS, AWARDS, CONTRACTS = (
    "transaction.projects",
    "transaction.sections",
    "transaction.bids",
    "transaction.awards",
    "transaction.contracts",
)
# The flag rules of expectations/transaction.<table>.json, one column each.
PROJECT_FLAGS = ("tenderer_uscc_org_code",)
SECTION_FLAGS = ("few_bidders", "short_bidding_period")
BID_FLAGS = ("shared_bid_agent",)
AWARD_FLAGS = ("award_above_budget",)
CONTRACT_FLAGS = ("late_contract", "contract_above_award")
# The project's fields every fact below it carries, then the section's.
PROJECT_CONTEXT = ("project_id", "project_code", "category", "method", "project_published_on")
SECTION_CONTEXT = ("section_id", "section_code", *PROJECT_CONTEXT)


def build(run: BuildRun) -> None:
    projects = run.write(
        FCT_PROJECT, fct_tender_project(run.latest(PROJECTS), run.matches), [PROJECTS]
    )
    sections = run.write(
        FCT_SECTION, fct_tender_section(run.latest(SECTIONS), projects), [SECTIONS, PROJECTS]
    )
    bids = fct_bid(run.latest(BIDS), sections, run.matches)
    run.write(FCT_BID, bids, [BIDS, SECTIONS, PROJECTS])
    awards = fct_award(run.latest(AWARDS), sections, run.matches)
    awards = run.write(FCT_AWARD, awards, [AWARDS, SECTIONS, PROJECTS])
    contracts = fct_contract(run.latest(CONTRACTS), awards)
    run.write(FCT_CONTRACT, contracts, [CONTRACTS, AWARDS, SECTIONS, PROJECTS])


def fct_tender_project(projects: DataFrame, matches: DataFrame) -> DataFrame:
    """One row per trading project with its tenderer's (招标人) entity."""
    tenderers = entity_of(matches, PROJECTS, "tenderer", "project_id")
    return projects.join(tenderers, "project_id", "left").select(
        "project_id",
        "project_code",
        "name",
        "category",
        "method",
        "tenderer_uscc",
        "tenderer_name",
        "tenderer_entity_id",
        "budget_wan",
        "region_code",
        "published_on",
        "status",
        *flag_columns(PROJECT_FLAGS),
        "dq_flags",
    )


def fct_tender_section(sections: DataFrame, projects: DataFrame) -> DataFrame:
    """One row per section with its project's context (``projects``: the project fact), so
    ``few_bidders`` (by method) and ``short_bidding_period`` (notice to opening) read off the
    row."""
    context = projects.select(
        *PROJECT_CONTEXT[:-1], F.col("published_on").alias("project_published_on")
    )
    return sections.join(context, "project_id", "left").select(
        "section_id",
        "section_code",
        "name",
        *PROJECT_CONTEXT,
        "budget_wan",
        "bid_open_at",
        "status",
        "bid_count",
        *flag_columns(SECTION_FLAGS),
        "dq_flags",
    )


def fct_bid(bids: DataFrame, sections: DataFrame, matches: DataFrame) -> DataFrame:
    """One row per bid with its section's context (``sections``: the section fact) and the
    entities of its bidder (投标人) and agent (授权代表, a person: no ID number)."""
    rows = (
        bids.join(sections.select(*SECTION_CONTEXT), "section_id", "left")
        .join(entity_of(matches, BIDS, "bidder", "bid_id"), "bid_id", "left")
        .join(entity_of(matches, BIDS, "agent", "bid_id"), "bid_id", "left")
    )
    return rows.select(
        "bid_id",
        *SECTION_CONTEXT,
        "bidder_code_type",
        "bidder_code",
        "bidder_name",
        "bidder_entity_id",
        "agent_name",
        "agent_entity_id",
        "bid_amount_wan",
        "submitted_at",
        *flag_columns(BID_FLAGS),
        "dq_flags",
    )


def fct_award(awards: DataFrame, sections: DataFrame, matches: DataFrame) -> DataFrame:
    """One row per award with its section's context and budget (the ceiling
    ``award_above_budget`` compares with) and its winner's (中标人) entity."""
    context = sections.select(*SECTION_CONTEXT, F.col("budget_wan").alias("section_budget_wan"))
    rows = awards.join(context, "section_id", "left").join(
        entity_of(matches, AWARDS, "winner", "award_id"), "award_id", "left"
    )
    return rows.select(
        "award_id",
        *SECTION_CONTEXT,
        "winner_uscc",
        "winner_name",
        "winner_entity_id",
        "award_amount_wan",
        "section_budget_wan",
        "awarded_on",
        "published_on",
        "status",
        *flag_columns(AWARD_FLAGS),
        "dq_flags",
    )


def fct_contract(contracts: DataFrame, awards: DataFrame) -> DataFrame:
    """One row per contract with its award's context, winner, amount and notice date (what
    ``contract_above_award`` and ``late_contract`` compare with; ``awards``: the award fact)."""
    context = awards.select(
        "award_id",
        *SECTION_CONTEXT,
        "winner_entity_id",
        "award_amount_wan",
        F.col("published_on").alias("award_published_on"),
    )
    return contracts.join(context, "award_id", "left").select(
        "contract_id",
        "contract_number",
        "award_id",
        *SECTION_CONTEXT,
        "winner_entity_id",
        "award_amount_wan",
        "award_published_on",
        "signed_on",
        "amount_wan",
        *flag_columns(CONTRACT_FLAGS),
        "dq_flags",
    )
