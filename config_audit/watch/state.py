"""The watcher's memory: which files it watches, what each held when last seen, and whether the
previous run stopped cleanly. Persisted atomically so a restart can reconcile what it missed.

Last-known content is kept (it is the `before` of the next diff) in a 0700 directory of 0600
files named by their sha256: recognizer files can hold personal data in deny lists.
"""

from __future__ import annotations

import errno
import getpass
import hashlib
import json
import logging
import os
import pwd
import socket
import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from config_audit.durable import write_atomic
from config_audit.errors import UsageError
from config_audit.model import Assurance, HostEvidence
from config_audit.recognizers.globs import matches_globs
from config_audit.settings import Settings
from config_audit.times import format_time

logger = logging.getLogger(__name__)

STATE_VERSION = 1
MAX_READ_BYTES = 8 * 1024 * 1024  # above the YAML parser's own bound, so it reports the size


@dataclass(frozen=True)
class WatchRoot:
    """A watched directory and the globs (relative to it) that name recognizer files."""

    directory: Path  # resolved
    patterns: tuple[str, ...]
    recursive: bool = True
    display_base: Path | None = None  # record paths are relative to this when inside it

    def relative(self, path: Path) -> str | None:
        """`path` relative to the root if inside it and matching a glob, else None. Kubernetes'
        atomic-update internals (`..data`, `..2026_01_01_...`) are never audited themselves:
        the files that link through them are."""
        try:
            rel = path.relative_to(self.directory).as_posix()
        except ValueError:
            return None
        if rel == "." or any(is_swap_internal(part) for part in rel.split("/")):
            return None
        return rel if matches(rel, self.patterns) else None

    def display(self, path: Path) -> str:
        base = self.display_base
        if base is not None:
            try:
                return path.relative_to(base).as_posix()
            except ValueError:
                pass
        return str(path)

    def walk(self) -> Iterator[Path]:
        """Every matching path under the root, symlinks included. A linked directory is listed
        through (names only: `observe` never reads what lies outside the tree), so a file that
        appears behind a watched directory swapped for a link is found by the next full scan
        and recorded as an escape (issue 11, attack 14), not left unwatched for ever. Outside
        the tree only the link's own directory is listed (bounded)."""
        seen_dirs: set[tuple[int, int]] = set()
        tree = os.path.realpath(self.directory)
        for top, dirs, files in os.walk(self.directory, followlinks=True):
            links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
            if not self.recursive or not Path(os.path.realpath(top)).is_relative_to(tree):
                # Behind a link out of the tree: its names, one level, no deeper (a link to
                # `/` must not make every full scan walk the whole filesystem).
                dirs.clear()
            dirs[:] = [
                d
                for d in dirs
                if d != ".git" and not is_swap_internal(d) and _first_visit(top, d, seen_dirs)
            ]
            for name in files + links:
                full = Path(top) / name
                if self.relative(full) is not None:
                    yield full


def _first_visit(top: str, name: str, seen: set[tuple[int, int]]) -> bool:
    """Links may loop (a link to an ancestor): each directory is listed once."""
    try:
        st = os.stat(os.path.join(top, name))
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


@dataclass(frozen=True)
class WatchOptions:
    debounce_s: float = 0.5
    max_delay_s: float = 5.0
    full_scan_s: float = 300.0
    heartbeat_s: float = 60.0
    state_dir: Path = Path()
    log_path: Path = Path()

    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str]) -> WatchOptions:
        raw = dict(settings.watch)
        unknown = set(raw) - {
            "debounce_s",
            "max_delay_s",
            "full_scan_s",
            "heartbeat_s",
            "state_dir",
        }
        if unknown:
            raise UsageError(f"watch: unknown option(s) {sorted(unknown)}")
        try:
            numbers = {k: float(raw[k]) for k in raw if k != "state_dir"}
        except (TypeError, ValueError):
            raise UsageError("watch: debounce_s, full_scan_s, heartbeat_s are seconds") from None
        if any(v <= 0 for v in numbers.values()):
            raise UsageError("watch: intervals must be positive")
        if "state_dir" in raw:
            state_dir = settings.root / os.path.expanduser(str(raw["state_dir"]))
        else:
            base = environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
            tag = hashlib.sha256(str(settings.root).encode()).hexdigest()[:12]
            state_dir = Path(base) / "config-audit" / f"watch-{tag}"
        log_path = settings.log_path or state_dir / "log.jsonl"
        return cls(**numbers, state_dir=state_dir, log_path=log_path)


def roots_for(settings: Settings, paths: tuple[str, ...]) -> list[WatchRoot]:
    """The configured globs under settings.root, or each PATH: a directory or one file."""
    base = settings.root.resolve()
    if not paths:
        return [WatchRoot(base, tuple(settings.recognizer_globs), True, base)]
    roots = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            roots.append(WatchRoot(path, ("**/*.yaml", "**/*.yml"), True, base))
        elif path.parent.is_dir():
            roots.append(WatchRoot(path.parent, (path.name,), False, base))
        else:
            raise UsageError(f"{raw}: no such directory", advice="watch an existing directory")
    return roots


def file_identity(path: Path | None) -> tuple[int, int, int, int] | None:
    """What changes when a file is replaced or written (inode, size, mtime, ctime); a file
    that is gone has an identity too, so its removal is a change."""
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return (0, 0, 0, 0)
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def host_evidence(uid: int | None, now: datetime) -> HostEvidence:
    """What the host can tell about an edit; never a guess at who made it."""
    try:
        owner = pwd.getpwuid(uid).pw_name if uid is not None else None
    except KeyError:
        owner = str(uid)
    return HostEvidence(
        Assurance.UNATTRIBUTED,
        host=socket.gethostname(),
        file_owner=owner,
        watcher_user=getpass.getuser(),
        observed_at=format_time(now),
    )


def is_swap_internal(name: str) -> bool:
    """A name Kubernetes' AtomicWriter uses for ConfigMap and Secret volumes: the visible files
    are symlinks through `..data`, which is swapped atomically to a new `..<timestamp>` dir."""
    return name.startswith("..") and name not in ("..", "...")


def matches(rel: str, patterns: Sequence[str]) -> bool:
    """The one glob rule (recognizers.globs), on the path relative to the watched root."""
    return matches_globs(rel.replace(os.sep, "/"), patterns)


@dataclass(frozen=True)
class Observation:
    """What a read of one watched path found."""

    kind: str  # "file" | "missing" | "unreadable" | "symlink-escape"
    data: bytes | None = None
    size: int = 0
    mtime_ns: int = 0
    owner_uid: int | None = None
    detail: str = ""

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.data).hexdigest() if self.data is not None else None


def observe(path: Path, tree: Path) -> Observation:
    """Read `path` now; a symlink is followed only if it resolves inside `tree`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return Observation("missing")
    except OSError as exc:
        return Observation("unreadable", detail=exc.strerror or str(exc))
    target = path
    # Any link on the way counts, not only the last one: a watched directory swapped for a
    # link makes `sub/a.yaml` a regular file read from wherever the link points.
    resolved = Path(os.path.realpath(path))
    if not resolved.is_relative_to(os.path.realpath(tree)):
        # Never read it: the content is outside what we may vouch for (and may be a secret).
        return Observation("symlink-escape", owner_uid=st.st_uid, detail=str(resolved))
    if stat.S_ISLNK(st.st_mode):
        target = resolved
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return Observation("missing")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Observation("symlink-escape", detail="symlink changed while reading")
        return Observation("unreadable", owner_uid=st.st_uid, detail=exc.strerror or str(exc))
    try:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            return Observation("unreadable", owner_uid=fst.st_uid, detail="not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_READ_BYTES + 1)
        if len(data) > MAX_READ_BYTES:
            return Observation("unreadable", owner_uid=fst.st_uid, detail="file too large")
        return Observation("file", data, fst.st_size, fst.st_mtime_ns, fst.st_uid)
    except OSError as exc:
        return Observation("unreadable", owner_uid=st.st_uid, detail=exc.strerror or str(exc))
    finally:
        os.close(fd)


@dataclass(frozen=True)
class FileState:
    sha256: str
    size: int
    mtime_ns: int


class WatchState:
    """`state.json` (index, run markers) plus `content/<sha256>` blobs, in one 0700 directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.index_path = directory / "state.json"
        self.content_dir = directory / "content"
        self.files: dict[str, FileState] = {}
        self.running = False
        self.started_at: str | None = None
        self.stopped_at: str | None = None
        self.last_heartbeat: str | None = None
        self.problems: dict[str, str] = {}  # path -> why it could not be read, when last seen
        self._stale: set[str] = set()  # blobs to drop after the next save
        self.existed = False

    def load(self) -> WatchState:
        for d in (self.directory, self.content_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(d, 0o700)
        try:
            raw = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return self
        except (OSError, ValueError) as exc:
            # Refuse to guess: a fresh baseline would hide whatever changed meanwhile.
            raise UsageError(
                f"{self.index_path}: watcher state is unreadable: {exc}",
                advice="inspect it; remove the state directory to start a new baseline",
            ) from None
        self.existed = True
        self.files = {p: FileState(**v) for p, v in raw.get("files", {}).items()}
        self.running = bool(raw.get("running"))
        self.started_at = raw.get("started_at")
        self.stopped_at = raw.get("stopped_at")
        self.last_heartbeat = raw.get("last_heartbeat")
        self.problems = dict(raw.get("problems", {}))
        return self

    def content(self, path: str) -> bytes | None:
        known = self.files.get(path)
        if known is None:
            return None
        try:
            return (self.content_dir / known.sha256).read_bytes()
        except FileNotFoundError:
            logger.error("%s: last-known content of %s is missing", self.content_dir, path)
            return None

    def remember(self, path: str, seen: Observation, *, save: bool = True) -> None:
        """Store `seen` as the last-known state of `path` and persist (content first).

        With save=False (a scan saves once at its end) a crash can only make the next start
        record a change again, never miss one: the record is written before the state."""
        assert seen.data is not None and seen.sha256 is not None
        blob = self.content_dir / seen.sha256
        if not blob.exists():
            write_atomic(blob, seen.data, mode=0o600)
        old = self.files.get(path)
        self.files[path] = FileState(seen.sha256, seen.size, seen.mtime_ns)
        self.problems.pop(path, None)
        if save:
            self.save()
            if old is not None:
                self._drop_blob(old.sha256)
        elif old is not None:
            self._stale.add(old.sha256)

    def forget(self, path: str) -> None:
        old = self.files.pop(path, None)
        self.problems.pop(path, None)
        self.save()
        if old is not None:
            self._drop_blob(old.sha256)

    def note_problem(self, path: str, seen: Observation) -> None:
        """Remember that `path` could not be read; its last-known content stays the `before`."""
        self.problems[path] = f"{seen.kind}: {seen.detail}"
        self.save()

    def changed(self, path: str, seen: Observation) -> bool:
        """Whether a fresh observation differs from the last-known state (content, not mtime)."""
        known = self.files.get(path)
        if seen.kind == "file":
            return known is None or known.sha256 != seen.sha256 or path in self.problems
        if seen.kind == "missing":
            return known is not None or path in self.problems
        return self.problems.get(path) != f"{seen.kind}: {seen.detail}"

    def _drop_blob(self, sha: str) -> None:
        if all(s.sha256 != sha for s in self.files.values()):
            (self.content_dir / sha).unlink(missing_ok=True)

    def save(self) -> None:
        data = {
            "version": STATE_VERSION,
            "running": self.running,
            "started_at": self.started_at,
            "stopped_at": self.stopped_at,
            "last_heartbeat": self.last_heartbeat,
            "problems": dict(sorted(self.problems.items())),
            "files": {p: asdict(s) for p, s in sorted(self.files.items())},
        }
        write_atomic(self.index_path, json.dumps(data, indent=1).encode("utf-8"), mode=0o600)
        stale, self._stale = self._stale, set()
        for sha in stale:
            self._drop_blob(sha)

    def gap_start(self) -> tuple[str | None, bool]:
        """(when coverage stopped, whether the previous run stopped cleanly)."""
        if not self.existed:
            return None, True
        if self.running:
            return self.last_heartbeat or self.started_at, False
        return self.stopped_at, True
