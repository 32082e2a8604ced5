import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

import pytest

from govlake import alerts, config


@pytest.fixture
def webhook():
    """A real HTTP server on loopback that records what is POSTed to it."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def _context():
    ti = SimpleNamespace(dag_id="extract_credit", task_id="persons.extract", try_number=3)
    return {
        "task_instance": ti,
        "run_id": "scheduled__2026-11-23",
        "data_interval_start": datetime(2026, 11, 22, 16, tzinfo=UTC),
        "exception": RuntimeError("cannot reach the source\nTraceback lines..."),
    }


def test_a_failed_task_posts_one_alert_with_a_one_line_reason(webhook, monkeypatch):
    url, received = webhook
    monkeypatch.setenv("GOVLAKE_ALERT_WEBHOOK_URL", url)
    config.get_settings.cache_clear()
    try:
        alerts.task_failed(_context())
    finally:
        config.get_settings.cache_clear()
    assert len(received) == 1
    alert = received[0]
    assert alert["dag_id"] == "extract_credit" and alert["task_id"] == "persons.extract"
    assert alert["reason"] == "cannot reach the source"
    assert alert["try_number"] == 3
    assert alert["data_interval_start"].startswith("2026-11-22T16:00")


def test_an_unreachable_webhook_does_not_raise(caplog):
    alerts.post("http://127.0.0.1:9/hook", {"event": "x"}, timeout=1)
    assert "alert webhook unreachable" in caplog.text
