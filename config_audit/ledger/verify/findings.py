"""Findings of log verification: distinct codes, each with what it means and what to do."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Code(enum.StrEnum):
    EDITED = "edited"
    INSERTED = "inserted"
    DELETED = "deleted"
    REORDERED = "reordered"
    DUPLICATED = "duplicated"
    SIGNATURE_MISSING = "signature-missing"
    SIGNATURE_INVALID = "signature-invalid"
    UNKNOWN_KEY = "unknown-key"
    KEY_NOT_VALID = "key-not-valid"
    KEY_REVOKED = "key-revoked"
    UNPARSEABLE = "unparseable"
    TORN_TAIL = "torn-tail"
    TRUNCATED = "truncated"
    FORK = "fork"
    REMOTE_MISSING = "remote-missing"
    REMOTE_ALTERED = "remote-altered"
    REMOTE_UNLOCKED = "remote-unlocked"
    PRUNED_UNRECORDED = "pruned-unrecorded"


# code -> (what it means, what to do)
MEANING: dict[Code, tuple[str, str]] = {
    Code.EDITED: (
        "the record's content was changed after it was signed and chained",
        "treat its content as untrusted; restore it from a copy, git note or SIEM",
    ),
    Code.INSERTED: (
        "a record was added that the chain does not lead through",
        "find who wrote it; remove it only from a copy kept as evidence",
    ),
    Code.DELETED: (
        "records in this seq range are missing from the log",
        "recover them from a copy, git notes or the SIEM; find out who removed them",
    ),
    Code.REORDERED: (
        "the record is not in its chained position",
        "the log was rearranged; compare with a copy to see why",
    ),
    Code.DUPLICATED: (
        "an exact copy of another record (a replay)",
        "the copy proves nothing new; find out who replayed it",
    ),
    Code.SIGNATURE_MISSING: (
        "the record's signature was stripped",
        "its content is unattributable; restore the signed record from a copy",
    ),
    Code.SIGNATURE_INVALID: (
        "the signature was altered, though the chain vouches for the content",
        "restore the signature from a copy; investigate who altered it",
    ),
    Code.UNKNOWN_KEY: (
        "signed by a key that is not in the trusted keys",
        "if the key is legitimate add it to the trusted keys; otherwise the record is forged",
    ),
    Code.KEY_NOT_VALID: (
        "signed outside the signing key's validity window",
        "check the trusted-keys file and the signer's clock; the record may be forged",
    ),
    Code.KEY_REVOKED: (
        "signed with a key after it was revoked",
        "treat as forged: the key was compromised",
    ),
    Code.UNPARSEABLE: (
        "the line is not a readable record",
        "restore it from a copy; compare with the quarantine file",
    ),
    Code.TORN_TAIL: (
        "the last line is incomplete: a writer was interrupted before its append returned",
        "no acknowledged record is affected; the next append moves it to <log>.quarantine",
    ),
    Code.TRUNCATED: (
        "the log is shorter than a signed checkpoint of it",
        "records were cut from the end; recover them from a copy or the SIEM",
    ),
    Code.FORK: (
        "the log's history differs from what a signed checkpoint recorded",
        "history was rewritten (possibly with the signing key); compare with a trusted copy",
    ),
    Code.REMOTE_MISSING: (
        "a sealed segment (or its manifest) is not in object storage, or was deleted there",
        "rerun `config-audit archive --to ...`; if it was uploaded before, find who deleted it",
    ),
    Code.REMOTE_ALTERED: (
        "the copy in object storage does not match the segment's signed manifest",
        "treat the remote copy as tampered; compare its object versions with the local segment",
    ),
    Code.REMOTE_UNLOCKED: (
        "the copy in object storage has no Object Lock retention (or a weaker or expired one)",
        "the evidence can be deleted or overwritten; check the bucket's lock and who changed it",
    ),
    Code.PRUNED_UNRECORDED: (
        "records before the oldest kept segment are gone without a signed prune record",
        "records were removed by hand, not by `config-audit prune`; recover them from a copy",
    ),
}


@dataclass(frozen=True)
class LogFinding:
    code: Code
    first_seq: int | None
    last_seq: int | None
    lines: tuple[int, ...]
    detail: str

    @property
    def meaning(self) -> str:
        return MEANING[self.code][0]

    @property
    def advice(self) -> str:
        return MEANING[self.code][1]

    @property
    def seq_range(self) -> str:
        if self.first_seq is None:
            return "seq ?"
        if self.last_seq is None or self.last_seq == self.first_seq:
            return f"seq {self.first_seq}"
        return f"seq {self.first_seq}..{self.last_seq}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "lines": list(self.lines),
            "detail": self.detail,
            "meaning": self.meaning,
            "advice": self.advice,
        }
