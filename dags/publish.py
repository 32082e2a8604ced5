"""Airflow DAG publish: the portal views as of the day, once its build is in the warehouse."""

from govlake.orchestration import publish_dag

publish = publish_dag()
