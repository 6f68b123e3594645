"""A directory and a Unix socket that are ours alone: what the warm validator and the warm hook
runner check before they trust a socket, on either side of it.

The directory is opened once with O_NOFOLLOW and used through `/proc/self/fd/N/...`: a planted
symlink cannot redirect us, and the socket path stays short (AF_UNIX allows 108 bytes;
temporary checkouts are longer). Standard library only, and not even `socket` (its enums cost
~8 ms): the hook runner's client imports this before anything else.
"""

from __future__ import annotations

import _socket
import os
import stat
import struct


class UnsafeDirectory(Exception):
    """The directory or the socket is not ours alone: refuse it (run in-process)."""


def open_private_dir(directory: str | os.PathLike[str], *, create: bool) -> int:
    """An fd of `directory`, made 0700 if we create it; refuses a symlink, another owner or
    a mode that lets anyone else in."""
    if create:
        os.makedirs(os.path.dirname(os.fspath(directory)), exist_ok=True)
        try:  # noqa: SIM105  (contextlib costs the hook runner's client ~2 ms)
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafeDirectory(f"{os.fspath(directory)}: {exc.strerror}") from None
    info = os.fstat(fd)
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        os.close(fd)
        raise UnsafeDirectory(
            f"{os.fspath(directory)}: owned by uid {info.st_uid} with mode "
            f"{stat.S_IMODE(info.st_mode):o} (expected ours, 0700)"
        )
    return fd


def in_dir(fd: int, name: str) -> str:
    return f"/proc/self/fd/{fd}/{name}"


def check_socket_file(fd: int, name: str) -> os.stat_result | None:
    """The socket file's status; None when absent. Raises when it is not a socket of ours
    with mode 0600 (a symlink or a file planted at its path)."""
    try:
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(info.st_mode):
        raise UnsafeDirectory(f"{name} is not a socket (mode {info.st_mode:o})")
    if info.st_uid != os.getuid() or info.st_mode & 0o177:
        raise UnsafeDirectory(f"{name}: owner {info.st_uid}, mode {info.st_mode & 0o777:o}")
    return info


def peer_creds(sock: _socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end, as the kernel says (SO_PEERCRED)."""
    creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return int(pid), int(uid)


def peer_uid(sock: _socket.socket) -> int:
    return peer_creds(sock)[1]


def open_private_log(directory: str | os.PathLike[str], name: str, *, cap: int) -> int:
    """A server's log in its private directory (created 0700): append-only, 0600, never
    through a link, started afresh once over `cap` bytes (a diagnosis aid, not a record).
    Raises `UnsafeDirectory` or OSError."""
    os.close(open_private_dir(directory, create=True))
    log = os.path.join(os.fspath(directory), name)
    big = os.path.getsize(log) > cap if os.path.lexists(log) else False
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(log, flags | (os.O_TRUNC if big else 0), 0o600)


class Listening:
    """A server's socket bound in its private directory, and the lock that makes it the only
    one there (the servers' side; the clients never import `socket` through this)."""

    # `_socket.socket` in the signature: a `socket.socket`, but naming it here would make the
    # clients import `socket` (and `typing`) for nothing
    def __init__(self, listener: _socket.socket, lock_fd: int, socket_id: tuple[int, int]) -> None:
        self.listener = listener
        self.lock_fd = lock_fd
        self.socket_id = socket_id


def listen_private(fd: int, *, lock: str, name: str, lock_wait_s: float) -> Listening | str:
    """Take the lock `lock` (one server per directory; waiting up to `lock_wait_s` for one
    that is leaving), clear a dead server's socket `name`, bind it 0600 from birth and listen.
    What stopped us, as a sentence, when we are not to serve."""
    import fcntl
    import socket
    import time

    lock_fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd)
    deadline = time.monotonic() + lock_wait_s
    while True:
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if time.monotonic() >= deadline:
                os.close(lock_fd)
                return "another server holds the lock: exiting"
            time.sleep(0.02)
    try:
        if check_socket_file(fd, name) is not None:  # left by a killed server
            os.unlink(name, dir_fd=fd)
    except UnsafeDirectory as exc:
        os.close(lock_fd)
        return f"refusing the socket path: {exc}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    old = os.umask(0o177)  # the socket is born 0600: no window with a wider mode
    try:
        listener.bind(in_dir(fd, name))
    finally:
        os.umask(old)
    info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    listener.listen(16)
    listener.settimeout(0.5)
    return Listening(listener, lock_fd, (info.st_dev, info.st_ino))
