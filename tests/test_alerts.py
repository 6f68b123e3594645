"""Alert channels against real things: a local HTTP server, a real command, the log."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from config_audit.alerts.alert import Alert
from config_audit.alerts.channels import CommandChannel, WebhookChannel
from config_audit.alerts.dispatch import AlertDispatcher, alerts_for_result
from config_audit.audit.pipeline import Auditor
from config_audit.errors import SinkError, UsageError
from config_audit.model import Assurance, ChangeEvent, HostEvidence
from config_audit.settings import Settings
from tests.test_watcher_support import no_leaks

__all__ = ["no_leaks"]

ALERT = Alert("out-of-band-edit", "warning", "edited outside git", "recognizers/a.yaml", 7, "ab")


class Server:
    """A local webhook receiver that fails the first `failures` requests with 503."""

    def __init__(self, failures: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                if outer.attempts <= failures:
                    self.send_response(503)
                else:
                    outer.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def test_webhook_delivers_json(server: Server) -> None:
    WebhookChannel(server.url, timeout_s=2).send(ALERT)
    assert server.received == [ALERT.to_dict()]


def test_webhook_retries_with_backoff_then_succeeds() -> None:
    server = Server(failures=2)
    sleeps: list[float] = []
    try:
        WebhookChannel(server.url, retries=3, backoff_s=0.01, sleep=sleeps.append).send(ALERT)
    finally:
        server.close()
    assert server.attempts == 3 and len(server.received) == 1
    assert sleeps == [0.01, 0.02]


def test_webhook_gives_up_after_retries() -> None:
    server = Server(failures=10)
    try:
        with pytest.raises(SinkError, match="HTTP 503"):
            WebhookChannel(server.url, retries=2, backoff_s=0, sleep=lambda _: None).send(ALERT)
    finally:
        server.close()
    assert server.attempts == 3


def test_webhook_unreachable_and_bad_scheme() -> None:
    with pytest.raises(SinkError):
        WebhookChannel("http://127.0.0.1:9/", timeout_s=1, retries=0).send(ALERT)
    with pytest.raises(UsageError):
        WebhookChannel("file:///etc/passwd")


def test_command_channel_gets_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "alert.json"
    CommandChannel(["sh", "-c", f"cat > {out}"]).send(ALERT)
    assert json.loads(out.read_text()) == ALERT.to_dict()
    with pytest.raises(SinkError, match="exited 3"):
        CommandChannel(["sh", "-c", "echo nope >&2; exit 3"]).send(ALERT)
    with pytest.raises(SinkError, match="timed out"):
        CommandChannel(["sleep", "5"], timeout_s=0.2).send(ALERT)


def test_dispatcher_from_settings_fans_out_and_deduplicates(
    server: Server, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "alerts.jsonl"
    dispatcher = AlertDispatcher.from_settings(
        {
            "channels": [
                {"type": "log"},
                {"type": "command", "argv": ["sh", "-c", f"cat >> {out}; echo >> {out}"]},
                {"type": "webhook", "url": server.url, "timeout_s": 2, "retries": 1},
            ],
            "dedup_window_s": 60,
        }
    )
    with caplog.at_level(logging.WARNING, logger="config_audit.alerts.dispatch"):
        assert dispatcher.dispatch(ALERT) is True
        assert dispatcher.dispatch(Alert(**{**ALERT.to_dict(), "record_seq": 8})) is False
        other = Alert("weakening-change", "critical", "weakening change: x", "a.yaml", 9, "cd")
        assert dispatcher.dispatch(other) is True
        dispatcher.close()
    assert [a["kind"] for a in server.received] == ["out-of-band-edit", "weakening-change"]
    assert len(out.read_text().splitlines()) == 2
    assert sum("ALERT" in r.getMessage() for r in caplog.records) == 2
    assert dispatcher.failures == 0


def test_a_failing_channel_does_not_stop_the_others(server: Server) -> None:
    dispatcher = AlertDispatcher(
        [CommandChannel(["false"]), WebhookChannel(server.url, retries=0)], dedup_window_s=0
    )
    dispatcher.dispatch(ALERT)
    dispatcher.close()
    assert dispatcher.failures == 1 and len(server.received) == 1


def test_bad_channel_config_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        AlertDispatcher.from_settings({"channels": [{"type": "pager"}]})
    with pytest.raises(UsageError):
        AlertDispatcher.from_settings({"channels": [{"type": "command", "argv": "rm -rf /"}]})


def test_alerts_never_carry_deny_list_values_or_content() -> None:
    old = b"recognizers:\n  - name: Names\n    supported_entity: PERSON\n    deny_list: [Zaphod, Trillian]\n"
    new = (
        b"recognizers:\n  - name: Names\n    supported_entity: PERSON\n    deny_list: [Trillian]\n"
    )
    auditor = Auditor(Settings(root=Path("/"), config_path=None), environ={})
    event = ChangeEvent("r/names.yaml", old, new, "watcher", author=HostEvidence(Assurance.UNATTRIBUTED))
    result = auditor.audit(event)
    alerts = alerts_for_result(result)
    assert {a.kind for a in alerts} == {"weakening-change", "out-of-band-edit"}
    text = json.dumps([a.to_dict() for a in alerts])
    assert "Zaphod" not in text and "Trillian" not in text and "deny_list" in text
