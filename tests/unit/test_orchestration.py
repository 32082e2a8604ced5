import pytest
from airflow.sdk.exceptions import AirflowFailException

from govlake import orchestration, steps
from govlake.airflow_cli import _reason
from govlake.errors import CredentialsError, SourceError


def test_errors_that_retrying_cannot_fix_fail_the_task_at_once(monkeypatch):
    def rejected(settings):
        raise CredentialsError("S3 rejected the credentials")

    monkeypatch.setattr(steps, "migrate", rejected)
    with pytest.raises(AirflowFailException, match="rejected the credentials"):
        orchestration.run_step("migrate")


def test_other_errors_stay_retryable(monkeypatch):
    def unreachable(settings):
        raise SourceError("cannot reach the source")

    monkeypatch.setattr(steps, "migrate", unreachable)
    with pytest.raises(SourceError):
        orchestration.run_step("migrate")


def test_failure_reason_is_the_last_exception_line():
    output = (
        "Traceback ...\n  File x\nValueError: inner\n"
        "airflow.sdk.X.AirflowFailException: outer\nDagRun failed"
    )
    assert _reason(output) == "AirflowFailException: outer"
    assert _reason("nothing useful\nlast line") == "last line"
