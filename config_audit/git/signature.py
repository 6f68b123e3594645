"""Why git could not check a commit's signature, in git's own words.

`%G?` says `N` (no signature) for a signed SSH commit when gpg.ssh.allowedSignersFile is not
configured, and `U` or `E` without a reason: the record then says "claimed". The hook names
git's reason so the committer can fix the set-up instead of guessing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from config_audit.git.repo import commit_object

UNCHECKED = ("N", "U", "E")  # %G? codes that can hide a signature git did not verify


def unchecked_signature_reason(
    commit: str, *, cwd: Path | None = None, allowed_signers: Path | None = None
) -> str | None:
    """None when the commit is unsigned or its signature verifies; else git's first complaint."""
    raw = commit_object(commit, cwd=cwd)
    header = raw.split(b"\n\n", 1)[0]
    if b"\ngpgsig " not in header and b"\ngpgsig-sha256 " not in header:
        return None
    config = ["-c", f"gpg.ssh.allowedSignersFile={allowed_signers}"] if allowed_signers else []
    proc = subprocess.run(
        ["git", *config, "verify-commit", commit],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode == 0:
        return None
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Good ")]
    errors = [line for line in lines if line.lower().startswith(("error:", "fatal:"))]
    return (errors or lines or ["git verify-commit failed"])[0]
