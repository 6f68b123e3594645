"""Git access through the git command line (the same behaviour as the user's git, no import cost
on the hook's fast path). With gitnotes and gitmatch, the only modules that run git."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config_audit.errors import GitError

# Re-exported: where the rest of the code has always found them.
from config_audit.git.reader import ZERO as ZERO
from config_audit.git.reader import BlobReader as BlobReader
from config_audit.git.reader import read_blob_process

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    input: bytes | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> bytes:
    """Run git; return stdout bytes, raise GitError with git's own message on failure."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env={**os.environ, **(env or {})},
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        message = proc.stderr.decode(errors="replace").strip() or f"git {args[0]} failed"
        raise GitError(f"git {' '.join(args[:2])}: {message}")
    return proc.stdout


def git_text(args: Sequence[str], *, cwd: Path | None = None) -> str:
    return run_git(args, cwd=cwd).decode("utf-8", errors="replace").strip()


_run: BlobReader | None = None  # the one hook run's reader (see `one_run`)


@contextmanager
def one_run(top: Path) -> Iterator[BlobReader]:
    """One hook run: what git is asked by name (which commit HEAD or the parent is, the
    settings and trust files there, entry modes, the commit objects) goes through one
    `cat-file --batch` reader, each name asked once. Sound because nothing a hook asks by
    name moves while it runs (post-commit starts after the commit exists; the notes it writes
    are never read through it). Only calls for this work tree use it."""
    global _run
    with BlobReader(top) as reader:
        outer, _run = _run, reader
        try:
            yield reader
        finally:
            _run = outer


def _reader_for(cwd: Path | None, *names: str) -> BlobReader | None:
    run = _run
    if run is None or cwd != run.cwd or any("\n" in n for n in names):
        return None
    return run


def toplevel(cwd: Path | None = None) -> Path:
    if cwd is not None and _reader_for(cwd) is not None:
        return cwd  # the hook run's work tree is the top of it
    try:
        return Path(git_text(["rev-parse", "--show-toplevel"], cwd=cwd))
    except GitError:
        raise GitError(
            f"{cwd or Path.cwd()}: not inside a git work tree",
            advice="run this inside the repository",
        ) from None


def repo_relative(path: Path, top: Path) -> str | None:
    """`path` as git names it (relative to the work tree, "/"-separated); None if outside."""
    return _repo_relative(path, top, os.getcwd())


@lru_cache(maxsize=64)
def _repo_relative(path: Path, top: Path, cwd: str) -> str | None:
    # Cached: a range asks for the same few paths at every commit, and resolving stats each
    # component. The working directory is part of the key (relative paths depend on it).
    # The last component is not resolved: git names a symlink by its own path, and a link
    # put where the settings file was must not turn into the path of its target.
    try:
        absolute = path.absolute()
        return (absolute.parent.resolve() / absolute.name).relative_to(top.resolve()).as_posix()
    except ValueError:
        return None


def path_text(raw: bytes) -> str:
    """A path as git stores it (bytes) to text, losslessly: a name that is not UTF-8 keeps its
    bytes as surrogate escapes (`os.fsencode` gives them back), never a crash."""
    return raw.decode("utf-8", errors="surrogateescape")


def tracked_named(name: str, *, cwd: Path | None = None) -> list[str]:
    """Tracked files called `name` anywhere in the work tree (repository-relative)."""
    out = run_git(["ls-files", "-z", "--", f":(glob)**/{name}"], cwd=cwd)
    return [path_text(p) for p in out.split(b"\0") if p]


def tree_entries(rev: str, name: str, *, cwd: Path | None = None) -> dict[str, str]:
    """Paths (repository-relative) of the entries called `name` anywhere in `rev`'s tree, with
    their git modes (120000: a symlink)."""
    out = run_git(["ls-tree", "-r", "-z", "--full-tree", rev], cwd=cwd)
    found = {}
    for entry in out.split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        path = path_text(raw)
        if raw and path.rsplit("/", 1)[-1] == name:
            found[path] = meta.split()[0].decode()
    return found


def entry_mode(rev: str, path: str, *, cwd: Path | None = None) -> str | None:
    """The git mode of `path` at `rev` ("" for the index); None when it is not there."""
    reader = _reader_for(cwd, rev, path) if rev else None
    if reader is not None:
        return reader.entry_mode(rev, path)
    if rev == "":
        args = ["ls-files", "-s", "-z", "--", f":(literal){path}"]
    else:
        args = ["ls-tree", "-z", rev, "--", f":(literal){path}"]
    out = run_git(args, cwd=cwd, check=False)
    entry = out.split(b"\0")[0]
    return entry.split()[0].decode() if entry.strip() else None


def symlinks(rev: str, *, cwd: Path | None = None) -> dict[str, str]:
    """Every symlink in `rev`'s tree ("" for the index): path -> blob of its link text."""
    if rev == "":
        out, sha_at = run_git(["ls-files", "-s", "-z"], cwd=cwd), 1
    else:
        out, sha_at = run_git(["ls-tree", "-r", "-z", "--full-tree", rev], cwd=cwd), 2
    found = {}
    for entry in out.split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        fields = meta.split()
        if raw and fields and fields[0] == b"120000":
            found[path_text(raw)] = fields[sha_at].decode()
    return found


def git_dir(cwd: Path | None = None) -> Path:
    """The repository's common git directory, where our log and caches live: shared by every
    linked worktree, so removing a worktree never takes records with it."""
    return Path(git_text(["rev-parse", "--path-format=absolute", "--git-common-dir"], cwd=cwd))


def hooks_dir(cwd: Path | None = None) -> Path:
    """Where git runs hooks from, honouring core.hooksPath."""
    return Path(git_text(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], cwd=cwd))


@dataclass(frozen=True)
class Locations:
    top: Path
    git_dir: Path
    hooks_dir: Path


def locations(cwd: Path | None = None) -> Locations:
    """Work tree, (common) git directory and hooks directory (core.hooksPath), one process."""
    try:
        out = git_text(
            [
                "rev-parse",
                "--show-toplevel",
                "--path-format=absolute",
                "--git-common-dir",
                "--git-path",
                "hooks",
            ],
            cwd=cwd,
        )
    except GitError:
        out = ""
    lines = out.splitlines()
    if len(lines) != 3:
        toplevel(cwd)  # raises the helpful "not inside a git work tree"
        raise GitError(f"git rev-parse: unexpected output {out!r}")
    return Locations(*(Path(line) for line in lines))


def _verified(rev: str, *, cwd: Path | None) -> str:
    reader = _reader_for(cwd, rev)
    if reader is not None:
        found = reader.commit(rev)
        return found[0] if found else ""
    return (
        run_git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, check=False)
        .decode()
        .strip()
    )


def rev_exists(rev: str, *, cwd: Path | None = None) -> bool:
    return bool(_verified(rev, cwd=cwd))


def resolve(rev: str, *, cwd: Path | None = None) -> str:
    sha = _verified(rev, cwd=cwd)
    if not sha:
        raise GitError(f"unknown revision '{rev}'", advice="check the name with `git log`")
    return sha


def is_shallow(cwd: Path | None = None) -> bool:
    return git_text(["rev-parse", "--is-shallow-repository"], cwd=cwd) == "true"


def read_blob(rev: str, path: str, *, cwd: Path | None = None) -> bytes | None:
    """Bytes of `path` at `rev` (repository-relative); None if the file is absent there."""
    resolve(rev, cwd=cwd)
    reader = _reader_for(cwd, rev, path)
    if reader is not None:
        return reader.read_at(rev, path)
    return read_blob_process(rev, path, cwd=cwd)


@dataclass(frozen=True)
class FileChange:
    """One file changed between two trees, with blob ids (ZERO when absent)."""

    status: str  # A, M, D, R (rename), C, T
    old_path: str | None
    new_path: str | None
    old_blob: str
    new_blob: str
    old_mode: str = "100644"  # git's file mode: 120000 a symlink, 160000 a submodule
    new_mode: str = "100644"

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def parse_raw_diff(out: bytes) -> Iterator[FileChange]:
    """Parse `git diff --raw -z` output."""
    fields = out.split(b"\0")
    i = 0
    while i < len(fields) and fields[i]:
        meta = fields[i].decode().lstrip(":").split()
        status = meta[4][0]
        old_mode, new_mode, old_blob, new_blob = meta[:4]
        old: str | None
        new: str | None
        if status in ("R", "C"):
            old, new = path_text(fields[i + 1]), path_text(fields[i + 2])
            i += 3
        else:
            path = path_text(fields[i + 1])
            old, new = (
                (None, path) if status == "A" else (path, None) if status == "D" else (path, path)
            )
            i += 2
        yield FileChange(status, old, new, old_blob, new_blob, old_mode, new_mode)


def staged_changes(cwd: Path | None = None) -> list[FileChange]:
    """What the index would commit, against HEAD (or the empty tree on the initial commit)."""
    base = "HEAD" if rev_exists("HEAD", cwd=cwd) else EMPTY_TREE
    out = run_git(["diff-index", "--cached", "--raw", "-z", "-M", "--no-abbrev", base], cwd=cwd)
    return list(parse_raw_diff(out))


def commit_changes(
    commit: str, *, parent: str | None = None, cwd: Path | None = None
) -> list[FileChange]:
    """Files changed by `commit` against `parent` (default: first parent, or empty tree)."""
    if parent is None:
        parents = commit_parents(commit, cwd=cwd)
        parent = parents[0] if parents else EMPTY_TREE
    out = run_git(["diff-tree", "-r", "--raw", "-z", "-M", "--no-abbrev", parent, commit], cwd=cwd)
    return list(parse_raw_diff(out))


def commit_parents(commit: str, *, cwd: Path | None = None) -> list[str]:
    reader = _reader_for(cwd, commit)
    found = reader.commit(commit) if reader is not None else None
    if found is not None:  # the headers of the commit object name its parents, in order
        headers = found[1].split(b"\n\n", 1)[0].split(b"\n")
        return [h[7:].decode() for h in headers if h.startswith(b"parent ")]
    return git_text(["rev-list", "--parents", "-n", "1", commit], cwd=cwd).split()[1:]


def merge_base(a: str, b: str, *, cwd: Path | None = None) -> str | None:
    out = run_git(["merge-base", a, b], cwd=cwd, check=False).decode().strip()
    return out or None


def is_ancestor(a: str, b: str, *, cwd: Path | None = None) -> bool:
    proc = subprocess.run(
        ["git", "merge-base", "--is-ancestor", a, b], cwd=cwd, capture_output=True, check=False
    )
    return proc.returncode == 0


def reflog_subject(ref: str, *, cwd: Path | None = None) -> str:
    """What last moved `ref` ("commit: ...", "cherry-pick: ...", ...); "" without a reflog."""
    out = run_git(["reflog", "-1", "--format=%gs", ref], cwd=cwd, check=False)
    return out.decode("utf-8", errors="replace").strip()


def sequencer_state(*, cwd: Path | None = None) -> set[str]:
    """Which of git's own sequencer files exist in this work tree's git directory now
    (CHERRY_PICK_HEAD, REVERT_HEAD, sequencer): evidence an environment variable is not."""
    names = ("CHERRY_PICK_HEAD", "REVERT_HEAD", "sequencer")
    args = ["rev-parse", "--path-format=absolute"] + [a for n in names for a in ("--git-path", n)]
    paths = git_text(args, cwd=cwd).splitlines()
    return {name for name, path in zip(names, paths, strict=False) if os.path.exists(path)}


def commit_object(commit: str, *, cwd: Path | None = None) -> bytes:
    """The raw commit object (headers, a blank line, the message); b"" when there is none."""
    reader = _reader_for(cwd, commit)
    if reader is not None:
        found = reader.commit(commit)
        return found[1] if found else b""
    return run_git(["cat-file", "commit", commit], cwd=cwd, check=False)


def commit_message(commit: str, *, cwd: Path | None = None) -> str:
    return git_text(["log", "-1", "--format=%B", commit], cwd=cwd)


def ident(var: str, *, cwd: Path | None = None) -> tuple[str, str]:
    """Name and e-mail of GIT_AUTHOR_IDENT / GIT_COMMITTER_IDENT as the next commit will use."""
    text = git_text(["var", var], cwd=cwd)
    name, _, rest = text.partition(" <")
    return name, rest.partition(">")[0]


def config_get(key: str, *, cwd: Path | None = None) -> str | None:
    out = run_git(["config", "--get", key], cwd=cwd, check=False).decode().strip()
    return out or None
