"""Contracts of the approval system (行政审批 / 网上审批系统): departments, the item catalogue,
cases (办件) and the licence decisions it publishes for 双公示 (DOMAIN.md §1.2, §6).

Time limits are working days (工作日). Times the system stamps itself are timestamps; dates that
clerks type in (许可决定日期, 有效期) are text, as in the department's database.
"""

from govlake.contracts.columns import UPDATED_AT, typed_date
from govlake.contracts.model import Column, Contract

USCC_PLACEHOLDER = "00000000000000000X"  # 个体工商户 without a code ("17个0加X")


def _code(name: str, title: str, length: int, nullable: bool = True, pii: bool = False) -> Column:
    """An identifier typed into a wider text field: normalised (NFKC, trim, upper) before checks."""
    return Column(
        name,
        f"varchar({max(40, 2 * length)})",
        "string",
        title,
        nullable=nullable,
        max_length=length,
        normalise="code",
        pii=pii,
    )


def _name(name: str, title: str, nullable: bool = False, pii: bool = False) -> Column:
    return Column(
        name,
        "varchar(300)",
        "string",
        title,
        nullable=nullable,
        max_length=200,
        normalise="text",
        pii=pii,
    )


DEPARTMENTS = Contract(
    system="approval",
    table="departments",
    title="实施部门",
    description="The city and district authorities that implement service items.",
    columns=(
        Column("department_id", "integer", "int64", "部门编号", nullable=False),
        _code("department_code", "部门编码", 20, nullable=False),
        _name("name", "部门名称"),
        _code("uscc", "统一社会信用代码", 18, nullable=False),
        _code("region_code", "行政区划代码", 6, nullable=False),
        UPDATED_AT,
    ),
    primary_key=("department_id",),
    business_keys=("department_code",),
    watermark="updated_at",
    business_date="updated_at",
    daily_volume=(0, 20),
)

ITEM_TYPES = (
    "行政许可",
    "行政确认",
    "行政给付",
    "行政裁决",
    "行政奖励",
    "其他行政权力",
    "公共服务",
)

SERVICE_ITEMS = Contract(
    system="approval",
    table="service_items",
    title="政务服务事项实施清单",
    description="The implementation list of service items (GB/T 39554.1): one row per item and "
    "implementing department, with legal and promised time limits in working days.",
    columns=(
        Column("item_id", "integer", "int64", "事项编号", nullable=False),
        _code("item_code", "事项实施编码", 80, nullable=False),
        _name("name", "事项名称"),
        Column("department_id", "integer", "int64", "实施部门编号", nullable=False),
        Column(
            "item_type",
            "varchar(20)",
            "string",
            "事项类型",
            nullable=False,
            normalise="text",
            values=ITEM_TYPES,
        ),
        Column("legal_limit_days", "integer", "int64", "法定办结时限(工作日)", nullable=False),
        Column(
            "promised_limit_days",
            "integer",
            "int64",
            "承诺办结时限(工作日, 0为即办)",
            nullable=False,
        ),
        Column(
            "online_capable",
            "varchar(4)",
            "string",
            "是否可网办",
            nullable=False,
            normalise="text",
            values=("是", "否"),
        ),
        UPDATED_AT,
    ),
    primary_key=("item_id",),
    business_keys=("item_code",),
    watermark="updated_at",
    business_date="updated_at",
    daily_volume=(0, 200),
)

CASES = Contract(
    system="approval",
    table="cases",
    title="办件信息",
    description="Applications (办件) from submission to decision. An applicant is a legal "
    "entity (USCC, or only its organisation code, or the 个体 placeholder with the "
    "old registration number) or a natural person (name and ID number). Open cases "
    "have no decision time; suspended_days is the total of 暂停计时 in working days.",
    columns=(
        Column("case_id", "integer", "int64", "办件内部编号", nullable=False),
        _code("case_number", "办件编号", 30, nullable=False),
        Column("item_id", "integer", "int64", "事项编号", nullable=False),
        Column("department_id", "integer", "int64", "实施部门编号", nullable=False),
        Column(
            "applicant_type",
            "varchar(10)",
            "string",
            "申请人类型",
            nullable=False,
            normalise="text",
            values=("法人", "自然人"),
        ),
        _name("applicant_name", "申请人名称", pii=True),
        _code("applicant_uscc", "申请人统一社会信用代码", 18),
        _code("applicant_org_code", "申请人组织机构代码", 10),
        _code("applicant_reg_number", "申请人工商注册号", 15),
        _code("applicant_id_number", "申请人身份证号码", 18, pii=True),
        Column(
            "channel",
            "varchar(10)",
            "string",
            "办理渠道",
            nullable=False,
            normalise="text",
            values=("网上", "窗口", "自助"),
        ),
        Column("submitted_at", "timestamp", "timestamp", "申请时间", nullable=False),
        Column("accepted_at", "timestamp", "timestamp", "受理时间"),
        Column("decided_at", "timestamp", "timestamp", "办结时间"),
        Column("suspended_days", "integer", "int64", "暂停计时天数(工作日)", nullable=False),
        Column(
            "result",
            "varchar(10)",
            "string",
            "办理结果",
            normalise="text",
            values=("准予", "不予", "撤回"),
        ),
        _code("licence_number", "证照编号", 30),
        UPDATED_AT,
    ),
    primary_key=("case_id",),
    business_keys=("case_number",),
    watermark="updated_at",
    business_date="submitted_at",
    daily_volume=(200, 15_000),  # days off: only 网上 submissions
)

LICENCE_DECISIONS = Contract(
    system="approval",
    table="licence_decisions",
    title="行政许可决定信息(双公示)",
    description="行政许可 decisions as entered for 双公示 (信用中国 v2 field set). entered_at is "
    "when the record was entered: the 7-working-day publication rule is measured "
    "from decision_date to it. licence_number links a decision to its case.",
    columns=(
        Column("decision_id", "integer", "int64", "记录编号", nullable=False),
        _code("decision_number", "行政许可决定文书号", 64, nullable=False),
        _name("licence_name", "许可证书名称"),
        Column(
            "licence_category",
            "varchar(10)",
            "string",
            "许可类别",
            nullable=False,
            normalise="text",
            values=("普通", "特许", "认可", "核准", "登记", "其他"),
        ),
        _code("licence_number", "许可编号", 30, nullable=False),
        Column(
            "holder_type",
            "varchar(20)",
            "string",
            "行政相对人类别",
            nullable=False,
            normalise="text",
            values=("法人及非法人组织", "自然人", "个体工商户"),
        ),
        _name("holder_name", "行政相对人名称", pii=True),
        _code("holder_uscc", "行政相对人统一社会信用代码", 18),
        _code("holder_reg_number", "工商注册号", 15),
        _code("holder_id_number", "行政相对人证件号码", 18, pii=True),
        Column(
            "legal_rep_name",
            "varchar(100)",
            "string",
            "法定代表人",
            max_length=50,
            normalise="text",
        ),
        _code("legal_rep_id_number", "法定代表人证件号码", 18, pii=True),
        typed_date("decision_date", "许可决定日期", nullable=False),
        typed_date("valid_from", "有效期自", nullable=False),
        typed_date("valid_to", "有效期至", nullable=False),
        _name("authority_name", "许可机关"),
        _code("authority_uscc", "许可机关统一社会信用代码", 18, nullable=False),
        Column(
            "status",
            "varchar(10)",
            "string",
            "当前状态",
            nullable=False,
            normalise="text",
            values=("有效", "撤销", "注销", "吊销"),
        ),
        Column("entered_at", "timestamp", "timestamp", "录入时间", nullable=False),
        UPDATED_AT,
    ),
    primary_key=("decision_id",),
    business_keys=("decision_number",),
    watermark="updated_at",
    business_date="decision_date",
    daily_volume=(0, 5_000),  # nothing is entered on days off
)

CONTRACTS = (DEPARTMENTS, SERVICE_ITEMS, CASES, LICENCE_DECISIONS)
