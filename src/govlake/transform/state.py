"""The ranked state of a source table: the newest version of every key among all its
versions up to a day, clean or held, hard-deleted keys included (the live-key filter comes
after it), kept in the lake after each build so that a later day ranks that state and the
partitions since, not the whole change log.

A state is only as good as the inputs it ranked, so its manifest records every clean and
quarantine partition it covers: the day and the committed run the partition's manifest pointed
at. A build reuses the newest state of an earlier day only while every partition up to that day
is still exactly that one. A re-run or backfill that rewrote one, or a partition that appeared
at an earlier day since, sends the build back to the whole log, which gives the same rows.
"""

from __future__ import annotations

from datetime import date, timedelta

from govlake.contracts import Contract
from govlake.lake import Lake, Partition, schema_fingerprint
from govlake.quality.split import clean_schema, quarantine_schema
from govlake.transform.conform import Files

ZONE = "state"  # state/<system>/<table>/dt=<day>/, committed like any partition
INPUTS = ("clean", "quarantine")  # the zones a ranking reads
RANKING = 2  # the version of conform's ranking rules: a state ranked by others is not reused

Committed = tuple[str, str, list[str]]  # (dt, the run its manifest points at, [file uris])
Log = dict[str, list[Committed]]  # a table's partitions per input zone, oldest first


def files(partitions: list[Committed], after: str | None = None) -> Files:
    """The ``(dt, [file uris])`` of the partitions (those after the day ``after``)."""
    return [(dt, uris) for dt, _, uris in partitions if after is None or dt > after]


def partition(contract: Contract, day: date) -> Partition:
    return Partition(ZONE, contract.name, day)


def metadata(contract: Contract, log: Log, since: str | None) -> dict:
    """The manifest entries of a state ranked from ``log`` (on the state of day ``since``)."""
    return {"covers": _covered(log), "ranking": _rules(contract), "since": since}


def usable(lake: Lake, contract: Contract, day: date, log: Log) -> tuple[str, list[str]] | None:
    """The newest state before ``day`` (never the day's own: a re-run replaces it) if every
    partition of ``log`` up to its day is the one it ranked: that day and the state's files."""
    earlier = lake.partitions(ZONE, contract.name, until=day - timedelta(days=1))
    if not earlier:
        return None
    manifest = lake.read_manifest(earlier[-1]) or {}
    since = manifest.get("dt")
    ranked_as_now = manifest.get("ranking") == _rules(contract)
    if not ranked_as_now or manifest.get("covers") != _covered(log, until=since):
        return None
    return since, [lake.store.uri(f["key"]) for f in manifest["files"]]


def _covered(log: Log, until: str | None = None) -> dict[str, list[list[str]]]:
    """Each input partition's day and committed run (those up to ``until``), as JSON holds it."""
    return {
        zone: [[dt, run] for dt, run, _ in log[zone] if until is None or dt <= until]
        for zone in INPUTS
    }


def _rules(contract: Contract) -> dict:
    """What a state's rows depend on besides its inputs: the ranking rules and the table's key,
    watermark and zone schemas (a contract change re-ranks the whole log)."""
    return {
        "version": RANKING,
        "key": list(contract.primary_key),
        "watermark": contract.watermark,
        **{
            zone: schema_fingerprint({f.name: str(f.type) for f in schema(contract)})
            for zone, schema in zip(INPUTS, (clean_schema, quarantine_schema), strict=True)
        },
    }
