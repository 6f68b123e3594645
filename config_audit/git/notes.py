"""Git notes: the records and checkpoints that travel with the commits they describe."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from config_audit.errors import VerificationError
from config_audit.git.repo import run_git

if TYPE_CHECKING:
    from config_audit.ledger.signing import TrustedKeys


def note_blobs(ref: str, *, cwd: Path | None = None) -> dict[str, str]:
    """Commit -> blob of its note under `ref` (one git process)."""
    out = run_git(["notes", f"--ref={ref}", "list"], cwd=cwd, check=False).decode()
    pairs = (line.split() for line in out.splitlines())
    return {parts[1]: parts[0] for parts in pairs if len(parts) == 2}


def add_note(commit: str, message: bytes, *, ref: str, cwd: Path | None = None) -> None:
    run_git(["notes", f"--ref={ref}", "add", "-f", "-F", "-", commit], cwd=cwd, input=message)


def read_note(commit: str, *, ref: str, cwd: Path | None = None) -> bytes | None:
    proc = subprocess.run(
        ["git", "notes", f"--ref={ref}", "show", commit], cwd=cwd, capture_output=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def hook_record_of(
    note: bytes, commit: str, trusted: TrustedKeys | None
) -> dict[str, object] | None:
    """The hook's record of `commit` in its note, signed by a trusted key (any, without keys)."""
    for line in note.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("commit") != commit:
            continue
        if record.get("source") not in ("post-commit", "post-rewrite"):
            continue
        try:
            if trusted is not None:
                trusted.verify(record)
        except VerificationError:
            continue
        return record
    return None


NOTES_PREFIX = "refs/notes/config-audit"


def audit_note_refs(*, cwd: Path | None = None) -> list[str]:
    """Our notes refs in this repository (records, checkpoints): refs/notes/config-audit*."""
    out = run_git(["for-each-ref", "--format=%(refname)", "refs/notes/"], cwd=cwd, check=False)
    return [r for r in out.decode().split() if r.startswith(NOTES_PREFIX)]


def push_notes(remote: str, *, cwd: Path | None = None) -> tuple[list[str], str | None]:
    """Push our notes refs to `remote` (git push never sends refs/notes/* by itself).
    Returns the refs pushed and git's complaint when the remote refused them (None if not)."""
    refs = audit_note_refs(cwd=cwd)
    if not refs:
        return [], None
    proc = subprocess.run(
        ["git", "push", "--no-verify", "--quiet", remote, *(f"{r}:{r}" for r in refs)],
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        return refs, proc.stderr.decode(errors="replace").strip() or "git push failed"
    return refs, None
