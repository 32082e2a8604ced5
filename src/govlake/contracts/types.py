"""Mapping of the contract's type vocabulary to Arrow and SQLAlchemy types."""

from __future__ import annotations

import re

import pyarrow as pa
import sqlalchemy as sa

_PARAMS = re.compile(r"^(\w+)(?:\((\d+)(?:,(\d+))?\))?$")


def _parse(type_name: str) -> tuple[str, list[int]]:
    match = _PARAMS.match(type_name)
    if not match:
        raise ValueError(f"unknown type {type_name!r}")
    return match.group(1), [int(p) for p in match.groups()[1:] if p is not None]


def arrow_source_type(source_type: str) -> pa.DataType:
    """Raw keeps what the source stores; numerics stay text (drivers disagree on their form)."""
    base, _ = _parse(source_type)
    return {
        "varchar": pa.string(),
        "text": pa.string(),
        "integer": pa.int64(),
        "numeric": pa.string(),
        "timestamp": pa.timestamp("us"),
        "date": pa.date32(),
    }[base]


def arrow_clean_type(clean_type: str) -> pa.DataType:
    base, params = _parse(clean_type)
    if base == "decimal":
        return pa.decimal128(*params)
    return {
        "string": pa.string(),
        "int64": pa.int64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
    }[base]


def sqlalchemy_type(source_type: str) -> sa.types.TypeEngine:
    base, params = _parse(source_type)
    return {
        "varchar": lambda: sa.String(*params),
        "text": sa.Text,
        "integer": sa.BigInteger,
        "numeric": lambda: sa.Numeric(*params),
        "timestamp": sa.DateTime,
        "date": sa.Date,
    }[base]()
