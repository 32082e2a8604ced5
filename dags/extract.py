"""Airflow DAGs extract_<system>: one per source system, built by one factory."""

from govlake.orchestration import extract_dags

globals().update(extract_dags())
