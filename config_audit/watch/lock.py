"""One watcher per log: two would interleave their chains and each miss the other's state."""

from __future__ import annotations

import os
from pathlib import Path

from config_audit.errors import UsageError


class InstanceLock:
    """One watcher per log: an exclusive `flock` on `<log>.watch.lock` holding the owner's pid."""

    def __init__(self, log_path: Path) -> None:
        self.path = log_path.with_name(log_path.name + ".watch.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise UsageError(
                f"another watcher (pid {holder}) is already writing {self.path.name[:-11]}",
                advice="stop it first, or give this one another log",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock; the file stays (no unlink race)
            self._fd = None
