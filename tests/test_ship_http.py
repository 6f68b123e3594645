"""Shipping to HTTP collectors: a local server speaking Splunk HEC and Elasticsearch _bulk,
which sometimes processes a request and then drops the connection without answering."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from test_export_support import fixed_signer, make_log, simple_bodies

from config_audit.cli import cli
from config_audit.errors import SinkError, UsageError
from config_audit.siem.ship import ElasticBulk, Shipper, SplunkHec

TOKEN = "s3cret-token"


class Collector(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.received: list[str] = []  # every record id as it arrived, duplicates included
        self.by_id: dict[str, Any] = {}  # what the receiver keeps after de-dup by id
        self.requests = 0
        self.drop_every = 0  # process, then close without an answer, every Nth request
        self.fail_status = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Collector

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests += 1
            n = self.server.requests
            if self.server.fail_status:
                return self.answer(self.server.fail_status, {"text": "busy", "code": 9})
            if self.path == "/services/collector/event":
                if self.headers.get("Authorization") != f"Splunk {TOKEN}":
                    return self.answer(401, {"text": "Invalid token", "code": 4})
                items = decode_concatenated(body)
                for event in items:
                    self.keep(event["fields"]["record_id"], event)
                reply: dict[str, Any] = {"text": "Success", "code": 0}
            elif self.path == "/_bulk":
                assert self.headers["Content-Type"] == "application/x-ndjson"
                lines = body.decode().splitlines()
                results = []
                for action, doc in zip(lines[::2], lines[1::2], strict=True):
                    meta = json.loads(action)["index"]
                    self.keep(meta["_id"], json.loads(doc))
                    results.append({"index": {"_id": meta["_id"], "status": 201}})
                reply = {"took": 1, "errors": False, "items": results}
            else:
                return self.answer(404, {})
            if self.server.drop_every and n % self.server.drop_every == 0:
                self.close_connection = True  # processed, but the answer never leaves
                return None
        return self.answer(200, reply)

    def keep(self, record_id: str, item: Any) -> None:
        self.server.received.append(record_id)
        self.server.by_id[record_id] = item

    def answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def decode_concatenated(body: bytes) -> list[Any]:
    decoder, text, i, out = json.JSONDecoder(), body.decode(), 0, []
    while i < len(text):
        obj, i = decoder.raw_decode(text, i)
        out.append(obj)
    return out


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def make(tmp_path: Path, count: int) -> tuple[Path, list[dict[str, Any]]]:
    log = tmp_path / "audit.jsonl"
    return log, make_log(log, simple_bodies(count), fixed_signer())


@pytest.mark.parametrize("kind", ["hec", "bulk"])
def test_dropped_responses_no_loss_no_duplicates_after_dedup(
    tmp_path: Path, collector: Collector, kind: str
) -> None:
    log, records = make(tmp_path, 95)
    collector.drop_every = 3
    if kind == "hec":
        dest: Any = SplunkHec(collector.base + "/services/collector/event", token=TOKEN, host="t")
    else:
        dest = ElasticBulk(collector.base + "/_bulk")
    shipper = Shipper(log, dest, batch=10, retries=4, sleep=lambda s: None)
    assert shipper.ship_once() == 95
    ids = [r["id"] for r in records]
    assert sorted(collector.by_id) == sorted(ids)  # no loss; the dict is the de-dup by id
    assert len(collector.received) > 95  # dropped answers really caused resends
    for record in records:
        item = collector.by_id[record["id"]]
        seq = item["event"]["seq"] if kind == "hec" else item["event"]["sequence"]
        assert seq == record["seq"]
    assert shipper.ship_once() == 0  # nothing resent once acknowledged


def test_hec_via_cli_with_token_from_env(tmp_path: Path, collector: Collector) -> None:
    log, _ = make(tmp_path, 12)
    args = [
        "ship",
        "--log",
        str(log),
        "--hec",
        collector.base + "/services/collector/event",
        "--hec-token-env",
        "HEC_TOKEN",
        "--es-bulk",
        collector.base + "/_bulk",
    ]
    result = CliRunner().invoke(cli, args, env={"HEC_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
    assert len(collector.received) == 24 and len(collector.by_id) == 12
    result = CliRunner().invoke(cli, args, env={"HEC_TOKEN": ""})
    assert isinstance(result.exception, UsageError)  # main() maps it to exit 2


def test_collector_refusing_keeps_spool_and_cursor(tmp_path: Path, collector: Collector) -> None:
    log, _ = make(tmp_path, 8)
    collector.fail_status = 503
    shipper = Shipper(
        log, ElasticBulk(collector.base + "/_bulk"), batch=5, retries=2, sleep=lambda s: None
    )
    with pytest.raises(SinkError):
        shipper.ship_once()
    assert shipper.read_cursor().seq == 0 and shipper.spool_path.exists()
    collector.fail_status = 0
    assert shipper.ship_once() == 8
    assert not shipper.spool_path.exists() and shipper.read_cursor().seq == 8
    assert len(collector.by_id) == 8


def test_rewritten_log_is_refused(tmp_path: Path, collector: Collector) -> None:
    log, _ = make(tmp_path, 3)
    shipper = Shipper(log, ElasticBulk(collector.base + "/_bulk"), sleep=lambda s: None)
    shipper.ship_once()
    log.unlink()
    make_log(log, simple_bodies(4, start=10), fixed_signer())
    with pytest.raises(SinkError, match=r"not the one"):
        shipper.ship_once()
