"""Shared helpers for the watcher tests: real keys, real logs, real observers, leak guard."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from config_audit.alerts.dispatch import AlertDispatcher
from config_audit.audit.pipeline import Auditor
from config_audit.audit.watch import WatchDaemon
from config_audit.ledger.keys import generate_key, load_signer, parse_trusted_keys
from config_audit.ledger.log import Ledger, record_line_hash
from config_audit.ledger.records import GENESIS_HASH
from config_audit.ledger.signing import TrustedKeys
from config_audit.settings import parse_settings
from config_audit.watch.state import WatchOptions, WatchState, roots_for

PYTHON = sys.executable
RECOGNIZER = """recognizers:
  - name: Zip
    supported_language: en
    supported_entity: ZIP
    patterns:
      - name: zip
        regex: "\\\\b\\\\d{5}\\\\b"
        score: %s
"""


def recognizer(score: float | str = 0.5) -> str:
    return RECOGNIZER % score


def children() -> set[int]:
    pids: set[int] = set()
    for path in glob.glob(f"/proc/{os.getpid()}/task/*/children"):
        with contextlib.suppress(OSError):
            pids |= {int(p) for p in Path(path).read_text().split()}
    return pids


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a thread or a child process behind."""
    threads, procs = set(threading.enumerate()), children()
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        extra_threads = [t for t in threading.enumerate() if t not in threads and t.is_alive()]
        extra_procs = children() - procs
        if not extra_threads and not extra_procs:
            return
        time.sleep(0.05)
    assert not extra_threads, f"leaked threads: {extra_threads}"
    assert not extra_procs, f"leaked child processes: {extra_procs}"


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(every)


def write_config(root: Path, **extra: Any) -> dict[str, Any]:
    """A real key and `.config-audit.yaml` under `root`; returns the raw config."""
    key = root / "key.pem"
    if not key.exists():
        generated = generate_key(key, owner="tests")
        (root / "trusted.yaml").write_text(
            yaml.safe_dump({"keys": [generated.trusted.to_dict()]}), encoding="utf-8"
        )
    raw: dict[str, Any] = {
        "signing_key": "key.pem",
        "trusted_keys": "trusted.yaml",
        "watch": {"state_dir": "state", "debounce_s": 0.2},
    }
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(raw.get(k), dict):
            raw[k] = {**raw[k], **v}
        else:
            raw[k] = v
    (root / ".config-audit.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    (root / "recognizers").mkdir(exist_ok=True)
    return raw


def make_daemon(
    root: Path,
    *,
    validator: Any = None,
    alerts: AlertDispatcher | None = None,
    paths: tuple[str, ...] = (),
    **extra: Any,
) -> WatchDaemon:
    raw = write_config(root, **extra)
    settings = parse_settings(raw, root=root, config_path=root / ".config-audit.yaml")
    options = WatchOptions.from_settings(settings, {})
    signer = load_signer(path=settings.signing_key_path, environ={})
    auditor = Auditor(
        settings, validator=validator, ledger=Ledger(options.log_path), signer=signer, environ={}
    )
    return WatchDaemon(
        settings,
        roots_for(settings, paths),
        auditor=auditor,
        state=WatchState(options.state_dir).load(),
        alerts=alerts or AlertDispatcher([]),
        options=options,
        fixed_paths=bool(paths),
    )


def records(log: Path) -> list[dict[str, Any]]:
    return list(Ledger(log).read_records()) if log.exists() else []


def file_records(log: Path, path: str) -> list[dict[str, Any]]:
    return [r for r in records(log) if r["source"] == "watcher" and r["path"] == path]


def sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def check_chain(root: Path, log: Path) -> int:
    """Every line complete, chained to the previous one, and validly signed; returns count."""
    raw = yaml.safe_load((root / "trusted.yaml").read_text())
    trusted: TrustedKeys = parse_trusted_keys(raw, where="trusted.yaml")
    data = log.read_bytes()
    assert data.endswith(b"\n"), "torn last line"
    prev, n = GENESIS_HASH, 0
    for n, line in enumerate(data.splitlines(), 1):
        record = json.loads(line)
        assert record["seq"] == n
        assert record["prev_hash"] == prev
        trusted.verify(record)
        prev = record_line_hash(line)
    return n
