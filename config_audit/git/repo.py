"""Git access through the git command line (the same behaviour as the user's git, no import cost
on the hook's fast path). With gitnotes and gitmatch, the only modules that run git."""

from __future__ import annotations

import os
import subprocess
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config_audit.errors import GitError

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
ZERO = "0" * 40


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


def toplevel(cwd: Path | None = None) -> Path:
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
    proc = subprocess.run(
        ["git", "cat-file", "blob", os.fsencode(f"{rev}:{path.lstrip('/')}")],
        cwd=cwd,
        capture_output=True,
        check=False,
    )
    return proc.stdout if proc.returncode == 0 else None


class BlobReader:
    """One `git cat-file --batch` process for many blobs (CI reads thousands). Blobs read are
    kept (objects never change; up to CACHE_BYTES): a range reads each version once to hand it
    to the validator early and again to audit it."""

    CACHE_BYTES = 32 << 20
    BATCH = 64  # names written before reading answers: their bytes fit any pipe's buffer

    def __init__(self, cwd: Path | None = None) -> None:
        self.cwd = cwd
        self.proc = subprocess.Popen(
            ["git", "cat-file", "--batch"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._kept_bytes = 0

    def read(self, sha: str) -> bytes | None:
        if sha == ZERO:
            return None
        if sha in self._kept:
            return self._kept[sha]
        return self._keep(sha, self._object(sha))

    def read_many(self, shas: Sequence[str]) -> None:
        """Read these blobs into the cache in few round trips (answers read after a batch of
        names is written, not one by one)."""
        wanted = list(dict.fromkeys(s for s in shas if s != ZERO and s not in self._kept))
        for at in range(0, len(wanted), self.BATCH):
            batch = wanted[at : at + self.BATCH]
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"".join(os.fsencode(s) + b"\n" for s in batch))
            self.proc.stdin.flush()
            for sha in batch:
                self._keep(sha, self._answer())

    def _keep(self, sha: str, data: bytes | None) -> bytes | None:
        if data is not None and len(data) <= self.CACHE_BYTES:
            self._kept[sha] = data
            self._kept_bytes += len(data)
            while self._kept_bytes > self.CACHE_BYTES:
                self._kept_bytes -= len(self._kept.popitem(last=False)[1])
        return data

    def read_at(self, rev: str, path: str) -> bytes | None:
        """Bytes of `path` at `rev` without a git process of its own; None if absent there."""
        if "\n" in path:
            return read_blob(rev, path, cwd=self.cwd)
        return self._object(f"{rev}:{path.lstrip('/')}")

    def _object(self, name: str) -> bytes | None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(os.fsencode(name) + b"\n")
        self.proc.stdin.flush()
        return self._answer()

    def _answer(self) -> bytes | None:
        assert self.proc.stdout is not None
        header = self.proc.stdout.readline().split()
        if len(header) < 3 or header[-1] == b"missing":
            return None
        size = int(header[2])
        data = self.proc.stdout.read(size)
        self.proc.stdout.read(1)  # trailing newline
        return data if header[1] == b"blob" else None

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
