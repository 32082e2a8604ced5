"""Red flags of the quality step as fact columns: a clean row's ``dq_flags`` lists the flag
rules that fired on it (comma-joined); a fact carries one boolean per rule of its table."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def flag_columns(rules: tuple[str, ...]) -> list[Column]:
    """``flag_<rule>`` per rule: true when the rule is in the row's dq_flags."""
    fired = F.split("dq_flags", ",")
    return [
        F.coalesce(F.array_contains(fired, rule), F.lit(False)).alias(f"flag_{rule}")
        for rule in rules
    ]
