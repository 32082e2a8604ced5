"""The simulated city: its scale, and the enterprises and people every department system shares.

The world is a pure function of (seed, scale, day): each system samples parties from it, so the
same enterprise is an applicant in approval, a penalised party in enforcement and a bidder in
transaction, and the entity truth map says which source records name whom.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from govlake.simulator import vectors as v


@dataclass(frozen=True)
class Scale:
    name: str
    enterprises: int  # registered at the end of the history
    persons: int
    facts: int  # the order of magnitude of each system's main fact table over the history
    history_days: int = 365
    new_per_day: float = 0.002  # share of each table's history added per simulated day

    @property
    def volume_scale(self) -> float:
        """Rows changed a day relative to city scale (the contracts' daily volumes are the city's):
        the batch gates' ``GOVLAKE_GATES__VOLUME_SCALE`` for sources this scale simulates."""
        city = SCALES["city"]
        return (self.facts / self.history_days) / (city.facts / city.history_days)

    def times(self, factor: float) -> Scale:
        return Scale(
            f"{self.name}x{factor:g}",
            int(self.enterprises * factor),
            int(self.persons * factor),
            int(self.facts * factor),
            self.history_days,
            self.new_per_day,
        )


SCALES = {
    "tiny": Scale("tiny", enterprises=600, persons=900, facts=400, history_days=60),
    "demo": Scale("demo", enterprises=25_000, persons=30_000, facts=25_000),
    "city": Scale("city", enterprises=1_000_000, persons=1_200_000, facts=1_000_000),
}


def scale_named(name: str) -> Scale:
    """``tiny``, ``demo``, ``city``, or one of them times a number: ``city*2``."""
    base, _, factor = name.partition("*")
    if base not in SCALES:
        raise ValueError(f"unknown scale {name!r}: use one of {', '.join(SCALES)} (or e.g. demo*3)")
    return SCALES[base].times(float(factor)) if factor else SCALES[base]


@dataclass(frozen=True)
class World:
    seed: int
    scale: Scale
    until: date  # the last day of the simulated history; `simulate day` continues after it

    @property
    def start(self) -> date:
        """The first day of the simulated history."""
        return self.until - timedelta(days=self.scale.history_days - 1)

    def daily_new(self, base: int) -> int:
        return max(1, round(base * self.scale.new_per_day))

    def persons(self) -> pd.DataFrame:
        """person_id, name, id_number: the people (legal representatives, individual parties)."""
        return _persons(self).copy()  # generated once per world; callers may change their copy

    def enterprises(self) -> pd.DataFrame:
        """The registered entities of the history: codes, names, types, legal representatives."""
        return _enterprises(self).copy()


@lru_cache(maxsize=2)
def _persons(world: World) -> pd.DataFrame:
    rng = v.rng_for(world.seed, "world", "persons")
    n = world.scale.persons
    return pd.DataFrame(
        {
            "person_id": np.arange(1, n + 1, dtype=np.int64),
            "name": v.person_names(rng, n),
            "id_number": v.id_numbers(rng, n, date(1950, 1, 1), date(2004, 12, 31)),
        }
    )


@lru_cache(maxsize=2)
def _enterprises(world: World) -> pd.DataFrame:
    rng = v.rng_for(world.seed, "world", "enterprises")
    n = world.scale.enterprises
    kind = rng.choice(np.array(["1", "2", "3"]), n, p=[0.7, 0.27, 0.03])
    region = np.where(
        rng.random(n) < 0.95, rng.choice(v.QINGDAO_REGIONS, n), rng.choice(v.RETIRED_REGIONS, n)
    )
    codes = v.uscc(rng, np.full(n, "9"), kind, region)
    individual = kind == "2"
    has_no_code = individual & (rng.random(n) < 0.3)  # old 个体工商户: placeholder + 注册号
    return pd.DataFrame(
        {
            "entity_id": np.arange(1, n + 1, dtype=np.int64),
            "uscc": np.where(has_no_code, "00000000000000000X", codes).astype(object),
            "registration_number": np.where(
                has_no_code, np.char.add(region.astype(str), _digits(rng, n, 9)), None
            ),
            "name": _enterprise_names(rng, n, individual),
            "entity_type": np.select(
                [kind == "1", individual], ["企业", "个体工商户"], "农民专业合作社"
            ).astype(object),
            "region_code": region.astype(object),
            "legal_rep_person_id": rng.integers(1, world.scale.persons + 1, n),
            "established_on": v.random_dates(rng, n, date(1995, 1, 1), world.start),
        }
    )


_WORDS = np.array(
    [
        "海湾",
        "琴岛",
        "崂山",
        "黄海",
        "胶州湾",
        "蓝谷",
        "啤酒城",
        "金沙滩",
        "东方",
        "鑫源",
        "海信",
        "浮山",
        "栈桥",
        "八大关",
        "石老人",
        "红岛",
        "灵山",
        "珠山",
    ]
)
_TRADES = np.array(
    [
        "科技",
        "贸易",
        "建筑工程",
        "食品",
        "物流",
        "海洋生物",
        "机械制造",
        "餐饮管理",
        "电子商务",
        "环保设备",
        "医药",
        "纺织",
        "港口服务",
        "置业",
        "文化传媒",
    ]
)


def _enterprise_names(rng: np.random.Generator, n: int, individual: np.ndarray) -> np.ndarray:
    """青岛海湾科技12有限公司, or with the city in brackets: 海湾科技12（青岛）有限公司."""
    core = np.char.add(
        np.char.add(rng.choice(_WORDS, n), rng.choice(_TRADES, n)), np.arange(1, n + 1).astype(str)
    )
    bracketed = ~individual & (rng.random(n) < 0.25)
    names = np.where(
        bracketed,
        np.char.add(core, "（青岛）有限公司"),
        np.char.add(np.char.add("青岛", core), np.where(individual, "店", "有限公司")),
    )
    return names.astype(object)


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return np.char.zfill(rng.integers(0, 10**width, n).astype(str), width)
