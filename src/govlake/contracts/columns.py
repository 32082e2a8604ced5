"""Column shapes that recur across department systems, declared once."""

from govlake.contracts.model import Column

UPDATED_AT = Column("updated_at", "timestamp", "timestamp", "最后更新时间", nullable=False)


def uscc(name: str = "uscc", title: str = "统一社会信用代码", nullable: bool = False) -> Column:
    """A 统一社会信用代码 as systems store it: loose text, normalised as a code."""
    return Column(
        name, "varchar(32)", "string", title, nullable=nullable, max_length=18, normalise="code"
    )


def typed_date(name: str, title: str, nullable: bool = True) -> Column:
    """A date as clerks keep it: typed in by hand, as text; a real date once clean."""
    return Column(name, "varchar(20)", "date", title, nullable=nullable)
