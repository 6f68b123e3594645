"""Who made a commit, and how sure we are: claimed identity vs a verified signature.

Git's own verification is used (`%G?`), with SSH allowed-signers or the GPG keyring, so the
result is exactly what `git verify-commit` says. The record states an explicit assurance level
and never upgrades a claim into a fact.
"""

from __future__ import annotations

import re

from config_audit.git.history import CommitInfo
from config_audit.model import Assurance, CommitEvidence, Finding, Severity

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


def author_evidence(info: CommitInfo, *, method_hint: str = "") -> CommitEvidence:
    """The `author` object of a change record for one commit."""
    status, assurance = STATUS.get(info.signature_status, ("unknown", Assurance.CLAIMED))
    signed = info.signature_status != "N"
    return CommitEvidence(
        assurance,
        author_name=info.author_name,
        author_email=info.author_email,
        author_time=info.author_time,
        committer_name=info.committer_name,
        committer_email=info.committer_email,
        signature_status=status,
        signer=(signer_email(info.signer) if info.signer else None) if signed else None,
        signing_key=(info.fingerprint or info.signing_key or None) if signed else None,
        verification=(
            method_hint or ("ssh" if "SHA256:" in info.signing_key + info.fingerprint else "gpg")
        )
        if signed
        else None,
    )


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


def pending_evidence(name: str, email: str, *, will_sign: bool) -> CommitEvidence:
    """Evidence in pre-commit, before the commit (and its signature) exists."""
    return CommitEvidence(
        Assurance.CLAIMED,
        author_name=name or None,
        author_email=email or None,
        signature_status="pending" if will_sign else "none",
    )
