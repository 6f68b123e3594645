"""Evidence of who made a change: the `author` object of a record, one kind per front door.

Below `model` (which re-exports these names for the rest of the package) so that the record
schema's two typed contracts, `Assurance` and the evidence fields, live together.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


class Assurance(enum.StrEnum):
    """How sure a record is of who made the change, strongest first; never upgraded."""

    VERIFIED_SIGNATURE = "verified-signature"  # git verified it with the trusted signers
    SIGNATURE_UNKNOWN_TRUST = "signature-unknown-trust"
    SIGNATURE_EXPIRED = "signature-expired"
    SIGNATURE_REVOKED = "signature-revoked"
    BAD_SIGNATURE = "bad-signature"
    UNVERIFIABLE_SIGNATURE = "unverifiable-signature"
    GIT_COMMIT_MATCH = "git-commit-match"  # watcher: the content is a commit's
    CLAIMED = "claimed"  # git author and committer, as typed
    OS_USER = "os-user"  # the OS account that ran a command on a host (prune)
    UNATTRIBUTED = "unattributed"  # watcher: the host knows the file, not the editor
    NONE = "none"  # no change made by anyone (watcher start, stop, heartbeat)


@dataclass(frozen=True)
class Evidence:
    """Who made a change, and how sure the record is of it: a record's `author` object.

    Each front door has its own kind (`CommitEvidence`, `HostEvidence`, `OperatorEvidence`);
    `to_dict` is exactly the schema's `author` (schemas/record-v1.json: a test holds the union of
    their fields equal to its properties). Absent facts are left out, never guessed."""

    assurance: Assurance

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value != "":
                out[f.name] = str(value) if isinstance(value, enum.Enum) else value
        return out

    def claimed(self) -> frozenset[str]:
        """Identities the evidence names but does not prove, lower-cased (policy owners match
        them unless a verified signer is required)."""
        return frozenset()

    @property
    def verified_signer(self) -> str | None:
        return None

    @property
    def who(self) -> str:
        """One line for people: the claimed author, the file's owner, or the OS account."""
        return ""


@dataclass(frozen=True)
class CommitEvidence(Evidence):
    """The git doors (hooks, ci): a commit's claimed author and committer and its signature."""

    author_name: str | None = None
    author_email: str | None = None
    author_time: str | None = None
    committer_name: str | None = None
    committer_email: str | None = None
    signature_status: str | None = None  # git's %G? in words; "pending" in pre-commit
    signer: str | None = None
    signing_key: str | None = None
    verification: str | None = None  # gpg | ssh

    def claimed(self) -> frozenset[str]:
        return frozenset(v.lower() for v in (self.author_email, self.committer_email) if v)

    @property
    def verified_signer(self) -> str | None:
        good = self.signature_status == "good" and self.signer
        return self.signer.lower() if good and self.signer else None

    @property
    def pending_signature(self) -> bool:
        return self.signature_status == "pending"

    @property
    def who(self) -> str:
        return self.author_email or self.author_name or ""


@dataclass(frozen=True)
class HostEvidence(Evidence):
    """The watcher: what the host knows of a file it saw change, and the commit whose content
    it matched, if any (assurance git-commit-match)."""

    host: str | None = None
    file_owner: str | None = None
    watcher_user: str | None = None
    observed_at: str | None = None
    commit: str | None = None  # a commit whose content equals what the watcher read
    author_name: str | None = None  # that commit's claimed author
    author_email: str | None = None

    def claimed(self) -> frozenset[str]:
        return frozenset(v.lower() for v in (self.author_email, self.file_owner) if v)

    @property
    def who(self) -> str:
        if self.author_email:
            return self.author_email
        return f"{self.file_owner}@{self.host}" if self.file_owner else ""


@dataclass(frozen=True)
class OperatorEvidence(Evidence):
    """A person running a command on a host (prune, an access review's sign-off)."""

    os_user: str | None = None
    host: str | None = None
    reviewer: str | None = None  # as the reviewer named themselves: claimed

    @property
    def who(self) -> str:
        return self.reviewer or (f"{self.os_user}@{self.host}" if self.os_user else "")


NO_EVIDENCE = Evidence(Assurance.NONE)
KINDS: tuple[type[Evidence], ...] = (CommitEvidence, HostEvidence, OperatorEvidence)


def evidence_from_dict(author: object) -> Evidence:
    """A record's `author` object read back (access reviews): the kind whose fields it uses;
    fields it does not know are left out, and an assurance it does not know reads as claimed."""
    if not isinstance(author, Mapping):
        return NO_EVIDENCE
    try:
        assurance = Assurance(str(author.get("assurance")))
    except ValueError:
        assurance = Assurance.CLAIMED
    present = {k for k, v in author.items() if isinstance(v, str) and v and k != "assurance"}
    for kind in KINDS:
        names = {f.name for f in fields(kind)}
        if present and present <= names:
            return kind(assurance, **{k: author[k] for k in present})
    best = max(KINDS, key=lambda kind: len(present & {f.name for f in fields(kind)}))
    names = {f.name for f in fields(best)} & present
    return best(assurance, **{k: author[k] for k in names})
