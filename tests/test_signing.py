"""Keys, signatures and trusted-key windows: real Ed25519 keys, real files."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config_audit.errors import SigningKeyError, UsageError
from config_audit.ledger.keys import add_trusted_key, generate_key, load_signer, read_trusted_keys
from config_audit.ledger.log import Ledger
from config_audit.ledger.records import build_record_body
from config_audit.ledger.signing import (
    KeyNotValid,
    KeyRevoked,
    SignatureInvalid,
    SignatureMissing,
    TrustedKey,
    TrustedKeys,
    UnknownKey,
)
from config_audit.ledger.verify.log import check_log
from config_audit.settings import SIGNING_KEY_ENV

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def test_keygen_writes_0600_pkcs8_and_never_overwrites(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.pem", owner="me")
    assert (key.path.stat().st_mode & 0o777) == 0o600
    assert key.path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert len(key.key_id) == 32
    with pytest.raises(UsageError):
        generate_key(tmp_path / "k.pem", owner="me")


def test_group_readable_key_is_refused(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.pem", owner="me")
    os.chmod(key.path, 0o640)
    with pytest.raises(SigningKeyError, match="group or others") as err:
        load_signer(path=key.path, environ={})
    assert "chmod 600" in err.value.diagnostics()


def test_signer_from_env_and_missing_key_advice(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.pem", owner="ci")
    signer = load_signer(path=None, environ={SIGNING_KEY_ENV: key.path.read_text()})
    assert signer.key_id == key.key_id
    assert "PRIVATE" not in repr(signer)
    with pytest.raises(SigningKeyError) as err:
        load_signer(path=None, environ={})
    assert "keygen" in err.value.diagnostics()
    with pytest.raises(SigningKeyError):
        load_signer(path=None, environ={SIGNING_KEY_ENV: "not a pem"})


def test_trusted_keys_roundtrip_and_fail_closed(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.pem", owner="alice")
    trust = tmp_path / "trusted.yaml"
    add_trusted_key(trust, key.trusted)
    assert list(read_trusted_keys(trust).keys) == [key.key_id]
    (tmp_path / "empty.yaml").write_text("keys: []\n")
    with pytest.raises(UsageError, match="no trusted keys"):
        read_trusted_keys(tmp_path / "empty.yaml")
    with pytest.raises(UsageError):
        read_trusted_keys(tmp_path / "missing.yaml")
    text = trust.read_text().replace(key.key_id, "0" * 32)
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(UsageError, match="does not match"):
        read_trusted_keys(tmp_path / "bad.yaml")


def test_verify_raises_distinct_errors(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.pem", owner="me", now=T0)
    signer = load_signer(path=key.path, environ={})
    record = Ledger(tmp_path / "log.jsonl").append(
        build_record_body(source="manual", path="a", now=T0 + timedelta(days=1)), signer
    )
    trusted = TrustedKeys([key.trusted])
    trusted.verify(record)
    with pytest.raises(SignatureMissing):
        trusted.verify({k: v for k, v in record.items() if k != "signature"})
    with pytest.raises(SignatureInvalid):
        trusted.verify(record | {"path": "b"})
    with pytest.raises(UnknownKey):
        TrustedKeys([]).verify(record)
    early = TrustedKey(key.key_id, key.trusted.public_key, "me", valid_from=T0 + timedelta(days=2))
    with pytest.raises(KeyNotValid):
        TrustedKeys([early]).verify(record)
    revoked = TrustedKey(key.key_id, key.trusted.public_key, "me", revoked_at=T0)
    with pytest.raises(KeyRevoked):
        TrustedKeys([revoked]).verify(record)


def test_key_rotation_and_revocation(tmp_path: Path) -> None:
    """Old key rotated out: its records keep verifying. Revoked key: later records flagged."""
    old = generate_key(tmp_path / "old.pem", owner="alice", now=T0)
    new = generate_key(tmp_path / "new.pem", owner="alice", now=T0 + timedelta(days=10))
    old_signer = load_signer(path=old.path, environ={})
    new_signer = load_signer(path=new.path, environ={})
    log = tmp_path / "log.jsonl"
    ledger = Ledger(log)
    for day in (1, 2, 3):
        ledger.append(
            build_record_body(source="ci", path="a", now=T0 + timedelta(days=day)), old_signer
        )
    for day in (11, 12):
        ledger.append(
            build_record_body(source="ci", path="a", now=T0 + timedelta(days=day)), new_signer
        )
    rotated = TrustedKey(
        old.key_id,
        old.trusted.public_key,
        "alice",
        valid_from=T0,
        valid_until=T0 + timedelta(days=10),
    )
    trust = TrustedKeys([rotated, new.trusted])
    assert check_log(log, trust).ok

    # The old key leaks and is revoked at day 20; a record signed with it afterwards is caught,
    # and so is one backdated before the revocation but placed after newer records.
    revoked = TrustedKey(
        old.key_id, old.trusted.public_key, "alice", revoked_at=T0 + timedelta(days=20)
    )
    trust = TrustedKeys([revoked, new.trusted])
    ledger.append(build_record_body(source="ci", path="a", now=T0 + timedelta(days=21)), old_signer)
    ledger.append(build_record_body(source="ci", path="a", now=T0 + timedelta(days=5)), old_signer)
    report = check_log(log, trust)
    assert [(f.code.value, f.first_seq) for f in report.findings] == [
        ("key-revoked", 6),
        ("key-revoked", 7),
    ]
    # Records from before the revocation still verify.
    assert all(f.first_seq and f.first_seq > 5 for f in report.findings)
    # Signed outside the window (rotated-out key used again): key-not-valid.
    ledger2 = Ledger(tmp_path / "log2.jsonl")
    ledger2.append(
        build_record_body(source="ci", path="a", now=T0 + timedelta(days=15)), old_signer
    )
    report = check_log(ledger2.path, TrustedKeys([rotated]))
    assert report.codes() == {"key-not-valid"}


def test_signature_encoding_is_not_malleable(tmp_path: Path) -> None:
    """base64 of 64 bytes ends in a character with 4 unused bits; flipping them must not pass."""
    key = generate_key(tmp_path / "k.pem", owner="me", now=T0)
    signer = load_signer(path=key.path, environ={})
    record = Ledger(tmp_path / "log.jsonl").append(
        build_record_body(source="manual", path="a", now=T0 + timedelta(days=1)), signer
    )
    sig = record["signature"]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = sig.rstrip("=")[-1]
    index = alphabet.index(last)
    twin = alphabet[index ^ 1]  # differs only in an unused low bit
    forged = sig.rstrip("=")[:-1] + twin + "=" * (len(sig) - len(sig.rstrip("=")))
    import base64

    assert base64.b64decode(forged) == base64.b64decode(sig)
    with pytest.raises(SignatureInvalid):
        TrustedKeys([key.trusted]).verify(record | {"signature": forged})


def test_duplicate_key_and_reencoded_signature_are_caught(tmp_path: Path) -> None:
    """A forged first "path" plus a re-spaced signature member once verified (found in review)."""
    key = generate_key(tmp_path / "k.pem", owner="me", now=T0)
    signer = load_signer(path=key.path, environ={})
    log = tmp_path / "log.jsonl"
    ledger = Ledger(log)
    for name in ("a", "b", "c"):
        ledger.append(build_record_body(source="manual", path=name, now=T0 + timedelta(days=1)), signer)
    lines = log.read_bytes().splitlines(keepends=True)
    forged = lines[1].replace(b'"path":', b'"path":"recognizers/EVIL.yaml","path":', 1)
    forged = forged.replace(b'"signature":', b'"signature" :', 1)
    log.write_bytes(lines[0] + forged + lines[2])
    report = check_log(log, TrustedKeys([key.trusted]))
    assert not report.ok and any(f.first_seq == 2 or 2 in f.lines for f in report.findings)
    respaced = lines[1].replace(b'"signature":', b'"signature" :', 1)
    log.write_bytes(lines[0] + respaced + lines[2])
    assert not check_log(log, TrustedKeys([key.trusted])).ok


def test_a_key_listed_twice_is_refused(tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k.pem", owner="me", now=T0)
    path = tmp_path / "trusted.yaml"
    add_trusted_key(path, TrustedKey(key.key_id, key.trusted.public_key, "me", revoked_at=T0))
    doubled = path.read_text() + path.read_text().split("keys:\n", 1)[1].replace(
        "revoked_at: '", "# was revoked_at: '")
    path.write_text(doubled)  # the same key again, its revocation commented out
    with pytest.raises(UsageError, match="listed twice"):
        read_trusted_keys(path)
