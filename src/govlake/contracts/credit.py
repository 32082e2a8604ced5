"""Contracts of the credit system (公共信用信息系统)."""

from govlake.contracts.model import Column, Contract

_UPDATED = Column("updated_at", "timestamp", "timestamp", "最后更新时间", nullable=False)


def _uscc(nullable: bool = False) -> Column:
    return Column(
        "uscc",
        "varchar(32)",
        "string",
        "统一社会信用代码",
        nullable=nullable,
        max_length=18,
        normalise="code",
    )


def _enterprise_name(name: str = "enterprise_name") -> Column:
    return Column(
        name, "varchar(300)", "string", "主体名称", nullable=False, max_length=200, normalise="text"
    )


def _day(name: str, title: str, nullable: bool = True) -> Column:
    """A date as department systems keep it: typed in by hand, as text."""
    return Column(name, "varchar(20)", "date", title, nullable=nullable)


ENTERPRISE_REGISTER = Contract(
    system="credit",
    table="enterprise_register",
    title="企业登记信息",
    description="The enterprise register kept by the credit system: one row per registered entity.",
    columns=(
        Column("enterprise_id", "integer", "int64", "主体内部编号", nullable=False),
        _uscc(),
        Column(
            "registration_number",
            "varchar(32)",
            "string",
            "注册号",
            max_length=15,
            normalise="code",
        ),
        _enterprise_name("name"),
        Column(
            "entity_type",
            "varchar(20)",
            "string",
            "主体类型",
            nullable=False,
            normalise="text",
            values=("企业", "个体工商户", "农民专业合作社"),
        ),
        Column("legal_rep_person_id", "integer", "int64", "法定代表人人员编号"),
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
            nullable=False,
            max_length=6,
            normalise="code",
        ),
        Column("registered_capital", "numeric(20,4)", "decimal(20,4)", "注册资本(万元)"),
        _day("established_on", "成立日期"),
        Column(
            "status",
            "varchar(20)",
            "string",
            "登记状态",
            nullable=False,
            normalise="text",
            values=("存续", "在业", "吊销", "注销", "迁出"),
        ),
        _UPDATED,
    ),
    primary_key=("enterprise_id",),
    business_keys=("uscc", "registration_number"),
    watermark="updated_at",
    business_date="established_on",
    daily_volume=(200, 20_000),
)

PERSONS = Contract(
    system="credit",
    table="persons",
    title="自然人信息",
    description="People the credit system's records refer to, under its own person key.",
    columns=(
        Column("person_id", "integer", "int64", "人员编号", nullable=False),
        Column(
            "name",
            "varchar(100)",
            "string",
            "姓名",
            nullable=False,
            max_length=50,
            normalise="text",
            pii=True,
        ),
        Column(
            "id_number",
            "varchar(32)",
            "string",
            "公民身份号码",
            nullable=False,
            max_length=18,
            normalise="code",
            pii=True,
        ),
        _UPDATED,
    ),
    primary_key=("person_id",),
    business_keys=("id_number",),
    watermark="updated_at",
    business_date="updated_at",
    daily_volume=(100, 10_000),
)

TAX_CREDIT_LEVELS = Contract(
    system="credit",
    table="tax_credit_levels",
    title="纳税信用等级",
    columns=(
        Column("record_id", "integer", "int64", "记录编号", nullable=False),
        _uscc(),
        _enterprise_name(),
        Column("tax_year", "integer", "int64", "评价年度", nullable=False),
        Column(
            "level",
            "varchar(4)",
            "string",
            "纳税信用级别",
            nullable=False,
            normalise="code",
            values=("A", "B", "M", "C", "D"),
        ),
        _day("rated_on", "评定日期", nullable=False),
        _UPDATED,
    ),
    primary_key=("record_id",),
    business_keys=("uscc", "tax_year"),
    watermark="updated_at",
    business_date="rated_on",
    daily_volume=(0, 50_000),
)

ABNORMAL_OPERATIONS = Contract(
    system="credit",
    table="abnormal_operations",
    title="经营异常名录",
    columns=(
        Column("record_id", "integer", "int64", "记录编号", nullable=False),
        _uscc(),
        _enterprise_name(),
        Column(
            "reason",
            "varchar(200)",
            "string",
            "列入原因",
            nullable=False,
            max_length=200,
            normalise="text",
        ),
        _day("listed_on", "列入日期", nullable=False),
        _day("removed_on", "移出日期"),
        Column(
            "authority",
            "varchar(100)",
            "string",
            "作出决定机关",
            nullable=False,
            max_length=100,
            normalise="text",
        ),
        _UPDATED,
    ),
    primary_key=("record_id",),
    business_keys=("uscc", "listed_on"),
    watermark="updated_at",
    business_date="listed_on",
    daily_volume=(10, 2_000),
)

SERIOUS_DISHONESTY = Contract(
    system="credit",
    table="serious_dishonesty",
    title="严重失信主体名单",
    columns=(
        Column("record_id", "integer", "int64", "记录编号", nullable=False),
        _uscc(),
        _enterprise_name(),
        Column(
            "sector",
            "varchar(50)",
            "string",
            "领域",
            nullable=False,
            normalise="text",
            values=("市场监管", "税务", "安全生产", "公共资源交易", "环境保护"),
        ),
        Column(
            "reason",
            "varchar(300)",
            "string",
            "列入事由",
            nullable=False,
            max_length=300,
            normalise="text",
        ),
        _day("listed_on", "列入日期", nullable=False),
        _day("expires_on", "有效期至"),
        Column(
            "authority",
            "varchar(100)",
            "string",
            "认定部门",
            nullable=False,
            max_length=100,
            normalise="text",
        ),
        _UPDATED,
    ),
    primary_key=("record_id",),
    business_keys=("uscc", "sector", "listed_on"),
    watermark="updated_at",
    business_date="listed_on",
    daily_volume=(0, 200),
)

DISHONEST_DEBTORS = Contract(
    system="credit",
    table="dishonest_debtors",
    title="失信被执行人",
    columns=(
        Column("record_id", "integer", "int64", "记录编号", nullable=False),
        Column(
            "party_type",
            "varchar(10)",
            "string",
            "主体类别",
            nullable=False,
            normalise="text",
            values=("法人", "自然人"),
        ),
        _uscc(nullable=True),
        Column("person_id", "integer", "int64", "人员编号"),
        Column(
            "party_name",
            "varchar(300)",
            "string",
            "被执行人名称",
            nullable=False,
            max_length=200,
            normalise="text",
            pii=True,
        ),
        Column(
            "id_number",
            "varchar(32)",
            "string",
            "身份证号码",
            max_length=18,
            normalise="code",
            pii=True,
        ),
        Column(
            "case_number",
            "varchar(60)",
            "string",
            "执行案号",
            nullable=False,
            max_length=60,
            normalise="text",
        ),
        Column(
            "court",
            "varchar(100)",
            "string",
            "执行法院",
            nullable=False,
            max_length=100,
            normalise="text",
        ),
        _day("listed_on", "发布日期", nullable=False),
        Column(
            "status",
            "varchar(10)",
            "string",
            "状态",
            nullable=False,
            normalise="text",
            values=("在列", "已移除"),
        ),
        _UPDATED,
    ),
    primary_key=("record_id",),
    business_keys=("case_number",),
    watermark="updated_at",
    business_date="listed_on",
    daily_volume=(0, 500),
)

CREDIT_REPAIRS = Contract(
    system="credit",
    table="credit_repairs",
    title="信用修复申请",
    columns=(
        Column("repair_id", "integer", "int64", "修复申请编号", nullable=False),
        _uscc(),
        Column(
            "record_table",
            "varchar(40)",
            "string",
            "修复对象类别",
            nullable=False,
            values=("abnormal_operations", "serious_dishonesty", "penalty_decisions"),
        ),
        Column("record_id", "integer", "int64", "修复对象记录编号", nullable=False),
        _day("applied_on", "申请日期", nullable=False),
        Column(
            "decision",
            "varchar(10)",
            "string",
            "审核结果",
            nullable=False,
            normalise="text",
            values=("待审核", "已通过", "未通过"),
        ),
        _day("decided_on", "审核日期"),
        _UPDATED,
    ),
    primary_key=("repair_id",),
    business_keys=("record_table", "record_id", "applied_on"),
    watermark="updated_at",
    business_date="applied_on",
    daily_volume=(0, 200),
)

CONTRACTS = (
    ENTERPRISE_REGISTER,
    PERSONS,
    TAX_CREDIT_LEVELS,
    ABNORMAL_OPERATIONS,
    SERIOUS_DISHONESTY,
    DISHONEST_DEBTORS,
    CREDIT_REPAIRS,
)
