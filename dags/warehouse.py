"""Airflow DAG build_warehouse: clean/ to the warehouse, once a day."""

from govlake.orchestration import build_dag

build_warehouse = build_dag()
