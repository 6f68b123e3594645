"""Filesystem events to "look at this path again": the only module that imports watchdog.

It filters events by the recognizer globs, coalesces bursts per path on one worker thread and
delegates; it never trusts an event's type. The delegate re-reads the path at audit time, so
whatever sequence of writes, renames and deletes happened, the final state is what is audited.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from config_audit.errors import UsageError
from config_audit.watch.state import WatchRoot, is_swap_internal, observe
from config_audit.watch.versions import VersionBuffer

logger = logging.getLogger(__name__)

Key = tuple[WatchRoot, Path]
_IGNORED = frozenset({"opened", "closed_no_write"})  # reads change nothing


class Debouncer:
    """Per-path deadlines on one worker thread.

    Each event pushes the path's deadline to now + delay, but never past first event + max
    delay, so a file written continuously is still audited regularly. An event that arrives
    while its path is being audited schedules it again: the final state is always audited.
    """

    def __init__(
        self,
        callback: Callable[[WatchRoot, Path], object],
        *,
        delay_s: float,
        max_delay_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.callback = callback
        self.delay_s = delay_s
        self.max_delay_s = max(max_delay_s, delay_s)
        self.clock = clock
        self._due: dict[Key, float] = {}
        self._first: dict[Key, float] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._busy: Key | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="config-audit-debounce")
        self._thread.start()

    def touch(self, root: WatchRoot, path: Path) -> None:
        key = (root, path)
        with self._cond:
            now = self.clock()
            first = self._first.setdefault(key, now)
            self._due[key] = min(now + self.delay_s, first + self.max_delay_s)
            self._cond.notify()

    def pending(self) -> set[Path]:
        with self._cond:
            keys = set(self._due)
            if self._busy is not None:
                keys.add(self._busy)
        return {path for _, path in keys}

    def idle(self) -> bool:
        with self._cond:
            return not self._due and self._busy is None

    def _next(self) -> Key | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                now = self.clock()
                if self._due:
                    key = min(self._due, key=self._due.__getitem__)
                    if self._due[key] <= now:
                        self._take(key)
                        return key
                    self._cond.wait(min(self._due[key] - now, 1.0))
                else:
                    self._cond.wait(1.0)

    def _take(self, key: Key) -> None:
        del self._due[key]
        del self._first[key]
        self._busy = key

    def _run(self) -> None:
        while (key := self._next()) is not None:
            self._call(key)

    def _call(self, key: Key) -> None:
        try:
            self.callback(*key)
        except Exception:  # one bad file must not stop the watcher; the full scan retries
            logger.exception("auditing %s failed", key[1])
        finally:
            with self._cond:
                self._busy = None

    def stop(self, *, flush_budget_s: float = 10.0) -> None:
        """Finish the audit in progress, audit what is pending (within the budget), stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        deadline = self.clock() + flush_budget_s
        while self.clock() < deadline:
            with self._cond:
                if not self._due:
                    break
                key = min(self._due, key=self._due.__getitem__)
                self._take(key)
            self._call(key)
        with self._cond:
            if self._due:
                logger.warning(
                    "%d paths left unaudited at stop; the next start finds them", len(self._due)
                )
            self._due.clear()
            self._first.clear()


class _Handler(FileSystemEventHandler):
    def __init__(
        self,
        root: WatchRoot,
        touch: Callable[[WatchRoot, Path], None],
        expand_dir: Callable[[WatchRoot, Path], Iterable[Path]],
        excluded: frozenset[Path],
        versions: VersionBuffer | None = None,
    ) -> None:
        self.root = root
        self.touch = touch
        self.expand_dir = expand_dir
        self.excluded = excluded
        self.versions = versions

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _IGNORED:
            return
        if not event.is_directory and event.event_type in ("closed", "moved"):
            self.capture(event)
        raw = [event.src_path] + ([event.dest_path] if getattr(event, "dest_path", "") else [])
        for item in raw:
            path = Path(os.fsdecode(item))
            if path in self.excluded:
                continue
            if event.is_directory:
                if event.event_type in ("created", "moved", "deleted"):
                    # A directory that appeared, left or was renamed: look at all it holds or held.
                    for inner in self.expand_dir(self.root, path):
                        self.touch(self.root, inner)
            elif self.root.relative(path) is not None:
                self.touch(self.root, path)
            elif path.is_symlink() and path.is_dir() and not is_swap_internal(path.name):
                # A watched directory swapped for a link: what it held now reads through the
                # link; look at once (an escape is recorded and alerted), not at the full scan.
                if not os.path.realpath(path).startswith(os.path.realpath(self.root.directory)):
                    self.touch(self.root, path)
                for inner in self.expand_dir(self.root, path):
                    self.touch(self.root, inner)
            elif is_swap_internal(path.name) or path.is_symlink():
                # A link was swapped (a ConfigMap update renames `..data`): the files beside it
                # may now read through it to new content, with no event of their own.
                for inner in self.expand_dir(self.root, path.parent):
                    if inner.parent == path.parent:
                        self.touch(self.root, inner)

    def capture(self, event: FileSystemEvent) -> None:
        """A version a reader could load now (closed after a write, or renamed into place):
        read it at once, so a revert within the debounce window does not hide it."""
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(os.fsdecode(raw))
        if self.versions is None or path in self.excluded:
            return
        if self.root.relative(path) is None:
            src = Path(os.fsdecode(event.src_path))
            if event.event_type == "moved" and self.root.relative(src) is not None:
                self.versions.moved_out((self.root, src), self.root.display(path))
            return
        key = (self.root, path)
        if self.versions.full(key):
            self.versions.count(key)  # bounded: past the cap a version is counted, not read
            return
        seen = observe(path, self.root.directory)
        if seen.kind == "file" and seen.data is not None:
            self.versions.add(key, seen)


class Watcher:
    """A watchdog observer over `roots` feeding a `Debouncer`; a context manager."""

    def __init__(
        self,
        roots: Iterable[WatchRoot],
        on_path: Callable[[WatchRoot, Path], object],
        expand_dir: Callable[[WatchRoot, Path], Iterable[Path]],
        *,
        delay_s: float = 0.5,
        max_delay_s: float = 5.0,
        excluded: Iterable[Path] = (),
    ) -> None:
        self.roots = tuple(roots)
        self.expand_dir = expand_dir
        self.excluded = frozenset(excluded)
        self.debouncer = Debouncer(on_path, delay_s=delay_s, max_delay_s=max_delay_s)
        self.versions = VersionBuffer()
        self._observer: BaseObserver | None = None

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.debouncer.start()
        try:
            self._start_observer()
        except BaseException:
            self.debouncer.stop(flush_budget_s=0)
            raise

    def _start_observer(self) -> None:
        observer = Observer()
        try:
            for root in self.roots:
                handler = _Handler(
                    root, self.debouncer.touch, self.expand_dir, self.excluded, self.versions
                )
                observer.schedule(handler, str(root.directory), recursive=root.recursive)
            observer.start()
        except OSError as exc:
            observer.stop()
            raise UsageError(
                f"cannot watch: {exc.strerror or exc}",
                advice="raise fs.inotify.max_user_watches / max_user_instances, or watch less",
            ) from None
        self._observer = observer

    def _stop_observer(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(10)

    def healthy(self) -> bool:
        """False if the observer or one of its emitter threads died (watchers stop silently)."""
        observer = self._observer
        return (
            observer is not None
            and observer.is_alive()
            and all(e.is_alive() for e in observer.emitters)
        )

    def restart_observer(self) -> None:
        logger.error("filesystem observer died; restarting it")
        self._stop_observer()
        self._start_observer()

    def touch(self, root: WatchRoot, path: Path) -> None:
        self.debouncer.touch(root, path)

    def pending(self) -> set[Path]:
        return self.debouncer.pending()

    def idle(self) -> bool:
        return self.debouncer.idle()

    def stop(self, *, flush_budget_s: float = 10.0) -> None:
        """Stop observing, finish the audit in progress and those pending, stop the worker."""
        self._stop_observer()
        self.debouncer.stop(flush_budget_s=flush_budget_s)
