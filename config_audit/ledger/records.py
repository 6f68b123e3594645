"""The change record: body construction, canonical form (RFC 8785), hashing, deny-list redaction.

Pure: no I/O. The ledger adds seq, prev_hash, key_id and the signature; see docs/records.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785

from config_audit.errors import UsageError
from config_audit.model import Assurance
from config_audit.times import format_time

SCHEMA_ID = "config-audit/record/v1"
# Domain separation: a record signature can never be replayed as a signature over anything else
# (a checkpoint, a git note) that happens to share bytes with it.
SIGNING_DOMAIN = SCHEMA_ID.encode("ascii") + b"\n"
GENESIS_HASH = "0" * 64  # prev_hash of the first record
SOURCES = frozenset(
    {
        "pre-commit",
        "post-commit",
        "post-rewrite",
        "ci",
        "watcher",
        "manual",
        "watcher-start",
        "watcher-stop",
        "heartbeat",
        "key-rotation",
        "access-review",
        "prune",
    }
)
ASSURANCE_NONE = Assurance.NONE


_SAFE_INT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: larger integers have no exact form


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 canonical JSON: the only byte form that is hashed or signed.

    For plain JSON (`_plain`) that form is exactly what the standard library's C encoder
    writes with sorted keys and no spaces (tests/test_canonical.py holds the two equal on
    generated values), ~20 times faster than rfc8785's pure Python; anything else (floats,
    non-ASCII keys, big integers, subclasses, lone surrogates) goes to rfc8785 itself."""
    if _plain(obj):
        try:
            text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: rfc8785 refuses it in its own words
    data: bytes = rfc8785.dumps(obj)
    return data


def _plain(obj: Any) -> bool:
    """Exact built-in JSON types only; keys ASCII (their UTF-16 order is code-point order);
    integers within +-(2**53 - 1); no floats (ECMAScript number formatting differs)."""
    kind = type(obj)
    if kind is str or kind is bool or obj is None:
        return True
    if kind is int:
        return bool(-_SAFE_INT <= obj <= _SAFE_INT)
    if kind is list:
        return all(_plain(v) for v in obj)
    if kind is dict:
        return all(type(k) is str and k.isascii() and _plain(v) for k, v in obj.items())
    return False


def canonical_members(obj: Mapping[str, Any]) -> dict[str, bytes]:
    """Each member of an object in canonical form (`"key":value`), to be joined by
    `join_members`: adding one member (the signature) then costs no second canonicalization."""
    return {k: canonical_bytes(k) + b":" + canonical_bytes(v) for k, v in obj.items()}


def join_members(members: Mapping[str, bytes]) -> bytes:
    """The canonical object of `canonical_members`: RFC 8785 orders keys by UTF-16 code units."""
    ordered = sorted(members, key=lambda k: k.encode("utf-16-be"))
    return b"{" + b",".join(members[k] for k in ordered) + b"}"


def unsigned(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without its signature: what the hash and the signature cover."""
    return {k: v for k, v in record.items() if k != "signature"}


def record_hash(record: Mapping[str, Any]) -> str:
    """Hex sha256 over the canonical form of the record without its signature."""
    return hashlib.sha256(canonical_bytes(unsigned(record))).hexdigest()


def split_log(data: bytes) -> tuple[list[bytes], bool]:
    """Lines without newlines, and whether the last one is torn (no trailing newline)."""
    if not data:
        return [], False
    lines = data.split(b"\n")
    if lines[-1] == b"":
        return lines[:-1], False
    return lines, True


def split_line(line: bytes) -> tuple[dict[str, Any], bytes]:
    """Parse one log line; return the record and the exact bytes its hash and signature cover.

    Those bytes are the line itself minus its `"signature":"..."` member, so any byte changed
    in the line changes the hash, even one that would not change the parsed value. Raises
    ValueError for a line that is not a JSON object.
    """
    # Duplicate keys are refused: readers disagree on which one wins (a forged first "path"
    # before the signed last one would otherwise verify).
    record = json.loads(line, object_pairs_hook=_no_duplicate_keys)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    signature = record.get("signature")
    if signature is None:
        return record, line
    member = b'"signature":' + json.dumps(signature).encode("utf-8")
    for segment in (member + b",", b"," + member):
        if line.count(segment) == 1:
            return record, line.replace(segment, b"", 1)
    # Re-encoded (not the bytes the ledger wrote): the signature is then checked over the raw
    # line and fails, so the record reads as edited. Never fall back to a re-canonicalized form.
    return record, line


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def signing_payload(record: Mapping[str, Any]) -> bytes:
    """Domain-separated bytes the Ed25519 signature is made over."""
    return SIGNING_DOMAIN + canonical_bytes(unsigned(record))


def build_record_body(
    *,
    source: str,
    path: str | None,
    repository: str | None = None,
    commit: str | None = None,
    before_sha256: str | None = None,
    after_sha256: str | None = None,
    changes: list[dict[str, Any]] = [],  # noqa: B006 - never mutated; signature is the public API
    validation: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    author: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A record body without seq, prev_hash, key_id and signature (the ledger adds those)."""
    if source not in SOURCES:
        raise UsageError(f"unknown record source {source!r}", advice=f"one of {sorted(SOURCES)}")
    body: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "id": str(uuid.uuid4()),
        "time": format_time(now or datetime.now(UTC)),
        "source": source,
        "repository": repository,
        "path": path,
        "commit": commit,
        "before_sha256": before_sha256,
        "after_sha256": after_sha256,
        "changes": [dict(c) for c in changes],
        "validation": dict(validation) if validation is not None else None,
        "policy": dict(policy) if policy is not None else None,
        "author": dict(author) if author is not None else {"assurance": ASSURANCE_NONE},
    }
    if extra:
        body["extra"] = dict(extra)
    if path is not None and path != json_text(path):
        # A file name that is not UTF-8: readable (escaped) in `path`, exact in `path_bytes`.
        body["extra"] = {
            **body.get("extra", {}),
            "path_bytes": base64.b64encode(os.fsencode(path)).decode(),
        }
    # Something not canonicalizable (NaN, a huge int) fails in `seal`, before the ledger writes
    # a byte: canonicalizing here as well cost every record a second pass (~0.3 ms in CI).
    safe: dict[str, Any] = json_safe(body)
    return safe


def json_text(text: str) -> str:
    """`text` as canonical JSON can hold it: bytes of a non-UTF-8 file name (kept as surrogate
    escapes) become visible `\\xNN` escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def json_safe(obj: Any) -> Any:
    """Every string of a record body made canonicalizable (see `json_text`)."""
    if isinstance(obj, str):
        return json_text(obj)
    if isinstance(obj, dict):
        return {json_safe(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj


def salted_hash(value: str, salt: bytes) -> str:
    """`sha256:<hex>` of salt, a NUL separator and the UTF-8 value."""
    return "sha256:" + hashlib.sha256(salt + b"\0" + value.encode("utf-8")).hexdigest()


def _redact_value(value: Any, salt: bytes) -> Any:
    if isinstance(value, str):
        return value if value.startswith("sha256:") else salted_hash(value, salt)
    if isinstance(value, list | tuple):
        return [_redact_value(v, salt) for v in value]
    return value


def redact_deny_list_values(
    changes: Iterable[Mapping[str, Any]], salt: bytes
) -> list[dict[str, Any]]:
    """Copy of `changes` with deny-list values in before/after replaced by salted hashes.

    Deny lists often hold personal data (names, account numbers); the record keeps only a
    salted hash, enough to tell whether two versions hold the same entry. Idempotent.
    """
    out: list[dict[str, Any]] = []
    for change in changes:
        copy = dict(change)
        if str(copy.get("kind", "")).startswith("deny_list"):
            for field in ("before", "after"):
                if copy.get(field) is not None:
                    copy[field] = _redact_value(copy[field], salt)
        out.append(copy)
    return out
