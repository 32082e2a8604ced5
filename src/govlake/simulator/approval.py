"""The approval system (行政审批 / 网上审批): departments, service items, cases, licence decisions.

Cases (办件) are submitted (网上 at any hour, 窗口 and 自助 in office hours), accepted (受理) and
decided (办结) within the item's promised limit counted in working days (工作日, chinese_calendar;
weekends only for years it does not know), now and then later (暂停计时, or 超期 at slow
departments). An approved case of a 行政许可 item carries a licence number, and its decision is
entered for 双公示 some working days later: each department has its own pace, so late publication
(over 7 working days) is a true property of slow departments, not an injected defect.

A day submits new cases (and a few 补录 ones typed in days late), moves open cases on (受理, 办结,
撤回), corrects suspension totals, enters pending licence decisions (some with old decision
dates), revokes or cancels licences (撤销/注销), compresses an item's promised limit now and then,
and hard-deletes the odd case entered by mistake. Updates touch only lifecycle columns, so a
defect injected into a row earlier stays true of it; new defects go only into new rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from io import StringIO

import numpy as np
import pandas as pd

from govlake import workdays
from govlake.contracts import approval as c
from govlake.identifiers import org_code_check_char, uscc_check_char
from govlake.simulator import vectors as v
from govlake.simulator.base import TRUTH_COLUMNS, Batch, day_times, entity_truth, finish
from govlake.simulator.defects import FLAG, QUARANTINE, DefectKind, Target, register
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import World

SYSTEM = "approval"
_OPEN, _CLOSE = 9 * 3600, 17 * 3600 + 1800  # office hours, seconds after midnight
_WINDOW_DAYS = 90  # how far back a day looks for open cases and unpublished decisions
_READ_CHUNK = 20_000  # keys per read: below SQLite's and PostgreSQL's bind-parameter limits


# -- working days (工作日) -------------------------------------------------------------------


@lru_cache(maxsize=8)
def _calendar(first_year: int, last_year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days of the years, whether each is a working day, and the running count of working days."""
    days = np.arange(f"{first_year}-01-01", f"{last_year + 1}-01-01", dtype="datetime64[D]")
    workday = np.array([workdays.is_workday(d) for d in days.astype(object)])
    return days, workday, np.cumsum(workday)


def _calendar_for(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = days.astype("datetime64[Y]").astype(int) + 1970
    return _calendar(int(years.min()) - 1, int(years.max()) + 1)


def is_workday(days: np.ndarray) -> np.ndarray:
    days = np.asarray(days, dtype="datetime64[D]")
    if len(days) == 0:
        return np.zeros(0, dtype=bool)
    cal, workday, _ = _calendar_for(days)
    return workday[(days - cal[0]).astype(int)]


def add_workdays(days: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The ``n``-th working day after the first working day on or after each day."""
    days = np.asarray(days, dtype="datetime64[D]")
    if len(days) == 0:
        return days
    n = np.asarray(n)
    horizon = days.max() + np.timedelta64(2 * int(n.max(initial=0)) + 30, "D")
    cal, workday, count = _calendar_for(np.append(days, horizon))
    index = (days - cal[0]).astype(int)
    return cal[np.searchsorted(count, count[index] - workday[index] + 1 + n)]


def workdays_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Working days after ``start`` up to and including ``end``."""
    start = np.asarray(start, dtype="datetime64[D]")
    end = np.asarray(end, dtype="datetime64[D]")
    if len(start) == 0:
        return np.zeros(0, dtype=int)
    cal, _, count = _calendar_for(np.concatenate([start, end]))
    return count[(end - cal[0]).astype(int)] - count[(start - cal[0]).astype(int)]


def _at(days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[us]") + np.asarray(
        seconds, dtype=np.int64
    ).astype("timedelta64[s]")


def _between(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """A time uniformly between ``start`` and ``end`` (whole seconds)."""
    span = np.maximum((end - start).astype("timedelta64[s]").astype(np.int64), 0)
    return start + (rng.random(len(start)) * span).astype(np.int64).astype("timedelta64[s]")


def _office(days: np.ndarray, after: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A time in office hours of ``days``, after ``after`` (or soon after it, when it is late)."""
    start = np.maximum(_at(days, np.full(len(days), _OPEN)), after)
    end = np.maximum(_at(days, np.full(len(days), _CLOSE)), start + np.timedelta64(40, "m"))
    return _between(rng, start, end)


# -- the catalogue: departments and service items -------------------------------------------

# Department kinds: key, city-level name, district-level name (None: city level only), abbreviation.
_KINDS = pd.DataFrame(
    [
        ("审批", "行政审批服务局", "行政审批服务局", "审批"),
        ("市监", "市场监督管理局", "市场监督管理局", "市监"),
        ("卫健", "卫生健康委员会", "卫生健康局", "卫健"),
        ("人社", "人力资源和社会保障局", "人力资源和社会保障局", "人社"),
        ("住建", "住房和城乡建设局", None, "住建"),
        ("自然", "自然资源和规划局", None, "自然"),
        ("民政", "民政局", None, "民政"),
        ("公安", "公安局", None, "公安"),
        ("交通", "交通运输局", None, "交通"),
        ("环境", "生态环境局", None, "环"),
        ("教育", "教育局", None, "教"),
        ("文旅", "文化和旅游局", None, "文旅"),
        ("应急", "应急管理局", None, "应急"),
        ("城管", "城市管理局", None, "城管"),
        ("医保", "医疗保障局", None, "医保"),
        ("农业", "农业农村局", None, "农"),
        ("退役", "退役军人事务局", None, "退役"),
        ("商务", "商务局", None, "商"),
    ],
    columns=["kind", "city_name", "district_name", "abbr"],
)
# District-level departments: region, name prefix, one-character abbreviation.
_DISTRICTS = pd.DataFrame(
    [
        ("370202", "青岛市市南区", "南"),
        ("370203", "青岛市市北区", "北"),
        ("370211", "青岛市黄岛区", "黄"),
        ("370212", "青岛市崂山区", "崂"),
        ("370213", "青岛市李沧区", "李"),
        ("370214", "青岛市城阳区", "城"),
        ("370215", "青岛市即墨区", "即"),
        ("370281", "胶州市", "胶"),
        ("370283", "平度市", "平"),
        ("370285", "莱西市", "莱"),
    ],
    columns=["region_code", "prefix", "short"],
)
_EXTRA_DISTRICT_KINDS = (("370211", "住建"), ("370211", "自然"))  # 西海岸新区 has its own


# Base items: department kind, name, type, legal limit (working days), applicant, certificate,
# its code in licence numbers, 许可类别, validity in months (0: long-term), popularity.
_BASE_ITEMS = pd.read_csv(
    StringIO("""kind|item_name|item_type|legal|applicant|licence|code|category|months|weight
审批|食品经营许可|行政许可|20|法人|食品经营许可证|JY|普通|60|3.0
审批|食品生产许可|行政许可|20|法人|食品生产许可证|SC|普通|60|1.0
审批|药品零售企业许可|行政许可|30|法人|药品经营许可证|YP|普通|60|0.6
审批|建筑工程施工许可|行政许可|15|法人|建筑工程施工许可证|SG|普通|36|0.8
审批|建筑业企业资质核准|行政许可|20|法人|建筑业企业资质证书|JZ|核准|60|0.5
审批|道路货物运输经营许可|行政许可|20|法人|道路运输经营许可证|DY|普通|48|0.7
审批|出租汽车驾驶员从业资格注册|行政许可|20|自然人|出租汽车驾驶员从业资格证|CZ|认可|72|0.8
审批|公共场所卫生许可|行政许可|20|法人|公共场所卫生许可证|GW|普通|48|1.2
审批|医疗机构执业登记|行政许可|45|法人|医疗机构执业许可证|YL|登记|60|0.3
审批|娱乐场所经营许可|行政许可|20|法人|娱乐经营许可证|YW|普通|24|0.3
审批|旅行社业务经营许可|行政许可|20|法人|旅行社业务经营许可证|LX|普通|0|0.2
审批|排污许可|行政许可|30|法人|排污许可证|PW|普通|60|0.4
审批|取水许可|行政许可|45|法人|取水许可证|QS|普通|60|0.2
审批|城市建筑垃圾处置核准|行政许可|20|法人|建筑垃圾处置核准证|LJ|核准|12|0.4
审批|户外广告设施设置审批|行政许可|20|法人|户外广告设置许可证|GG|普通|36|0.4
审批|教师资格认定|行政许可|30|自然人|教师资格证书|JS|认可|0|1.0
审批|民办学校办学许可|行政许可|30|法人|民办学校办学许可证|MB|普通|60|0.05
审批|危险化学品经营许可|行政许可|30|法人|危险化学品经营许可证|WH|普通|36|0.2
审批|社会团体成立登记|行政许可|60|法人|社会团体法人登记证书|ST|登记|60|0.05
审批|人力资源服务许可|行政许可|20|法人|人力资源服务许可证|RL|普通|60|0.1
市监|特种设备使用登记|行政许可|15|法人|特种设备使用登记证|TS|登记|0|1.0
市监|工业产品生产许可|行政许可|20|法人|工业产品生产许可证|XK|普通|60|0.2
市监|计量器具强制检定|公共服务|10|法人||||0|0.6
市监|股权出质登记|行政确认|10|法人||||0|0.3
市监|动产抵押登记|行政确认|5|法人||||0|0.3
市监|企业名称争议裁决|行政裁决|60|法人||||0|0.02
卫健|医师执业注册|行政许可|20|自然人|医师执业证书|YS|认可|0|0.8
卫健|护士执业注册|行政许可|20|自然人|护士执业证书|HS|认可|60|0.8
卫健|放射诊疗许可|行政许可|20|法人|放射诊疗许可证|FS|普通|60|0.1
卫健|出生医学证明签发|公共服务|5|自然人||||0|0.8
卫健|计划生育家庭特别扶助金|行政给付|30|自然人||||0|0.3
人社|失业保险金申领|行政给付|10|自然人||||0|1.5
人社|社会保险登记|公共服务|5|法人||||0|1.5
人社|职工基本养老保险待遇核定|行政给付|20|自然人||||0|0.8
人社|工伤认定|行政确认|60|自然人||||0|0.4
人社|劳务派遣经营许可|行政许可|20|法人|劳务派遣经营许可证|LP|普通|36|0.1
人社|就业创业证申领|公共服务|5|自然人||||0|1.0
住建|商品房预售许可|行政许可|10|法人|商品房预售许可证|YS|普通|0|0.3
住建|房地产开发企业资质核定|行政许可|20|法人|房地产开发企业资质证书|FK|核准|36|0.1
住建|建筑施工企业安全生产许可|行政许可|45|法人|安全生产许可证|AQ|普通|36|0.2
住建|建设工程竣工验收备案|其他行政权力|15|法人||||0|0.4
住建|公共租赁住房保障资格审核|行政确认|30|自然人||||0|0.6
自然|建设用地规划许可|行政许可|20|法人|建设用地规划许可证|YD|普通|0|0.2
自然|建设工程规划许可|行政许可|20|法人|建设工程规划许可证|GH|普通|24|0.3
自然|乡村建设规划许可|行政许可|20|自然人|乡村建设规划许可证|XC|普通|24|0.2
自然|测绘资质审批|行政许可|20|法人|测绘资质证书|CH|核准|60|0.05
自然|不动产登记|行政确认|30|自然人||||0|3.0
民政|结婚登记|行政确认|1|自然人||||0|1.0
民政|最低生活保障审核确认|行政给付|30|自然人||||0|0.6
民政|残疾人两项补贴|行政给付|20|自然人||||0|0.5
民政|养老机构备案|其他行政权力|5|法人||||0|0.1
公安|户口迁移|行政确认|20|自然人||||0|1.2
公安|居民身份证申领|公共服务|60|自然人||||0|2.0
公安|机动车登记|行政确认|5|自然人||||0|1.0
公安|剧毒化学品购买许可|行政许可|3|法人|剧毒化学品购买许可证|JD|普通|1|0.05
公安|保安服务许可|行政许可|20|法人|保安服务许可证|BA|普通|0|0.05
交通|道路旅客运输经营许可|行政许可|20|法人|道路运输经营许可证|KY|普通|48|0.2
交通|出租汽车经营许可|行政许可|20|法人|出租汽车经营许可证|CJ|特许|48|0.1
交通|公路超限运输许可|行政许可|5|法人|超限运输车辆通行证|CX|普通|3|0.8
交通|港口经营许可|行政许可|30|法人|港口经营许可证|GK|普通|36|0.1
环境|建设项目环境影响报告书审批|行政许可|60|法人|环境影响评价批复|HP|普通|60|0.4
环境|危险废物经营许可|行政许可|20|法人|危险废物经营许可证|WF|普通|60|0.05
环境|辐射安全许可|行政许可|20|法人|辐射安全许可证|FA|普通|60|0.1
教育|学生资助|行政给付|30|自然人||||0|0.5
教育|适龄儿童入学登记|公共服务|10|自然人||||0|1.0
文旅|营业性演出审批|行政许可|3|法人|营业性演出准予许可决定书|YC|普通|1|0.3
文旅|互联网上网服务营业场所经营许可|行政许可|20|法人|网络文化经营许可证|WB|普通|36|0.1
应急|危险化学品安全使用许可|行政许可|45|法人|危险化学品安全使用许可证|WS|普通|36|0.05
应急|生产安全事故应急预案备案|其他行政权力|5|法人||||0|0.3
城管|城市道路挖掘许可|行政许可|20|法人|城市道路挖掘许可证|WJ|普通|3|0.4
城管|临时占用城市道路许可|行政许可|20|法人|临时占用城市道路许可证|ZD|普通|6|0.4
城管|燃气经营许可|行政许可|20|法人|燃气经营许可证|RQ|特许|36|0.05
城管|城镇污水排入排水管网许可|行政许可|20|法人|排水许可证|PS|普通|60|0.2
医保|医疗费用零星报销|行政给付|30|自然人||||0|1.5
医保|异地就医备案|公共服务|1|自然人||||0|1.5
医保|门诊慢特病待遇认定|行政确认|20|自然人||||0|0.8
农业|农药经营许可|行政许可|20|法人|农药经营许可证|NY|普通|60|0.1
农业|兽药经营许可|行政许可|20|法人|兽药经营许可证|SJ|普通|60|0.05
农业|动物防疫条件合格证核发|行政许可|20|法人|动物防疫条件合格证|DF|普通|0|0.1
农业|农机购置补贴|行政给付|30|自然人||||0|0.5
退役|优抚对象抚恤补助|行政给付|30|自然人||||0|0.3
退役|退役军人优待证申领|公共服务|10|自然人||||0|0.3
商务|对外贸易经营者备案|其他行政权力|5|法人||||0|0.2
商务|单用途商业预付卡备案|其他行政权力|5|法人||||0|0.1
商务|报废机动车回收拆解企业资质认定|行政许可|20|法人|资质认定书|BF|认可|60|0.02
"""),
    sep="|",
    dtype={"licence": object, "code": object, "category": object},
    keep_default_na=False,
).replace("", None)
# 行政许可 items come in several business variants (情形); 告知承诺制 variants are decided at once.
_VARIANTS = pd.DataFrame(
    [
        ("新办", 1.0, False, True),
        ("告知承诺制新办", 0.6, True, True),
        ("变更", 0.5, False, True),
        ("延续", 0.3, False, True),
        ("告知承诺制延续", 0.2, True, True),
        ("注销", 0.15, False, False),
        ("补证", 0.05, False, True),
    ],
    columns=["variant", "variant_weight", "at_once", "issues"],
)
_TYPE_LETTERS = {
    "行政许可": "A",
    "行政确认": "G",
    "行政给付": "E",
    "行政裁决": "J",
    "行政奖励": "H",
    "其他行政权力": "L",
    "公共服务": "Z",
}
_ITEMS_CAP = 2_400


def _authority_usccs(rng: np.random.Generator, regions: np.ndarray) -> np.ndarray:
    """统一社会信用代码 of 机关 (department 1, kind 1): bodies issued by 机构编制 (MB...)."""
    bodies = [f"MB{n:06d}" for n in rng.integers(0, 10**6, len(regions))]
    first17 = [f"11{r}{b}{org_code_check_char(b)}" for r, b in zip(regions, bodies, strict=True)]
    return np.array([f + uscc_check_char(f) for f in first17], dtype=object)


def departments(world: World) -> pd.DataFrame:
    """The ~60 departments, with their pace: the chance a decision is entered for 双公示 on a
    given working day (``_publish_p``) and the share of cases they finish late (``_overdue_p``)."""
    rng = v.rng_for(world.seed, SYSTEM, "departments")
    city = _KINDS.assign(
        region_code="370200", name="青岛市" + _KINDS["city_name"], abbr="青" + _KINDS["abbr"]
    )
    local = _DISTRICTS.merge(_KINDS[_KINDS["district_name"].notna()], how="cross")
    extra = _DISTRICTS.merge(
        pd.DataFrame(_EXTRA_DISTRICT_KINDS, columns=["region_code", "kind"]), on="region_code"
    ).merge(_KINDS, on="kind")
    local = pd.concat([local, extra], ignore_index=True).assign(
        name=lambda f: f["prefix"] + f["district_name"].fillna(f["city_name"]),
        abbr=lambda f: f["short"] + f["abbr"],
    )
    rows = pd.concat([city, local], ignore_index=True)
    n = len(rows)
    tier = rng.permutation(np.repeat([0, 1, 2], [n - n // 4 - n // 8, n // 4, n // 8]))
    return pd.DataFrame(
        {
            "department_id": np.arange(1, n + 1, dtype=np.int64),
            "department_code": [
                f"{r}{i:03d}" for r, i in zip(rows["region_code"], range(1, n + 1), strict=True)
            ],
            "name": rows["name"].to_numpy(),
            "uscc": _authority_usccs(rng, rows["region_code"].to_numpy()),
            "region_code": rows["region_code"].to_numpy(),
            "_kind": rows["kind"].to_numpy(),
            "_abbr": rows["abbr"].to_numpy(),
            # fast, middling and slow departments
            "_publish_p": np.choose(
                tier,
                [rng.uniform(0.5, 0.9, n), rng.uniform(0.12, 0.25, n), rng.uniform(0.03, 0.07, n)],
            ),
            "_overdue_p": np.choose(tier, [0.01, 0.03, 0.08]),
            "_size": np.where(rows["region_code"] == "370200", 1.0, rng.uniform(0.3, 0.8, n)),
        }
    )


def service_items(world: World, depts: pd.DataFrame) -> pd.DataFrame:
    """The implementation list: each department's base items, 行政许可 ones in their variants;
    ~2,400 at demo and city scale, fewer at tiny. Popularity (``_weight``) drives case volume."""
    rng = v.rng_for(world.seed, SYSTEM, "service_items")
    base = _BASE_ITEMS.assign(base_no=np.arange(1, len(_BASE_ITEMS) + 1))
    items = depts.merge(base, left_on="_kind", right_on="kind")
    licence = items["item_type"] == "行政许可"
    items = pd.concat(
        [
            items[licence].merge(_VARIANTS.assign(variant_no=np.arange(1, 8)), how="cross"),
            items[~licence].assign(
                variant=None, variant_weight=1.0, at_once=False, issues=False, variant_no=0
            ),
        ],
        ignore_index=True,
    ).sort_values(["department_id", "base_no", "variant_no"], ignore_index=True)
    cap = min(_ITEMS_CAP, max(200, world.scale.facts // 10))
    if len(items) > cap:
        items = items.iloc[np.sort(rng.choice(len(items), cap, replace=False))]
    items = items.reset_index(drop=True)
    n = len(items)
    legal = items["legal"].to_numpy()
    share = rng.choice(np.array([1.0, 0.5, 0.25, 0.1]), n, p=[0.15, 0.35, 0.3, 0.2])
    promised = np.clip(np.ceil(legal * share), 1, legal).astype(np.int64)
    licence = (items["item_type"] == "行政许可").to_numpy()
    instant = items["at_once"].to_numpy() | (rng.random(n) < np.where(licence, 0.05, 0.3))
    basic = (
        "370"
        + items["item_type"].map(_TYPE_LETTERS)
        + items["base_no"].map("{:04d}".format)
        + items["variant_no"].map("{:03d}".format)
        + "000"
    )
    return pd.DataFrame(
        {
            "item_id": np.arange(1, n + 1, dtype=np.int64),
            "item_code": basic
            + "-"
            + items["region_code"]
            + "000000-000-"
            + items["uscc"]
            + "-1-00",
            "name": np.where(
                items["variant"].notna(),
                items["item_name"] + "（" + items["variant"].fillna("") + "）",
                items["item_name"],
            ),
            "department_id": items["department_id"].to_numpy(),
            "item_type": items["item_type"].to_numpy(),
            "legal_limit_days": legal.astype(np.int64),
            "promised_limit_days": np.where(instant, 0, promised),
            "online_capable": np.where(rng.random(n) < 0.85, "是", "否").astype(object),
            "_applicant": items["applicant"].to_numpy(),
            "_licence": np.where(items["issues"], items["licence"], None),
            "_code": items["code"].to_numpy(),
            "_category": items["category"].to_numpy(),
            "_months": items["months"].to_numpy(),
            # Items other than 行政许可 have no variants and serve many more people each.
            "_weight": (items["weight"] * items["variant_weight"] * items["_size"]).to_numpy()
            * np.where(licence, 1.0, 6.0)
            * rng.lognormal(0, 0.5, n),
        }
    )


# -- cases (办件) ------------------------------------------------------------------------------


def _channels(rng: np.random.Generator, online_capable: np.ndarray) -> np.ndarray:
    online = np.asarray(online_capable) == "是"
    draw = rng.random(len(online))
    return np.where(online & (draw < 0.7), "网上", np.where(draw < 0.93, "窗口", "自助")).astype(
        object
    )


def _submissions(
    rng: np.random.Generator, online: np.ndarray, first: date, last: date
) -> np.ndarray:
    """网上 on any day and hour (fewer on days off and at night); 窗口 and 自助 in the hall's
    hours on working days."""
    days = np.arange(first, last + timedelta(days=1), dtype="datetime64[D]")
    work = is_workday(days)
    any_day = np.where(work, 1.0, 0.3)
    office_day = work.astype(float) if work.any() else any_day
    n = len(online)
    day = np.where(
        online,
        rng.choice(days, n, p=any_day / any_day.sum()),
        rng.choice(days, n, p=office_day / office_day.sum()),
    )
    online_seconds = np.where(
        rng.random(n) < 0.85, rng.integers(8 * 3600, 22 * 3600, n), rng.integers(0, 86_400, n)
    )
    return _at(day, np.where(online, online_seconds, rng.integers(_OPEN, 17 * 3600, n)))


def _serial(numbers: np.ndarray, width: int) -> pd.Series:
    return pd.Series(np.asarray(numbers), dtype=object).astype(str).str.zfill(width)


def _licence_numbers(codes, regions, decided: np.ndarray, case_ids) -> np.ndarray:
    """许可编号: certificate code, region, year of issue, serial (the case's, so it is unique)."""
    years = pd.Series(decided.astype("datetime64[Y]").astype(int) + 1970).astype(str)
    return (
        pd.Series(codes, dtype=object).fillna("").reset_index(drop=True)
        + pd.Series(regions, dtype=object).reset_index(drop=True)
        + years
        + _serial(case_ids, 8)
    ).to_numpy()


def _parties(
    rng: np.random.Generator, firm: np.ndarray, enterprises: pd.DataFrame, persons: pd.DataFrame
) -> pd.DataFrame:
    """Applicants: an enterprise (by its USCC; now and then only its organisation code; an old
    个体工商户 by the placeholder and its 注册号) or a person (name and ID number)."""
    n = len(firm)
    ent = enterprises.iloc[rng.integers(0, len(enterprises), n)].reset_index(drop=True)
    per = persons.iloc[rng.integers(0, len(persons), n)].reset_index(drop=True)
    code = ent["uscc"]
    placeholder = (code == c.USCC_PLACEHOLDER).to_numpy()
    draw = rng.random(n)
    org_only = firm & ~placeholder & (draw < 0.06)
    return pd.DataFrame(
        {
            "applicant_type": np.where(firm, "法人", "自然人").astype(object),
            "applicant_name": np.where(firm, v.name_variants(rng, ent["name"], 0.15), per["name"]),
            "applicant_uscc": np.where(
                firm & ~org_only & ~(placeholder & (draw >= 0.8)), code, None
            ),
            "applicant_org_code": np.where(org_only, code.str[8:16] + "-" + code.str[16], None),
            "applicant_reg_number": np.where(firm & placeholder, ent["registration_number"], None),
            "applicant_id_number": np.where(firm, None, per["id_number"]),
            "_kind": np.where(firm, "enterprise", "person"),
            "_entity": np.where(firm, ent["entity_id"], per["person_id"]),
        }
    )


def _cases(
    rng: np.random.Generator,
    items: pd.DataFrame,
    depts: pd.DataFrame,
    enterprises: pd.DataFrame,
    persons: pd.DataFrame,
    item_index: np.ndarray,
    channel: np.ndarray,
    submitted: np.ndarray,
    first_id: int,
    cutoff: np.datetime64,
) -> pd.DataFrame:
    """Cases from submission on, as far as they got before ``cutoff``: accepted on the spot or
    within a few working days, decided within the promised limit (plus suspensions; later at
    slow departments). ``_kind``/``_entity`` say whom each names."""
    order = np.argsort(submitted, kind="stable")
    item_index, channel, submitted = item_index[order], channel[order], submitted[order]
    n = len(submitted)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    item = items.iloc[item_index].reset_index(drop=True)
    dept = depts.set_index("department_id").loc[item["department_id"]].reset_index()
    sub_day = submitted.astype("datetime64[D]")
    sub_seconds = (submitted - _at(sub_day, np.zeros(n))).astype("timedelta64[s]").astype(int)
    on_spot = channel != "网上"
    in_hours = is_workday(sub_day) & (sub_seconds < 16 * 3600)
    queue_from = np.where(in_hours, sub_day, add_workdays(sub_day + 1, np.zeros(n, int)))
    queued = add_workdays(queue_from, rng.choice(3, n, p=[0.6, 0.3, 0.1]))
    accepted = np.where(
        on_spot,
        submitted + rng.integers(120, 1800, n).astype("timedelta64[s]"),
        _office(queued, submitted + np.timedelta64(60, "s"), rng),
    )
    promised = item["promised_limit_days"].to_numpy()
    suspended = np.where((promised > 0) & (rng.random(n) < 0.05), rng.integers(3, 25, n), 0)
    overdue = (promised > 0) & (rng.random(n) < dept["_overdue_p"].to_numpy())
    spent = np.where(
        overdue, promised + rng.integers(1, 10, n), np.ceil(promised * rng.beta(2, 1.5, n))
    ).astype(int)
    decided = _office(
        add_workdays(accepted.astype("datetime64[D]"), spent + suspended),
        accepted + np.timedelta64(5, "m"),
        rng,
    )
    result = rng.choice(np.array(["准予", "不予", "撤回"], dtype=object), n, p=[0.88, 0.05, 0.07])
    is_accepted = accepted < cutoff
    is_decided = is_accepted & (decided < cutoff)
    issued = is_decided & (result == "准予") & item["_licence"].notna().to_numpy()
    last = np.where(is_decided, decided, np.where(is_accepted, accepted, submitted))
    updated = np.minimum(
        last + rng.integers(0, 300, n).astype("timedelta64[s]"), cutoff - np.timedelta64(1, "s")
    )
    case_numbers = (
        dept["region_code"]
        + pd.Series(sub_day.astype(str), dtype=object).str.replace("-", "")
        + _serial(ids, 8)
    )
    frame = pd.DataFrame(
        {
            "case_id": ids,
            "case_number": case_numbers.to_numpy(),
            "item_id": item["item_id"].to_numpy(),
            "department_id": item["department_id"].to_numpy(),
            "channel": channel,
            "submitted_at": submitted,
            "accepted_at": np.where(is_accepted, accepted, np.datetime64("NaT")),
            "decided_at": np.where(is_decided, decided, np.datetime64("NaT")),
            "suspended_days": np.where(is_decided, suspended, 0).astype(np.int64),
            "result": np.where(is_decided, result, None),
            "licence_number": np.where(
                issued, _licence_numbers(item["_code"], dept["region_code"], decided, ids), None
            ),
            "updated_at": updated,
        }
    )
    parties = _parties(rng, (item["_applicant"] == "法人").to_numpy(), enterprises, persons)
    return pd.concat([frame, parties], axis=1)


def _progress(
    rng: np.random.Generator,
    open_cases: pd.DataFrame,
    items: pd.DataFrame,
    depts: pd.DataFrame,
    day: date,
) -> pd.DataFrame:
    """Open cases moved on during a working day: accepted (受理), decided (办结) or withdrawn;
    the closer to its promised limit, the likelier a decision. Returns the changed rows."""
    rows = open_cases.copy()
    n = len(rows)
    if n == 0:
        return rows
    today = np.full(n, np.datetime64(day, "D"))
    item = items.set_index("item_id").reindex(rows["item_id"])
    promised = item["promised_limit_days"].fillna(20).to_numpy().astype(int)
    submitted = rows["submitted_at"].to_numpy("datetime64[us]")
    accepted = rows["accepted_at"].to_numpy("datetime64[us]")
    accept = np.isnat(accepted) & (rng.random(n) < 0.7)
    accepted = np.where(accept, _office(today, submitted + np.timedelta64(60, "s"), rng), accepted)
    waited = np.where(
        np.isnat(accepted),
        0,
        workdays_between(np.where(np.isnat(accepted), today, accepted), today),
    )
    remaining = promised - waited
    hazard = np.where(
        promised == 0, 1.0, np.where(remaining <= 0, 0.4, 1 / (np.maximum(remaining, 0) + 1))
    )
    decide = ~np.isnat(accepted) & (rng.random(n) < hazard)
    decided = _office(today, accepted + np.timedelta64(5, "m"), rng)
    result = rng.choice(np.array(["准予", "不予", "撤回"], dtype=object), n, p=[0.88, 0.05, 0.07])
    region = depts.set_index("department_id")["region_code"].reindex(rows["department_id"])
    issued = decide & (result == "准予") & item["_licence"].notna().to_numpy()
    # Time over the promised limit is mostly a recorded suspension (检测, 专家评审...).
    suspended = np.where(
        decide & (remaining < 0) & (rng.random(n) < 0.5),
        -remaining + rng.integers(0, 3, n),
        rows["suspended_days"],
    )
    rows["accepted_at"] = accepted
    rows["decided_at"] = np.where(decide, decided, np.datetime64("NaT"))
    rows["result"] = np.where(decide, result, None)
    rows["suspended_days"] = suspended.astype(np.int64)
    rows["licence_number"] = np.where(
        issued,
        _licence_numbers(
            item["_code"].to_numpy(), region.to_numpy(), decided, rows["case_id"].to_numpy()
        ),
        None,
    )
    changed = accept | decide
    rows["updated_at"] = np.maximum(
        day_times(rng, n, day), np.where(decide, decided, accepted) + np.timedelta64(1, "m")
    )
    return rows[changed]


# -- licence decisions (行政许可决定, 双公示) ---------------------------------------------------

_HOLDER_TYPES = {
    "企业": "法人及非法人组织",
    "农民专业合作社": "法人及非法人组织",
    "个体工商户": "个体工商户",
}


def _valid_to(valid_from: np.ndarray, months: np.ndarray) -> np.ndarray:
    """有效期至: the day before the anniversary; 2099-12-31 for long-term licences."""
    out = np.full(len(valid_from), "2099-12-31", dtype=object)
    start = pd.DatetimeIndex(valid_from)
    for m in np.unique(months[months > 0]):
        pick = months == m
        end = start[pick] + pd.DateOffset(months=int(m)) - pd.Timedelta(days=1)
        out[pick] = end.strftime("%Y-%m-%d").to_numpy()
    return out


def _decisions(
    rng: np.random.Generator,
    cases: pd.DataFrame,
    entered_day: np.ndarray,
    items: pd.DataFrame,
    depts: pd.DataFrame,
    enterprises: pd.DataFrame,
    persons: pd.DataFrame,
    first_id: int,
) -> pd.DataFrame:
    """The 双公示 records of approved licence cases, entered on ``entered_day``; numbered in the
    order they were entered."""
    decided = cases["decided_at"].to_numpy("datetime64[us]")
    entered = _office(entered_day, decided + np.timedelta64(10, "m"), rng)
    order = np.lexsort((cases["case_id"].to_numpy(), entered))
    cases, entered, decided = (
        cases.iloc[order].reset_index(drop=True),
        entered[order],
        decided[order],
    )
    n = len(cases)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    item = items.set_index("item_id").loc[cases["item_id"]].reset_index()
    dept = depts.set_index("department_id").loc[cases["department_id"]].reset_index()
    firm = (cases["_kind"] == "enterprise").to_numpy()
    ent = enterprises.set_index("entity_id").reindex(np.where(firm, cases["_entity"], -1))
    per = persons.set_index("person_id").reindex(np.where(firm, -1, cases["_entity"]))
    rep = persons.set_index("person_id").reindex(ent["legal_rep_person_id"].fillna(-1))
    decision_day = decided.astype("datetime64[D]")
    valid_from = decision_day + np.where(rng.random(n) < 0.1, rng.integers(1, 6, n), 0)
    years = pd.Series(decision_day.astype("datetime64[Y]").astype(int) + 1970).astype(str)
    return pd.DataFrame(
        {
            "decision_id": ids,
            "decision_number": (
                dept["_abbr"] + "许字〔" + years + "〕" + _serial(ids, 6) + "号"
            ).to_numpy(),
            "licence_name": item["_licence"].to_numpy(),
            "licence_category": item["_category"].to_numpy(),
            "licence_number": cases["licence_number"].to_numpy(),
            "holder_type": np.where(firm, ent["entity_type"].map(_HOLDER_TYPES), "自然人"),
            "holder_name": np.where(firm, v.name_variants(rng, ent["name"], 0.1), per["name"]),
            "holder_uscc": np.where(firm, ent["uscc"], None),
            "holder_reg_number": np.where(firm, ent["registration_number"], None),
            "holder_id_number": np.where(firm, None, per["id_number"]),
            "legal_rep_name": np.where(firm, rep["name"], None),
            "legal_rep_id_number": np.where(firm, rep["id_number"], None),
            "decision_date": decision_day.astype(str).astype(object),
            "valid_from": valid_from.astype(str).astype(object),
            "valid_to": _valid_to(valid_from, item["_months"].to_numpy()),
            "authority_name": dept["name"].to_numpy(),
            "authority_uscc": dept["uscc"].to_numpy(),
            "status": "有效",
            "entered_at": entered,
            "updated_at": entered,
            "_kind": cases["_kind"].to_numpy(),
            "_entity": cases["_entity"].to_numpy(),
            "_rep": np.where(firm, ent["legal_rep_person_id"], np.nan),
        }
    )


def _decision_truth(rows: pd.DataFrame) -> pd.DataFrame:
    firm = rows["_kind"] == "enterprise"
    return pd.concat(
        [
            entity_truth(rows.loc[firm, "decision_id"], "enterprise", rows.loc[firm, "_entity"]),
            entity_truth(rows.loc[~firm, "decision_id"], "person", rows.loc[~firm, "_entity"]),
            entity_truth(rows.loc[firm, "decision_id"], "person", rows.loc[firm, "_rep"]),
        ],
        ignore_index=True,
    ).astype({"entity_id": np.int64})


def _case_truth(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": rows["case_id"].to_numpy(),
            "entity_kind": rows["_kind"],
            "entity_id": rows["_entity"].to_numpy(np.int64),
        }
    )[TRUTH_COLUMNS]


# -- defects ----------------------------------------------------------------------------------


def _times(frame: pd.DataFrame, rows, column: str) -> np.ndarray:
    return frame.loc[rows, column].to_numpy("datetime64[us]")


def _accepted_before_submitted(frame, rows, column, rng, **_):
    """受理时间 before 申请时间: a clock or data-entry error."""
    early = rng.integers(600, 3 * 86_400, len(rows)).astype("timedelta64[s]")
    frame.loc[rows, column] = _times(frame, rows, "submitted_at") - early


def _decided_before_accepted(frame, rows, column, rng, **_):
    """办结时间 before 受理时间 (an open case gets both, in the wrong order)."""
    submitted, accepted = _times(frame, rows, "submitted_at"), _times(frame, rows, "accepted_at")
    accepted = np.where(np.isnat(accepted), submitted + np.timedelta64(60, "s"), accepted)
    gap = (accepted - submitted).astype("timedelta64[s]").astype(np.int64)
    back = (gap * rng.uniform(0.1, 0.9, len(rows))).astype(np.int64).astype("timedelta64[s]")
    frame.loc[rows, "accepted_at"] = accepted
    frame.loc[rows, column] = accepted - back
    frame.loc[rows, "result"] = frame.loc[rows, "result"].fillna("不予")


def _handled_at_night(frame, rows, column, rng, **_):
    """办结 (or, for an open case, 受理) stamped between 22:00 and midnight: true, and what the
    电子监察 of after-hours handling looks at."""
    submitted = _times(frame, rows, "submitted_at")
    accepted, decided = _times(frame, rows, "accepted_at"), _times(frame, rows, "decided_at")
    on_decision = ~np.isnat(decided)
    base = np.where(on_decision, decided, np.where(np.isnat(accepted), submitted, accepted))
    day = base.astype("datetime64[D]")
    floor = np.where(on_decision, accepted, submitted) + np.timedelta64(1, "s")
    night = np.minimum(
        np.maximum(_at(day, rng.integers(22 * 3600, 86_399, len(rows))), floor),
        _at(day, np.full(len(rows), 86_399)),
    )
    frame.loc[rows, "decided_at"] = np.where(on_decision, night, decided)
    frame.loc[rows, "accepted_at"] = np.where(on_decision, accepted, night)
    frame.loc[rows, "updated_at"] = np.maximum(_times(frame, rows, "updated_at"), night)


def _promised_exceeds_legal(frame, rows, column, rng, **_):
    """承诺时限 longer than the 法定时限: the published promise breaks the law's limit."""
    legal = frame.loc[rows, "legal_limit_days"].to_numpy()
    frame.loc[rows, column] = legal + rng.integers(1, 10, len(rows))


def _validity_reversed(frame, rows, column, rng, **_):
    """有效期至 before 有效期自."""
    start = pd.to_datetime(frame.loc[rows, "valid_from"].to_numpy(), format="%Y-%m-%d")
    end = start - pd.to_timedelta(rng.integers(1, 365, len(rows)), unit="D")
    frame.loc[rows, column] = end.strftime("%Y-%m-%d").to_numpy()


for _kind in (
    DefectKind("accepted_before_submitted", QUARANTINE, _accepted_before_submitted),
    DefectKind("decided_before_accepted", QUARANTINE, _decided_before_accepted),
    DefectKind("validity_reversed", QUARANTINE, _validity_reversed),
    DefectKind("handled_at_night", FLAG, _handled_at_night),
    DefectKind("promised_exceeds_legal", FLAG, _promised_exceeds_legal),
):
    register(_kind)

DEPARTMENT_TARGETS = [
    Target("padded_code", "department_code"),
    Target("lower_case_code", "uscc"),
    Target("unknown_region", "region_code"),
]
ITEM_TARGETS = [
    Target("promised_exceeds_legal", "promised_limit_days", 2.0),
    Target("orphan_reference", "department_id"),
    Target("required_null", "name"),
    Target("too_long", "name"),
    Target("hostile_text", "name"),
    Target("padded_code", "item_code"),
    Target("fullwidth_code", "item_code"),
]
# Per group of rows, the kinds that apply to it: a checksum defect needs a code to spoil.
CASE_TARGETS = {
    "coded": [
        Target("accepted_before_submitted", "accepted_at", 2.0),
        Target("decided_before_accepted", "decided_at", 2.0),
        Target("handled_at_night", "decided_at", 2.0),
        Target("future_date", "decided_at"),
        Target("orphan_reference", "item_id"),
        Target("required_null", "submitted_at"),
        Target("required_null", "applicant_name"),
        Target("duplicate_business_key", "case_number"),
        Target("padded_code", "case_number"),
        Target("too_long", "applicant_name"),
        Target("control_characters", "applicant_name"),
        Target("hostile_text", "applicant_name"),
        Target("bad_uscc_checksum", "applicant_uscc", 2.0),
        Target("uscc_org_code_mismatch", "applicant_uscc"),
        Target("lower_case_code", "applicant_uscc"),
        Target("fullwidth_code", "applicant_uscc"),
    ],
    "person": [
        Target("accepted_before_submitted", "accepted_at"),
        Target("bad_id_checksum", "applicant_id_number", 2.0),
        Target("impossible_birth_date", "applicant_id_number"),
        Target("padded_code", "applicant_id_number"),
        Target("rare_characters", "applicant_name"),
    ],
    "org_code": [Target("lower_case_code", "applicant_org_code")],
    "placeholder": [Target("padded_code", "applicant_reg_number")],
}
DECISION_TARGETS = {
    "coded": [
        Target("duplicate_business_key", "decision_number", 2.0),
        Target("padded_code", "decision_number"),
        Target("mixed_date_format", "decision_date", 2.0),
        Target("mixed_date_format", "valid_from"),
        Target("mixed_date_format", "valid_to"),
        Target("future_date", "decision_date"),
        Target("validity_reversed", "valid_to"),
        Target("required_null", "licence_name"),
        Target("required_null", "holder_name"),
        Target("lower_case_code", "licence_number"),
        Target("control_characters", "holder_name"),
        Target("too_long", "holder_name"),
        Target("hostile_text", "licence_name"),
        Target("bad_uscc_checksum", "holder_uscc", 2.0),
        Target("fullwidth_code", "holder_uscc"),
        Target("bad_uscc_checksum", "authority_uscc"),
        Target("bad_id_checksum", "legal_rep_id_number"),
    ],
    "person": [
        Target("bad_id_checksum", "holder_id_number", 2.0),
        Target("impossible_birth_date", "holder_id_number"),
        Target("rare_characters", "holder_name"),
        Target("mixed_date_format", "decision_date"),
    ],
    "placeholder": [Target("padded_code", "holder_reg_number")],
}


def _case_groups(rows: pd.DataFrame) -> np.ndarray:
    uscc = rows["applicant_uscc"]
    return np.select(
        [
            rows["applicant_type"] == "自然人",
            uscc.notna() & (uscc != c.USCC_PLACEHOLDER),
            rows["applicant_org_code"].notna(),
        ],
        ["person", "coded", "org_code"],
        "placeholder",
    )


def _decision_groups(rows: pd.DataFrame) -> np.ndarray:
    return np.select(
        [rows["holder_type"] == "自然人", rows["holder_uscc"] != c.USCC_PLACEHOLDER],
        ["person", "coded"],
        "placeholder",
    )


def _finish_groups(
    contract,
    rows: pd.DataFrame,
    groups: np.ndarray,
    targets: dict,
    rate: float,
    rng: np.random.Generator,
    entities: pd.DataFrame,
    **changes: int,
) -> Batch:
    """``finish`` per group of rows with the kinds that apply to it, merged into one batch."""
    parts = [
        finish(contract, rows[groups == name], kinds, rate, rng, **changes)
        for name, kinds in targets.items()
    ]
    (key,) = contract.primary_key
    merged = pd.concat([p.rows for p in parts if len(p.rows)] or [parts[0].rows])
    found = [p.defects for p in parts if len(p.defects)]
    defects = pd.concat(found, ignore_index=True) if found else parts[0].defects
    merged = merged.sort_values(key, ignore_index=True)
    return Batch(contract, merged, defects=defects, entities=entities, changes=changes)


# -- reading the current state back -----------------------------------------------------------


def _norm(codes: pd.Series) -> pd.Series:
    """Identifiers as the pipeline normalises them (NFKC, no spaces, upper case)."""
    return (
        codes.astype(object)
        .where(codes.notna(), None)
        .str.normalize("NFKC")
        .str.replace(r"\s+", "", regex=True)
        .str.upper()
    )


def _lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    table = pd.Series(values.to_numpy(), index=keys.to_numpy())
    return table[~table.index.duplicated()]


class _Directory:
    """Finds whom a stored case names from its identifiers, as entity resolution would (rows keep
    no entity ids). A case whose identifiers were spoilt is not found, so it is not published."""

    def __init__(self, enterprises: pd.DataFrame, persons: pd.DataFrame):
        coded = enterprises[enterprises["uscc"] != c.USCC_PLACEHOLDER]
        old = enterprises[enterprises["registration_number"].notna()]
        self._uscc = _lookup(coded["uscc"], coded["entity_id"])
        self._org = _lookup(
            coded["uscc"].str[8:16] + "-" + coded["uscc"].str[16], coded["entity_id"]
        )
        self._reg = _lookup(old["registration_number"], old["entity_id"])
        self._id = _lookup(persons["id_number"], persons["person_id"])

    def applicants(self, rows: pd.DataFrame) -> pd.DataFrame:
        found = self._uscc.reindex(_norm(rows["applicant_uscc"])).to_numpy(float)
        for table, column in (
            (self._org, "applicant_org_code"),
            (self._reg, "applicant_reg_number"),
        ):
            found = np.where(
                np.isnan(found), table.reindex(_norm(rows[column])).to_numpy(float), found
            )
        firm = (rows["applicant_type"] == "法人").to_numpy()
        person = self._id.reindex(_norm(rows["applicant_id_number"])).to_numpy(float)
        return rows.assign(
            _kind=np.where(firm, "enterprise", "person"), _entity=np.where(firm, found, person)
        )


def _typed(rows: pd.DataFrame, contract) -> pd.DataFrame:
    """Rows read back from a source with the types the generator uses."""
    for column in contract.columns:
        if column.source_type == "timestamp":
            rows[column.name] = pd.to_datetime(rows[column.name])
        elif column.source_type == "integer":
            rows[column.name] = rows[column.name].astype("Int64")
    return rows


def _read_since(
    sink: SqlSink, contract, keys: np.ndarray, column: str, since: date
) -> pd.DataFrame:
    """Rows whose ``column`` is on or after ``since``. Keys follow time, so read back from the
    newest key until a whole chunk is older."""
    limit, parts = pd.Timestamp(since), []
    for end in range(len(keys), 0, -_READ_CHUNK):
        chunk = _typed(sink.read(contract, keys[max(0, end - _READ_CHUNK) : end]), contract)
        parts.append(chunk)
        if not (chunk[column] >= limit).any():
            break
    if not parts:
        return _typed(sink.read(contract, []), contract)
    rows = pd.concat(parts[::-1], ignore_index=True)
    return rows[(rows[column] >= limit).to_numpy()].reset_index(drop=True)


def _append(batch: Batch, *updated: pd.DataFrame) -> None:
    """Add updated existing rows to a day's batch (no new defects: those go into new rows)."""
    parts = [p[batch.contract.column_names] for p in (batch.rows, *updated) if len(p)]
    if parts:
        (key,) = batch.contract.primary_key
        batch.rows = pd.concat(parts, ignore_index=True).sort_values(key, ignore_index=True)


# -- the simulator ----------------------------------------------------------------------------


class ApprovalSimulator:
    system = SYSTEM
    channel = "sql"

    def history(self, world: World, rate: float) -> list[Batch]:
        depts = departments(world)
        items = service_items(world, depts)
        enterprises, persons = world.enterprises(), world.persons()
        rng = v.rng_for(world.seed, SYSTEM, "cases", "history")
        n = world.scale.facts
        weights = items["_weight"].to_numpy()
        pick = rng.choice(len(items), n, p=weights / weights.sum())
        channel = _channels(rng, items["online_capable"].to_numpy()[pick])
        submitted = _submissions(rng, channel == "网上", world.start, world.until)
        cutoff = np.datetime64(world.until + timedelta(days=1), "us")
        cases = _cases(rng, items, depts, enterprises, persons, pick, channel, submitted, 1, cutoff)
        decisions = self._published(world, cases, items, depts, enterprises, persons, cutoff)
        out = v.rng_for(world.seed, SYSTEM, "defects", "history")
        stamps = v.rng_for(world.seed, SYSTEM, "catalogue", "history")
        start = np.datetime64(world.start, "us")
        return [
            finish(c.DEPARTMENTS, depts.assign(updated_at=start), DEPARTMENT_TARGETS, rate, out),
            finish(
                c.SERVICE_ITEMS,
                items.assign(
                    updated_at=_between(
                        stamps, np.full(len(items), start), np.full(len(items), cutoff)
                    )
                ),
                ITEM_TARGETS,
                rate,
                out,
            ),
            _finish_groups(
                c.CASES, cases, _case_groups(cases), CASE_TARGETS, rate, out, _case_truth(cases)
            ),
            _finish_groups(
                c.LICENCE_DECISIONS,
                decisions,
                _decision_groups(decisions),
                DECISION_TARGETS,
                rate,
                out,
                _decision_truth(decisions),
            ),
        ]

    def _published(
        self, world, cases, items, depts, enterprises, persons, cutoff: np.datetime64
    ) -> pd.DataFrame:
        """Licence decisions entered by the end of the history: each after a number of working
        days drawn from its department's pace; a few since cancelled (注销) or revoked (撤销)."""
        rng = v.rng_for(world.seed, SYSTEM, "licence_decisions", "history")
        issued = cases[cases["licence_number"].notna()]
        pace = depts.set_index("department_id")["_publish_p"].loc[issued["department_id"]]
        decided = issued["decided_at"].to_numpy("datetime64[D]")
        entered_day = add_workdays(decided, rng.geometric(pace.to_numpy()) - 1)
        keep = entered_day < cutoff.astype("datetime64[D]")
        rows = _decisions(
            rng, issued[keep], entered_day[keep], items, depts, enterprises, persons, first_id=1
        )
        entered = rows["entered_at"].to_numpy("datetime64[us]")
        ended = (entered < cutoff - np.timedelta64(30, "D")) & (rng.random(len(rows)) < 0.02)
        rows.loc[ended, "status"] = rng.choice(
            np.array(["注销", "撤销"], dtype=object), ended.sum(), p=[0.75, 0.25]
        )
        rows.loc[ended, "updated_at"] = _between(
            rng, entered[ended] + np.timedelta64(30, "D"), np.full(ended.sum(), cutoff)
        )
        return rows

    # -- one day's changes --------------------------------------------------------------------

    def day(self, world: World, day: date, rate: float, sink: SqlSink) -> list[Batch]:
        depts = departments(world)
        items = service_items(world, depts)
        enterprises, persons = world.enterprises(), world.persons()
        rng = v.rng_for(world.seed, SYSTEM, "day", day)
        workday = bool(is_workday(np.array([day], dtype="datetime64[D]"))[0])
        cases, current, new = self._cases_day(
            world, day, workday, rate, rng, sink, items, depts, enterprises, persons
        )
        current = _Directory(enterprises, persons).applicants(current)
        pending = pd.concat([current, new], ignore_index=True)
        return [
            Batch(
                c.DEPARTMENTS,
                depts.iloc[:0].assign(updated_at=pd.NaT)[c.DEPARTMENTS.column_names],
                changes={"inserts": 0, "updates": 0},
            ),
            self._items_day(day, workday, rate, rng, sink, items),
            cases,
            self._decisions_day(
                day, workday, rate, rng, sink, pending, items, depts, enterprises, persons
            ),
        ]

    def _cases_day(
        self, world, day, workday, rate, rng, sink, items, depts, enterprises, persons
    ) -> tuple[Batch, pd.DataFrame, pd.DataFrame]:
        """New cases (and a few 补录, submitted days ago), open cases moved on, suspension totals
        corrected, and now and then a case entered by mistake deleted. Also returns the cases
        of the last weeks as they now stand, and the new ones with whom they name."""
        keys = sink.keys(c.CASES)
        window = _read_since(
            sink, c.CASES, keys, "submitted_at", day - timedelta(days=_WINDOW_DAYS)
        )
        open_cases = window[window["decided_at"].isna()]
        deletes = []
        if rng.random() < 0.5:  # never the newest key: new keys continue from the largest
            mistaken = open_cases.loc[open_cases["case_id"] != keys[-1], "case_id"].to_numpy()
            deletes = [int(rng.choice(mistaken))] if len(mistaken) else []
        open_cases = open_cases[~open_cases["case_id"].isin(deletes)]
        moved = _progress(rng, open_cases, items, depts, day) if workday else open_cases.iloc[:0]
        settled = window[window["decided_at"].notna() & ~window["case_id"].isin(deletes)]
        fixes = min(len(settled), max(1, rng.poisson(0.001 * len(settled)))) if workday else 0
        corrected = settled.iloc[np.sort(rng.choice(len(settled), fixes, replace=False))].copy()
        corrected["suspended_days"] += rng.integers(1, 4, len(corrected))
        corrected["updated_at"] = day_times(rng, len(corrected), day)
        new = self._new_cases(
            world, day, workday, rng, int(keys.max()) + 1, items, depts, enterprises, persons
        )
        late = int((new["submitted_at"] < pd.Timestamp(day)).sum())
        batch = _finish_groups(
            c.CASES,
            new,
            _case_groups(new),
            CASE_TARGETS,
            rate,
            rng,
            _case_truth(new),
            inserts=len(new),
            late=late,
            updates=len(moved) + len(corrected),
            deletes=len(deletes),
        )
        _append(batch, moved, corrected)
        batch.deletes = deletes
        gone = np.concatenate([moved["case_id"], corrected["case_id"], deletes]).astype(int)
        current = pd.concat(
            [p for p in (window[~window["case_id"].isin(gone)], moved, corrected) if len(p)],
            ignore_index=True,
        )
        return batch, current, new

    def _new_cases(
        self, world, day, workday, rng, first_id, items, depts, enterprises, persons
    ) -> pd.DataFrame:
        """Today's submissions (网上 only on a day off) and, on working days, a few 窗口 cases
        typed in late (补录) that were submitted in the last weeks."""
        weights = items["_weight"].to_numpy() / items["_weight"].sum()
        today = rng.poisson(world.daily_new(world.scale.facts) * (1.0 if workday else 0.2))
        today = max(today, 1) if workday else today
        typed_late = max(1, rng.poisson(0.05 * today)) if workday else 0
        pick = rng.choice(len(items), today + typed_late, p=weights)
        channel = _channels(rng, items["online_capable"].to_numpy()[pick[:today]])
        if not workday:
            channel[:] = "网上"
        submitted = np.concatenate(
            [
                _submissions(rng, channel == "网上", day, day),
                _submissions(
                    rng,
                    np.zeros(typed_late, bool),
                    day - timedelta(days=20),
                    day - timedelta(days=1),
                ),
            ]
        )
        channel = np.concatenate([channel, np.full(typed_late, "窗口", dtype=object)])
        cutoff = np.datetime64(day + timedelta(days=1), "us")
        rows = _cases(
            rng, items, depts, enterprises, persons, pick, channel, submitted, first_id, cutoff
        )
        rows["updated_at"] = np.minimum(
            np.maximum(rows["updated_at"].to_numpy(), day_times(rng, len(rows), day)),
            cutoff - np.timedelta64(1, "s"),
        )
        return rows

    def _items_day(self, day, workday, rate, rng, sink, items) -> Batch:
        """On working days a few items have their promised limit compressed (承诺时限压缩)."""
        compressed = items.iloc[:0]
        if workday:
            keys = sink.keys(c.SERVICE_ITEMS)
            rows = _typed(
                sink.read(c.SERVICE_ITEMS, rng.choice(keys, 3, replace=False)), c.SERVICE_ITEMS
            )
            promised = rows["promised_limit_days"]
            compressed = rows[(promised > 0) & (promised <= rows["legal_limit_days"])].copy()
            compressed["promised_limit_days"] = (
                (compressed["promised_limit_days"] * 0.6).astype(int).astype("Int64")
            )
            compressed["updated_at"] = day_times(rng, len(compressed), day)
        batch = finish(
            c.SERVICE_ITEMS,
            items.iloc[:0].assign(updated_at=pd.NaT),
            ITEM_TARGETS,
            rate,
            rng,
            inserts=0,
            updates=len(compressed),
        )
        _append(batch, compressed)
        return batch

    def _decisions_day(
        self, day, workday, rate, rng, sink, cases, items, depts, enterprises, persons
    ) -> Batch:
        """Pending decisions entered at each department's pace (some weeks after the decision:
        late publication), and licences cancelled (注销) or revoked (撤销)."""
        keys = sink.keys(c.LICENCE_DECISIONS)
        recent = _read_since(
            sink, c.LICENCE_DECISIONS, keys, "entered_at", day - timedelta(days=_WINDOW_DAYS + 30)
        )
        published = set(_norm(recent["licence_number"]).dropna())
        licensed = items.loc[items["_licence"].notna(), "item_id"]
        pending = cases[
            cases["decided_at"].notna()
            & (cases["result"] == "准予")
            & cases["licence_number"].notna()
            & cases["item_id"].isin(licensed)
            & pd.notna(cases["_entity"])
            & ~_norm(cases["licence_number"]).isin(published)
        ]
        pace = depts.set_index("department_id")["_publish_p"].reindex(pending["department_id"])
        entered = pending[workday & (rng.random(len(pending)) < pace.fillna(0).to_numpy())]
        new = _decisions(
            rng,
            entered.astype({"_entity": np.int64}),
            np.full(len(entered), np.datetime64(day, "D")),
            items,
            depts,
            enterprises,
            persons,
            first_id=int(keys.max()) + 1,
        )
        late = int((new["decision_date"] < day.isoformat()).sum())  # decided on an earlier day
        ended = pd.DataFrame(columns=c.LICENCE_DECISIONS.column_names)
        if workday:
            k = max(1, rng.poisson(0.0005 * len(keys)))
            sample = rng.choice(keys, min(len(keys), 4 * k + 10), replace=False)
            ended = _typed(sink.read(c.LICENCE_DECISIONS, sample), c.LICENCE_DECISIONS)
            ended = ended[ended["status"] == "有效"].head(k).copy()
            ended["status"] = rng.choice(
                np.array(["注销", "撤销"], dtype=object), len(ended), p=[0.75, 0.25]
            )
            ended["updated_at"] = day_times(rng, len(ended), day)
        batch = _finish_groups(
            c.LICENCE_DECISIONS,
            new,
            _decision_groups(new),
            DECISION_TARGETS,
            rate,
            rng,
            _decision_truth(new),
            inserts=len(new),
            late=late,
            revocations=len(ended),
        )
        _append(batch, ended)
        return batch
