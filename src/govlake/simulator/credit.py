"""The credit system's enterprise register, with known defects and their ground truth.

Each row's expected outcome is recorded (``clean``, or the quarantine rules it must fail, plus the
flags it must carry), so tests check the pipeline against the truth rather than against itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from govlake.identifiers import org_code_check_char, uscc_check_char

QINGDAO_REGIONS = (
    "370202",
    "370203",
    "370211",
    "370212",
    "370213",
    "370214",
    "370215",
    "370281",
    "370283",
    "370285",
)
_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_WORDS = ("海湾", "琴岛", "崂山", "黄海", "胶州湾", "蓝谷", "啤酒城", "金沙滩", "东方", "鑫源")
_TRADES = ("科技", "贸易", "建筑工程", "食品", "物流", "海洋生物", "机械制造", "餐饮管理")


@dataclass
class Truth:
    """What the pipeline must conclude about each generated row."""

    quarantine: dict[int, set[str]] = field(default_factory=dict)  # enterprise_id -> rules
    flags: dict[int, set[str]] = field(default_factory=dict)
    normalised: set[int] = field(default_factory=set)  # rows whose values normalisation changes

    def as_json(self) -> dict:
        return {
            "quarantine": {str(k): sorted(v) for k, v in self.quarantine.items()},
            "flags": {str(k): sorted(v) for k, v in self.flags.items()},
            "normalised": sorted(self.normalised),
        }


def make_uscc(rng: random.Random, entity_kind: str = "1", region: str = "370202") -> str:
    body = "MA" + "".join(rng.choice(_CHARSET[:10] + "ABCDEFGH") for _ in range(6))
    first17 = f"9{entity_kind}{region}{body}{org_code_check_char(body)}"
    return first17 + uscc_check_char(first17)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def enterprise_register(count: int, day: date, seed: int = 7) -> tuple[list[dict], Truth]:
    """``count`` rows; about a quarter changed on ``day``, the rest earlier."""
    rng = random.Random(seed)
    truth = Truth()
    rows = [_clean_row(rng, i + 1, day) for i in range(count)]
    defects = (
        _bad_checksum,
        _missing_name,
        _unknown_status,
        _impossible_date,
        _org_code_mismatch,
        _fullwidth_code,
        _lower_case_code,
        _slash_date,
        _chinese_date,
    )
    for index, row in enumerate(rows):
        if index % 5 == 0:  # every fifth row carries one defect, cycling through the catalogue
            defects[(index // 5) % len(defects)](row, truth, rng)
    return rows, truth


def _clean_row(rng: random.Random, enterprise_id: int, day: date) -> dict:
    individual = rng.random() < 0.2
    region = rng.choice(QINGDAO_REGIONS)
    changed_on = day if rng.random() < 0.25 else day - timedelta(days=rng.randint(1, 400))
    established = date(2000, 1, 1) + timedelta(days=rng.randint(0, 9000))
    surname = rng.choice(_SURNAMES)
    return {
        "enterprise_id": enterprise_id,
        "uscc": make_uscc(rng, "2" if individual else "1", region),
        "name": f"青岛{rng.choice(_WORDS)}{rng.choice(_TRADES)}"
        + ("店" if individual else "有限公司")
        + f"{enterprise_id}",
        "entity_type": "个体工商户" if individual else "企业",
        "legal_rep_name": surname + rng.choice("伟芳娜敏静丽强磊军洋"),
        "legal_rep_id_number": None,  # persons' ID numbers arrive with the full simulator
        "region_code": region,
        "registered_capital": round(rng.uniform(1, 5000), 4),
        "established_on": established.isoformat(),
        "status": rng.choice(("存续", "存续", "在业", "吊销", "注销")),
        "updated_at": datetime.combine(changed_on, time())
        + timedelta(seconds=rng.randint(0, 86_399)),
    }


def _bad_checksum(row: dict, truth: Truth, rng: random.Random) -> None:
    code = row["uscc"]
    row["uscc"] = code[:17] + next(c for c in _CHARSET if c != code[17])
    truth.quarantine[row["enterprise_id"]] = {"uscc_valid"}


def _missing_name(row: dict, truth: Truth, rng: random.Random) -> None:
    row["name"] = None
    truth.quarantine[row["enterprise_id"]] = {"name_not_null"}


def _unknown_status(row: dict, truth: Truth, rng: random.Random) -> None:
    row["status"] = "正常"
    truth.quarantine[row["enterprise_id"]] = {"status_in_set"}


def _impossible_date(row: dict, truth: Truth, rng: random.Random) -> None:
    row["established_on"] = "2019-02-30"
    truth.quarantine[row["enterprise_id"]] = {"established_on_is_date"}


def _org_code_mismatch(row: dict, truth: Truth, rng: random.Random) -> None:
    code = row["uscc"]
    wrong17 = code[:16] + next(c for c in "0123456789" if c != code[16])
    row["uscc"] = wrong17 + uscc_check_char(
        wrong17
    )  # position 18 still right: a flag, not a reject
    truth.flags[row["enterprise_id"]] = {"uscc_org_code"}


def _fullwidth_code(row: dict, truth: Truth, rng: random.Random) -> None:
    row["uscc"] = _fullwidth(row["uscc"])
    truth.normalised.add(row["enterprise_id"])


def _lower_case_code(row: dict, truth: Truth, rng: random.Random) -> None:
    row["uscc"] = f" {row['uscc'].lower()} "
    truth.normalised.add(row["enterprise_id"])


def _slash_date(row: dict, truth: Truth, rng: random.Random) -> None:
    row["established_on"] = row["established_on"].replace("-", "/")
    truth.normalised.add(row["enterprise_id"])


def _chinese_date(row: dict, truth: Truth, rng: random.Random) -> None:
    y, m, d = row["established_on"].split("-")
    row["established_on"] = f"{y}年{int(m)}月{int(d)}日"
    truth.normalised.add(row["enterprise_id"])
