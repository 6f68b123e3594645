"""Review report: sections from real signed records, verification status, HTML in Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from chromium import screenshot
from test_export_support import fixed_signer, make_log

from config_audit.cli import cli


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "audit.jsonl"
    make_log(path)
    return path


@pytest.fixture
def trusted_file(tmp_path: Path) -> Path:
    signer = fixed_signer()
    from config_audit.ledger.signing import TrustedKey

    path = tmp_path / "trusted.yaml"
    key = TrustedKey(signer.key_id, signer.public_key, "tests")
    path.write_text(yaml.safe_dump({"keys": [key.to_dict()]}))
    return path


def report(log: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["report", "--log", str(log), "--since", "2024-01-01", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def section(text: str, title: str) -> str:
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_markdown_sections(log: Path) -> None:
    md = report(log)
    assert "Records in period: 7" in md
    assert "hash chain only" in md  # no trusted keys configured
    assert "| Alice <alice@example.com> | 2 |" in section(md, "Changes by author")
    assert "| EMAIL_ADDRESS | 3 |" in section(md, "Changes by entity")
    weak = section(md, "Weakening changes (4)")
    assert "pattern.score_lowered EmailRec [en]" in weak and "deny_list.entries_removed" in weak
    assert "invalid file CA104" in section(md, "Blocked attempts (1)")  # pre-commit: not landed
    landed = section(md, "Invalid or violating changes that landed (1)")  # post-commit: landed
    assert "policy violation weakening_protected" in landed
    assert "mallory@web-1" in section(md, "Out-of-band edits (1)")  # the watcher's OS user
    assert "commit cccccccccccc" in section(md, "Unverified commits (1)")
    assert "mallory" in section(md, "Out-of-band edits (1)")
    assert "previous stop: unclean" in section(md, "Coverage gaps (1)")
    # Markdown table cells escape pipes from hostile values.
    assert "\\|pipe" in md


def test_signatures_verified_with_trusted_keys(log: Path, trusted_file: Path) -> None:
    md = report(log, "--trusted-keys", str(trusted_file))
    assert "verified: 7 record(s), signatures and chain OK" in md


def test_tampered_log_reported_and_exit_1(log: Path, trusted_file: Path) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:2] + lines[3:]))  # delete a record
    result = CliRunner().invoke(
        cli, ["report", "--log", str(log), "--trusted-keys", str(trusted_file)]
    )
    assert result.exit_code == 1 and "FAILED" in result.stdout


def test_since_excludes_older(log: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--log", str(log), "--since", "1d"])
    assert "Records in period: 0" in result.stdout


def test_html_is_self_contained_and_renders(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "review.html"
    report(log, "--format", "html", "--out", str(out))
    html = out.read_text()
    assert "<svg" in html and "<style>" in html
    for external in ("http://", "https://", "<script", "<link", "src="):
        assert external not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "&quot;quote&quot;" in html and '"quote"' not in html  # hostile values escaped
    assert len(screenshot(out, tmp_path)) > 20_000


def test_watcher_baseline_is_not_an_edit_and_gaps_show_their_window(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from config_audit.ledger.records import build_record_body

    now = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
    host = {"file_owner": "svc", "host": "web-1", "assurance": "unattributed"}
    bodies = [
        build_record_body(now=now, source="watcher", path="recognizers/custom.yaml",
                          author=host, extra={"detected_by": "baseline"}),
        build_record_body(now=now, source="watcher-start", path=None, author=host,
                          extra={"previous_stop": "unclean", "gap_from": "2024-05-01T08:00:00Z"}),
        build_record_body(now=now, source="watcher", path="recognizers/custom.yaml", author=host,
                          extra={"detected_by": "start-up-scan", "coverage_gap": {
                              "from": "2024-05-01T08:00:00Z", "to": "2024-05-02T12:00:00Z"}}),
    ]  # fmt: skip
    log = tmp_path / "w.jsonl"
    make_log(log, bodies)
    md = report(log)
    oob = section(md, "Out-of-band edits (1)")  # the start-up scan's find, not the baseline
    assert "svc@web-1" in oob
    gaps = section(md, "Coverage gaps (2)")
    assert "unwatched from 2024-05-01T08:00:00Z to 2024-05-02T12:00:00Z" in gaps
    assert "changed while unwatched, 2024-05-01T08:00:00Z to 2024-05-02T12:00:00Z" in gaps
    assert "Legend:" in md
