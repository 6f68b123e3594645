"""Shared fixtures for the export, ship, report and archive tests: real signed logs.

Not a test module (it has no tests); imported by the others. Records are built with
`build_record_body`, sealed and signed by the real `Ledger` with a fixed Ed25519 key, and
given fixed ids and times, so golden files are byte-stable (Ed25519 is deterministic).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from config_audit.ledger.log import Ledger
from config_audit.ledger.records import build_record_body, redact_deny_list_values
from config_audit.ledger.signing import Ed25519Signer, TrustedKey, TrustedKeys

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
SPECIAL = 'odd "quote" \\back] |pipe= eq\nnew\rline ünï'
SALT = b"test-salt"


def fixed_signer() -> Ed25519Signer:
    return Ed25519Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))


def trusted_for(signer: Ed25519Signer) -> TrustedKeys:
    return TrustedKeys([TrustedKey(signer.key_id, signer.public_key, "tests")])


def _change(kind: str, impact: str, rec: str, entities: list[str], **kw: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "impact": impact,
        "recognizer": rec,
        "entities": entities,
        "summary": kw.pop("summary", kind),
        **kw,
    }


def sample_bodies(now: datetime = T0) -> list[dict[str, Any]]:
    """One of each kind of record the report and exports must handle."""
    git = {
        "author_name": "Alice",
        "author_email": "alice@example.com",
        "assurance": "verified",
        "signer": "alice@example.com",
        "signature_status": "good",
    }
    claimed = {"author_name": "Bob", "author_email": "bob@example.com", "assurance": "claimed"}
    ok = {"valid": True, "presidio_version": "2.2.366", "findings": []}
    passed = {"verdict": "pass", "violations": []}
    deny = redact_deny_list_values(
        [
            _change(
                "deny_list.entries_removed",
                "weakens",
                "TitleRec [en]",
                ["TITLE"],
                before=["Mr", "Mrs"],
                summary="2 deny-list entry(s) removed",
            )
        ],
        SALT,
    )
    specs: list[dict[str, Any]] = [
        dict(
            source="pre-commit",
            path="recognizers/custom.yaml",
            before_sha256=None,
            after_sha256="a" * 64,
            author=git,
            validation=ok,
            policy=passed,
            changes=[
                _change("recognizer.added", "strengthens", "EmailRec [en]", ["EMAIL_ADDRESS"])
            ],
        ),
        dict(
            source="post-commit",
            path="recognizers/custom.yaml",
            before_sha256="a" * 64,
            after_sha256="b" * 64,
            author=claimed,
            validation=ok,
            commit="c" * 40,
            policy={
                "verdict": "violation",
                "violations": [
                    {"code": "weakening_protected", "severity": "error", "message": "protected"}
                ],
            },
            changes=[
                _change(
                    "pattern.score_lowered",
                    "weakens",
                    "EmailRec [en]",
                    ["EMAIL_ADDRESS"],
                    score=0.1,
                )
            ],
        ),
        dict(
            source="ci",
            path="recognizers/titles.yaml",
            before_sha256="b" * 64,
            after_sha256="d" * 64,
            author=git,
            validation=ok,
            policy=passed,
            changes=deny,
        ),
        dict(
            source="pre-commit",
            path="recognizers/broken.yaml",
            before_sha256="d" * 64,
            after_sha256="e" * 64,
            author=claimed,
            policy=passed,
            validation={
                "valid": False,
                "presidio_version": "2.2.366",
                "findings": [{"code": "CA104", "severity": "error", "message": "bad"}],
            },
            changes=[],
        ),
        dict(
            source="watcher",
            path="recognizers/custom.yaml",
            before_sha256="b" * 64,
            after_sha256=None,
            validation=ok,
            policy=passed,
            author={"file_owner": "mallory", "watcher_user": "svc", "host": "web-1", "assurance": "unattributed"},
            changes=[_change("recognizer.removed", "weakens", "EmailRec [en]", ["EMAIL_ADDRESS"])],
        ),
        dict(
            source="watcher-start",
            path=None,
            author={"watcher_user": "svc", "host": "web-1", "assurance": "none"},
            extra={"previous_stop": "unclean", "coverage_gap": True},
        ),
        dict(
            source="manual",
            path="recognizers/" + SPECIAL + ".yaml",
            before_sha256="e" * 64,
            after_sha256="f" * 64,
            validation=ok,
            policy=passed,
            author={
                "author_name": SPECIAL,
                "author_email": "x=y@ex|ample",
                "host": "h st\\1",
                "assurance": "claimed",
            },
            changes=[_change("context.words_removed", "weakens", SPECIAL, ["PERSON"])],
        ),
    ]
    bodies = []
    for n, spec in enumerate(specs):
        body = build_record_body(now=now + timedelta(minutes=n), **spec)
        body["id"] = str(uuid.UUID(int=n + 1))
        bodies.append(body)
    return bodies


def make_log(
    path: Path, bodies: list[dict[str, Any]] | None = None, signer: Ed25519Signer | None = None
) -> list[dict[str, Any]]:
    """Append `bodies` (default: `sample_bodies()`) to a real ledger; return the records."""
    ledger = Ledger(path)
    signer = signer or fixed_signer()
    return [ledger.append(b, signer) for b in (bodies if bodies is not None else sample_bodies())]


def simple_bodies(count: int, *, start: int = 0, now: datetime = T0) -> list[dict[str, Any]]:
    """`count` ordinary change records, one per minute from `now`."""
    out = []
    for n in range(start, start + count):
        body = build_record_body(
            source="ci",
            path=f"recognizers/r{n % 7}.yaml",
            before_sha256="a" * 64,
            after_sha256="b" * 64,
            author={"author_name": f"dev{n % 3}", "assurance": "claimed"},
            validation={"valid": True, "presidio_version": "2.2.366", "findings": []},
            policy={"verdict": "pass", "violations": []},
            changes=[_change("pattern.score_raised", "strengthens", f"Rec{n % 5} [en]", ["PHONE"])],
            now=now + timedelta(minutes=n),
        )
        body["id"] = str(uuid.UUID(int=n + 1))
        out.append(body)
    return out
