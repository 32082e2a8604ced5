"""The credit database's feed (``govlake.publish.credit_feed``) from the hand-made warehouse of
``test_credit_grades`` into a SQLite credit database: what a push sends, that a second push of
the same day changes nothing, that records leaving publicity are withdrawn with a date and a
reason and never deleted, persons keyed by the credit system's own key or sent as new persons,
and that an older day is never pushed over a newer one. ``tests/integration`` runs the same
push into PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from govlake import load
from govlake.publish import credit_feed
from tests import handmade
from tests.unit.test_credit_grades import DAY, EXPECTED, PERSONS, warehouse_rows

NEXT = DAY + timedelta(days=1)


def dump(credit_url: str) -> dict[str, list[tuple]]:
    """Every row of every target table, in key order."""
    engine = sa.create_engine(credit_url)
    with engine.connect() as conn:
        rows = {
            t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key))]
            for t in credit_feed.TARGET.sorted_tables
        }
    engine.dispose()
    return rows


def pushed(credit_url: str, table: str) -> dict[str, dict]:
    target = credit_feed.TARGET.tables[table]
    key = target.primary_key.columns.values()[-1].name
    return {
        row[key]: row
        for row in (dict(zip(target.c.keys(), r, strict=True)) for r in dump(credit_url)[table])
    }


@pytest.fixture
def feed(tmp_path) -> tuple[str, str]:
    url = handmade.warehouse(tmp_path, warehouse_rows())
    handmade.publish(url, DAY)
    return url, f"sqlite:///{tmp_path / 'credit.sqlite'}"


def _revoke_penalty_1(url: str, on: date) -> None:
    """The warehouse after penalty 1 was revoked (as a later build loads it)."""
    decisions = handmade.read(url, "core.fct_penalty_decision").to_pylist()
    for row in decisions:
        if row["decision_id"] == 1:
            row |= {"is_revoked": True, "revoked_on": on}
    load.replace_tables(url, {"core.fct_penalty_decision": pa.Table.from_pylist(decisions)})


def test_a_push_sends_the_records_in_force_and_every_grade(feed):
    url, credit = feed
    done = credit_feed.push(url, credit, DAY)
    records = pushed(credit, "credit_record")
    assert done["tables"]["credit_record"] == {"written": len(records), "removed": 0}
    # in force: 5 penalties (4 was revoked before any push), 1 licence (2 expired), 4 events
    # (the 严重失信 listing ended before any push): nothing withdrawn is sent first
    assert len(records) == 10
    assert {r["status"] for r in records.values()} == {"active"}
    assert {r["first_sent_on"] for r in records.values()} == {DAY}
    grades = pushed(credit, "credit_grade")
    assert {
        k: (g["score"], g["grade"], g["override_reason"]) for k, g in grades.items()
    } == EXPECTED
    assert sum(p["points"] for p in pushed(credit, "credit_grade_point").values()) == (
        sum(score - 1000 for score, _, _ in EXPECTED.values())
    )


def test_persons_are_keyed_by_the_credit_systems_key_or_sent_as_new(feed):
    url, credit = feed
    credit_feed.push(url, credit, DAY)
    records = pushed(credit, "credit_record")
    known, new = (
        records["enforcement.penalty_decisions:5"],
        records["enforcement.penalty_decisions:6"],
    )
    assert (known["subject_kind"], known["person_id"], known["new_person_id_number"]) == (
        "person", "100", None,
    )  # fmt: skip
    number = PERSONS["P2"][0]
    assert (new["person_id"], new["new_person_id_number"]) == (None, number)
    assert list(pushed(credit, "new_person")) == [number]  # P1 is not sent again


def test_a_second_push_of_the_same_day_changes_nothing(feed):
    url, credit = feed
    credit_feed.push(url, credit, DAY)
    before = dump(credit)
    again = credit_feed.push(url, credit, DAY)
    assert dump(credit) == before
    assert set(again["tables"]) == {t.name for t in credit_feed.TARGET.sorted_tables} - {"feed_run"}
    assert all(t == {"written": 0, "removed": 0} for t in again["tables"].values())


def test_a_revoked_penalty_is_withdrawn_with_its_day_and_reason_and_regraded(feed):
    url, credit = feed
    credit_feed.push(url, credit, DAY)
    _revoke_penalty_1(url, DAY)
    handmade.publish(url, NEXT)
    done = credit_feed.push(url, credit, NEXT)
    record = pushed(credit, "credit_record")["enforcement.penalty_decisions:1"]
    assert (record["status"], record["withdrawn_on"], record["withdrawn_reason"]) == (
        "withdrawn", DAY, "revoked",
    )  # fmt: skip
    assert (record["first_sent_on"], record["updated_on"]) == (DAY, NEXT)
    assert done["tables"]["credit_record"]["written"] == 1
    grade = pushed(credit, "credit_grade")["91370200MA00000011"]
    assert (grade["score"], grade["grade"], grade["graded_on"]) == (1030, "A", NEXT)
    assert "enforcement.penalty_decisions:1" not in pushed(credit, "credit_grade_point")
    assert done["tables"]["credit_grade_point"] == {"written": 0, "removed": 1}


def test_a_record_gone_from_the_source_is_withdrawn_not_deleted(feed):
    url, credit = feed
    credit_feed.push(url, credit, DAY)
    load.replace_tables(
        url, {"core.fct_credit_event": _events_without("credit.tax_credit_levels:2", url)}
    )
    handmade.publish(url, NEXT)
    credit_feed.push(url, credit, NEXT)
    record = pushed(credit, "credit_record")["credit.tax_credit_levels:2"]
    assert (record["status"], record["withdrawn_on"], record["withdrawn_reason"]) == (
        "withdrawn", NEXT, "removed_at_source",
    )  # fmt: skip


def _events_without(key: str, url: str) -> pa.Table:
    events = handmade.read(url, "core.fct_credit_event")
    return events.filter(pc.not_equal(events["event_key"], key))


def test_an_older_day_is_not_pushed_over_a_newer_one(feed):
    url, credit = feed
    handmade.publish(url, NEXT)
    credit_feed.push(url, credit, NEXT)
    before = dump(credit)
    handmade.publish(url, DAY)
    assert "skipped" in credit_feed.push(url, credit, DAY)
    assert dump(credit) == before
