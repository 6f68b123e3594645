"""Which commit left a file with exactly this content (the watcher's attribution)."""

from __future__ import annotations

from pathlib import Path

from config_audit.errors import GitError
from config_audit.git.repo import run_git


def find_commit_with_content(path: Path, data: bytes) -> dict[str, str] | None:
    """The newest commit whose version of `path` is byte-identical to `data`, or None.

    For the watcher: content that matches a commit can be attributed to it; anything else is an
    out-of-band edit. Returns commit, author_name and author_email of that commit.
    """
    cwd = path.parent
    try:
        top = run_git(["rev-parse", "--show-toplevel"], cwd=cwd, check=False).decode().strip()
        if not top:
            return None
        try:
            rel = path.resolve().relative_to(Path(top).resolve()).as_posix()
        except ValueError:
            return None
        blob = run_git(["hash-object", "--stdin"], cwd=cwd, input=data).decode().strip()
        history = run_git(
            ["log", "--format=%x01%H%x00%an%x00%ae", "--raw", "--no-abbrev", "--", rel],
            cwd=Path(top),
            check=False,
        ).decode("utf-8", errors="replace")
    except (GitError, OSError):
        return None
    for entry in history.split("\x01")[1:]:
        header, _, raw = entry.partition("\n")
        commit, name, email = [*header.split("\x00"), "", ""][:3]
        for line in raw.splitlines():
            # ":100644 100644 <old> <new> M\t<path>": the blob this commit left at the path
            fields = line.split("\t", 1)[0].split()
            if line.startswith(":") and len(fields) >= 4 and fields[3] == blob:
                return {"commit": commit, "author_name": name, "author_email": email}
    return None
