"""CLI tests on real keys and logs: keygen, checkpoint, verify, log, show, exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from config_audit.cli import cli
from config_audit.errors import ConfigAuditError
from config_audit.ledger.keys import load_signer, read_trusted_keys
from config_audit.ledger.log import Ledger
from config_audit.ledger.records import build_record_body

COMMANDS = ["keygen", "verify", "log", "show", "checkpoint"]
# After keygen: the new key is valid from the moment it is made.
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, Result]:
    """Invoke like `main` would: a ConfigAuditError maps to its exit code."""
    result = CliRunner().invoke(cli, list(args), env=env)
    if isinstance(result.exception, ConfigAuditError):
        return result.exception.exit_code, result
    return result.exit_code, result


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    code, result = run(command, "--help")
    assert code == 0 and "Example" in result.output


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A configured repository with a key, trusted keys and a 6-record log."""
    code, result = run(
        "keygen", "--out", str(tmp_path / "k.pem"), "--owner", "ci@example.com",
        "--trust", str(tmp_path / "trusted.yaml"),
    )  # fmt: skip
    assert code == 0, result.output
    assert "key id:" in result.output and "public_key:" in result.output
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    (tmp_path / ".config-audit.yaml").write_text(
        "log: log.jsonl\nsigning_key: k.pem\ntrusted_keys: trusted.yaml\n"
    )
    signer = load_signer(path=tmp_path / "k.pem", environ={})
    ledger = Ledger(tmp_path / "log.jsonl")
    for i in range(6):
        change = {
            "kind": "pattern.score_lowered" if i % 2 else "context.words_added",
            "impact": "weakens" if i % 2 else "strengthens",
            "recognizer": f"{'Email' if i < 3 else 'Phone'}Recognizer [en]",
            "summary": f"change {i}",
            "entities": ["EMAIL_ADDRESS" if i < 3 else "PHONE_NUMBER"],
            "level": "declared",
        }
        ledger.append(
            build_record_body(
                source="ci" if i < 4 else "watcher",
                path=f"recognizers/{i}.yaml",
                changes=[change],
                author={
                    "author_name": f"dev{i % 2}",
                    "author_email": f"dev{i % 2}@x",
                    "assurance": "claimed",
                },
                now=T0 + timedelta(days=i),
            ),
            signer,
        )
    return tmp_path


def test_verify_clean_then_tampered(repo: Path) -> None:
    config = str(repo / ".config-audit.yaml")
    code, result = run("verify", "--config", config)
    assert code == 0 and "6 records verified" in result.output
    log = repo / "log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:2] + lines[3:]))
    code, result = run("verify", "--config", config, "--format", "json")
    assert code == 1
    findings = json.loads(result.output)["findings"]
    assert [(f["code"], f["first_seq"], f["last_seq"]) for f in findings] == [("deleted", 3, 3)]
    assert findings[0]["advice"]
    code, result = run("verify", "--config", config)
    assert code == 1 and "deleted: seq 3" in result.output and "means:" in result.output


def test_checkpoint_catches_truncation(repo: Path) -> None:
    config = str(repo / ".config-audit.yaml")
    code, result = run("checkpoint", "--config", config, "--out", str(repo / "published.cp"))
    assert code == 0, result.output
    text = (repo / "log.jsonl.checkpoint").read_text()
    assert text == (repo / "published.cp").read_text() == result.output
    origin, size, _root, blank, sig = text.split("\n")[:5]
    assert origin.startswith("config-audit/log/") and size == "6" and blank == ""
    assert sig.startswith("— config-audit-")
    assert run("verify", "--config", config)[0] == 0
    log = repo / "log.jsonl"
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:4]))
    code, result = run("verify", "--config", config)  # uses log.jsonl.checkpoint beside it
    assert code == 1 and "truncated: seq 5..6" in result.output
    code, result = run("verify", "--config", config, "--checkpoint", str(repo / "published.cp"))
    assert code == 1 and "truncated" in result.output


def test_checkpoint_with_key_from_env(repo: Path) -> None:
    pem = (repo / "k.pem").read_text()
    (repo / ".config-audit.yaml").write_text("log: log.jsonl\ntrusted_keys: trusted.yaml\n")
    config = str(repo / ".config-audit.yaml")
    assert run("checkpoint", "--config", config)[0] == 2  # no key configured: usage error
    code, _ = run("checkpoint", "--config", config, env={"CONFIG_AUDIT_SIGNING_KEY": pem})
    assert code == 0
    assert run("verify", "--config", config)[0] == 0


def test_verify_fails_closed_without_trust(repo: Path, tmp_path: Path) -> None:
    (repo / "empty.yaml").write_text("keys: []\n")
    log = str(repo / "log.jsonl")
    code, result = run("verify", "--log", log, "--trusted-keys", str(repo / "empty.yaml"))
    assert code == 2 and "no trusted keys" in str(result.exception)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / ".config-audit.yaml").write_text("{}\n")
    code, result = run("verify", "--config", str(other / ".config-audit.yaml"))
    assert code == 2 and "--log" in result.exception.diagnostics()  # type: ignore[union-attr]


def test_log_filters(repo: Path) -> None:
    config = str(repo / ".config-audit.yaml")

    def seqs(*args: str) -> list[int]:
        code, result = run("log", "--config", config, "--format", "json", *args)
        assert code == 0, result.output
        return [json.loads(line)["seq"] for line in result.output.splitlines()]

    assert seqs() == [1, 2, 3, 4, 5, 6]
    assert seqs("--impact", "weakens") == [2, 4, 6]
    assert seqs("--entity", "PHONE_NUMBER") == [4, 5, 6]
    assert seqs("--recognizer", "email") == [1, 2, 3]
    assert seqs("--source", "watcher") == [5, 6]
    assert seqs("--author", "dev1") == [2, 4, 6]
    since, until = (T0 + timedelta(days=2)).isoformat(), (T0 + timedelta(days=4)).isoformat()
    assert seqs("--since", since, "--until", until) == [3, 4]
    code, result = run("log", "--config", config)
    assert code == 0 and len(result.output.splitlines()) == 6 and "by dev0" in result.output
    assert run("log", "--config", config, "--since", "yesterday")[0] == 2


def test_show_by_seq_and_id(repo: Path) -> None:
    config = str(repo / ".config-audit.yaml")
    code, result = run("show", "3", "--config", config, "--format", "json")
    assert code == 0
    record = json.loads(result.output)
    assert record["seq"] == 3
    code, result = run("show", record["id"][:8], "--config", config)
    assert code == 0 and "change 2" in result.output
    assert run("show", "z99", "--config", config)[0] == 2  # neither a seq nor a uuid prefix


def test_keygen_refuses_to_overwrite(repo: Path) -> None:
    code, result = run("keygen", "--out", str(repo / "k.pem"))
    assert code == 2 and "already exists" in str(result.exception)
    assert len(read_trusted_keys(repo / "trusted.yaml")) == 1


def test_show_prefers_seq_over_an_all_digit_id_prefix(tmp_path: Path) -> None:
    code, _ = run("keygen", "--out", str(tmp_path / "k.pem"), "--trust", str(tmp_path / "t.yaml"))
    assert code == 0
    (tmp_path / ".config-audit.yaml").write_text(
        "log: log.jsonl\nsigning_key: k.pem\ntrusted_keys: t.yaml\n"
    )
    signer = load_signer(path=tmp_path / "k.pem", environ={})
    ledger = Ledger(tmp_path / "log.jsonl")
    first = build_record_body(source="manual", path="a.yaml", now=T0)
    first["id"] = "3" + first["id"][1:]  # an id that starts like seq 3
    ledger.append(first, signer)
    for name in ("b.yaml", "c.yaml"):
        ledger.append(build_record_body(source="manual", path=name, now=T0), signer)
    config = str(tmp_path / ".config-audit.yaml")
    code, result = run("show", "3", "--config", config, "--format", "json")
    assert code == 0 and json.loads(result.output)["path"] == "c.yaml"
    code, result = run("show", first["id"][:6], "--config", config, "--format", "json")
    assert code == 0 and json.loads(result.output)["path"] == "a.yaml"
