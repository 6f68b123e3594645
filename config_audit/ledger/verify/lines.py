"""Per-line checks of a record log: parse, hash and verify the signature of each line.

This is the expensive, embarrassingly parallel part of `verify`; large logs are split across
processes. The chain analysis that needs all lines at once lives in `logverify`.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass

from config_audit.errors import VerificationError
from config_audit.ledger.records import SIGNING_DOMAIN, split_line
from config_audit.ledger.signing import SignatureInvalid, TrustedKeys, UnknownKey

PARALLEL_MIN_LINES = 20_000

SIG_OK, SIG_MISSING, SIG_UNKNOWN_KEY, SIG_INVALID = "ok", "missing", "unknown-key", "invalid"


@dataclass(frozen=True, slots=True)
class LineCheck:
    """What one line says about itself; `record_hash` is hex sha256 of its signed bytes."""

    parsed: bool
    record_hash: str
    seq: int | None = None
    prev_hash: str | None = None
    key_id: str | None = None
    time: str | None = None
    record_id: str | None = None
    signature: str = SIG_MISSING


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def check_line(line: bytes, trusted: TrustedKeys) -> LineCheck:
    """Parse one line (no newline) and verify its signature; never raises."""
    try:
        record, signed = split_line(line)
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return LineCheck(parsed=False, record_hash=hashlib.sha256(line).hexdigest())
    seq = record.get("seq")
    key_id = _str(record.get("key_id"))
    signature = record.get("signature")
    if not isinstance(signature, str) or not signature:
        status = SIG_MISSING
    elif key_id is None or key_id not in trusted.keys:
        status = SIG_UNKNOWN_KEY
    else:
        try:
            trusted.verify_signature(key_id, SIGNING_DOMAIN + signed, signature)
            status = SIG_OK
        except UnknownKey:
            status = SIG_UNKNOWN_KEY
        except SignatureInvalid:
            status = SIG_INVALID
    return LineCheck(
        parsed=True,
        record_hash=hashlib.sha256(signed).hexdigest(),
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        prev_hash=_str(record.get("prev_hash")),
        key_id=key_id,
        time=_str(record.get("time")),
        record_id=_str(record.get("id")),
        signature=status,
    )


# Set just before forking so workers inherit the lines instead of receiving them pickled.
_SHARED: tuple[Sequence[bytes], TrustedKeys] | None = None


def _check_range(bounds: tuple[int, int]) -> list[LineCheck]:
    if _SHARED is None:
        raise VerificationError("internal: worker started without shared lines")
    lines, trusted = _SHARED
    return [check_line(lines[i], trusted) for i in range(*bounds)]


def check_lines(
    lines: Sequence[bytes],
    trusted: TrustedKeys,
    *,
    cache: MutableMapping[bytes, LineCheck] | None = None,
    workers: int | None = None,
) -> list[LineCheck]:
    """`check_line` for every line, in order; in parallel for large logs.

    `cache` (keyed by line bytes) lets repeated verification of mostly unchanged logs skip
    signature checks; it must only ever be used with the same trusted keys.
    """
    if cache is not None:
        out = []
        for line in lines:
            hit = cache.get(line)
            if hit is None:
                hit = cache[line] = check_line(line, trusted)
            out.append(hit)
        return out
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 2 or len(lines) < PARALLEL_MIN_LINES or os.name != "posix":
        return [check_line(line, trusted) for line in lines]
    global _SHARED
    _SHARED = (lines, trusted)
    try:
        step = -(-len(lines) // (count * 4))
        bounds = [(i, min(i + step, len(lines))) for i in range(0, len(lines), step)]
        with multiprocessing.get_context("fork").Pool(count) as pool:
            chunks = pool.map(_check_range, bounds)
    finally:
        _SHARED = None
    return [check for chunk in chunks for check in chunk]
