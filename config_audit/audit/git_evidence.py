"""What git itself can prove about how a commit was made: whether `git commit` was asked to
sign, and whether a commit came from git's sequencer (cherry-pick, revert)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from config_audit.errors import GitError
from config_audit.git import precommit
from config_audit.git import repo as gitrepo
from config_audit.git.precommit import NOT_RUN
from config_audit.git.repo import FileChange


def commit_requested_signing(ppid: int | None = None) -> bool:
    """Was `git commit` run with -S / --gpg-sign? (The hook's parent is git; Linux /proc.)"""
    try:
        raw = Path(f"/proc/{ppid or os.getppid()}/cmdline").read_bytes()
    except OSError:
        return False
    args = raw.split(b"\0")
    if b"--no-gpg-sign" in args:
        return False
    return any(a == b"-S" or a.startswith((b"-S", b"--gpg-sign")) for a in args[1:])


REVERTS = r"This reverts commit ([0-9a-f]{40})"  # compiled when asked (rarely: git revert)


def sequencer_evidence(commit: str, parents: Sequence[str], top: Path) -> str:
    """`cherry-pick` or `revert` only when git's own state proves it (CHERRY_PICK_HEAD,
    REVERT_HEAD or the sequencer directory during post-commit; for a lone revert, which git
    leaves no file for, a commit that is exactly the inverse of the one it names), never from
    GIT_REFLOG_ACTION alone (`GIT_REFLOG_ACTION=cherry-pick git commit --no-verify`)."""
    step = precommit.sequencer_step(gitrepo.reflog_subject("HEAD", cwd=top))
    if step == NOT_RUN:
        return NOT_RUN
    state = gitrepo.sequencer_state(cwd=top)
    if "sequencer" in state or step.upper().replace("-", "_") + "_HEAD" in state:
        return step
    named = re.search(REVERTS, gitrepo.commit_message(commit, cwd=top))
    if step == "revert" and named and len(parents) == 1:
        undone = named.group(1)
        try:
            mine = gitrepo.commit_changes(commit, parent=parents[0], cwd=top)
            inverse = gitrepo.commit_changes(f"{undone}^", parent=undone, cwd=top)
        except GitError:  # names no commit of this repository (or a root commit)
            return NOT_RUN
        if mine and {_key(c) for c in mine} == {_key(c) for c in inverse}:
            return step
    return NOT_RUN


def _key(change: FileChange) -> tuple[str | None, str | None, str, str]:
    return (change.old_path, change.new_path, change.old_blob, change.new_blob)
