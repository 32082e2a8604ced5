"""The enforcement system (网上执法平台): penalty powers, discretion standards, decisions and
revocations.

The catalogue of penalty powers (处罚职权) and their discretion standards (裁量基准: a fine band in
元 per circumstance) is fixed-size; decisions (行政处罚决定) name enterprises and people of the
world, apply one standard of one power, and carry their fines in 万元 as the 双公示 standard
wants. Red flags are true but suspicious: a fine outside its band, a fine typed in 元 into the
万元 field, 简易程序 above its thresholds, a decision entered more than 7 working days late.
Day changes enter new decisions (some late), record payments, revoke earlier decisions and now and
then hard-delete a decision entered by mistake.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from govlake import regions
from govlake.contracts import enforcement as c
from govlake.identifiers import USCC_PLACEHOLDER
from govlake.simulator import vectors as v
from govlake.simulator.base import Batch, day_times, entity_truth, finish, history_times
from govlake.simulator.defects import (
    FLAG,
    KINDS,
    QUARANTINE,
    DefectKind,
    Target,
    inject,
    register,
)
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import World
from govlake.workdays import working_days

SYSTEM = "enforcement"
MAX_POWERS = 7_300  # Qingdao's 处罚职权 catalogue
PERSON_LIMIT, ORGANISATION_LIMIT = 200, 3_000  # 简易程序 fine limits in 元 (行政处罚法 第51条)


def _table(text: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([line.split() for line in text.split("\n") if line], columns=columns)


# Per sector (执法领域): the enforcing department, its abbreviation in decision numbers, the licence
# a decision may suspend or revoke, the sector's share (%) of powers and decisions.
_SECTOR_TABLE = """
市场监管 市场监督管理局 市监 营业执照 20
特种设备 市场监督管理局 市监 特种设备使用登记证 6
食品药品 市场监督管理局 市监 食品经营许可证 11
安全生产 应急管理局 应急 安全生产许可证 8
消防 消防救援支队 消 公众聚集场所投入使用营业前消防安全检查合格证 7
生态环境 生态环境局 环 排污许可证 8
城市管理 城市管理局 城管 城市建筑垃圾处置核准文件 9
交通运输 交通运输局 交 道路运输经营许可证 7
卫生健康 卫生健康委员会 卫 医疗机构执业许可证 5
住房城乡建设 住房和城乡建设局 建 建筑业企业资质证书 5
文化旅游 文化和旅游局 文旅 旅行社业务经营许可证 3
人力资源社会保障 人力资源和社会保障局 人社 劳务派遣经营许可证 3
自然资源 自然资源和规划局 自规 建设工程规划许可证 2
农业农村 农业农村局 农 农药经营许可证 2
海洋渔业 海洋发展局 海 渔业捕捞许可证 2
治安管理 公安局 公 特种行业许可证 9
"""
# The acts (违法行为) each sector punishes, with the law that sets the penalty.
_ACT_TABLE = """
市场监管 《中华人民共和国广告法》 发布虚假广告
市场监管 《中华人民共和国产品质量法》 销售不合格产品
市场监管 《中华人民共和国反不正当竞争法》 实施混淆行为
市场监管 《中华人民共和国价格法》 不按规定明码标价
市场监管 《中华人民共和国计量法》 使用不合格计量器具
市场监管 《中华人民共和国消费者权益保护法》 侵害消费者合法权益
特种设备 《中华人民共和国特种设备安全法》 使用未经定期检验的特种设备
特种设备 《中华人民共和国特种设备安全法》 安排未取得相应资格的人员从事特种设备作业
特种设备 《中华人民共和国特种设备安全法》 未按规定办理特种设备使用登记
特种设备 《中华人民共和国特种设备安全法》 使用未取得许可生产的特种设备
食品药品 《中华人民共和国食品安全法》 经营超过保质期的食品
食品药品 《中华人民共和国食品安全法》 未取得食品经营许可从事食品经营活动
食品药品 《中华人民共和国食品安全法》 安排未取得健康证明的人员从事接触直接入口食品的工作
食品药品 《中华人民共和国药品管理法》 销售假药
食品药品 《中华人民共和国药品管理法》 未按规定储存药品
安全生产 《中华人民共和国安全生产法》 未按规定对从业人员进行安全生产教育和培训
安全生产 《中华人民共和国安全生产法》 未建立事故隐患排查治理制度
安全生产 《中华人民共和国安全生产法》 未为从业人员提供符合标准的劳动防护用品
安全生产 《危险化学品安全管理条例》 未按规定储存危险化学品
消防 《中华人民共和国消防法》 占用、堵塞、封闭疏散通道和安全出口
消防 《中华人民共和国消防法》 消防设施未保持完好有效
消防 《中华人民共和国消防法》 埋压、圈占、遮挡消火栓
消防 《中华人民共和国消防法》 公众聚集场所未经消防安全检查擅自投入使用
生态环境 《中华人民共和国大气污染防治法》 超标排放大气污染物
生态环境 《中华人民共和国水污染防治法》 通过暗管逃避监管排放水污染物
生态环境 《中华人民共和国环境影响评价法》 未依法报批环境影响评价文件擅自开工建设
生态环境 《中华人民共和国固体废物污染环境防治法》 未按规定贮存危险废物
城市管理 《城市市容和环境卫生管理条例》 擅自设置户外广告设施
城市管理 《城市市容和环境卫生管理条例》 随意倾倒建筑垃圾
城市管理 《城市道路管理条例》 擅自占用城市道路
城市管理 《城市绿化条例》 擅自砍伐城市树木
交通运输 《中华人民共和国道路运输条例》 未取得道路运输经营许可擅自从事道路运输经营
交通运输 《中华人民共和国道路运输条例》 客运车辆不按批准的客运站点停靠
交通运输 《网络预约出租汽车经营服务管理暂行办法》 未取得网约车运输证从事网约车经营
交通运输 《中华人民共和国港口法》 未依法取得港口经营许可从事港口经营
卫生健康 《医疗机构管理条例》 使用非卫生技术人员从事医疗卫生技术工作
卫生健康 《公共场所卫生管理条例》 安排未取得健康合格证明的人员从事直接为顾客服务的工作
卫生健康 《中华人民共和国传染病防治法》 未按规定消毒处理医疗器械
卫生健康 《中华人民共和国职业病防治法》 未按规定组织职业健康检查
住房城乡建设 《建设工程质量管理条例》 未组织竣工验收擅自交付使用
住房城乡建设 《中华人民共和国建筑法》 未取得施工许可证擅自施工
住房城乡建设 《建设工程安全生产管理条例》 施工现场未采取安全防护措施
住房城乡建设 《物业管理条例》 擅自改变物业管理用房用途
文化旅游 《中华人民共和国旅游法》 指定具体购物场所
文化旅游 《娱乐场所管理条例》 娱乐场所超时营业
文化旅游 《互联网上网服务营业场所管理条例》 接纳未成年人进入互联网上网服务营业场所
文化旅游 《营业性演出管理条例》 未经批准举办营业性演出
人力资源社会保障 《劳动保障监察条例》 未按规定支付劳动者工资
人力资源社会保障 《中华人民共和国劳动合同法》 未与劳动者订立书面劳动合同
人力资源社会保障 《中华人民共和国社会保险法》 未按时足额缴纳社会保险费
人力资源社会保障 《禁止使用童工规定》 使用童工
自然资源 《中华人民共和国土地管理法》 非法占用土地
自然资源 《中华人民共和国城乡规划法》 未取得建设工程规划许可证进行建设
自然资源 《中华人民共和国矿产资源法》 未取得采矿许可证擅自采矿
农业农村 《农药管理条例》 经营禁用农药
农业农村 《兽药管理条例》 销售假劣兽药
农业农村 《中华人民共和国动物防疫法》 未按规定实施动物检疫
农业农村 《中华人民共和国种子法》 销售假劣种子
海洋渔业 《中华人民共和国渔业法》 在禁渔期内捕捞
海洋渔业 《中华人民共和国渔业法》 使用禁用渔具捕捞
海洋渔业 《中华人民共和国海域使用管理法》 未经批准非法占用海域
海洋渔业 《中华人民共和国海洋环境保护法》 向海域违法排放污染物
治安管理 《中华人民共和国治安管理处罚法》 扰乱公共秩序
治安管理 《中华人民共和国治安管理处罚法》 殴打他人
治安管理 《中华人民共和国治安管理处罚法》 旅馆业未按规定登记住宿旅客信息
治安管理 《中华人民共和国治安管理处罚法》 故意损毁公私财物
"""
# The department's name at city level and in a district ({} is the district's name).
_DEPARTMENT_NAMES = {
    "公安局": ("青岛市公安局", "青岛市公安局{}分局"),
    "消防救援支队": ("青岛市消防救援支队", "青岛市{}消防救援大队"),
    "生态环境局": ("青岛市生态环境局", "青岛市生态环境局{}分局"),
}
# Region code, district name, the character decision numbers use for it.
_DISTRICT_TABLE = """
370202 市南区 南
370203 市北区 北
370211 黄岛区 黄
370212 崂山区 崂
370213 李沧区 沧
370214 城阳区 城
370215 即墨区 即
370281 胶州市 胶
370283 平度市 平
370285 莱西市 莱
"""
_DISTRICTS = {
    code: (name, short)
    for code, name, short in _table(_DISTRICT_TABLE, ["code", "name", "short"]).to_numpy()
}
_ACTORS = np.array(
    "生产经营单位 经营者 单位或者个人 企业 使用单位 建设单位 经营单位 从业单位 当事人".split()
)
# 法定罚款幅度 in 元: every range's top is at least 5,000, so its 严重 band lies above 3,000.
_RANGES = np.array([(50, 5_000), (100, 5_000), (200, 20_000), (500, 5_000), (1_000, 10_000),
                    (2_000, 20_000), (5_000, 50_000), (10_000, 100_000), (20_000, 200_000),
                    (50_000, 500_000), (100_000, 1_000_000)])  # fmt: skip
_RANGE_WEIGHTS = np.array([8, 8, 10, 10, 14, 14, 12, 10, 7, 4, 3]) / 100
_BAND_EDGES = np.array([0.0, 0.1, 0.4, 0.7, 1.0])  # 轻微 | 一般 | 较重 | 严重 within a range
_CIRCUMSTANCE_WEIGHTS = np.array([0.15, 0.5, 0.25, 0.1])
_CIRCUMSTANCE_TEXT = np.array(
    [
        "初次违法且危害后果轻微，并及时改正",
        "违法行为持续时间较短，社会危害性一般",
        "违法行为持续时间较长或者造成一定危害后果",
        "多次违法、拒不改正或者造成严重危害后果",
    ]
)
_REVOCATION_REASONS = np.array(
    [
        "原处罚决定认定事实不清，依法撤销",
        "原处罚决定适用法律错误，依法撤销",
        "经行政复议决定撤销",
        "经人民法院判决撤销",
        "当事人提供新证据，原处罚决定依法撤销",
    ]
)
_CHINESE_DIGITS = "零一二三四五六七八九"


# -- red flags and order violations of this system ---------------------------------------------


def _fine_outside_band(frame, rows, column, rng, **_):
    """A fine above (mostly) or below the band of the standard the decision applies."""
    n = len(rows)
    low, high = frame.loc[rows, "_min"].to_numpy(float), frame.loc[rows, "_max"].to_numpy(float)
    fine = np.where(
        rng.random(n) < 0.7, high * rng.uniform(1.2, 2.5, n), low * rng.uniform(0.2, 0.8, n)
    )
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
    frame.loc[rows, "decision_number"] = (
        number.str.split("〔").str[0] + "〔" + year + "〕" + number.str.split("〕").str[1]
    )


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
    Target("duplicate_business_key", "power_code"),
    Target("lower_case_code", "power_code"),
    Target("padded_code", "power_code"),
    Target("required_null", "name"),
    Target("too_long", "name"),
    Target("control_characters", "name"),
    Target("bad_uscc_checksum", "department_uscc"),
    Target("fullwidth_code", "department_uscc"),
    Target("hostile_text", "legal_basis"),
]
_STANDARD_TARGETS = [
    Target("orphan_reference", "power_id"),
    Target("required_null", "circumstance"),
    Target("fine_band_inverted", "fine_min_yuan"),
    Target("control_characters", "description"),
]
_REVOCATION_TARGETS = [
    Target("orphan_reference", "decision_id"),
    Target("required_null", "reason"),
    Target("mixed_date_format", "revoked_on"),
    Target("future_date", "revoked_on"),
]
# Decisions: kinds that need a USCC, an ID number or an organisation code only hit rows having
# one; the shared kinds go to the parties with a USCC (the most rows).
_DECISION_TARGETS = {
    "coded": [
        Target("bad_uscc_checksum", "party_uscc"),
        Target("lower_case_code", "party_uscc"),
        Target("fullwidth_code", "party_uscc"),
        Target("padded_code", "party_uscc"),
        Target("uscc_org_code_mismatch", "party_uscc"),
        Target("required_null", "decision_number"),
        Target("required_null", "violation_facts"),
        Target("duplicate_business_key", "decision_number"),
        Target("too_long", "party_name"),
        Target("orphan_reference", "power_id"),
        Target("orphan_reference", "standard_id"),
        Target("future_date", "decision_date"),
        Target("mixed_date_format", "decision_date"),
        Target("control_characters", "violation_facts"),
        Target("hostile_text", "violation_facts"),
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
        Target("padded_code", "party_id_number"),
        Target("rare_characters", "party_name"),
        Target("simple_procedure_over_threshold", "procedure_type"),
    ],
    "org_code": [Target("lower_case_code", "party_org_code")],
    "registration": [Target("padded_code", "party_registration_number")],
}


class EnforcementSimulator:
    system = SYSTEM
    channel = "sql"

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


@lru_cache(maxsize=1)
def _sector_table() -> pd.DataFrame:
    """One row per (sector, law, act), with the sector's number, department, licence, weight."""
    sectors = _table(_SECTOR_TABLE, ["sector", "department", "abbr", "licence", "weight"])
    sectors["weight"] = sectors["weight"].astype(float)
    sectors["sector_no"] = np.arange(1, len(sectors) + 1)
    return _table(_ACT_TABLE, ["sector", "law", "act"]).merge(sectors, on="sector")


@lru_cache(maxsize=4)
def _authorities(seed: int) -> pd.DataFrame:
    """Every department at city level (370200) and in each district, with its USCC (11: 机关)."""
    departments = _sector_table().drop_duplicates("department")
    frame = departments.merge(pd.DataFrame({"region": ["370200", *_DISTRICTS]}), how="cross")
    frame["authority_name"] = [
        _authority_name(d, r) for d, r in zip(frame["department"], frame["region"], strict=True)
    ]
    short = frame["region"].map(lambda r: _DISTRICTS[r][1] if r in _DISTRICTS else "")
    frame["prefix"] = "青" + short + frame["abbr"]  # 青黄市监: 青岛市黄岛区市场监督管理局
    rng = v.rng_for(seed, SYSTEM, "authorities")
    n = len(frame)
    frame["authority_uscc"] = v.uscc(
        rng, np.full(n, "1"), np.full(n, "1"), frame["region"].to_numpy()
    )
    return frame.set_index(frame["department"] + "|" + frame["region"])


def _authority_name(department: str, region: str) -> str:
    city, district = _DEPARTMENT_NAMES.get(
        department, (f"青岛市{department}", f"青岛市{{}}{department}")
    )
    return city if region == "370200" else district.format(_DISTRICTS[region][0])


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
    authorities = _authorities(world.seed)
    city = authorities.loc[act["department"] + "|370200"]
    power_id = np.arange(1, n + 1, dtype=np.int64)
    article = _ARTICLES[rng.integers(10, 130, n)]
    statutory = _RANGES[rng.choice(len(_RANGES), n, p=_RANGE_WEIGHTS)]
    powers = pd.DataFrame(
        {
            "power_id": power_id,
            "power_code": "370200CF"
            + act["sector_no"].astype(str).str.zfill(2)
            + pd.Series(power_id).astype(str).str.zfill(5),
            "name": "对" + rng.choice(_ACTORS, n) + act["act"] + "的行政处罚",
            "department_name": city["authority_name"].to_numpy(),
            "department_uscc": city["authority_uscc"].to_numpy(),
            "legal_basis": act["law"] + article,
            "sector": act["sector"],
            "updated_at": history_times(rng, n, world, world.start),
            "_law": act["law"],
            "_act": act["act"],
            "_department": act["department"],
            "_popularity": rng.pareto(1.5, n) + 0.1,  # a few powers are used a lot
            "_low": statutory[:, 0],
            "_high": statutory[:, 1],
        }
    )
    return powers, _standards(powers, rng, world)


def _standards(powers: pd.DataFrame, rng: np.random.Generator, world: World) -> pd.DataFrame:
    """Four bands per power (轻微, 一般, 较重, 严重); a sixth of powers have no 轻微 band."""
    n = len(powers)
    level = np.tile(np.arange(4), n)
    owner = np.repeat(np.arange(n), 4)
    keep = (level > 0) | np.repeat(rng.random(n) < 0.84, 4)
    level, owner = level[keep], owner[keep]
    low, high = powers["_low"].to_numpy()[owner], powers["_high"].to_numpy()[owner]
    edges = np.round((low[:, None] + _BAND_EDGES * (high - low)[:, None]) / 10) * 10
    m = len(level)
    return pd.DataFrame(
        {
            "standard_id": np.arange(1, m + 1, dtype=np.int64),
            "power_id": powers["power_id"].to_numpy()[owner],
            "circumstance": np.array(c.CIRCUMSTANCES, dtype=object)[level],
            "description": np.char.add(
                np.array(c.CIRCUMSTANCES)[level], np.char.add("：", _CIRCUMSTANCE_TEXT[level])
            ).astype(object),
            "fine_min_yuan": edges[np.arange(m), level],
            "fine_max_yuan": edges[np.arange(m), level + 1],
            "updated_at": history_times(rng, m, world, world.start),
            "_level": level,
        }
    )


# -- decisions ----------------------------------------------------------------------------------


def _decisions(
    world: World,
    powers: pd.DataFrame,
    standards: pd.DataFrame,
    entered: np.ndarray,
    first_id: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Clean decisions entered at ``entered`` (ids from ``first_id``), with the helper columns the
    red-flag mutations need: the band, an in-band fine, the power's 严重 standard, the party."""
    n = len(entered)
    chosen = _pick_standards(powers, standards, n, rng)
    power = powers.set_index("power_id").loc[chosen["power_id"]].reset_index()
    parties = _parties(world, power["sector"].to_numpy(), rng)
    penalties = _penalties(chosen, standards, power["sector"], parties["party_type"], rng)
    decided = _working_days_before(entered.astype("datetime64[D]"), rng.integers(0, 6, n))
    authority = _authority_of(world.seed, parties, power["_department"].to_numpy(), rng)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    year = decided.astype("datetime64[Y]").astype(str)
    return pd.concat([parties, penalties], axis=1).assign(
        decision_id=ids,
        decision_number=authority["prefix"].to_numpy()
        + "罚〔"
        + year
        + "〕"
        + ids.astype(str)
        + "号",
        violation_type=power["_act"].to_numpy(),
        violation_facts=_facts(decided, power, rng),
        legal_basis=power["legal_basis"].to_numpy(),
        decision_date=decided.astype(str).astype(object),
        entered_at=entered,
        authority_name=authority["authority_name"].to_numpy(),
        authority_uscc=authority["authority_uscc"].to_numpy(),
        status="待执行",
        updated_at=entered,
    )


def _penalties(
    chosen: pd.DataFrame,
    standards: pd.DataFrame,
    sectors: pd.Series,
    party_types: pd.Series,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """What each decision imposes under its standard: types, amounts, procedure, content; with
    hidden columns for the red flags (the band, the power's 严重 standard and a fine in it)."""
    n = len(chosen)
    low, high = chosen["fine_min_yuan"].to_numpy(), chosen["fine_max_yuan"].to_numpy()
    fine = np.clip(np.round(rng.uniform(low, high) / 10) * 10, low, high)
    types = _penalty_types(
        chosen["_level"].to_numpy(), sectors.to_numpy(), party_types.to_numpy(), rng
    )
    has = pd.Series(types).str.contains
    fined, seized, suspended = (has(t).to_numpy() for t in ("罚款", "没收", "吊销"))
    limit = np.where(party_types == "法人及非法人组织", ORGANISATION_LIMIT, PERSON_LIMIT)
    simple = np.isin(types, ["警告", "罚款", "警告;罚款"]) & (~fined | (fine <= limit))
    severe = standards[standards["_level"] == 3].set_index("power_id").loc[chosen["power_id"]]
    seized_yuan = np.where(seized, np.clip(np.round(rng.lognormal(8, 1.2, n)), 100, 2e6), 0.0)
    licence = _licence_numbers(sectors, rng)
    frame = pd.DataFrame(
        {
            "penalty_types": types,
            "fine_amount_wan": np.where(fined, fine / 10_000, np.nan),
            "confiscation_amount_wan": np.where(seized, seized_yuan / 10_000, np.nan),
            "license_affected": np.where(suspended, licence, None),
            "procedure_type": np.where(simple & (rng.random(n) < 0.7), "简易", "普通").astype(
                object
            ),
            "power_id": chosen["power_id"].to_numpy(),
            "standard_id": chosen["standard_id"].to_numpy(),
            "_min": low,
            "_max": high,
            "_fine_yuan": fine,
            "_severe_standard": severe["standard_id"].to_numpy(),
            "_severe_fine": np.round(
                rng.uniform(severe["fine_min_yuan"], severe["fine_max_yuan"]) / 10
            )
            * 10,
            "_seized_yuan": seized_yuan,
            "_licence": licence,
            "_days": rng.integers(3, 16, n),  # 行政拘留 days
        }
    )
    frame["penalty_content"] = _content(frame, fine)
    return frame


def _pick_standards(powers, standards, n, rng) -> pd.DataFrame:
    """Standards weighted by circumstance and by how much their power is used."""
    popularity = powers.set_index("power_id")["_popularity"].loc[standards["power_id"]]
    weight = _CIRCUMSTANCE_WEIGHTS[standards["_level"]] * popularity.to_numpy()
    return standards.iloc[rng.choice(len(standards), n, p=weight / weight.sum())]


def _parties(world: World, sectors: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """The penalised party: a person (mostly for 治安管理) or an enterprise of the world, the
    latter sometimes known only by its organisation code or, without a USCC, its 注册号."""
    n = len(sectors)
    persons, firms = world.persons(), world.enterprises()
    person = rng.random(n) < np.where(sectors == "治安管理", 0.85, 0.15)
    who = persons.iloc[rng.integers(0, len(persons), n)]
    firm = firms.iloc[rng.integers(0, len(firms), n)]
    uscc = firm["uscc"].astype(str)
    org_only = ~person & (uscc != USCC_PLACEHOLDER).to_numpy() & (rng.random(n) < 0.04)
    representative = persons["name"].to_numpy()[firm["legal_rep_person_id"].to_numpy() - 1]
    region = firm["region_code"].replace(regions.successors()).to_numpy()
    return pd.DataFrame(
        {
            "party_type": np.select(
                [person, firm["entity_type"].to_numpy() == "个体工商户"],
                ["自然人", "个体工商户"],
                "法人及非法人组织",
            ).astype(object),
            "party_name": np.where(person, who["name"], v.name_variants(rng, firm["name"])),
            "party_uscc": np.where(person | org_only, None, uscc),
            "party_registration_number": np.where(person, None, firm["registration_number"]),
            "party_org_code": np.where(org_only, uscc.str[8:16] + "-" + uscc.str[16], None),
            "legal_rep_name": np.where(person, None, representative),
            "party_id_number": np.where(person, who["id_number"], None),
            "_entity_kind": np.where(person, "person", "enterprise"),
            "_entity_id": np.where(person, who["person_id"], firm["entity_id"]),
            "_region": np.where(person, rng.choice(list(_DISTRICTS), n), region),
        }
    )


def _penalty_types(
    level: np.ndarray, sector: np.ndarray, party_type: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """处罚类别 by circumstance: 警告 when slight, confiscation or closure when serious; persons
    are not closed down, and 治安 cases may detain them (行政拘留)."""
    u = rng.random(len(level))
    serious = np.select(
        [u < 0.4, u < 0.6, u < 0.8],
        ["罚款;没收违法所得", "罚款;没收非法财物", "罚款;责令停产停业"],
        "罚款;暂扣或者吊销许可证",
    )
    types = np.select(
        [level == 0, level == 1, level == 2],
        [
            np.where(u < 0.5, "警告", "警告;罚款"),
            np.where(u < 0.7, "罚款", "警告;罚款"),
            np.where(u < 0.5, "罚款", "罚款;没收违法所得"),
        ],
        serious,
    )
    person = party_type == "自然人"
    closing = np.isin(types, ["罚款;责令停产停业", "罚款;暂扣或者吊销许可证"])
    types = np.where(person & closing, "罚款;没收违法所得", types)
    detained = person & (sector == "治安管理") & (level >= 2) & (rng.random(len(level)) < 0.5)
    return np.where(detained, "行政拘留;罚款", types).astype(object)


def _authority_of(
    seed: int, parties: pd.DataFrame, departments: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The deciding authority: the department at city level, or its office in the district."""
    city = rng.random(len(parties)) < 0.25
    region = np.where(city, "370200", parties["_region"])
    return _authorities(seed).loc[pd.Series(departments) + "|" + region]


def _facts(decided: np.ndarray, power: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """违法事实. The act happened months before the decision, so before any late-entry shift."""
    when = pd.DatetimeIndex(decided - rng.integers(70, 150, len(decided)))
    on = (
        when.year.astype(str) + "年" + when.month.astype(str) + "月" + when.day.astype(str) + "日"
    ).to_numpy()
    return (
        "经查，当事人于"
        + on
        + power["_act"].to_numpy()
        + "，违反了"
        + power["_law"].to_numpy()
        + "的有关规定。"
    ).astype(object)


def _licence_numbers(sectors: pd.Series, rng: np.random.Generator) -> np.ndarray:
    licence = sectors.map(_sector_table().set_index("sector")["licence"].to_dict())
    number = pd.Series(rng.integers(0, 10**14, len(sectors))).astype(str).str.zfill(14)
    return (licence.to_numpy() + "（编号：37" + number.to_numpy() + "）").astype(object)


def _content(frame: pd.DataFrame, fine_yuan) -> np.ndarray:
    """处罚内容: the penalties in words, amounts in 元."""
    has = frame["penalty_types"].astype(str).str.contains
    fine = np.asarray(fine_yuan, dtype=float).astype(np.int64).astype(str).astype(object)
    seized = frame["_seized_yuan"].to_numpy(float).astype(np.int64).astype(str).astype(object)
    days = frame["_days"].to_numpy().astype(str).astype(object)
    parts = [
        np.where(has("警告"), "警告", ""),
        np.where(has("罚款"), "罚款人民币" + fine + "元", ""),
        np.where(has("没收违法所得"), "没收违法所得" + seized + "元", ""),
        np.where(has("没收非法财物"), "没收非法财物（价值" + seized + "元）", ""),
        np.where(has("吊销"), "吊销" + frame["_licence"].to_numpy(), ""),
        np.where(has("停产停业"), "责令停产停业", ""),
        np.where(has("拘留"), "行政拘留" + days + "日", ""),
    ]
    joined = pd.Series(parts[0], dtype=object)
    for part in parts[1:]:
        joined = joined + "；" + part
    return joined.str.replace("；+", "；", regex=True).str.strip("；").to_numpy()


def _settle(decisions: pd.DataFrame, until: date, rng: np.random.Generator) -> None:
    """Most decisions older than a fortnight have been carried out (fine paid: 已执行)."""
    entered = decisions["entered_at"].to_numpy()
    n = len(decisions)
    paid = (entered < np.datetime64(until - timedelta(days=15))) & (rng.random(n) < 0.75)
    later = entered + rng.integers(86_400, 15 * 86_400, n).astype("timedelta64[s]")
    decisions["status"] = np.where(paid, "已执行", "待执行").astype(object)
    decisions["updated_at"] = np.where(paid, later, entered)


def _revocations_of(decisions: pd.DataFrame, until: date, rng: np.random.Generator) -> pd.DataFrame:
    """About 2% of the decisions revoked some weeks after entry; the decisions say 已撤销."""
    entered = decisions["entered_at"].to_numpy()
    eligible = np.flatnonzero(entered < np.datetime64(until - timedelta(days=5)))
    k = min(len(eligible), max(20, round(0.02 * len(decisions))))
    picked = np.sort(rng.choice(eligible, k, replace=False))
    revoked = np.minimum(
        entered[picked].astype("datetime64[D]") + rng.integers(3, 60, k), np.datetime64(until)
    )
    at = (
        revoked + np.timedelta64(7, "h") + rng.integers(0, 15 * 3600, k).astype("timedelta64[s]")
    ).astype("datetime64[us]")
    decisions.loc[picked, "status"] = "已撤销"
    decisions.loc[picked, "updated_at"] = np.maximum(decisions.loc[picked, "updated_at"], at)
    order = np.argsort(at, kind="stable")
    return _revocation_rows(
        decisions["decision_id"].to_numpy()[picked][order], revoked[order], at[order], 1, rng
    )


def _revocation_rows(
    decision_ids, revoked_on, at, first_id: int, rng: np.random.Generator
) -> pd.DataFrame:
    k = len(decision_ids)
    return pd.DataFrame(
        {
            "revocation_id": np.arange(first_id, first_id + k, dtype=np.int64),
            "decision_id": np.asarray(decision_ids, dtype=np.int64),
            "revoked_on": np.asarray(revoked_on, dtype="datetime64[D]").astype(str).astype(object),
            "reason": rng.choice(_REVOCATION_REASONS, k).astype(object),
            "updated_at": at,
        }
    )


def _finish_decisions(
    rows: pd.DataFrame, rate: float, rng: np.random.Generator, exempt=(), **changes: int
) -> Batch:
    """Like :func:`finish`, with targets per party group, so that a USCC defect only hits a row
    with a USCC and an ID-number defect a natural person; ``exempt`` rows get no defect."""
    key = "decision_id"
    rows = rows.sort_values(key).reset_index(drop=True)
    free = ~rows[key].isin(exempt)
    groups = {
        "coded": rows["party_uscc"].notna() & (rows["party_uscc"] != USCC_PLACEHOLDER),
        "person": rows["party_type"] == "自然人",
        "org_code": rows["party_org_code"].notna(),
        "registration": rows["party_registration_number"].notna(),
    }
    grouped = np.zeros(len(rows), dtype=bool)
    parts, manifests = [], []
    for name, mask in groups.items():
        part = rows[mask & free].copy()
        grouped |= (mask & free).to_numpy()
        manifests.append(
            inject(part, _DECISION_TARGETS[name], rate, rng, key, every_kind=not changes)
        )
        parts.append(part)
    rows = pd.concat([rows[~grouped], *parts]).sort_index()
    firms = rows["_entity_kind"] == "enterprise"
    entities = pd.concat(
        [
            entity_truth(rows.loc[firms, key], "enterprise", rows.loc[firms, "_entity_id"]),
            entity_truth(rows.loc[~firms, key], "person", rows.loc[~firms, "_entity_id"]),
        ],
        ignore_index=True,
    )
    defects = pd.concat([m for m in manifests if len(m)] or manifests[:1], ignore_index=True)
    return Batch(
        c.PENALTY_DECISIONS,
        rows[c.PENALTY_DECISIONS.column_names],
        defects=defects,
        entities=entities,
        changes=changes,
    )


# -- one day's changes --------------------------------------------------------------------------


def _decisions_day(
    world: World,
    day: date,
    rate: float,
    sink: SqlSink,
    powers: pd.DataFrame,
    standards: pd.DataFrame,
    rng: np.random.Generator,
) -> list[Batch]:
    """New decisions (some entered late), payments, revocations, and every third day or so a
    hard delete of a decision entered by mistake."""
    keys = sink.keys(c.PENALTY_DECISIONS)
    n = max(5, world.daily_new(_decision_count(world)))
    new = _decisions(world, powers, standards, np.sort(day_times(rng, n, day)), _next(keys), rng)
    late = np.sort(rng.choice(len(new), max(1, round(0.15 * n)), replace=False))
    _entered_late(new, late, "decision_date", rng)
    recent = keys[-max(300, len(keys) // 8) :]  # about the last month and a half
    older = keys[: len(keys) - len(recent)]
    sampled = rng.choice(older, min(len(older), 1_000), replace=False)
    current = sink.read(c.PENALTY_DECISIONS, np.union1d(recent, sampled))
    deletes = _mistakes(current[current["decision_id"].isin(recent)], keys, day, rng)
    current = current[~current["decision_id"].isin(deletes)]
    revoked = _some(current[current["status"] != "已撤销"], 1 + rng.poisson(len(keys) * 3e-5), rng)
    still_open = current[
        (current["status"] == "待执行") & ~current["decision_id"].isin(revoked["decision_id"])
    ]
    paid = _some(still_open, max(1, round(0.02 * len(still_open))), rng)
    at = day_times(rng, len(revoked), day)
    revoked = revoked.assign(status="已撤销", updated_at=at)
    paid = paid.assign(status="已执行", updated_at=day_times(rng, len(paid), day))
    batch = _finish_decisions(
        new,
        rate,
        rng,
        exempt=new["decision_id"].to_numpy()[late],  # already flagged: entered late
        inserts=n,
        updates=len(paid),
        late=len(late),
        revocations=len(revoked),
        deletes=len(deletes),
    )
    late_keys = new["decision_id"].to_numpy()[late]
    batch.defects = pd.concat(
        [batch.defects, _manifest(late_keys, "decision_entered_late", "decision_date")],
        ignore_index=True,
    )
    batch.rows = pd.concat([paid, revoked, batch.rows]).sort_values(
        "decision_id", ignore_index=True
    )
    batch.deletes = deletes
    rev_keys = sink.keys(c.REVOCATIONS)
    revocations = _revocation_rows(
        revoked["decision_id"],
        np.full(len(revoked), day, dtype="datetime64[D]"),
        at,
        _next(rev_keys),
        rng,
    )
    return [
        batch,
        finish(
            c.REVOCATIONS,
            revocations,
            _REVOCATION_TARGETS,
            rate,
            rng,
            inserts=len(revocations),
            revocations=len(revocations),
        ),
    ]


def _manifest(keys: np.ndarray, kind: str, column: str) -> pd.DataFrame:
    return pd.DataFrame(
        {"key": keys, "kind": kind, "column": column, "outcome": KINDS[kind].outcome}
    )


def _next(keys: np.ndarray) -> int:
    return int(keys.max()) + 1 if len(keys) else 1


def _some(frame: pd.DataFrame, k: int, rng: np.random.Generator) -> pd.DataFrame:
    return frame.iloc[np.sort(rng.choice(len(frame), min(k, len(frame)), replace=False))].copy()


def _mistakes(
    recent: pd.DataFrame, keys: np.ndarray, day: date, rng: np.random.Generator
) -> list[int]:
    """Recent open decisions entered by mistake, about one every third day. Never the newest key
    (new keys continue from the largest), never one whose number a later row shares (that
    duplicate's truth needs the earlier row; it borrowed a nearby number, so it is in ``recent``
    too)."""
    k = int(day.toordinal() % 3 == 0) + rng.poisson(len(keys) * 1e-5)
    shared = recent["decision_number"].duplicated(keep=False)
    open_ = recent[(recent["status"] == "待执行") & ~shared & (recent["decision_id"] != keys.max())]
    month = open_[open_["entered_at"] >= pd.Timestamp(day - timedelta(days=30))]
    return sorted(int(i) for i in _some(month if len(month) else open_, k, rng)["decision_id"])


def _touch(contract, sink: SqlSink, rng: np.random.Generator, day: date, revise=None) -> Batch:
    """A few catalogue rows saved again today (after ``revise``, when given)."""
    keys = sink.keys(contract)
    picked = rng.choice(keys, min(len(keys), max(1, len(keys) // 2_000)), replace=False)
    rows = sink.read(contract, np.sort(picked))
    if revise is not None:
        revise(rows, rng)
    rows["updated_at"] = day_times(rng, len(rows), day)
    return Batch(contract, rows, changes={"updates": len(rows)})


def _revise_basis(powers: pd.DataFrame, rng: np.random.Generator) -> None:
    """A revised law renumbers the article a power rests on (only well-formed bases change)."""
    basis = powers["legal_basis"].astype(str)
    plain = basis.str.fullmatch(r"《[^《》]+》第[一二三四五六七八九十百零]+条").to_numpy()
    law = basis[plain].str.split("》").str[0] + "》"
    powers.loc[plain, "legal_basis"] = law + _ARTICLES[rng.integers(10, 130, plain.sum())]


# -- working days -------------------------------------------------------------------------------


def _working_days_before(days: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The working day ``k`` working days before each day (0: the day itself, or the last
    working day before it when it is a rest day)."""
    years = days.astype("datetime64[Y]").astype(int) + 1970
    calendar = working_days(years.min() - 1, years.max())
    return calendar[np.searchsorted(calendar, days, side="right") - 1 - k]
