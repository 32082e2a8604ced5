"""The credit system (公共信用信息系统): the enterprise register, people, and credit records.

The register is the world's enterprises as the credit system keeps them; the lists (经营异常,
严重失信, 失信被执行人) and tax levels name enterprises, sometimes with name variants; 信用修复
applications refer to list records. Day changes register new entities, change statuses, list and
remove, decide repair applications, and now and then hard-delete a record entered by mistake.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from govlake.contracts import credit as c
from govlake.simulator import vectors as v
from govlake.simulator.base import Batch, day_times, entity_truth, finish, history_times
from govlake.simulator.defects import Target
from govlake.simulator.sink import SqlSink
from govlake.simulator.world import World

SYSTEM = "credit"
_AUTHORITIES = np.array(
    [
        "青岛市市场监督管理局",
        "青岛市市南区市场监督管理局",
        "青岛市黄岛区市场监督管理局",
        "青岛市城阳区市场监督管理局",
        "青岛市即墨区市场监督管理局",
    ]
)
_ABNORMAL_REASONS = np.array(
    [
        "未按规定报送年度报告",
        "通过登记的住所无法联系",
        "未按规定公示即时信息",
        "公示信息隐瞒真实情况、弄虚作假",
    ]
)
_SECTORS = np.array(["市场监管", "税务", "安全生产", "公共资源交易", "环境保护"])
_COURTS = np.array(
    [
        "青岛市中级人民法院",
        "青岛市市南区人民法院",
        "青岛市市北区人民法院",
        "青岛市黄岛区人民法院",
        "青岛市崂山区人民法院",
        "青岛市城阳区人民法院",
    ]
)

_CODE_DEFECTS = [
    Target("bad_uscc_checksum", "uscc"),
    Target("lower_case_code", "uscc"),
    Target("fullwidth_code", "uscc"),
    Target("padded_code", "uscc"),
]
_NAME_DEFECTS = [
    Target("required_null", "enterprise_name"),
    Target("too_long", "enterprise_name"),
    Target("control_characters", "enterprise_name"),
    Target("hostile_text", "enterprise_name"),
    Target("rare_characters", "enterprise_name"),
]


def _append(batch: Batch, updated: pd.DataFrame) -> None:
    """Add updated existing rows (no new defects: those go only into new rows) to a day's batch."""
    updated = updated[batch.contract.column_names]
    if len(batch.rows) == 0:
        batch.rows = updated.reset_index(drop=True)
    elif len(updated):
        # Same dtypes on both sides, so all-NULL columns do not change the result's types.
        updated = updated.astype(batch.rows.dtypes.to_dict(), errors="ignore")
        batch.rows = pd.concat([batch.rows, updated], ignore_index=True)


def sample(
    rng: np.random.Generator, frame: pd.DataFrame, share: float, minimum: int = 20
) -> pd.DataFrame:
    """About ``share`` of the rows, at least ``minimum`` (so tiny scales see every case)."""
    k = min(len(frame), max(minimum, round(share * len(frame))))
    return frame.iloc[np.sort(rng.choice(len(frame), k, replace=False))]


class CreditSimulator:
    system = SYSTEM
    channel = "sql"

    def history(self, world: World, rate: float) -> list[Batch]:
        persons = world.persons()
        enterprises = world.enterprises()
        register = self._register(world, enterprises, persons, world.until)
        abnormal = self._abnormal(world, enterprises, 0.03, world.start, world.until, first_id=1)
        serious = self._serious(world, enterprises, 0.003, world.start, world.until, first_id=1)
        rng = v.rng_for(world.seed, SYSTEM, "batches", "history")
        return [
            self._persons_batch(
                world, persons, rate, rng, history_times(rng, len(persons), world, world.until)
            ),
            self._register_batch(register, rate, rng),
            self._tax_batch(self._tax(world, enterprises), rate, rng),
            self._list_batch(c.ABNORMAL_OPERATIONS, abnormal, rate, rng),
            self._list_batch(c.SERIOUS_DISHONESTY, serious, rate, rng),
            self._debtors_batch(world, enterprises, persons, rate, rng),
            finish(
                c.CREDIT_REPAIRS,
                self._repairs(world, abnormal, serious, world.until, 1),
                [
                    Target("mixed_date_format", "applied_on"),
                    Target("future_date", "decided_on"),
                    Target("bad_uscc_checksum", "uscc"),
                ],
                rate,
                rng,
            ),
        ]

    # -- history tables ---------------------------------------------------------------------

    def _register(
        self, world: World, enterprises: pd.DataFrame, persons: pd.DataFrame, until: date
    ) -> pd.DataFrame:
        rng = v.rng_for(world.seed, SYSTEM, "enterprise_register")
        rep = persons.set_index("person_id").loc[enterprises["legal_rep_person_id"]]
        n = len(enterprises)
        return pd.DataFrame(
            {
                "enterprise_id": enterprises["entity_id"],
                "uscc": enterprises["uscc"],
                "registration_number": enterprises["registration_number"],
                "name": enterprises["name"],
                "entity_type": enterprises["entity_type"],
                "legal_rep_person_id": enterprises["legal_rep_person_id"],
                "legal_rep_name": rep["name"].to_numpy(),
                "legal_rep_id_number": rep["id_number"].to_numpy(),
                "region_code": enterprises["region_code"],
                "registered_capital": np.round(rng.lognormal(4, 1.5, n), 4),
                "established_on": enterprises["established_on"].astype(str).astype(object),
                "status": rng.choice(
                    np.array(["存续", "在业", "吊销", "注销", "迁出"]),
                    n,
                    p=[0.6, 0.25, 0.06, 0.08, 0.01],
                ).astype(object),
                "updated_at": history_times(rng, n, world, until),
            }
        )

    def _register_batch(
        self, register: pd.DataFrame, rate: float, rng: np.random.Generator, **changes
    ) -> Batch:
        targets = _CODE_DEFECTS + [
            Target("uscc_org_code_mismatch", "uscc"),
            Target("required_null", "name"),
            Target("too_long", "name"),
            Target("control_characters", "name"),
            Target("hostile_text", "name"),
            Target("rare_characters", "name"),
            Target("unknown_region", "region_code"),
            Target("future_date", "established_on"),
            Target("mixed_date_format", "established_on"),
            Target("bad_id_checksum", "legal_rep_id_number"),
            Target("orphan_reference", "legal_rep_person_id"),
        ]
        entities = pd.concat(
            [
                entity_truth(register["enterprise_id"], "enterprise", register["enterprise_id"]),
            ]
        )
        return finish(
            c.ENTERPRISE_REGISTER, register, targets, rate, rng, entities=entities, **changes
        )

    def _persons_batch(self, world, persons: pd.DataFrame, rate, rng, times, **changes) -> Batch:
        rows = persons.assign(updated_at=times)
        targets = [
            Target("bad_id_checksum", "id_number"),
            Target("impossible_birth_date", "id_number"),
            Target("padded_code", "id_number"),
            Target("required_null", "name"),
            Target("control_characters", "name"),
            Target("rare_characters", "name"),
        ]
        return finish(
            c.PERSONS,
            rows,
            targets,
            rate,
            rng,
            entities=entity_truth(rows["person_id"], "person", rows["person_id"]),
            **changes,
        )

    def _tax(self, world: World, enterprises: pd.DataFrame) -> pd.DataFrame:
        rng = v.rng_for(world.seed, SYSTEM, "tax_credit_levels")
        coded = enterprises[enterprises["uscc"] != "00000000000000000X"]
        rated = sample(rng, coded, 0.4)
        n = len(rated)
        return pd.DataFrame(
            {
                "record_id": np.arange(1, n + 1, dtype=np.int64),
                "uscc": rated["uscc"].to_numpy(),
                "enterprise_name": v.name_variants(rng, rated["name"]),
                "tax_year": np.full(n, world.until.year - 1, dtype=np.int64),
                "level": rng.choice(np.array(list("ABMCD")), n, p=[0.3, 0.45, 0.1, 0.1, 0.05]),
                "rated_on": v.random_dates(rng, n, world.start, world.until).astype(str),
                "updated_at": history_times(rng, n, world, world.until),
                "_entity": rated["entity_id"].to_numpy(),
            }
        )

    def _tax_batch(self, rows: pd.DataFrame, rate, rng, **changes) -> Batch:
        targets = _CODE_DEFECTS + _NAME_DEFECTS + [Target("mixed_date_format", "rated_on")]
        entities = entity_truth(rows["record_id"], "enterprise", rows["_entity"])
        return finish(c.TAX_CREDIT_LEVELS, rows, targets, rate, rng, entities=entities, **changes)

    def _abnormal(self, world, enterprises, share, start, until, first_id, tag="history"):
        def columns(rng, n, listed_on):
            removed_on = np.minimum(listed_on + 30, np.datetime64(until, "D")).astype(str)
            return {
                "reason": rng.choice(_ABNORMAL_REASONS, n),
                "removed_on": np.where(rng.random(n) < 0.3, removed_on, None),
            }

        return self._listing(
            c.ABNORMAL_OPERATIONS, world, enterprises, share, start, until, first_id, tag, columns
        )

    def _serious(self, world, enterprises, share, start, until, first_id, tag="history"):
        def columns(rng, n, listed_on):
            return {
                "sector": rng.choice(_SECTORS, n),
                "reason": "存在严重违法失信行为，依法列入严重失信主体名单",
                "expires_on": (listed_on + np.timedelta64(3 * 365, "D")).astype(str),
            }

        return self._listing(
            c.SERIOUS_DISHONESTY, world, enterprises, share, start, until, first_id, tag, columns
        )

    def _listing(
        self,
        contract,
        world: World,
        enterprises: pd.DataFrame,
        share: float,
        start: date,
        until: date,
        first_id: int,
        tag: object,
        columns,
    ) -> pd.DataFrame:
        """Entities put on a list (经营异常, 严重失信) between ``start`` and ``until``; ``columns``
        adds the list's own fields. ``tag`` is "history" or the simulated day."""
        rng = v.rng_for(world.seed, SYSTEM, contract.table, tag)
        listed = sample(rng, enterprises, share, minimum=20 if tag == "history" else 1)
        n = len(listed)
        listed_on = v.random_dates(rng, n, start, until)
        head = {
            "record_id": np.arange(first_id, first_id + n, dtype=np.int64),
            "uscc": listed["uscc"].to_numpy(),
            "enterprise_name": v.name_variants(rng, listed["name"]),
            "listed_on": listed_on.astype(str),
        }
        own = columns(rng, n, listed_on)
        return pd.DataFrame(
            {
                **head,
                **own,
                "authority": rng.choice(_AUTHORITIES, n),
                "updated_at": history_times(rng, n, world, until)
                if tag == "history"
                else day_times(rng, n, until),
                "_entity": listed["entity_id"].to_numpy(),
            }
        )

    def _list_batch(self, contract, rows: pd.DataFrame, rate, rng, **changes) -> Batch:
        targets = (
            _CODE_DEFECTS
            + _NAME_DEFECTS
            + [Target("mixed_date_format", "listed_on"), Target("future_date", "listed_on")]
        )
        entities = entity_truth(rows["record_id"], "enterprise", rows["_entity"])
        return finish(contract, rows, targets, rate, rng, entities=entities, **changes)

    def _debtors_batch(self, world: World, enterprises, persons, rate, rng) -> Batch:
        rows = self._debtors(world, enterprises, persons, world.start, world.until, 1, "history")
        return self._debtor_finish(rows, rate, rng)

    def _debtor_finish(self, rows: pd.DataFrame, rate, rng, **changes) -> Batch:
        firms = rows["party_type"] == "法人"
        entities = pd.concat(
            [
                entity_truth(
                    rows.loc[firms, "record_id"], "enterprise", rows.loc[firms, "_entity"]
                ),
                entity_truth(rows.loc[~firms, "record_id"], "person", rows.loc[~firms, "_entity"]),
            ]
        )
        targets = [
            Target("bad_id_checksum", "id_number", 0.5),
            Target("duplicate_business_key", "case_number"),
            Target("required_null", "court"),
            Target("mixed_date_format", "listed_on"),
            Target("hostile_text", "party_name"),
        ]
        return finish(c.DISHONEST_DEBTORS, rows, targets, rate, rng, entities=entities, **changes)

    def _debtors(
        self,
        world: World,
        enterprises,
        persons,
        start: date,
        until: date,
        first_id: int,
        tag: object,
    ) -> pd.DataFrame:
        rng = v.rng_for(world.seed, SYSTEM, "dishonest_debtors", tag)
        minimum = 20 if tag == "history" else 0
        firms = sample(rng, enterprises, 0.005, minimum)
        people = sample(rng, persons, 0.003, minimum)
        n_f, n_p, n = len(firms), len(people), len(firms) + len(people)
        listed_on = v.random_dates(rng, n, start, until)
        years = listed_on.astype("datetime64[Y]").astype(int) + 1970
        return pd.DataFrame(
            {
                "record_id": np.arange(first_id, first_id + n, dtype=np.int64),
                "party_type": np.array(["法人"] * n_f + ["自然人"] * n_p, dtype=object),
                "uscc": np.concatenate([firms["uscc"].to_numpy(), np.full(n_p, None)]),
                "person_id": pd.array(
                    np.concatenate([np.full(n_f, None), people["person_id"].to_numpy()]), "Int64"
                ),
                "party_name": np.concatenate(
                    [v.name_variants(rng, firms["name"]), people["name"].to_numpy()]
                ),
                "id_number": np.concatenate([np.full(n_f, None), people["id_number"].to_numpy()]),
                "case_number": [
                    f"({y})鲁02{rng.integers(0, 99):02d}执{first_id + i}号"
                    for i, y in enumerate(years)
                ],
                "court": rng.choice(_COURTS, n),
                "listed_on": listed_on.astype(str),
                "status": rng.choice(np.array(["在列", "已移除"]), n, p=[0.8, 0.2]),
                "updated_at": history_times(rng, n, world, until)
                if tag == "history"
                else day_times(rng, n, until),
                "_entity": np.concatenate(
                    [firms["entity_id"].to_numpy(), people["person_id"].to_numpy()]
                ),
            }
        )

    def _repairs(
        self,
        world: World,
        abnormal: pd.DataFrame,
        serious: pd.DataFrame,
        until: date,
        first_id: int,
    ) -> pd.DataFrame:
        rng = v.rng_for(world.seed, SYSTEM, "credit_repairs", until)
        source = pd.concat(
            [
                abnormal.assign(record_table="abnormal_operations"),
                serious.assign(record_table="serious_dishonesty"),
            ]
        )
        picked = sample(rng, source, 0.2)
        n = len(picked)
        applied = np.minimum(
            pd.to_datetime(picked["listed_on"]).to_numpy().astype("datetime64[D]")
            + rng.integers(30, 200, n).astype("timedelta64[D]"),
            np.datetime64(until, "D"),
        )
        decision = rng.choice(np.array(["已通过", "未通过", "待审核"]), n, p=[0.7, 0.1, 0.2])
        decided = np.minimum(applied + 10, np.datetime64(until, "D")).astype(str)
        return pd.DataFrame(
            {
                "repair_id": np.arange(first_id, first_id + n, dtype=np.int64),
                "uscc": picked["uscc"].to_numpy(),
                "record_table": picked["record_table"].to_numpy(),
                "record_id": picked["record_id"].to_numpy(),
                "applied_on": applied.astype(str),
                "decision": decision,
                "decided_on": np.where(decision == "待审核", None, decided),
                "updated_at": history_times(rng, n, world, until),
            }
        )

    # -- one day's changes ------------------------------------------------------------------

    def day(self, world: World, day: date, rate: float, sink: SqlSink) -> list[Batch]:
        rng = v.rng_for(world.seed, SYSTEM, "day", day)
        persons, enterprises = world.persons(), world.enterprises()
        born = self._newly_registered(world, day, sink)
        batches = [
            self._register_day(world, day, sink, born, persons, rng, rate),
            self._list_day(c.ABNORMAL_OPERATIONS, world, day, sink, enterprises, rng, rate),
            self._list_day(c.SERIOUS_DISHONESTY, world, day, sink, enterprises, rng, rate),
            self._debtors_day(world, day, sink, enterprises, persons, rng, rate),
            self._repairs_day(world, day, sink, rng, rate),
        ]
        return batches

    def _newly_registered(self, world: World, day: date, sink: SqlSink) -> pd.DataFrame:
        """Entities registered on ``day``: new codes, new ids after the register's last."""
        rng = v.rng_for(world.seed, SYSTEM, "born", day)
        n = world.daily_new(world.scale.enterprises)
        first = int(sink.keys(c.ENTERPRISE_REGISTER).max()) + 1
        region = rng.choice(v.QINGDAO_REGIONS, n)
        return pd.DataFrame(
            {
                "entity_id": np.arange(first, first + n, dtype=np.int64),
                "uscc": v.uscc(rng, np.full(n, "9"), np.full(n, "1"), region),
                "registration_number": None,
                "name": np.char.add(
                    np.char.add("青岛新设", np.arange(first, first + n).astype(str)), "科技有限公司"
                ).astype(object),
                "entity_type": "企业",
                "region_code": region.astype(object),
                "legal_rep_person_id": rng.integers(1, world.scale.persons + 1, n),
                "established_on": np.full(n, np.datetime64(day, "D")),
            }
        )

    def _register_day(self, world, day, sink, born, persons, rng, rate) -> Batch:
        """New registrations, and status changes (注销, 吊销, 迁出) of existing entities."""
        new = self._register(world, born, persons, day).assign(
            updated_at=day_times(rng, len(born), day), status="存续"
        )
        keys = sink.keys(c.ENTERPRISE_REGISTER)
        changed = sink.read(
            c.ENTERPRISE_REGISTER, rng.choice(keys, max(1, len(keys) // 500), replace=False)
        )
        changed["status"] = rng.choice(np.array(["注销", "吊销", "迁出"]), len(changed))
        changed["updated_at"] = day_times(rng, len(changed), day)
        batch = self._register_batch(new, rate, rng, inserts=len(new), updates=len(changed))
        _append(batch, changed)
        return batch

    def _list_day(self, contract, world, day, sink, enterprises, rng, rate) -> Batch:
        """New listings (some late: listed weeks ago, entered today), removals, a rare delete."""
        make = self._abnormal if contract is c.ABNORMAL_OPERATIONS else self._serious
        keys = sink.keys(contract)
        share = 0.0005 if contract is c.ABNORMAL_OPERATIONS else 0.0001
        new = make(
            world, enterprises, share, day - timedelta(days=40), day, int(keys.max()) + 1, tag=day
        )
        late = int((pd.to_datetime(new["listed_on"]) < pd.Timestamp(day)).sum())
        removed = sink.read(contract, rng.choice(keys, max(1, len(keys) // 200), replace=False))
        removed = removed[removed[contract.business_date].notna()].copy()
        end = "removed_on" if contract is c.ABNORMAL_OPERATIONS else "expires_on"
        removed[end] = day.isoformat()
        removed["updated_at"] = day_times(rng, len(removed), day)
        # Never the newest key: the next new record continues from the largest remaining one.
        deletes = [int(rng.choice(keys[:-1]))] if rng.random() < 0.3 and len(keys) > 1 else []
        removed = removed[~removed["record_id"].isin(deletes)]
        batch = self._list_batch(
            contract,
            new,
            rate,
            rng,
            inserts=len(new),
            late=late,
            revocations=len(removed),
            deletes=len(deletes),
        )
        _append(batch, removed)
        batch.deletes = deletes
        return batch

    def _debtors_day(self, world, day, sink, enterprises, persons, rng, rate) -> Batch:
        keys = sink.keys(c.DISHONEST_DEBTORS)
        new = self._debtors(
            world,
            sample(rng, enterprises, 0.01, 1),
            persons.iloc[:0],
            day,
            day,
            int(keys.max()) + 1,
            day,
        )
        lifted = sink.read(
            c.DISHONEST_DEBTORS, rng.choice(keys, max(1, len(keys) // 100), replace=False)
        )
        lifted = lifted.assign(status="已移除", updated_at=day_times(rng, len(lifted), day))
        batch = self._debtor_finish(new, rate, rng, inserts=len(new), revocations=len(lifted))
        _append(batch, lifted)
        return batch

    def _repairs_day(self, world, day, sink, rng, rate) -> Batch:
        """Pending applications decided today, and new applications."""
        keys = sink.keys(c.CREDIT_REPAIRS)
        pending = sink.read(c.CREDIT_REPAIRS, keys)
        pending = pending[pending["decision"] == "待审核"].head(max(1, len(keys) // 50)).copy()
        pending["decision"] = rng.choice(np.array(["已通过", "未通过"]), len(pending), p=[0.8, 0.2])
        pending["decided_on"] = day.isoformat()
        pending["updated_at"] = day_times(rng, len(pending), day)
        listed = sink.read(
            c.ABNORMAL_OPERATIONS,
            rng.choice(sink.keys(c.ABNORMAL_OPERATIONS), max(1, len(keys) // 100), replace=False),
        )
        n = len(listed)
        new = pd.DataFrame(
            {
                "repair_id": np.arange(
                    int(keys.max()) + 1, int(keys.max()) + 1 + n, dtype=np.int64
                ),
                "uscc": listed["uscc"].to_numpy(),
                "record_table": "abnormal_operations",
                "record_id": listed["record_id"].to_numpy(),
                "applied_on": day.isoformat(),
                "decision": "待审核",
                "decided_on": None,
                "updated_at": day_times(rng, n, day),
            }
        )
        batch = finish(c.CREDIT_REPAIRS, new, [], rate, rng, inserts=n, repairs=len(pending))
        _append(batch, pending)
        return batch
