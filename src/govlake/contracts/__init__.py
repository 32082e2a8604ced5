"""The registry of source-table contracts. Adding a source table is adding one entry here."""

from govlake.contracts import approval, credit, enforcement, transaction
from govlake.contracts.model import Column, Contract

CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        *approval.CONTRACTS,
        *credit.CONTRACTS,
        *enforcement.CONTRACTS,
        *transaction.CONTRACTS,
    )
}


def get(name: str) -> Contract:
    """A contract by its ``system.table`` name."""
    try:
        return CONTRACTS[name]
    except KeyError:
        raise KeyError(f"no contract {name!r}; known: {', '.join(sorted(CONTRACTS))}") from None


def for_system(system: str) -> list[Contract]:
    return [c for c in CONTRACTS.values() if c.system == system]


__all__ = ["CONTRACTS", "Column", "Contract", "for_system", "get"]
