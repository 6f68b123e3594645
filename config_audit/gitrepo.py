"""Git access: the only module that imports gitpython."""

from __future__ import annotations

from pathlib import Path

from config_audit.errors import GitError


def _repo(start: Path):  # type: ignore[no-untyped-def]
    import git

    try:
        return git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitError(
            f"{start}: not inside a git repository",
            advice="run this in the repository, or name files by path",
        ) from None


def read_blob(rev: str, path: str, *, cwd: Path | None = None) -> bytes | None:
    """Bytes of `path` at `rev` (path relative to the repository root); None if absent there."""
    import git

    repo = _repo(cwd or Path.cwd())
    try:
        commit = repo.commit(rev)
    except (git.BadName, ValueError):
        raise GitError(
            f"unknown revision '{rev}'", advice="check the name with `git log`"
        ) from None
    try:
        blob = commit.tree / path.lstrip("/")
    except KeyError:
        return None
    data: bytes = blob.data_stream.read()
    return data
