"""Contracts of the credit system (公共信用信息系统)."""

from govlake.contracts.model import Column, Contract

ENTERPRISE_REGISTER = Contract(
    system="credit",
    table="enterprise_register",
    title="企业登记信息",
    description="The enterprise register kept by the credit system: one row per registered entity.",
    columns=(
        Column("enterprise_id", "integer", "int64", "主体内部编号", nullable=False),
        Column(
            "uscc",
            "varchar(32)",
            "string",
            "统一社会信用代码",
            nullable=False,
            max_length=18,
            normalise="code",
        ),
        Column(
            "name",
            "varchar(200)",
            "string",
            "企业名称",
            nullable=False,
            max_length=200,
            normalise="text",
        ),
        Column(
            "entity_type",
            "varchar(20)",
            "string",
            "主体类型",
            nullable=False,
            normalise="text",
            values=("企业", "个体工商户", "农民专业合作社", "事业单位", "社会组织"),
        ),
        Column(
            "legal_rep_name", "varchar(50)", "string", "法定代表人", max_length=50, normalise="text"
        ),
        Column(
            "legal_rep_id_number",
            "varchar(32)",
            "string",
            "法定代表人证件号码",
            max_length=18,
            normalise="code",
            pii=True,
        ),
        Column(
            "region_code",
            "varchar(12)",
            "string",
            "登记机关行政区划代码",
            max_length=6,
            normalise="code",
        ),
        Column("registered_capital", "numeric(20,4)", "decimal(20,4)", "注册资本(万元)"),
        Column("established_on", "varchar(20)", "date", "成立日期"),
        Column(
            "status",
            "varchar(20)",
            "string",
            "登记状态",
            nullable=False,
            normalise="text",
            values=("存续", "在业", "吊销", "注销", "迁出"),
        ),
        Column("updated_at", "timestamp", "timestamp", "最后更新时间", nullable=False),
    ),
    primary_key=("enterprise_id",),
    business_keys=("uscc",),
    watermark="updated_at",
    business_date="established_on",
    daily_volume=(200, 20_000),
)
