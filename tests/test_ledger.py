"""The ledger on real files: chaining, torn-tail quarantine, full disk, schema, redaction."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from config_audit.errors import UsageError
from config_audit.ledger.keys import generate_key, load_signer
from config_audit.ledger.log import Ledger, LedgerError
from config_audit.ledger.records import (
    GENESIS_HASH,
    build_record_body,
    record_hash,
    redact_deny_list_values,
)
from config_audit.ledger.signing import Ed25519Signer, TrustedKeys
from config_audit.ledger.verify.log import check_log


@pytest.fixture()
def key(tmp_path: Path):
    return generate_key(tmp_path / "key.pem", owner="test")


def signer_of(key) -> Ed25519Signer:
    return load_signer(path=key.path, environ={})


def test_append_chains_and_returns_full_record(tmp_path: Path, key) -> None:
    ledger = Ledger(tmp_path / "sub" / "log.jsonl")
    signer = signer_of(key)
    first = ledger.append(build_record_body(source="manual", path="a.yaml"), signer)
    second = ledger.append(build_record_body(source="ci", path="b.yaml"), signer)
    assert (first["seq"], first["prev_hash"]) == (1, GENESIS_HASH)
    assert (second["seq"], second["prev_hash"]) == (2, record_hash(first))
    assert list(ledger.read_records()) == [first, second]
    TrustedKeys([key.trusted]).verify(second)
    with pytest.raises(LedgerError):
        ledger.append({"seq": 9, **build_record_body(source="ci", path=None)}, signer)


def test_a_body_that_cannot_be_canonical_is_refused_and_nothing_is_written(
    tmp_path: Path, key
) -> None:
    """NaN and integers beyond 2**53 have no RFC 8785 form: the append fails before a byte
    is written, and the log takes the next good record as if nothing had happened."""
    ledger = Ledger(tmp_path / "log.jsonl")
    signer = signer_of(key)
    first = ledger.append(build_record_body(source="manual", path="a.yaml"), signer)
    before = ledger.path.read_bytes()
    for bad in (float("nan"), 2**60):
        body = build_record_body(source="manual", path="b.yaml", extra={"value": bad})
        with pytest.raises(Exception):  # noqa: B017  (rfc8785's own error types)
            ledger.append(body, signer)
        assert ledger.path.read_bytes() == before
    second = ledger.append(build_record_body(source="manual", path="c.yaml"), signer)
    assert (second["seq"], second["prev_hash"]) == (2, record_hash(first))


def test_records_match_the_json_schema(tmp_path: Path, key) -> None:
    schema = json.loads(
        resources.files("config_audit").joinpath("schemas/record-v1.json").read_text()
    )
    ledger = Ledger(tmp_path / "log.jsonl")
    body = build_record_body(
        source="pre-commit",
        path="recognizers/x.yaml",
        repository="git@example.com:r.git",
        commit="a" * 40,
        before_sha256="b" * 64,
        after_sha256="c" * 64,
        changes=[{"kind": "recognizer.removed", "impact": "weakens", "summary": "removed X",
                  "recognizer": "X [en]", "entities": ["PERSON"], "level": "declared"}],
        validation={"valid": True, "presidio_version": "2.2.366", "findings": []},
        policy={"verdict": "violation", "violations": [{"rule": "protected"}]},
        author={"author_name": "A", "author_email": "a@x", "host": "h", "assurance": "claimed"},
    )  # fmt: skip
    record = ledger.append(body, signer_of(key))
    jsonschema.validate(record, schema)
    with pytest.raises(UsageError):
        build_record_body(source="bogus", path=None)


def test_no_private_key_material_in_records(tmp_path: Path, key) -> None:
    ledger = Ledger(tmp_path / "log.jsonl")
    ledger.append(build_record_body(source="manual", path="a"), signer_of(key))
    pem_body = b"".join(key.path.read_bytes().splitlines()[1:-1])
    log_bytes = ledger.path.read_bytes()
    assert b"PRIVATE" not in log_bytes and pem_body not in log_bytes


def test_deny_list_values_are_salted_hashes() -> None:
    changes = [
        {"kind": "deny_list.entries_removed", "impact": "weakens", "summary": "1 entry removed",
         "before": ["Alice Smith", "Bob"], "after": "Bob"},
        {"kind": "pattern.score_lowered", "impact": "weakens", "summary": "s", "before": "0.8"},
    ]  # fmt: skip
    out = redact_deny_list_values(changes, b"salt")
    assert out[0]["before"][1] == out[0]["after"]  # same entry, same hash
    assert all(v.startswith("sha256:") for v in out[0]["before"])
    assert "Alice" not in json.dumps(out)
    assert out[1]["before"] == "0.8"
    assert redact_deny_list_values(out, b"salt") == out  # idempotent
    assert redact_deny_list_values(changes, b"other")[0]["after"] != out[0]["after"]


def test_torn_tail_is_quarantined_not_dropped(tmp_path: Path, key) -> None:
    ledger = Ledger(tmp_path / "log.jsonl")
    signer = signer_of(key)
    ledger.append(build_record_body(source="manual", path="a"), signer)
    with ledger.path.open("ab") as fh:
        fh.write(b'{"schema":"config-audit/record/v1","seq":2,"pa')
    assert check_log(ledger.path, TrustedKeys([key.trusted])).codes() == {"torn-tail"}
    assert len(list(ledger.read_records())) == 1  # readers skip the torn line
    record = ledger.append(build_record_body(source="manual", path="b"), signer)
    assert record["seq"] == 2
    quarantine = ledger.quarantine_path.read_text()
    assert quarantine.startswith("# ") and '"seq":2,"pa' in quarantine
    assert check_log(ledger.path, TrustedKeys([key.trusted])).ok


def test_unreadable_last_record_blocks_appends(tmp_path: Path, key) -> None:
    ledger = Ledger(tmp_path / "log.jsonl")
    ledger.append(build_record_body(source="manual", path="a"), signer_of(key))
    with ledger.path.open("ab") as fh:
        fh.write(b"garbage\n")
    with pytest.raises(LedgerError, match="refusing"):
        ledger.append(build_record_body(source="manual", path="b"), signer_of(key))
    with pytest.raises(LedgerError, match="unreadable"):
        list(ledger.read_records())


FULL_DISK = r"""
import resource, signal, sys
from pathlib import Path
from config_audit.ledger.log import Ledger, LedgerError
from config_audit.ledger.records import build_record_body
from config_audit.ledger.keys import load_signer
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG like ENOSPC, not a signal
log = Path(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (log.stat().st_size + 1000, resource.RLIM_INFINITY))
try:
    Ledger(log).append(build_record_body(source="manual", path="p", extra={"pad": "x" * 5000}),
                       load_signer(path=Path(sys.argv[2]), environ={}))
except LedgerError as exc:
    print("error:", exc.diagnostics())
"""


def test_full_disk_leaves_no_half_record(tmp_path: Path, key) -> None:
    ledger = Ledger(tmp_path / "log.jsonl")
    ledger.append(build_record_body(source="manual", path="a"), signer_of(key))
    before = ledger.path.read_bytes()
    out = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(ledger.path), str(key.path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "nothing was recorded" in out and "free disk space" in out
    assert ledger.path.read_bytes() == before
    assert check_log(ledger.path, TrustedKeys([key.trusted])).ok


def test_sealed_line_is_the_rfc8785_form_of_the_record(key) -> None:
    """The line is assembled from members (one canonicalization): it must be byte-for-byte what
    RFC 8785 gives for the whole record, whatever the keys (UTF-16 order differs from code
    points for astral characters) and values."""
    import hashlib

    import rfc8785

    from config_audit.ledger.log import seal

    signer = signer_of(key)
    body = {
        "source": "watcher",
        "path": "recognizers/é.yaml",
        "extra": {"\U0001f600": 1, "\uff61": 2, "a": [0.5, 1.0, None, True, "tab\there"]},
        "\uff61z": "U+FF61 sorts before an astral character in UTF-16, after it in code points",
        "\U0001f600k": "astral",
        "changes": [],
    }
    record, line, record_hash = seal(body, signer, seq=7, prev_hash="0" * 64)
    assert line == rfc8785.dumps(record)
    unsigned_bytes = rfc8785.dumps({k: v for k, v in record.items() if k != "signature"})
    assert record_hash == hashlib.sha256(unsigned_bytes).hexdigest()
