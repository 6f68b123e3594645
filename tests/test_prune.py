"""Pruning without object storage (--local-only): the chain stays verifiable from the oldest kept
segment's signed manifest, verify says what was pruned by whom, and hand deletion is caught."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).parent))
from test_export_support import T0, fixed_signer, make_log, simple_bodies

from config_audit.cli import cli
from config_audit.errors import UsageError
from config_audit.ledger.archive import archive_before, archive_dir, segment_paths
from config_audit.ledger.entries import read_entries


def signer_env() -> dict[str, str]:
    pem = fixed_signer()._key.private_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return {"CONFIG_AUDIT_SIGNING_KEY": pem.decode()}


def sealed(tmp_path: Path, retention: dict[str, Any]) -> tuple[Path, Path]:
    """35 records from 2024, sealed into segments 1..10, 11..20, 21..30; settings for them."""
    from config_audit.ledger.keys import add_trusted_key
    from config_audit.ledger.signing import TrustedKey

    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(35), signer)  # one per minute from T0
    for k in (1, 2, 3):
        assert archive_before(log, T0 + timedelta(minutes=k * 10), signer)
    trusted = tmp_path / "trusted.yaml"
    trusted.unlink(missing_ok=True)
    add_trusted_key(trusted, TrustedKey(signer.key_id, signer.public_key, "tests"))
    config = tmp_path / ".config-audit.yaml"
    settings = {"log": str(log), "trusted_keys": str(trusted), "retention": retention}
    config.write_text(yaml.safe_dump(settings))
    return log, config


def run(config: Path, *args: str) -> Result:
    return CliRunner(env=signer_env()).invoke(cli, [*args, "--config", str(config)])


def test_prune_local_only_then_verify_starts_at_the_oldest_kept_segment(tmp_path: Path) -> None:
    log, config = sealed(tmp_path, {"keep_days": 30})
    assert run(config, "checkpoint").exit_code == 0  # a checkpoint over all 35 records
    result = run(config, "prune", "--local-only")
    assert result.exit_code == 0, result.output
    assert "pruned seq 1..20 (2 segment(s)); recorded as seq 36" in result.output
    names = [p.name for p in segment_paths(archive_dir(log))]
    assert names == ["segment-000000000021-000000000030.jsonl.gz"]  # the newest stays
    record = list(read_entries(log))[-1].record
    assert record["source"] == "prune" and record["extra"]["pruned"]["local_only"] is True
    assert record["author"]["os_user"] == getpass.getuser()
    verify = run(config, "verify")
    assert verify.exit_code == 0, verify.output
    assert "verified from seq 21" in verify.output
    assert "pruned seq 1..20" in verify.output and "local_days=30, local only" in verify.output
    out = json.loads(run(config, "verify", "--format", "json").stdout)
    assert out["first_seq"] == 21 and out["pruned"][0]["by"].startswith(getpass.getuser() + "@")
    # The log goes on: a later checkpoint extends the one from before the pruning.
    assert run(config, "checkpoint").exit_code == 0
    assert run(config, "verify").exit_code == 0
    # The review report's integrity line starts where pruning left off, too.
    report = run(config, "report", "--since", "2020-01-01")
    assert report.exit_code == 0, report.output
    assert "FAILED" not in report.output and "16 record(s) across 1 segment(s)" in report.output


def test_archive_after_prune_keeps_checkpoints_and_chain(tmp_path: Path) -> None:
    _log, config = sealed(tmp_path, {"keep_days": 30})
    assert run(config, "prune", "--local-only").exit_code == 0
    assert run(config, "archive", "--before", "2099-01-01").exit_code == 0  # seals 31..36
    assert run(config, "prune", "--local-only").exit_code == 0  # 21..30 goes now
    assert run(config, "checkpoint").exit_code == 0
    verify = run(config, "verify")
    assert verify.exit_code == 0, verify.output
    assert "pruned seq 1..20" in verify.output and "pruned seq 21..30" in verify.output


def test_segments_deleted_by_hand_are_not_a_pruning(tmp_path: Path) -> None:
    log, config = sealed(tmp_path, {"keep_days": 30})
    for path in archive_dir(log).glob("segment-000000000001-*"):
        path.unlink()
    verify = run(config, "verify", "--format", "json")
    assert verify.exit_code == 1
    codes = {
        (f["code"], f["first_seq"], f["last_seq"]) for f in json.loads(verify.stdout)["findings"]
    }
    assert codes == {("pruned-unrecorded", 1, 10)}


def test_prune_refuses_without_a_remote_or_local_only(tmp_path: Path) -> None:
    log, config = sealed(tmp_path, {"keep_days": 30})
    result = run(config, "prune")
    assert isinstance(result.exception, UsageError) and "no remote" in str(result.exception)
    assert len(segment_paths(archive_dir(log))) == 3


def test_nothing_inside_retention_is_pruned(tmp_path: Path) -> None:
    log, config = sealed(tmp_path, {"keep_days": 30, "local_days": 100000})
    result = run(config, "prune", "--local-only")
    assert result.exit_code == 0 and "nothing past retention" in result.output
    assert len(segment_paths(archive_dir(log))) == 3


def test_unknown_retention_keys_and_credentials_in_settings_are_refused(tmp_path: Path) -> None:
    _log, config = sealed(tmp_path, {"keep_day": 30})
    result = run(config, "prune", "--local-only")
    assert isinstance(result.exception, UsageError) and "keep_day" in str(result.exception)
    config.write_text(
        yaml.safe_dump(
            {"log": "audit.jsonl", "retention": {"remote": {"aws_secret_access_key": "x"}}}
        )
    )
    result = run(config, "archive", "--to", "s3://b/p")
    assert isinstance(result.exception, UsageError)
    assert "credentials come from the AWS" in result.exception.advice


def test_remote_settings_are_checked_before_any_network() -> None:
    from config_audit.ledger.upload import RemoteSettings

    parsed = RemoteSettings.parse(
        {"remote": {"url": "s3://b/p/", "lock_mode": "governance", "lock_days": 7}}
    )
    assert (parsed.lock_mode, parsed.target().url) == ("GOVERNANCE", "s3://b/p/")
    for bad in (
        {"lock_mode": "compliance"},  # how long?
        {"lock_mode": "forever", "lock_days": 1},
        {"lock_days": 0, "lock_mode": "compliance"},
        {"sse": "rot13"},
    ):
        with pytest.raises(UsageError):
            RemoteSettings.parse({"remote": {"url": "s3://b/p", **bad}})
    with pytest.raises(UsageError):
        RemoteSettings.parse({}, url="https://b/p").target()


def test_the_monthly_review_shows_retention_status(tmp_path: Path) -> None:
    # Segments that the settings want in object storage but that are not there are items to
    # decide on; a prune is shown with its range and retention (issue 17).
    import json

    log, config = sealed(tmp_path, {"keep_days": 30, "remote": {"url": "s3://evidence/nw"}})
    result = run(config, "review", "--format", "json", "--log", str(log))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    segments = data["retention"]["segments"]
    assert [s["records"] for s in segments] == ["1..10", "11..20", "21..30"]
    assert all(s["uploaded"] == "not uploaded" for s in segments)
    assert {i["id"] for i in data["items"] if i["kind"] == "retention"} == {
        f"retention:{p.name}" for p in segment_paths(archive_dir(log))
    }
    log2, config2 = sealed(tmp_path / "b", {"keep_days": 30})
    assert run(config2, "prune", "--local-only").exit_code == 0
    md = run(config2, "review", "--log", str(log2))
    assert md.exit_code == 0, md.output
    assert "Retention: sealed segments" in md.output and "(pruned)" in md.output
    assert "1..20 at" in md.output and "local only" in md.output
