"""Evidence that pre-commit ran for a commit: `git commit --no-verify` skips pre-commit (the
blocking check) but not post-commit, so without it a bypassed commit would still carry a
normal-looking hook record.

pre-commit, when it lets a commit through, writes the staged blobs it audited beside the hook
log; post-commit records whether the commit's recognizer blobs are all among them. It is as
strong as the hooks themselves (both run on the committer's machine): it tells an honest
`--no-verify` from a checked commit; CI still audits every commit either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from config_audit.durable import write_atomic
from config_audit.git.repo import FileChange

PASSED, NOT_RUN = "passed", "not-run"


def marker(cache_dir: Path, top: Path) -> Path:
    """One per work tree: linked worktrees share the cache directory and may commit at once."""
    tree = hashlib.sha256(str(top.resolve()).encode()).hexdigest()[:16]
    return cache_dir / f"pre-commit-passed-{tree}.json"


def remember(cache_dir: Path, top: Path, changes: Iterable[FileChange]) -> None:
    """pre-commit let these staged changes through."""
    entries = sorted({(c.path, c.new_blob) for c in changes})
    write_atomic(marker(cache_dir, top), json.dumps(entries).encode(), mode=0o600)


def evidence(cache_dir: Path, top: Path, changes: Iterable[FileChange]) -> str:
    """`passed` if pre-commit let exactly these blobs through, else `not-run`."""
    try:
        seen = {tuple(e) for e in json.loads(marker(cache_dir, top).read_text("utf-8"))}
    except (OSError, ValueError, TypeError):
        return NOT_RUN
    wanted = {(c.path, c.new_blob) for c in changes}
    return PASSED if wanted and wanted <= seen else NOT_RUN


def sequencer_step(reflog_subject: str) -> str:
    """`cherry-pick` or `revert` when git's sequencer made HEAD (it runs post-commit but never
    pre-commit: a backport is not a `--no-verify`), else `not-run`."""
    step = reflog_subject.partition(":")[0].strip()
    return step if step in ("cherry-pick", "revert") else NOT_RUN
