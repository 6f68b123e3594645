"""Retention: sealing segments under the ledger lock; the chain stays verifiable across them."""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from test_export_support import T0, fixed_signer, make_log, simple_bodies, trusted_for

from config_audit.cli import cli
from config_audit.ledger.archive import (
    ArchiveError,
    archive_before,
    archive_dir,
    check_chain,
    cutoff_for,
    read_sequence,
    segment_paths,
    verify_segment,
)
from config_audit.ledger.checkpoint import verify_checkpoint
from config_audit.ledger.entries import read_entries
from config_audit.ledger.log import Ledger
from config_audit.ledger.merkle import tree_root


def test_archive_twice_then_append_chain_verifies(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    trusted = trusted_for(signer)
    records = make_log(log, simple_bodies(50), signer)  # one per minute from T0
    first = archive_before(log, T0 + timedelta(minutes=20), signer)
    second = archive_before(log, T0 + timedelta(minutes=35), signer)
    assert first and second
    assert (first["first_seq"], first["last_seq"], second["first_seq"], second["last_seq"]) == (
        1,
        20,
        21,
        35,
    )
    assert [e.record["seq"] for e in read_entries(log)] == list(range(36, 51))
    records.append(Ledger(log).append(simple_bodies(1, start=50)[0], signer))  # still chains
    assert check_chain(read_sequence(log), trusted) == 51
    assert [e.record for e in read_sequence(log)] == records
    for segment in segment_paths(archive_dir(log)):
        verify_segment(segment, trusted)
    cp_text = (archive_dir(log) / "segment-000000000021-000000000035.checkpoint").read_text()
    checkpoint = verify_checkpoint(cp_text, trusted)
    hashes = [bytes.fromhex(e.hash) for e in read_sequence(log)][:35]
    assert checkpoint.size == 35 and checkpoint.root == tree_root(hashes)


def test_tampered_segment_is_caught(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(10), signer)
    archive_before(log, T0 + timedelta(minutes=5), signer)
    segment = segment_paths(archive_dir(log))[0]
    lines = gzip.decompress(segment.read_bytes()).splitlines(keepends=True)
    segment.write_bytes(gzip.compress(b"".join(lines[:2] + lines[3:])))  # drop one record
    with pytest.raises(ArchiveError):
        verify_segment(segment, trusted_for(signer))
    with pytest.raises(ArchiveError, match="chain broken"):
        check_chain(read_sequence(log))


def test_retention_window_is_never_archived() -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    assert cutoff_for(now, {"keep_days": 30}, now) == now - timedelta(days=30)
    assert cutoff_for(now - timedelta(days=90), {"keep_days": 30}, now) == now - timedelta(days=90)
    assert cutoff_for(now, {}, now) == now


def test_cli_respects_retention(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    now = datetime.now(UTC).replace(microsecond=0)
    bodies = simple_bodies(10, now=now - timedelta(days=100))  # 100 days ago
    bodies += simple_bodies(5, start=10, now=now - timedelta(days=10))  # inside keep_days
    make_log(log, bodies, signer)
    key = tmp_path / "key.pem"
    from config_audit.ledger.keys import generate_key

    generate_key(key, owner="t")
    config = tmp_path / ".config-audit.yaml"
    config.write_text(
        yaml.safe_dump(
            {"log": "audit.jsonl", "signing_key": "key.pem", "retention": {"keep_days": 30}}
        )
    )
    result = CliRunner().invoke(cli, ["archive", "--before", "2099-01-01", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "sealed records 1..10 (10)" in result.output
    assert [e.record["seq"] for e in read_entries(log)] == list(range(11, 16))
    manifest = json.loads(next(archive_dir(log).glob("*.manifest.json")).read_text())
    assert manifest["count"] == 10 and len(manifest["merkle_root"]) == 64
    # Export and report read archives + live log as one sequence.
    out = CliRunner().invoke(cli, ["export", "--config", str(config)]).stdout_bytes
    assert len(out.splitlines()) == 15


def _trusted_file(tmp_path: Path, signer) -> Path:  # type: ignore[no-untyped-def]
    from config_audit.ledger.keys import add_trusted_key
    from config_audit.ledger.signing import TrustedKey

    path = tmp_path / "trusted.yaml"
    add_trusted_key(path, TrustedKey(signer.key_id, signer.public_key, "tests"))
    return path


def test_verify_reads_archives_and_the_live_log_as_one_chain(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(30), signer)
    archive_before(log, T0 + timedelta(minutes=12), signer)
    trusted = _trusted_file(tmp_path, signer)
    runner = CliRunner()
    args = ["verify", "--log", str(log), "--trusted-keys", str(trusted), "--config", str(tmp_path / "none.yaml")]
    (tmp_path / "none.yaml").write_text("{}\n")
    ok = runner.invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    assert "30 records verified" in ok.output
    # Without the archives the live log alone no longer starts at the genesis hash.
    empty = tmp_path / "empty-archives"
    empty.mkdir()
    alone = runner.invoke(cli, [*args, "--archives", str(empty)])
    assert alone.exit_code == 1
    # A segment whose manifest no longer matches fails closed.
    segment = segment_paths(archive_dir(log))[0]
    lines = gzip.decompress(segment.read_bytes()).splitlines(keepends=True)
    segment.write_bytes(gzip.compress(b"".join(lines[:-1])))
    broken = runner.invoke(cli, args)
    assert broken.exit_code == 1 and "Traceback" not in broken.output


def test_missing_manifest_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(10), signer)
    archive_before(log, T0 + timedelta(minutes=4), signer)
    segment = segment_paths(archive_dir(log))[0]
    next(archive_dir(log).glob("*.manifest.json")).unlink()
    with pytest.raises(ArchiveError, match="cannot be verified"):
        verify_segment(segment, trusted_for(signer))
    (tmp_path / "none.yaml").write_text("{}\n")
    result = CliRunner().invoke(cli, ["verify", "--log", str(log), "--trusted-keys",
                                      str(_trusted_file(tmp_path, signer)), "--config",
                                      str(tmp_path / "none.yaml")])
    assert isinstance(result.exception, ArchiveError) and result.exception.exit_code == 1


def test_checkpoints_after_archiving_cover_the_whole_chain(tmp_path: Path) -> None:
    """A checkpoint refreshed after `archive` (hooks, CI and the watcher refresh theirs) is over
    the archived segments plus the live log, the chain `verify` checks: no false fork."""
    from config_audit.ledger.treehead import refresh_checkpoint

    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(30), signer)
    refresh_checkpoint(log, signer)
    archive_before(log, T0 + timedelta(minutes=12), signer)
    Ledger(log).append(simple_bodies(1, start=30)[0], signer)
    refresh_checkpoint(log, signer)  # must extend the pre-archive checkpoint, not conflict
    trusted = _trusted_file(tmp_path, signer)
    (tmp_path / "none.yaml").write_text("{}\n")
    args = ["verify", "--log", str(log), "--trusted-keys", str(trusted)]
    out = CliRunner().invoke(cli, [*args, "--config", str(tmp_path / "none.yaml")])
    assert out.exit_code == 0, out.output
    assert "31 records verified, checkpoint size 31" in out.output


def test_a_rewritten_log_or_a_garbled_checkpoint_is_never_re_signed(tmp_path: Path) -> None:
    from config_audit.ledger.treehead import CheckpointConflict, refresh_checkpoint

    log, signer = tmp_path / "audit.jsonl", fixed_signer()
    make_log(log, simple_bodies(5), signer)
    kept = refresh_checkpoint(log, signer)
    log.unlink()
    make_log(log, simple_bodies(6, start=100), signer)  # another history, longer
    with pytest.raises(CheckpointConflict, match="first 5 records differ"):
        refresh_checkpoint(log, signer)
    cp = log.with_name(log.name + ".checkpoint")
    assert cp.read_text() == kept
    cp.write_text("not a checkpoint\n")
    with pytest.raises(CheckpointConflict, match="malformed"):
        refresh_checkpoint(log, signer)
    assert refresh_checkpoint(log, signer, force=True).splitlines()[1] == "6"
