"""Failure alerts: a JSON POST to a configurable webhook (``GOVLAKE_ALERT_WEBHOOK_URL``), so a
failed or stale run reaches people, not only a red square in the Airflow UI."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

log = logging.getLogger(__name__)


def post(url: str, payload: dict[str, Any], timeout: float = 5.0) -> None:
    """POST ``payload`` as JSON; a webhook that is down is logged, never raised (the task's own
    failure is what matters). Only http(s) is posted to: a file: or custom scheme never is."""
    if not url.startswith(("http://", "https://")):
        log.warning("alert webhook not posted: its URL is not http(s) (%s)", url.split(":", 1)[0])
        return
    body = json.dumps(payload, ensure_ascii=False, default=str).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # nosec B310 # http(s) only
            response.read()
    except OSError as exc:
        log.warning("alert webhook unreachable (%s): %s", type(exc).__name__, exc)


def task_failed(context: dict[str, Any]) -> None:
    """Airflow ``on_failure_callback``: one alert per failed task instance."""
    from govlake.config import get_settings

    settings = get_settings()
    payload = failure_payload(context)
    log.error("govlake task failed: %s", payload["summary"])
    if settings.alert_webhook_url is not None:
        post(settings.alert_webhook_url.get_secret_value(), payload)


def failure_payload(context: dict[str, Any]) -> dict[str, Any]:
    ti = context.get("task_instance") or context.get("ti")
    error = context.get("exception")
    reason = str(error).strip().splitlines()[0] if error and str(error).strip() else repr(error)
    dag_id = getattr(ti, "dag_id", None) or context.get("dag_id")
    task_id = getattr(ti, "task_id", None) or context.get("task_id")
    interval = context.get("data_interval_start")
    return {
        "event": "task_failed",
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": context.get("run_id"),
        "data_interval_start": interval.isoformat() if interval is not None else None,
        "try_number": getattr(ti, "try_number", None),
        "reason": reason,
        "summary": f"{dag_id}.{task_id} failed: {reason}",
    }


def day_held(webhook_url: str | None, dataset: str, dt: str, failed: list[dict]) -> dict:
    """A table's day failed a batch gate: its build is held until an operator releases it."""
    reasons = "; ".join(f"{f['gate']}: {f['reason']}" for f in failed)
    payload = {
        "event": "day_held",
        "dataset": dataset,
        "dt": dt,
        "gates": [f["gate"] for f in failed],
        "reason": reasons,
        "summary": (
            f"{dataset} {dt} held ({reasons}); release with "
            f"`govlake gate override {dataset} {dt} --reason …` and clear build_warehouse"
        ),
    }
    log.warning("govlake day held: %s", payload["summary"])
    if webhook_url is not None:
        post(webhook_url, payload)
    return payload
