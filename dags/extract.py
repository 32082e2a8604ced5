"""Airflow DAGs extract_<system>: one per source system, built by one factory."""

from govlake.config import SYSTEMS
from govlake.contracts import for_system
from govlake.orchestration import extract_dag

for _system in SYSTEMS:
    if for_system(_system):  # a system appears once its first table has a contract
        globals()[f"extract_{_system}"] = extract_dag(_system)
