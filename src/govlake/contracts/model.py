"""The contract format: one declaration per source table, the single source of truth for its shape.

A contract drives the simulator's DDL, the extraction query, the raw and clean Parquet schemas and
the structural half of the table's expectation suite. Nothing else restates a column list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pyarrow and SQLAlchemy load only where schemas are built, not at DAG parse
    import pyarrow as pa
    import sqlalchemy as sa

# Loose source types, as department systems store them: varchar(n), text, integer, numeric(p,s),
# timestamp, date. Strict clean types: string, int64, decimal(p,s), date, timestamp.
_SOURCE = re.compile(r"^(varchar\(\d+\)|text|integer|numeric\(\d+,\d+\)|timestamp|date)$")
_CLEAN = re.compile(r"^(string|int64|decimal\(\d+,\d+\)|date|timestamp)$")

Normalise = Literal["code", "text"]


@dataclass(frozen=True)
class Column:
    name: str
    source_type: str  # loose, as the department system stores it
    clean_type: str  # strict, as clean/ and the warehouse hold it
    title: str  # the Chinese domain term
    nullable: bool = True
    max_length: int | None = None
    pii: bool = False  # personal data: never in anything people read
    normalise: Normalise | None = None  # code: NFKC + trim + upper; text: trim + strip controls
    values: tuple[str, ...] | None = None  # the allowed values, when the column is an enumeration

    def __post_init__(self) -> None:
        if not _SOURCE.match(self.source_type):
            raise ValueError(f"{self.name}: unknown source type {self.source_type!r}")
        if not _CLEAN.match(self.clean_type):
            raise ValueError(f"{self.name}: unknown clean type {self.clean_type!r}")


@dataclass(frozen=True)
class Contract:
    system: str  # approval | enforcement | transaction | credit
    table: str
    title: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    business_keys: tuple[str, ...]
    watermark: str  # the source's last-change timestamp: drives incremental extraction
    business_date: str  # the date the record is about (for partitioning facts, not extraction)
    daily_volume: tuple[int, int]  # expected changed rows per day at city scale (min, max)
    description: str = ""
    channel: Literal["sql", "exchange"] = "sql"  # a database table, or files dropped daily
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})
        named = (*self.primary_key, *self.business_keys, self.watermark, self.business_date)
        unknown = [n for n in named if n not in self._by_name]
        if unknown:
            raise ValueError(f"{self.name}: keys name unknown columns {unknown}")

    @property
    def name(self) -> str:
        return f"{self.system}.{self.table}"

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    def raw_schema(self) -> pa.Schema:
        from govlake.contracts.types import arrow_source_type

        return _schema([(c.name, arrow_source_type(c.source_type)) for c in self.columns])

    def clean_schema(self) -> pa.Schema:
        from govlake.contracts.types import arrow_clean_type

        return _schema([(c.name, arrow_clean_type(c.clean_type)) for c in self.columns])

    def source_table(self, metadata: sa.MetaData) -> sa.Table:
        """The table as the department system declares it (used by the simulator and extraction)."""
        import sqlalchemy as sa

        from govlake.contracts.types import sqlalchemy_type

        return sa.Table(
            self.table,
            metadata,
            *(
                sa.Column(
                    c.name,
                    sqlalchemy_type(c.source_type),
                    primary_key=c.name in self.primary_key,
                    nullable=c.nullable or c.name not in self.primary_key,
                    comment=c.title,
                )
                for c in self.columns
            ),
            comment=self.title,
        )


def _schema(fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(fields)
