"""The enforcement system (网上执法平台): penalty powers, discretion standards, decisions, revocations.

The catalogue of penalty powers (处罚职权) and their discretion standards (裁量基准: a fine band in
元 per circumstance) is fixed-size; decisions (行政处罚决定) name enterprises and people of the
world, apply one standard of one power, and carry their fines in 万元 as the 双公示 standard
wants. Red flags are true but suspicious: a fine outside its band, a fine typed in 元 into the
万元 field, 简易程序 above its thresholds, a decision entered more than 7 working days late.
Day changes enter new decisions (some late), record payments, revoke earlier decisions and now and
then hard-delete a decision entered by mistake.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar
import numpy as np
import pandas as pd

from govlake.contracts import enforcement as c
from govlake.identifiers import USCC_PLACEHOLDER
from govlake.simulator import vectors as v
from govlake.simulator.base import Batch, day_times, entity_truth, finish, history_times
from govlake.simulator.defects import FLAG, QUARANTINE, DefectKind, Target, inject, register
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import World

SYSTEM = "enforcement"
MAX_POWERS = 7_300  # Qingdao's 处罚职权 catalogue
PERSON_LIMIT, ORGANISATION_LIMIT = 200, 3_000  # 简易程序 fine limits in 元 (行政处罚法 第51条)

# Per sector (执法领域): enforcing department, its abbreviation in decision numbers, the licence a
# decision may suspend or revoke, the sector's share of powers and decisions, (law, act) pairs.
_SECTORS = {
    "市场监管": ("市场监督管理局", "市监", "营业执照", 0.20, (
        ("《中华人民共和国广告法》", "发布虚假广告"),
        ("《中华人民共和国产品质量法》", "销售不合格产品"),
        ("《中华人民共和国反不正当竞争法》", "实施混淆行为"),
        ("《中华人民共和国价格法》", "不按规定明码标价"),
        ("《中华人民共和国计量法》", "使用不合格计量器具"),
        ("《中华人民共和国消费者权益保护法》", "侵害消费者合法权益"))),
    "特种设备": ("市场监督管理局", "市监", "特种设备使用登记证", 0.06, (
        ("《中华人民共和国特种设备安全法》", "使用未经定期检验的特种设备"),
        ("《中华人民共和国特种设备安全法》", "安排未取得相应资格的人员从事特种设备作业"),
        ("《中华人民共和国特种设备安全法》", "未按规定办理特种设备使用登记"),
        ("《中华人民共和国特种设备安全法》", "使用未取得许可生产的特种设备"))),
    "食品药品": ("市场监督管理局", "市监", "食品经营许可证", 0.11, (
        ("《中华人民共和国食品安全法》", "经营超过保质期的食品"),
        ("《中华人民共和国食品安全法》", "未取得食品经营许可从事食品经营活动"),
        ("《中华人民共和国食品安全法》", "安排未取得健康证明的人员从事接触直接入口食品的工作"),
        ("《中华人民共和国药品管理法》", "销售假药"),
        ("《中华人民共和国药品管理法》", "未按规定储存药品"))),
    "安全生产": ("应急管理局", "应急", "安全生产许可证", 0.08, (
        ("《中华人民共和国安全生产法》", "未按规定对从业人员进行安全生产教育和培训"),
        ("《中华人民共和国安全生产法》", "未建立事故隐患排查治理制度"),
        ("《中华人民共和国安全生产法》", "未为从业人员提供符合标准的劳动防护用品"),
        ("《危险化学品安全管理条例》", "未按规定储存危险化学品"))),
    "消防": ("消防救援支队", "消", "公众聚集场所投入使用营业前消防安全检查合格证", 0.07, (
        ("《中华人民共和国消防法》", "占用、堵塞、封闭疏散通道和安全出口"),
        ("《中华人民共和国消防法》", "消防设施未保持完好有效"),
        ("《中华人民共和国消防法》", "埋压、圈占、遮挡消火栓"),
        ("《中华人民共和国消防法》", "公众聚集场所未经消防安全检查擅自投入使用"))),
    "生态环境": ("生态环境局", "环", "排污许可证", 0.08, (
        ("《中华人民共和国大气污染防治法》", "超标排放大气污染物"),
        ("《中华人民共和国水污染防治法》", "通过暗管逃避监管排放水污染物"),
        ("《中华人民共和国环境影响评价法》", "未依法报批环境影响评价文件擅自开工建设"),
        ("《中华人民共和国固体废物污染环境防治法》", "未按规定贮存危险废物"))),
    "城市管理": ("城市管理局", "城管", "城市建筑垃圾处置核准文件", 0.09, (
        ("《城市市容和环境卫生管理条例》", "擅自设置户外广告设施"),
        ("《城市市容和环境卫生管理条例》", "随意倾倒建筑垃圾"),
        ("《城市道路管理条例》", "擅自占用城市道路"),
        ("《城市绿化条例》", "擅自砍伐城市树木"))),
    "交通运输": ("交通运输局", "交", "道路运输经营许可证", 0.07, (
        ("《中华人民共和国道路运输条例》", "未取得道路运输经营许可擅自从事道路运输经营"),
        ("《中华人民共和国道路运输条例》", "客运车辆不按批准的客运站点停靠"),
        ("《网络预约出租汽车经营服务管理暂行办法》", "未取得网约车运输证从事网约车经营"),
        ("《中华人民共和国港口法》", "未依法取得港口经营许可从事港口经营"))),
    "卫生健康": ("卫生健康委员会", "卫", "医疗机构执业许可证", 0.05, (
        ("《医疗机构管理条例》", "使用非卫生技术人员从事医疗卫生技术工作"),
        ("《公共场所卫生管理条例》", "安排未取得健康合格证明的人员从事直接为顾客服务的工作"),
        ("《中华人民共和国传染病防治法》", "未按规定消毒处理医疗器械"),
        ("《中华人民共和国职业病防治法》", "未按规定组织职业健康检查"))),
    "住房城乡建设": ("住房和城乡建设局", "建", "建筑业企业资质证书", 0.05, (
        ("《建设工程质量管理条例》", "未组织竣工验收擅自交付使用"),
        ("《中华人民共和国建筑法》", "未取得施工许可证擅自施工"),
        ("《建设工程安全生产管理条例》", "施工现场未采取安全防护措施"),
        ("《物业管理条例》", "擅自改变物业管理用房用途"))),
    "文化旅游": ("文化和旅游局", "文旅", "旅行社业务经营许可证", 0.03, (
        ("《中华人民共和国旅游法》", "指定具体购物场所"),
        ("《娱乐场所管理条例》", "娱乐场所超时营业"),
        ("《互联网上网服务营业场所管理条例》", "接纳未成年人进入互联网上网服务营业场所"),
        ("《营业性演出管理条例》", "未经批准举办营业性演出"))),
    "人力资源社会保障": ("人力资源和社会保障局", "人社", "劳务派遣经营许可证", 0.03, (
        ("《劳动保障监察条例》", "未按规定支付劳动者工资"),
        ("《中华人民共和国劳动合同法》", "未与劳动者订立书面劳动合同"),
        ("《中华人民共和国社会保险法》", "未按时足额缴纳社会保险费"),
        ("《禁止使用童工规定》", "使用童工"))),
    "自然资源": ("自然资源和规划局", "自规", "建设工程规划许可证", 0.02, (
        ("《中华人民共和国土地管理法》", "非法占用土地"),
        ("《中华人民共和国城乡规划法》", "未取得建设工程规划许可证进行建设"),
        ("《中华人民共和国矿产资源法》", "未取得采矿许可证擅自采矿"))),
    "农业农村": ("农业农村局", "农", "农药经营许可证", 0.02, (
        ("《农药管理条例》", "经营禁用农药"),
        ("《兽药管理条例》", "销售假劣兽药"),
        ("《中华人民共和国动物防疫法》", "未按规定实施动物检疫"),
        ("《中华人民共和国种子法》", "销售假劣种子"))),
    "海洋渔业": ("海洋发展局", "海", "渔业捕捞许可证", 0.02, (
        ("《中华人民共和国渔业法》", "在禁渔期内捕捞"),
        ("《中华人民共和国渔业法》", "使用禁用渔具捕捞"),
        ("《中华人民共和国海域使用管理法》", "未经批准非法占用海域"),
        ("《中华人民共和国海洋环境保护法》", "向海域违法排放污染物"))),
    "治安管理": ("公安局", "公", "特种行业许可证", 0.09, (
        ("《中华人民共和国治安管理处罚法》", "扰乱公共秩序"),
        ("《中华人民共和国治安管理处罚法》", "殴打他人"),
        ("《中华人民共和国治安管理处罚法》", "旅馆业未按规定登记住宿旅客信息"),
        ("《中华人民共和国治安管理处罚法》", "故意损毁公私财物"))),
}
# The department's name at city level and in a district ({} is the district's name).
_DEPARTMENT_NAMES = {
    "公安局": ("青岛市公安局", "青岛市公安局{}分局"),
    "消防救援支队": ("青岛市消防救援支队", "青岛市{}消防救援大队"),
    "生态环境局": ("青岛市生态环境局", "青岛市生态环境局{}分局"),
}
_DISTRICTS = {  # region code: (name, the character decision numbers use for it)
    "370202": ("市南区", "南"), "370203": ("市北区", "北"), "370211": ("黄岛区", "黄"),
    "370212": ("崂山区", "崂"), "370213": ("李沧区", "沧"), "370214": ("城阳区", "城"),
    "370215": ("即墨区", "即"), "370281": ("胶州市", "胶"), "370283": ("平度市", "平"),
    "370285": ("莱西市", "莱"),
}
_SUCCESSORS = {"370205": "370203", "370282": "370215", "370284": "370211"}  # retired -> current
_ACTORS = np.array(["生产经营单位", "经营者", "单位或者个人", "企业", "使用单位", "建设单位",
                    "经营单位", "从业单位", "当事人", "责任单位"])
# 法定罚款幅度 in 元: every range's top is at least 5,000, so its 严重 band lies above 3,000.
_RANGES = np.array([(50, 5_000), (100, 5_000), (200, 20_000), (500, 5_000), (1_000, 10_000),
                    (2_000, 20_000), (5_000, 50_000), (10_000, 100_000), (20_000, 200_000),
                    (50_000, 500_000), (100_000, 1_000_000)])
_RANGE_WEIGHTS = np.array([8, 8, 10, 10, 14, 14, 12, 10, 7, 4, 3]) / 100
_BAND_EDGES = np.array([0.0, 0.1, 0.4, 0.7, 1.0])  # 轻微 | 一般 | 较重 | 严重 within a range
_CIRCUMSTANCE_WEIGHTS = np.array([0.15, 0.5, 0.25, 0.1])
_CIRCUMSTANCE_TEXT = np.array([
    "初次违法且危害后果轻微，并及时改正", "违法行为持续时间较短，社会危害性一般",
    "违法行为持续时间较长或者造成一定危害后果", "多次违法、拒不改正或者造成严重危害后果",
])
_REVOCATION_REASONS = np.array([
    "原处罚决定认定事实不清，依法撤销", "原处罚决定适用法律错误，依法撤销",
    "经行政复议决定撤销", "经人民法院判决撤销", "当事人提供新证据，原处罚决定依法撤销",
])
_CHINESE_DIGITS = "零一二三四五六七八九"


# -- red flags and order violations of this system ---------------------------------------------


def _fine_outside_band(frame, rows, column, rng, **_):
    """A fine above (mostly) or below the band of the standard the decision applies."""
    n = len(rows)
    low, high = frame.loc[rows, "_min"].to_numpy(float), frame.loc[rows, "_max"].to_numpy(float)
    fine = np.where(rng.random(n) < 0.7, high * rng.uniform(1.2, 2.5, n),
                    low * rng.uniform(0.2, 0.8, n))
    fine = np.maximum(10.0, np.round(fine / 10) * 10)
    _set_fine(frame, rows, fine, fine / 10_000)


def _fine_in_yuan(frame, rows, column, rng, **_):
    """The fine in 元 typed into the 万元 field: the amount is 10,000 times too large, while the
    text (处罚内容) still says the right sum."""
    fine = frame.loc[rows, "_fine_yuan"].to_numpy(float)
    _set_fine(frame, rows, fine, fine)


def _set_fine(frame, rows, fine_yuan: np.ndarray, amount_wan: np.ndarray) -> None:
    types = frame.loc[rows, "penalty_types"]
    frame.loc[rows, "penalty_types"] = types.where(types.str.contains("罚款"), types + ";罚款")
    frame.loc[rows, "fine_amount_wan"] = amount_wan
    frame.loc[rows, "procedure_type"] = "普通"  # only the one flag: not also a 简易 over the limit
    frame.loc[rows, "penalty_content"] = _content(frame.loc[rows], fine_yuan)


def _simple_procedure_over_threshold(frame, rows, column, rng, **_):
    """简易程序 with a fine above 200 元 (persons, 个体工商户) or 3,000 元 (organisations): the
    decision applies its power's 严重 standard, whose band lies above both limits."""
    fine = frame.loc[rows, "_severe_fine"].to_numpy(float)
    frame.loc[rows, "standard_id"] = frame.loc[rows, "_severe_standard"].to_numpy()
    frame.loc[rows, "penalty_types"] = "罚款"
    frame.loc[rows, "confiscation_amount_wan"] = np.nan
    frame.loc[rows, "license_affected"] = None
    frame.loc[rows, "fine_amount_wan"] = fine / 10_000
    frame.loc[rows, "procedure_type"] = "简易"
    frame.loc[rows, "penalty_content"] = _content(frame.loc[rows], fine)


def _entered_late(frame, rows, column, rng, **_):
    """Entered 10-40 working days after the decision (双公示 allows 7): the decision date moves
    back, the entry time stays."""
    entered = frame.loc[rows, "entered_at"].to_numpy().astype("datetime64[D]")
    decided = _working_days_before(entered, rng.integers(10, 41, len(rows)))
    frame.loc[rows, "decision_date"] = decided.astype(str).astype(object)
    number = frame.loc[rows, "decision_number"].astype(str)
    year = decided.astype("datetime64[Y]").astype(str)
    frame.loc[rows, "decision_number"] = (number.str.split("〔").str[0] + "〔" + year + "〕"
                                          + number.str.split("〕").str[1])


def _entered_before_decision(frame, rows, column, rng, **_):
    """Entered into the system before the decision was made: an impossible order."""
    decided = pd.to_datetime(frame.loc[rows, "decision_date"]).to_numpy()
    n = len(rows)
    back = rng.integers(1, 15, n).astype("timedelta64[D]") - np.timedelta64(9, "h")
    seconds = rng.integers(0, 8 * 3600, n).astype("timedelta64[s]")
    frame.loc[rows, "entered_at"] = (decided - back + seconds).astype("datetime64[us]")


def _band_inverted(frame, rows, column, rng, **_):
    """Lower and upper bound of a fine band swapped."""
    low = frame.loc[rows, "fine_min_yuan"].to_numpy()
    frame.loc[rows, "fine_min_yuan"] = frame.loc[rows, "fine_max_yuan"].to_numpy()
    frame.loc[rows, "fine_max_yuan"] = low


for _kind in (
    DefectKind("fine_outside_band", FLAG, _fine_outside_band),
    DefectKind("fine_in_yuan", FLAG, _fine_in_yuan),
    DefectKind("simple_procedure_over_threshold", FLAG, _simple_procedure_over_threshold),
    DefectKind("decision_entered_late", FLAG, _entered_late),
    DefectKind("entered_before_decision", QUARANTINE, _entered_before_decision),
    DefectKind("fine_band_inverted", QUARANTINE, _band_inverted),
):
    register(_kind)

_POWER_TARGETS = [
    Target("duplicate_business_key", "power_code"), Target("lower_case_code", "power_code"),
    Target("padded_code", "power_code"), Target("required_null", "name"),
    Target("too_long", "name"), Target("control_characters", "name"),
    Target("bad_uscc_checksum", "department_uscc"), Target("fullwidth_code", "department_uscc"),
    Target("hostile_text", "legal_basis"),
]
_STANDARD_TARGETS = [
    Target("orphan_reference", "power_id"), Target("required_null", "circumstance"),
    Target("fine_band_inverted", "fine_min_yuan"), Target("control_characters", "description"),
]
_REVOCATION_TARGETS = [
    Target("orphan_reference", "decision_id"), Target("required_null", "reason"),
    Target("mixed_date_format", "revoked_on"), Target("future_date", "revoked_on"),
]
# Decisions: kinds that need a USCC, an ID number or an organisation code only hit rows having
# one; the shared kinds go to the parties with a USCC (the most rows).
_DECISION_TARGETS = {
    "coded": [
        Target("bad_uscc_checksum", "party_uscc"), Target("lower_case_code", "party_uscc"),
        Target("fullwidth_code", "party_uscc"), Target("padded_code", "party_uscc"),
        Target("uscc_org_code_mismatch", "party_uscc"),
        Target("required_null", "decision_number"), Target("required_null", "violation_facts"),
        Target("duplicate_business_key", "decision_number"), Target("too_long", "party_name"),
        Target("orphan_reference", "power_id"), Target("orphan_reference", "standard_id"),
        Target("future_date", "decision_date"), Target("mixed_date_format", "decision_date"),
        Target("control_characters", "violation_facts"), Target("hostile_text", "violation_facts"),
        Target("fullwidth_code", "authority_uscc"),
        Target("entered_before_decision", "entered_at"),
        Target("fine_outside_band", "fine_amount_wan", 2),
        Target("fine_in_yuan", "fine_amount_wan"),
        Target("simple_procedure_over_threshold", "procedure_type"),
        Target("decision_entered_late", "decision_date", 2),
    ],
    "person": [
        Target("bad_id_checksum", "party_id_number"),
        Target("impossible_birth_date", "party_id_number"),
        Target("padded_code", "party_id_number"), Target("rare_characters", "party_name"),
        Target("simple_procedure_over_threshold", "procedure_type"),
    ],
    "org_code": [Target("lower_case_code", "party_org_code")],
    "registration": [Target("padded_code", "party_registration_number")],
}


class EnforcementSimulator:
    system = SYSTEM

    def history(self, world: World, rate: float) -> list[Batch]:
        powers, standards = _catalogue(world)
        rng = v.rng_for(world.seed, SYSTEM, "history")
        n = _decision_count(world)
        entered = np.sort(history_times(rng, n, world, world.until))
        decisions = _decisions(world, powers, standards, entered, 1, rng)
        _settle(decisions, world.until, rng)
        revocations = _revocations_of(decisions, world.until, rng)
        return [
            finish(c.PENALTY_POWERS, powers, _POWER_TARGETS, rate, rng),
            finish(c.DISCRETION_STANDARDS, standards, _STANDARD_TARGETS, rate, rng),
            _finish_decisions(decisions, rate, rng),
            finish(c.REVOCATIONS, revocations, _REVOCATION_TARGETS, rate, rng),
        ]

    def day(self, world: World, day: date, rate: float, sink: SqlSink) -> list[Batch]:
        rng = v.rng_for(world.seed, SYSTEM, "day", day)
        powers, standards = _catalogue(world)
        return [
            _touch(c.PENALTY_POWERS, sink, rng, day, _revise_basis),
            _touch(c.DISCRETION_STANDARDS, sink, rng, day),
            *_decisions_day(world, day, rate, sink, powers, standards, rng),
        ]


# -- the catalogue ------------------------------------------------------------------------------


def _power_count(world: World) -> int:
    return min(MAX_POWERS, max(150, world.scale.facts // 2))


def _decision_count(world: World) -> int:
    return max(300, world.scale.facts // 20)


@lru_cache(maxsize=2)
def _sector_table() -> pd.DataFrame:
    """One row per (sector, law, act), with the sector's department and weight."""
    rows = [
        (s, dept, abbr, licence, weight, law, act)
        for s, (dept, abbr, licence, weight, acts) in _SECTORS.items()
        for law, act in acts
    ]
    return pd.DataFrame(rows, columns=["sector", "department", "abbr", "licence", "weight", "law",
                                       "act"])


@lru_cache(maxsize=4)
def _authorities(seed: int) -> pd.DataFrame:
    """Every department at city level (370200) and in each district, with its USCC (11: 机关)."""
    departments = _sector_table().drop_duplicates("department")
    regions = ["370200", *_DISTRICTS]
    frame = departments.merge(pd.DataFrame({"region": regions}), how="cross")
    city, district = zip(*(
        _DEPARTMENT_NAMES.get(d, (f"青岛市{d}", f"青岛市{{}}{d}")) for d in frame["department"]
    ), strict=True)
    names = [_DISTRICTS[r][0] if r in _DISTRICTS else "" for r in frame["region"]]
    frame["authority_name"] = [
        cn if r == "370200" else dn.format(n)
        for cn, dn, n, r in zip(city, district, names, frame["region"], strict=True)
    ]
    frame["prefix"] = "青" + frame["region"].map(lambda r: _DISTRICTS.get(r, ("", ""))[1]) \
        + frame["abbr"]
    rng = v.rng_for(seed, SYSTEM, "authorities")
    n = len(frame)
    frame["authority_uscc"] = v.uscc(rng, np.full(n, "1"), np.full(n, "1"),
                                     frame["region"].to_numpy())
    return frame.set_index(frame["department"] + "|" + frame["region"])


def _chinese_number(n: int) -> str:
    """1..999 in Chinese numerals, as article numbers are written (第一百二十三条)."""
    hundreds, tens, ones = n // 100, n // 10 % 10, n % 10
    text = f"{_CHINESE_DIGITS[hundreds]}百" if hundreds else ""
    if tens:
        text += ("" if tens == 1 and not hundreds else _CHINESE_DIGITS[tens]) + "十"
    elif hundreds and ones:
        text += "零"
    return text + (_CHINESE_DIGITS[ones] if ones else "")


_ARTICLES = np.array([f"第{_chinese_number(i)}条" for i in range(200)], dtype=object)


def _catalogue(world: World) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Penalty powers and their discretion standards (clean, with hidden helper columns)."""
    rng = v.rng_for(world.seed, SYSTEM, "catalogue")
    n = _power_count(world)
    acts = _sector_table()
    weights = acts["weight"] / acts.groupby("sector")["act"].transform("size")
    act = acts.iloc[rng.choice(len(acts), n, p=weights / weights.sum())].reset_index(drop=True)
    sector_no = pd.Series(list(_SECTORS)).reset_index().set_index(0)["index"] + 1
    authorities = _authorities(world.seed)
    city = authorities.loc[act["department"] + "|370200"]
    power_id = np.arange(1, n + 1, dtype=np.int64)
    article = _ARTICLES[rng.integers(10, 130, n)]
    statutory = _RANGES[rng.choice(len(_RANGES), n, p=_RANGE_WEIGHTS)]
    powers = pd.DataFrame({
        "power_id": power_id,
        "power_code": "370200CF" + act["sector"].map(sector_no).astype(str).str.zfill(2)
        + pd.Series(power_id).astype(str).str.zfill(5),
        "name": "对" + rng.choice(_ACTORS, n) + act["act"] + "的行政处罚",
        "department_name": city["authority_name"].to_numpy(),
        "department_uscc": city["authority_uscc"].to_numpy(),
        "legal_basis": act["law"] + article,
        "sector": act["sector"],
        "updated_at": history_times(rng, n, world, world.start),
        "_law": act["law"],
        "_act": act["act"],
        "_popularity": rng.pareto(1.5, n) + 0.1,  # a few powers are used a lot
        "_low": statutory[:, 0],
        "_high": statutory[:, 1],
    })
    return powers, _standards(powers, rng, world)


def _standards(powers: pd.DataFrame, rng: np.random.Generator, world: World) -> pd.DataFrame:
    """Four bands per power (轻微, 一般, 较重, 严重); a sixth of powers have no 轻微 band."""
    n = len(powers)
    level = np.tile(np.arange(4), n)
    owner = np.repeat(np.arange(n), 4)
    keep = (level > 0) | np.repeat(rng.random(n) < 0.84, 4)
    level, owner = level[keep], owner[keep]
    low, high = powers["_low"].to_numpy()[owner], powers["_high"].to_numpy()[owner]
    edge = lambda k: np.round((low + _BAND_EDGES[k] * (high - low)) / 10) * 10  # noqa: E731
    m = len(level)
    return pd.DataFrame({
        "standard_id": np.arange(1, m + 1, dtype=np.int64),
        "power_id": powers["power_id"].to_numpy()[owner],
        "circumstance": np.array(c.CIRCUMSTANCES, dtype=object)[level],
        "description": np.char.add(np.array(c.CIRCUMSTANCES)[level],
                                   np.char.add("：", _CIRCUMSTANCE_TEXT[level])).astype(object),
        "fine_min_yuan": edge(level).astype(float),
        "fine_max_yuan": edge(level + 1).astype(float),
        "updated_at": history_times(rng, m, world, world.start),
        "_level": level,
    })


# -- decisions ----------------------------------------------------------------------------------


def _decisions(world: World, powers: pd.DataFrame, standards: pd.DataFrame, entered: np.ndarray,
               first_id: int, rng: np.random.Generator) -> pd.DataFrame:
    """Clean decisions entered at ``entered`` (ids from ``first_id``), with the helper columns the
    red-flag mutations need (band, an in-band fine, the power's 严重 standard, the party)."""
    n = len(entered)
    chosen = _pick_standards(powers, standards, n, rng)
    power = powers.set_index("power_id").loc[chosen["power_id"]].reset_index()
    frame = _parties(world, power["sector"].to_numpy(), rng)
    level = chosen["_level"].to_numpy()
    low, high = chosen["fine_min_yuan"].to_numpy(), chosen["fine_max_yuan"].to_numpy()
    in_band = np.clip(np.round(rng.uniform(low, high) / 10) * 10, low, high)
    types = _penalty_types(level, power["sector"].to_numpy(), frame["party_type"].to_numpy(), rng)
    fined = np.char.find(types.astype(str), "罚款") >= 0
    seized = np.char.find(types.astype(str), "没收") >= 0
    limit = np.where(frame["party_type"] == "法人及非法人组织", ORGANISATION_LIMIT, PERSON_LIMIT)
    simple = np.isin(types, ["警告", "罚款", "警告;罚款"]) & (~fined | (in_band <= limit))
    severe = standards[standards["_level"] == 3].set_index("power_id").loc[chosen["power_id"]]
    s_low, s_high = severe["fine_min_yuan"].to_numpy(), severe["fine_max_yuan"].to_numpy()
    entered_day = entered.astype("datetime64[D]")
    decided = _working_days_before(entered_day, rng.integers(0, 6, n))
    authority = _authority_of(world, frame, power["department"].to_numpy(), rng)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    year = decided.astype("datetime64[Y]").astype(str)
    frame = frame.assign(
        decision_id=ids,
        decision_number=authority["prefix"].to_numpy() + "罚〔" + year + "〕" + ids.astype(str)
        + "号",
        violation_type=power["_act"].to_numpy(),
        violation_facts=_facts(decided, power, rng),
        legal_basis=power["legal_basis"].to_numpy(),
        penalty_types=types,
        fine_amount_wan=np.where(fined, in_band / 10_000, np.nan),
        confiscation_amount_wan=np.nan,
        license_affected=None,
        procedure_type=np.where(simple & (rng.random(n) < 0.7), "简易", "普通").astype(object),
        power_id=chosen["power_id"].to_numpy(),
        standard_id=chosen["standard_id"].to_numpy(),
        decision_date=decided.astype(str).astype(object),
        entered_at=entered,
        authority_name=authority["authority_name"].to_numpy(),
        authority_uscc=authority["authority_uscc"].to_numpy(),
        status="待执行",
        updated_at=entered,
        _min=low, _max=high, _fine_yuan=in_band,
        _severe_standard=severe["standard_id"].to_numpy(),
        _severe_fine=np.round(rng.uniform(s_low, s_high) / 10) * 10,
        _seized_yuan=np.where(seized, np.clip(np.round(rng.lognormal(8, 1.2, n)), 100, 2e6), 0),
        _licence=power["department"].map(_LICENCES).to_numpy() + "（编号：37"
        + v._digits(rng, n, 14) + "）" if False else _licence_numbers(power, rng),
        _days=rng.integers(3, 16, n),
    )
    frame["confiscation_amount_wan"] = np.where(seized, frame["_seized_yuan"] / 10_000, np.nan)
    suspended = np.char.find(types.astype(str), "吊销") >= 0
    frame["license_affected"] = np.where(suspended, frame["_licence"], None)
    frame["penalty_content"] = _content(frame, in_band)
    return frame


def _pick_standards(powers, standards, n, rng) -> pd.DataFrame:
    """Standards weighted by circumstance and by how much their power is used."""
    popularity = powers.set_index("power_id")["_popularity"].loc[standards["power_id"]]
    weight = _CIRCUMSTANCE_WEIGHTS[standards["_level"]] * popularity.to_numpy()
    return standards.iloc[rng.choice(len(standards), n, p=weight / weight.sum())]
