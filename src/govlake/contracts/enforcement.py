"""Contracts of the enforcement system (网上执法平台: 行政处罚 and its 双公示 fields).

The platform keeps the catalogue of penalty powers (处罚职权) with their discretion standards
(裁量基准: a fine band per circumstance), the penalty decisions themselves and the revocations of
earlier decisions. Amounts follow the 信用中国 exchange standard: fines in 万元 on decisions, bands
in 元 in the catalogue, as the platform keeps them.
"""

from govlake.contracts.columns import UPDATED_AT, typed_date, uscc
from govlake.contracts.model import Column, Contract

SECTORS = (
    "市场监管",
    "特种设备",
    "食品药品",
    "安全生产",
    "消防",
    "生态环境",
    "城市管理",
    "交通运输",
    "卫生健康",
    "住房城乡建设",
    "文化旅游",
    "人力资源社会保障",
    "自然资源",
    "农业农村",
    "海洋渔业",
    "治安管理",
)
CIRCUMSTANCES = ("轻微", "一般", "较重", "严重")
PARTY_TYPES = ("法人及非法人组织", "个体工商户", "自然人")  # 行政相对人类别 (CF_XDR_LB)
PENALTY_TYPES = (
    "警告",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "暂扣或者吊销许可证",
    "责令停产停业",
    "行政拘留",
)


def _text(
    name: str,
    title: str,
    length: int,
    nullable: bool = False,
    pii: bool = False,
    source_type: str | None = None,
) -> Column:
    return Column(
        name,
        source_type or f"varchar({length + length // 2})",
        "string",
        title,
        nullable=nullable,
        max_length=length,
        normalise="text",
        pii=pii,
    )


def _wan(name: str, title: str) -> Column:
    return Column(name, "numeric(18,6)", "decimal(18,6)", title)


def _yuan(name: str, title: str) -> Column:
    return Column(name, "numeric(18,2)", "decimal(18,2)", title, nullable=False)


PENALTY_POWERS = Contract(
    system="enforcement",
    table="penalty_powers",
    title="行政处罚职权目录",
    description="The catalogue of penalty powers (处罚职权): one row per power a department holds.",
    columns=(
        Column("power_id", "integer", "int64", "职权内部编号", nullable=False),
        Column(
            "power_code",
            "varchar(64)",
            "string",
            "处罚职权编码",
            nullable=False,
            max_length=40,
            normalise="code",
        ),
        _text("name", "职权名称", 300),
        _text("department_name", "实施部门", 100),
        uscc("department_uscc", "实施部门统一社会信用代码"),
        _text("legal_basis", "设定依据", 500),
        Column(
            "sector",
            "varchar(30)",
            "string",
            "执法领域",
            nullable=False,
            normalise="text",
            values=SECTORS,
        ),
        UPDATED_AT,
    ),
    primary_key=("power_id",),
    business_keys=("power_code",),
    watermark="updated_at",
    business_date="updated_at",
    daily_volume=(0, 100),
)

DISCRETION_STANDARDS = Contract(
    system="enforcement",
    table="discretion_standards",
    title="行政处罚裁量基准",
    description="Discretion standards (裁量基准): per power and circumstance, the fine band in 元.",
    columns=(
        Column("standard_id", "integer", "int64", "裁量基准编号", nullable=False),
        Column("power_id", "integer", "int64", "职权内部编号", nullable=False),
        Column(
            "circumstance",
            "varchar(10)",
            "string",
            "违法情节",
            nullable=False,
            normalise="text",
            values=CIRCUMSTANCES,
        ),
        _text("description", "适用情形", 300),
        _yuan("fine_min_yuan", "罚款下限（元）"),
        _yuan("fine_max_yuan", "罚款上限（元）"),
        UPDATED_AT,
    ),
    primary_key=("standard_id",),
    business_keys=("power_id", "circumstance"),
    watermark="updated_at",
    business_date="updated_at",
    daily_volume=(0, 400),
)

PENALTY_DECISIONS = Contract(
    system="enforcement",
    table="penalty_decisions",
    title="行政处罚决定",
    description="Penalty decisions (行政处罚决定书) with the 双公示 fields, linked to the power "
    "and the discretion standard applied.",
    columns=(
        Column("decision_id", "integer", "int64", "案件编号", nullable=False),
        _text("decision_number", "行政处罚决定书文号", 128),
        Column(
            "party_type",
            "varchar(20)",
            "string",
            "行政相对人类别",
            nullable=False,
            normalise="text",
            values=PARTY_TYPES,
        ),
        _text("party_name", "行政相对人名称", 200, pii=True),
        uscc("party_uscc", "行政相对人统一社会信用代码", nullable=True),
        Column(
            "party_registration_number",
            "varchar(32)",
            "string",
            "工商注册号",
            max_length=15,
            normalise="code",
        ),
        Column(
            "party_org_code",
            "varchar(20)",
            "string",
            "组织机构代码",
            max_length=10,
            normalise="code",
        ),
        _text("legal_rep_name", "法定代表人", 50, nullable=True),
        Column(
            "party_id_number",
            "varchar(32)",
            "string",
            "行政相对人证件号码",
            max_length=18,
            normalise="code",
            pii=True,
        ),
        _text("violation_type", "违法行为类型", 200),
        _text("violation_facts", "违法事实", 2000, source_type="text"),
        _text("legal_basis", "处罚依据", 500),
        _text("penalty_types", "处罚类别（多项以;分隔）", 100),
        _text("penalty_content", "处罚内容", 500),
        _wan("fine_amount_wan", "罚款金额（万元）"),
        _wan("confiscation_amount_wan", "没收违法所得、没收非法财物的金额（万元）"),
        _text("license_affected", "暂扣或吊销证照名称及编号", 200, nullable=True),
        Column(
            "procedure_type",
            "varchar(10)",
            "string",
            "程序类型",
            nullable=False,
            normalise="text",
            values=("简易", "普通"),
        ),
        Column("power_id", "integer", "int64", "处罚职权内部编号", nullable=False),
        Column("standard_id", "integer", "int64", "裁量基准编号", nullable=False),
        typed_date("decision_date", "处罚决定日期", nullable=False),
        Column("entered_at", "timestamp", "timestamp", "录入时间", nullable=False),
        _text("authority_name", "处罚机关", 100),
        uscc("authority_uscc", "处罚机关统一社会信用代码"),
        Column(
            "status",
            "varchar(10)",
            "string",
            "决定状态",
            nullable=False,
            normalise="text",
            values=("待执行", "已执行", "已撤销"),
        ),
        UPDATED_AT,
    ),
    primary_key=("decision_id",),
    business_keys=("decision_number",),
    watermark="updated_at",
    business_date="decision_date",
    daily_volume=(20, 1_000),
)

REVOCATIONS = Contract(
    system="enforcement",
    table="revocations",
    title="行政处罚决定撤销记录",
    description="Revocations of earlier penalty decisions (changed, revoked or found unlawful).",
    columns=(
        Column("revocation_id", "integer", "int64", "撤销记录编号", nullable=False),
        Column("decision_id", "integer", "int64", "案件编号", nullable=False),
        typed_date("revoked_on", "撤销日期", nullable=False),
        _text("reason", "撤销原因", 300),
        UPDATED_AT,
    ),
    primary_key=("revocation_id",),
    business_keys=("decision_id",),
    watermark="updated_at",
    business_date="revoked_on",
    daily_volume=(0, 30),
)

CONTRACTS = (PENALTY_POWERS, DISCRETION_STANDARDS, PENALTY_DECISIONS, REVOCATIONS)
