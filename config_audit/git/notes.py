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
