"""A scanner for personal data in what people read: the portal's views (identity numbers,
mobile phone numbers, natural persons' names shown unmasked), and the text files a run leaves
for people (logs, manifests, Data Docs, lineage events: identity numbers, phones, credentials).

An identity number is any 18-character run that passes the 公民身份号码 check
(:func:`govlake.identifiers.is_valid_id_number`: checksum, region, birth date), or any number
the caller knows (the simulator's or a register's persons); a phone number is an 11-digit
mainland mobile number standing alone. A party column of a natural person must hold a masked
name (one character, then ``*``), and no column may hold a known person's full name where the
row's party is a natural person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from govlake.identifiers import is_valid_id_number

PERSON = "自然人"  # 行政相对人类别 of a natural person
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")  # not inside a hash
_MASKED = re.compile(r"^.\*+$")
# What people read of a run: text files. Data files (Parquet, the department's inbound files)
# are data, restricted by zone, not scanned here.
TEXT_SUFFIXES = (".json", ".log", ".html", ".txt", ".yaml", ".yml", ".md", ".err", ".out")


@dataclass(frozen=True)
class Finding:
    source: str  # the view (or file) scanned
    row: int  # its position in what was scanned (a file's line)
    column: str  # "" in a file
    kind: str  # id_number, phone, unmasked_name, credential


def scan_rows(
    source: str,
    rows: Iterable[dict],
    party_columns: dict[str, str],
    known_ids: frozenset[str] = frozenset(),
    person_names: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The personal data in ``rows`` (dicts of one view); ``party_columns``: name column ->
    the column giving its party's type. Findings name the row and column, never the value."""
    found = []
    for i, row in enumerate(rows):
        for column, value in row.items():
            if isinstance(value, str):
                found += [Finding(source, i, column, kind) for kind in _kinds(value, known_ids)]
        for name_column, type_column in party_columns.items():
            if row.get(type_column) == PERSON and _unmasked(row.get(name_column), person_names):
                found.append(Finding(source, i, name_column, "unmasked_name"))
    return found


def _kinds(text: str, known_ids: frozenset[str]) -> list[str]:
    kinds = []
    candidates = _ID_LIKE.findall(text)
    if any(c.upper() in known_ids or is_valid_id_number(c.upper()) for c in candidates):
        kinds.append("id_number")
    if _MOBILE.search(text):
        kinds.append("phone")
    return kinds


def _unmasked(name: object, person_names: frozenset[str]) -> bool:
    if not isinstance(name, str) or not name:
        return False
    return name in person_names or not _MASKED.match(name)


def scan_files(
    root: Path,
    skip: Iterable[str] = (),
    known_ids: frozenset[str] = frozenset(),
    secrets: frozenset[str] = frozenset(),
) -> list[Finding]:
    """The identity numbers, phone numbers and ``secrets`` (passwords, keys) in the text files
    under ``root``, but those under the ``skip`` folders (relative to ``root``)."""
    skipped = [root / folder for folder in skip]
    secrets = frozenset(s for s in secrets if len(s) >= 8)  # a short one would match anything
    found = []
    for path in sorted(root.rglob("*")):
        if path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        if any(path.is_relative_to(folder) for folder in skipped):
            continue
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines, 1):
            kinds = _kinds(line, known_ids) + ["credential"] * any(s in line for s in secrets)
            found += [Finding(str(path.relative_to(root)), i, "", kind) for kind in kinds]
    return found
