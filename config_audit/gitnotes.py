"""Git notes: the records and checkpoints that travel with the commits they describe."""

from __future__ import annotations

import subprocess
from pathlib import Path

from config_audit.gitrepo import run_git


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
