"""Who made a commit, and how sure we are: claimed identity vs a verified signature.

Git's own verification is used (`%G?`), with SSH allowed-signers or the GPG keyring, so the
result is exactly what `git verify-commit` says. The record states an explicit assurance level
and never upgrades a claim into a fact.
"""

from __future__ import annotations

import re
from typing import Any

from config_audit.git.history import CommitInfo
from config_audit.model import Assurance, Finding, Severity

ASSURANCE_VERIFIED = Assurance.VERIFIED_SIGNATURE  # the only one that proves who committed

# git's %G? codes -> (status, assurance)
STATUS = {
    "G": ("good", Assurance.VERIFIED_SIGNATURE),
    "U": ("good-unknown-validity", Assurance.SIGNATURE_UNKNOWN_TRUST),
    "X": ("good-expired-signature", Assurance.SIGNATURE_EXPIRED),
    "Y": ("good-expired-key", Assurance.SIGNATURE_EXPIRED),
    "R": ("revoked-key", Assurance.SIGNATURE_REVOKED),
    "B": ("bad", Assurance.BAD_SIGNATURE),
    "E": ("cannot-check", Assurance.UNVERIFIABLE_SIGNATURE),
    "N": ("none", Assurance.CLAIMED),
}
EMAIL = re.compile(r"<([^>]+)>")


def signer_email(signer: str) -> str:
    """`Name <mail>` (GPG) or a principal (SSH allowed-signers) -> comparable lower-case id."""
    match = EMAIL.search(signer)
    return (match.group(1) if match else signer).strip().lower()


def author_evidence(info: CommitInfo, *, method_hint: str = "") -> dict[str, Any]:
    """The `author` object of a change record for one commit."""
    status, assurance = STATUS.get(info.signature_status, ("unknown", Assurance.CLAIMED))
    evidence: dict[str, Any] = {
        "author_name": info.author_name,
        "author_email": info.author_email,
        "author_time": info.author_time,
        "committer_name": info.committer_name,
        "committer_email": info.committer_email,
        "signature_status": status,
        "assurance": assurance,
    }
    if info.signature_status != "N":
        evidence["signer"] = signer_email(info.signer) if info.signer else None
        evidence["signing_key"] = info.fingerprint or info.signing_key or None
        evidence["verification"] = method_hint or (
            "ssh" if "SHA256:" in info.signing_key + info.fingerprint else "gpg"
        )
    return {k: v for k, v in evidence.items() if v not in (None, "")}


def attribution_findings(info: CommitInfo, *, path: str = "") -> list[Finding]:
    """A signer that does not match the claimed author, or a signature that does not verify."""
    out: list[Finding] = []
    short = info.sha[:12]
    if info.signature_status in ("B", "R", "X", "Y"):
        status = STATUS[info.signature_status][0]
        out.append(
            Finding(
                "CA601",
                Severity.ERROR,
                f"commit {short}: signature status '{status}'",
                path=path,
                hint="re-sign the commit with a valid key (git commit --amend -S)",
            )
        )
    if info.signature_status in ("G", "U") and info.signer:
        signer = signer_email(info.signer)
        if signer != info.author_email.lower():
            out.append(
                Finding(
                    "CA602",
                    Severity.ERROR,
                    f"commit {short}: signed by '{signer}' but claims author '{info.author_email}'",
                    path=path,
                    hint="the signer must be the author; commit as yourself or have "
                    "the author sign",
                )
            )
    return out


def pending_evidence(name: str, email: str, *, will_sign: bool) -> dict[str, Any]:
    """Evidence in pre-commit, before the commit (and its signature) exists."""
    return {
        "author_name": name,
        "author_email": email,
        "assurance": Assurance.CLAIMED,
        "signature_status": "pending" if will_sign else "none",
    }
