"""Transaction (公共资源交易): the facts of projects (交易项目), sections (标段/包), bids (投标),
awards (中标/成交) and contracts (合同), each with its project's context and one boolean per
red flag of the quality step, and the marts: monthly volumes and red flags per sector and
method, and one row per red flag for drill-down (DOMAIN.md §5).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAGS = "数据质量标记(逗号分隔，无则为空)"
TENDERER = "招标人(采购人、出让人、转让方)"
ROLES = {"tenderer": "招标人", "bidder": "投标人", "agent": "授权代表", "winner": "中标(成交)人"}
# The flag rules of expectations/transaction.<table>.json and their titles, per fact.
PROJECT_FLAGS = {"tenderer_uscc_org_code": "招标人统一社会信用代码与组织机构代码校验位不符"}
SECTION_FLAGS = {
    "few_bidders": "投标人少于3家(实施条例第44条)",
    "short_bidding_period": "公告至开标不足20日(招标投标法第24条)",
}
BID_FLAGS = {"shared_bid_agent": "同一授权代表代理同一标段多家投标人(视为串通投标)"}
AWARD_FLAGS = {"award_above_budget": "中标金额超过标段最高限价/预算"}
CONTRACT_FLAGS = {
    "late_contract": "中标结果公告后超过30日签订合同",
    "contract_above_award": "合同金额超过中标金额",
}
# One row per red flag of the quality step (a record with two flags has two rows): the record
# (type and key), its project and section, the day the flag concerns (the notice, the opening,
# the bid, the award or the signing) and the amounts involved (the record's own and the one the
# rule compared it with). The NULLs of the first branch are typed: PostgreSQL resolves UNION
# types pairwise, and two untyped NULLs make text.
RED_FLAGS_VIEW = """
SELECT 'project' AS record_type, project_id AS record_id, project_id, project_code,
       CAST(NULL AS VARCHAR(40)) AS section_code, category, method,
       published_on AS project_published_on, 'tenderer_uscc_org_code' AS rule,
       published_on AS flagged_on, budget_wan AS amount_wan,
       CAST(NULL AS NUMERIC(18, 6)) AS compared_amount_wan
FROM core.fct_tender_project WHERE flag_tenderer_uscc_org_code
UNION ALL
SELECT 'section', section_id, project_id, project_code, section_code, category, method,
       project_published_on, 'few_bidders', CAST(bid_open_at AS DATE), budget_wan, NULL
FROM core.fct_tender_section WHERE flag_few_bidders
UNION ALL
SELECT 'section', section_id, project_id, project_code, section_code, category, method,
       project_published_on, 'short_bidding_period', CAST(bid_open_at AS DATE), budget_wan, NULL
FROM core.fct_tender_section WHERE flag_short_bidding_period
UNION ALL
SELECT 'bid', bid_id, project_id, project_code, section_code, category, method,
       project_published_on, 'shared_bid_agent', CAST(submitted_at AS DATE), bid_amount_wan, NULL
FROM core.fct_bid WHERE flag_shared_bid_agent
UNION ALL
SELECT 'award', award_id, project_id, project_code, section_code, category, method,
       project_published_on, 'award_above_budget', awarded_on, award_amount_wan,
       section_budget_wan
FROM core.fct_award WHERE flag_award_above_budget
UNION ALL
SELECT 'contract', contract_id, project_id, project_code, section_code, category, method,
       project_published_on, 'late_contract', signed_on, amount_wan, award_amount_wan
FROM core.fct_contract WHERE flag_late_contract
UNION ALL
SELECT 'contract', contract_id, project_id, project_code, section_code, category, method,
       project_published_on, 'contract_above_award', signed_on, amount_wan, award_amount_wan
FROM core.fct_contract WHERE flag_contract_above_award
"""
# Per month of the project's notice (公告发布日期), 交易类别 (the sector) and 交易方式: every
# record counts in the month its project was advertised, so one row follows the same projects
# from notice to contract (an award or contract month would leave the projects and sections not
# yet awarded without one). Awards and their amount are those in force (有效), revoked ones
# (撤销) apart; contracts are all signed. Red flags count the flagged records per rule, revoked
# awards included (the flag stands).
MONTHLY_VIEW = """
WITH records AS (
    SELECT 'project' AS kind, published_on AS project_published_on, category, method,
           CAST(NULL AS NUMERIC(18, 6)) AS amount_wan
    FROM core.fct_tender_project
    UNION ALL
    SELECT 'section', project_published_on, category, method, NULL FROM core.fct_tender_section
    UNION ALL
    SELECT 'bid', project_published_on, category, method, NULL FROM core.fct_bid
    UNION ALL
    SELECT CASE WHEN status = '撤销' THEN 'revoked_award' ELSE 'award' END,
           project_published_on, category, method, award_amount_wan
    FROM core.fct_award
    UNION ALL
    SELECT 'contract', project_published_on, category, method, amount_wan
    FROM core.fct_contract
    UNION ALL
    SELECT rule, project_published_on, category, method, NULL FROM mart.transaction_red_flags
)
SELECT CAST(date_trunc('month', project_published_on) AS DATE) AS month, category, method,
       COUNT(*) FILTER (WHERE kind = 'project') AS projects,
       COUNT(*) FILTER (WHERE kind = 'section') AS sections,
       COUNT(*) FILTER (WHERE kind = 'bid') AS bids,
       COUNT(*) FILTER (WHERE kind = 'award') AS awards,
       COUNT(*) FILTER (WHERE kind = 'revoked_award') AS revoked_awards,
       COALESCE(SUM(amount_wan) FILTER (WHERE kind = 'award'), 0) AS award_amount_wan,
       COUNT(*) FILTER (WHERE kind = 'contract') AS contracts,
       COALESCE(SUM(amount_wan) FILTER (WHERE kind = 'contract'), 0) AS contract_amount_wan,
       COUNT(*) FILTER (WHERE kind = 'tenderer_uscc_org_code') AS tenderer_uscc_org_code_flags,
       COUNT(*) FILTER (WHERE kind = 'few_bidders') AS few_bidders_flags,
       COUNT(*) FILTER (WHERE kind = 'short_bidding_period') AS short_bidding_period_flags,
       COUNT(*) FILTER (WHERE kind = 'shared_bid_agent') AS shared_bid_agent_flags,
       COUNT(*) FILTER (WHERE kind = 'award_above_budget') AS award_above_budget_flags,
       COUNT(*) FILTER (WHERE kind = 'late_contract') AS late_contract_flags,
       COUNT(*) FILTER (WHERE kind = 'contract_above_award') AS contract_above_award_flags
FROM records
GROUP BY 1, 2, 3
"""


def _text(name: str, length: int, comment: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable, comment=comment)


def _key(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, primary_key=True, autoincrement=False, comment=comment)


def _id(name: str, comment: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.BigInteger, nullable=nullable, comment=comment)


def _wan(name: str, comment: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.Numeric(18, 6), nullable=nullable, comment=comment)


def _entity(role: str) -> sa.Column:
    return _text(f"{role}_entity_id", 40, f"{ROLES[role]}主体(core.entity)")


def _flags(rules: dict[str, str]) -> list[sa.Column]:
    return [sa.Column(f"flag_{r}", sa.Boolean, nullable=False, comment=t) for r, t in rules.items()]


def _project_context() -> list[sa.Column]:
    """The project's fields a fact below it carries (NULL where the project is withheld)."""
    return [
        _id("project_id", "所属项目内部编号"),
        _text("project_code", 30, "项目编号"),
        _text("category", 20, "交易类别(项目的)"),
        _text("method", 20, "交易方式(项目的)"),
        sa.Column("project_published_on", sa.Date, comment="项目公告发布日期"),
    ]


def _section_context(nullable: bool = True) -> list[sa.Column]:
    return [
        _id("section_id", "标段内部编号", nullable=nullable),
        _text("section_code", 40, "标段(包)编号"),
        *_project_context(),
    ]


def upgrade() -> None:
    op.create_table(
        "fct_tender_project",
        _key("project_id", "项目内部编号"),
        _text("project_code", 30, "项目编号", nullable=False),
        _text("name", 200, "项目名称", nullable=False),
        _text("category", 20, "交易类别", nullable=False),
        _text("method", 20, "交易方式", nullable=False),
        _text("tenderer_uscc", 18, f"{TENDERER}统一社会信用代码", nullable=False),
        _text("tenderer_name", 200, f"{TENDERER}名称", nullable=False),
        _entity("tenderer"),
        _wan("budget_wan", "预算金额/最高限价/起始价(万元)", nullable=False),
        _text("region_code", 6, "项目所在地行政区划代码", nullable=False),
        sa.Column("published_on", sa.Date, nullable=False, comment="公告发布日期"),
        _text("status", 10, "项目状态", nullable=False),
        *_flags(PROJECT_FLAGS),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="交易项目事实表(公共资源交易)",
    )
    op.create_table(
        "fct_tender_section",
        _key("section_id", "标段内部编号"),
        _text("section_code", 40, "标段(包)编号", nullable=False),
        _text("name", 200, "标段(包)名称", nullable=False),
        *_project_context(),
        _wan("budget_wan", "标段预算/最高投标限价/起始价(万元)", nullable=False),
        sa.Column("bid_open_at", sa.DateTime, nullable=False, comment="开标(竞价截止)时间"),
        _text("status", 10, "标段状态", nullable=False),
        sa.Column("bid_count", sa.BigInteger, comment="投标人数(开标时)"),
        *_flags(SECTION_FLAGS),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="标段(包)事实表",
    )
    op.create_table(
        "fct_bid",
        _key("bid_id", "投标记录编号"),
        *_section_context(nullable=False),
        _text("bidder_code_type", 20, "投标人代码类型", nullable=False),
        _text("bidder_code", 18, "投标人代码", nullable=False),
        _text("bidder_name", 200, "投标人(竞买人)名称", nullable=False),
        _entity("bidder"),
        _text("agent_name", 50, "授权代表姓名", nullable=False),
        _entity("agent"),
        _wan("bid_amount_wan", "投标报价(竞买报价)(万元)", nullable=False),
        sa.Column("submitted_at", sa.DateTime, nullable=False, comment="投标文件递交时间"),
        *_flags(BID_FLAGS),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="投标(竞买)记录事实表(授权代表以主体编号引用, 不含身份证号)",
    )
    op.create_table(
        "fct_award",
        _key("award_id", "中标结果编号"),
        *_section_context(nullable=False),
        _text("winner_uscc", 18, "中标(成交)人统一社会信用代码", nullable=False),
        _text("winner_name", 200, "中标(成交)人名称", nullable=False),
        _entity("winner"),
        _wan("award_amount_wan", "中标(成交)金额(万元)", nullable=False),
        _wan("section_budget_wan", "标段预算/最高投标限价/起始价(万元)"),
        sa.Column("awarded_on", sa.Date, nullable=False, comment="定标日期"),
        sa.Column("published_on", sa.Date, nullable=False, comment="结果公告日期"),
        _text("status", 10, "结果状态", nullable=False),
        *_flags(AWARD_FLAGS),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="中标(成交)结果事实表",
    )
    op.create_table(
        "fct_contract",
        _key("contract_id", "合同内部编号"),
        _text("contract_number", 50, "合同编号", nullable=False),
        _id("award_id", "中标结果编号", nullable=False),
        *_section_context(),
        _entity("winner"),
        _wan("award_amount_wan", "中标(成交)金额(万元)"),
        sa.Column("award_published_on", sa.Date, comment="中标结果公告日期"),
        sa.Column("signed_on", sa.Date, nullable=False, comment="合同签订日期"),
        _wan("amount_wan", "合同金额(万元)", nullable=False),
        *_flags(CONTRACT_FLAGS),
        _text("dq_flags", 200, FLAGS),
        schema="core",
        comment="合同事实表",
    )
    op.execute(f"CREATE VIEW mart.transaction_red_flags AS {RED_FLAGS_VIEW}")
    op.execute(f"CREATE VIEW mart.transaction_monthly AS {MONTHLY_VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS mart.transaction_monthly")
    op.execute("DROP VIEW IF EXISTS mart.transaction_red_flags")
    for table in ("fct_contract", "fct_award", "fct_bid", "fct_tender_section"):
        op.drop_table(table, schema="core")
    op.drop_table("fct_tender_project", schema="core")
