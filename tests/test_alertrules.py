"""Alert rules, burst and throttling, the syslog channel, and alerts from hooks and verify."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from config_audit.alerts.alert import Alert
from config_audit.alerts.channels import SyslogChannel, channel_from_config
from config_audit.alerts.dispatch import AlertDispatcher
from config_audit.alerts.rules import AlertRules, BurstDetector
from config_audit.audit.pipeline import Auditor
from config_audit.errors import UsageError
from config_audit.model import Assurance, ChangeEvent, CommitEvidence
from config_audit.settings import parse_settings
from tests.gitfixtures import RECOGNIZERS, make_repo

POLICY = {
    "people": {"alice": ["alice@nw.example"], "bob": ["bob@nw.example"]},
    "teams": {"privacy": ["alice"]},
    "owners": {"NW_*": ["privacy"]},
    "protected_entities": ["NW_*"],
    "weakening_protected": "owner",
}


def audit(before: str, after: str | None, author: str = "bob"):  # type: ignore[no-untyped-def]
    settings = parse_settings({"policy": POLICY}, root=Path("."), config_path=None)
    auditor = Auditor(settings)
    event = ChangeEvent(path="recognizers/custom.yaml", before=before.encode(),
                        after=after.encode() if after is not None else None, source="watcher",
                        author=CommitEvidence(Assurance.CLAIMED, author_email=f"{author}@nw.example"))
    return auditor.audit(event, write=False)


def test_rules_for_a_protected_weakening_by_a_non_owner() -> None:
    result = audit(RECOGNIZERS, RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    kinds = {a.kind for a in AlertRules(protected=frozenset({"NW_*"})).for_result(result)}
    assert kinds == {"weakening-change", "protected-weakening", "policy-violation"}


def test_rules_for_a_removal_and_rules_switched_off() -> None:
    removed = RECOGNIZERS.split("  - name: Titles")[0]
    result = audit(RECOGNIZERS, removed, author="alice")
    rules = AlertRules.from_settings({"rules": {"weakening_change": False}}, POLICY)
    kinds = {a.kind for a in rules.for_result(result)}
    assert "recognizer-removed" in kinds and "weakening-change" not in kinds
    with pytest.raises(UsageError):
        AlertRules.from_settings({"rules": {"no_such_rule": True}}, POLICY)


def test_burst_fires_once_per_window() -> None:
    now = [0.0]
    detector = BurstDetector(AlertRules(burst_max=5, burst_window_s=60), clock=lambda: now[0])
    fired = [detector.observe() for _ in range(10)]
    assert sum(a is not None for a in fired) == 1
    now[0] = 200.0
    assert detector.observe() is None  # the window moved on: 1 change is no burst
    assert any(detector.observe(10) is not None for _ in range(1))


def test_throttling_turns_a_flood_into_one_summary() -> None:
    now = [0.0]
    sent: list[Alert] = []

    class Collect:
        name = "collect"

        def send(self, alert: Alert) -> None:
            sent.append(alert)

    dispatcher = AlertDispatcher([Collect()], max_per_window=3, throttle_window_s=60,
                                 clock=lambda: now[0])
    for i in range(50):
        dispatcher.dispatch(Alert("invalid-file", "critical", f"invalid {i}", f"f{i}.yaml"))
    dispatcher.close()
    assert [a.kind for a in sent] == ["invalid-file"] * 3 + ["throttled"]
    assert "invalid-file: 47" in sent[-1].summary


def test_syslog_udp_and_tcp_octet_counting() -> None:
    alert = Alert("policy-violation", "critical", 'bob "did" it]', 'rec]ognizers/a"b.yaml', 3, "ab")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)
    SyslogChannel(f"udp://127.0.0.1:{udp.getsockname()[1]}").send(alert)
    message = udp.recv(65535).decode()
    udp.close()
    assert message.startswith("<106>1 ")  # facility 13 (log audit) * 8 + crit (2)
    assert 'path="rec\\]ognizers/a\\"b.yaml"' in message and "seq=\"3\"" in message

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    received: list[bytes] = []

    def accept() -> None:
        conn, _ = server.accept()
        with conn:
            received.append(conn.recv(65535))

    thread = threading.Thread(target=accept)
    thread.start()
    channel_from_config({"type": "syslog", "address": f"tcp://127.0.0.1:{server.getsockname()[1]}"},
                        where="t").send(alert)
    thread.join(5)
    server.close()
    length, _, rest = received[0].partition(b" ")
    assert int(length) == len(rest)


def test_blocked_commit_and_failed_verify_raise_alerts(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    sink = tmp_path / "alerts.jsonl"
    cfg = repo.path / ".config-audit.yaml"
    cfg.write_text(cfg.read_text() + f"alerts:\n  channels:\n    - {{type: command, argv: [sh, -c, 'cat >> {sink}; echo >> {sink}']}}\n")
    assert repo.commit("initial").returncode == 0
    repo.write("recognizers/custom.yaml", RECOGNIZERS.replace("score: 0.8", "score: 0.5"))
    assert repo.commit("bob lowers", author="bob").returncode != 0
    alerts = [json.loads(line) for line in sink.read_text().splitlines() if line.strip()]
    # One alert for the blocked attempt (issue 12): the others it tripped are named in it.
    [blocked] = [a for a in alerts if a["kind"] == "policy-violation"]
    assert "protected-weakening" in blocked["summary"]
    assert "Prof." not in sink.read_text()
    lines = repo.log.read_text().splitlines()
    repo.log.write_text("\n".join(lines[1:]) + "\n")  # delete the first record
    out = repo.run("verify", "--log", str(repo.log))
    assert out.returncode == 1
    kinds = [json.loads(line)["kind"] for line in sink.read_text().splitlines() if line.strip()]
    assert "verify-failure" in kinds
