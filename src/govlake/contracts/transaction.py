"""Contracts of the public resource trading centre (公共资源交易中心): exchange files, not a
database.

The centre drops one file set a day into the lake's ``exchange/`` zone (JSON Lines or CSV, in
UTF-8, GBK or GB18030, with a ``_ready.json`` marker). Instead of an ``updated_at`` column every
record carries the exchange's ``sequence_number`` (交换序号: increasing across days; the latest
version of a key is the one with the highest number) and its ``exported_at`` time, the watermark.
A record may arrive again on a later day with its old sequence number (a re-send): it is the
same version and changes nothing.
"""

from govlake.contracts.columns import typed_date, uscc
from govlake.contracts.model import Column, Contract

CATEGORIES = ("工程建设", "政府采购", "土地使用权出让", "产权交易")
METHODS = (
    "公开招标",
    "邀请招标",
    "竞争性谈判",
    "竞争性磋商",
    "询价",
    "单一来源",
    "拍卖",
    "挂牌",
    "协议",
)
# 招标投标法实施条例 第44条, 政府采购法 第38/40条: fewer than three bidders means re-tender.
THREE_BIDDER_METHODS = ("公开招标", "邀请招标", "竞争性谈判", "竞争性磋商", "询价")
# Where the budget is a price ceiling (最高限价): an award above it is a red flag. In land and
# property transactions the budget is the starting price (起始价/挂牌价) and awards exceed it.
CEILING_CATEGORIES = ("工程建设", "政府采购")
CODE_TYPES = ("统一社会信用代码", "组织机构代码", "工商注册号")

_SEQUENCE = Column("sequence_number", "integer", "int64", "交换序号", nullable=False)
_EXPORTED = Column("exported_at", "timestamp", "timestamp", "导出时间", nullable=False)


def _id(name: str, title: str) -> Column:
    return Column(name, "integer", "int64", title, nullable=False)


def _name(name: str, title: str) -> Column:
    return Column(
        name, "varchar(300)", "string", title, nullable=False, max_length=200, normalise="text"
    )


def _amount(name: str, title: str) -> Column:
    return Column(name, "numeric(18,6)", "decimal(18,6)", title, nullable=False)


PROJECTS = Contract(
    system="transaction",
    table="projects",
    title="交易项目",
    description="One row per trading project (招标/采购/出让/转让项目) and its notice. "
    "status moves from 公告中 to 已成交 when every section is awarded, or to 终止.",
    columns=(
        _id("project_id", "项目内部编号"),
        Column(
            "project_code",
            "varchar(40)",
            "string",
            "项目编号",
            nullable=False,
            max_length=30,
            normalise="code",
        ),
        _name("name", "项目名称"),
        Column(
            "category",
            "varchar(20)",
            "string",
            "交易类别",
            nullable=False,
            normalise="text",
            values=CATEGORIES,
        ),
        Column(
            "method",
            "varchar(20)",
            "string",
            "交易方式",
            nullable=False,
            normalise="text",
            values=METHODS,
        ),
        uscc("tenderer_uscc", "招标人(采购人、出让人、转让方)统一社会信用代码"),
        _name("tenderer_name", "招标人(采购人、出让人、转让方)名称"),
        _amount("budget_wan", "预算金额/最高限价/起始价(万元)"),
        Column(
            "region_code",
            "varchar(12)",
            "string",
            "项目所在地行政区划代码",
            nullable=False,
            max_length=6,
            normalise="code",
        ),
        typed_date("published_on", "公告发布日期", nullable=False),
        Column(
            "status",
            "varchar(10)",
            "string",
            "项目状态",
            nullable=False,
            normalise="text",
            values=("公告中", "已成交", "终止"),
        ),
        _SEQUENCE,
        _EXPORTED,
    ),
    primary_key=("project_id",),
    business_keys=("project_code",),
    watermark="exported_at",
    business_date="published_on",
    daily_volume=(20, 400),
    channel="exchange",
)

SECTIONS = Contract(
    system="transaction",
    table="sections",
    title="标段(包)",
    description="The lots of a project, each tendered and awarded on its own. A notice change "
    "(澄清变更) re-sends the section with a later bid_open_at; the opening re-sends it as 已开标 "
    "with its bid_count. Methods in THREE_BIDDER_METHODS need at least three bids per section.",
    columns=(
        _id("section_id", "标段内部编号"),
        _id("project_id", "所属项目内部编号"),
        Column(
            "section_code",
            "varchar(50)",
            "string",
            "标段(包)编号",
            nullable=False,
            max_length=40,
            normalise="code",
        ),
        _name("name", "标段(包)名称"),
        _amount("budget_wan", "标段预算/最高投标限价/起始价(万元)"),
        Column("bid_open_at", "timestamp", "timestamp", "开标(竞价截止)时间", nullable=False),
        Column(
            "status",
            "varchar(10)",
            "string",
            "标段状态",
            nullable=False,
            normalise="text",
            values=("公告中", "已开标", "终止"),
        ),
        Column("bid_count", "integer", "int64", "投标人数(开标时)"),
        _SEQUENCE,
        _EXPORTED,
    ),
    primary_key=("section_id",),
    business_keys=("section_code",),
    watermark="exported_at",
    business_date="bid_open_at",
    daily_volume=(20, 500),
    channel="exchange",
)

BIDS = Contract(
    system="transaction",
    table="bids",
    title="投标(竞买)记录",
    description="One row per bid, exported at the opening (开标记录). The bidder is named by "
    "the code its documents carry: USCC, organisation code (组织机构代码, e.g. MA3C0001-1) or "
    "the old 工商注册号 of a 个体工商户 without a USCC.",
    columns=(
        _id("bid_id", "投标记录编号"),
        _id("section_id", "标段内部编号"),
        Column(
            "bidder_code_type",
            "varchar(20)",
            "string",
            "投标人代码类型",
            nullable=False,
            normalise="text",
            values=CODE_TYPES,
        ),
        Column(
            "bidder_code",
            "varchar(32)",
            "string",
            "投标人代码",
            nullable=False,
            max_length=18,
            normalise="code",
        ),
        _name("bidder_name", "投标人(竞买人)名称"),
        Column(
            "agent_name",
            "varchar(50)",
            "string",
            "授权代表姓名",
            nullable=False,
            max_length=50,
            normalise="text",
            pii=True,
        ),
        Column(
            "agent_id_number",
            "varchar(32)",
            "string",
            "授权代表身份证号码",
            nullable=False,
            max_length=18,
            normalise="code",
            pii=True,
        ),
        _amount("bid_amount_wan", "投标报价(竞买报价)(万元)"),
        Column("submitted_at", "timestamp", "timestamp", "投标文件递交时间", nullable=False),
        _SEQUENCE,
        _EXPORTED,
    ),
    primary_key=("bid_id",),
    business_keys=("section_id", "bidder_code"),
    watermark="exported_at",
    business_date="submitted_at",
    daily_volume=(50, 2_000),
    channel="exchange",
)

AWARDS = Contract(
    system="transaction",
    table="awards",
    title="中标(成交)结果",
    description="One award per section; a revoked award (中标结果撤销) is re-sent as 撤销.",
    columns=(
        _id("award_id", "中标结果编号"),
        _id("section_id", "标段内部编号"),
        uscc("winner_uscc", "中标(成交)人统一社会信用代码"),
        _name("winner_name", "中标(成交)人名称"),
        _amount("award_amount_wan", "中标(成交)金额(万元)"),
        typed_date("awarded_on", "定标日期", nullable=False),
        typed_date("published_on", "结果公告日期", nullable=False),
        Column(
            "status",
            "varchar(10)",
            "string",
            "结果状态",
            nullable=False,
            normalise="text",
            values=("有效", "撤销"),
        ),
        _SEQUENCE,
        _EXPORTED,
    ),
    primary_key=("award_id",),
    business_keys=("section_id",),
    watermark="exported_at",
    business_date="published_on",
    daily_volume=(20, 400),
    channel="exchange",
)

CONTRACTS_SIGNED = Contract(
    system="transaction",
    table="contracts",
    title="合同",
    description="The contract signed on an award (due within 30 days of the award notice).",
    columns=(
        _id("contract_id", "合同内部编号"),
        _id("award_id", "中标结果编号"),
        Column(
            "contract_number",
            "varchar(60)",
            "string",
            "合同编号",
            nullable=False,
            max_length=50,
            normalise="code",
        ),
        typed_date("signed_on", "合同签订日期", nullable=False),
        _amount("amount_wan", "合同金额(万元)"),
        _SEQUENCE,
        _EXPORTED,
    ),
    primary_key=("contract_id",),
    business_keys=("contract_number",),
    watermark="exported_at",
    business_date="signed_on",
    daily_volume=(10, 400),
    channel="exchange",
)

CONTRACTS = (PROJECTS, SECTIONS, BIDS, AWARDS, CONTRACTS_SIGNED)
