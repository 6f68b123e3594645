"""What the warm validator's client and server share: the private directory, the socket's
safety checks, JSON lines over the socket and the result encoding (the key: `warm_key`).

The directory (`<git common dir>/config-audit/warm`) is opened once with O_NOFOLLOW and used
through `/proc/self/fd/N/...`: a planted symlink cannot redirect us, and the socket path stays
short (AF_UNIX allows 108 bytes; temporary checkouts are longer). Nothing here imports Presidio.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import struct
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from config_audit.model import Finding

SOCKET = "validator.sock"
LOCK = "validator.lock"
LOG = "validator.log"
FAILURE_CODES = frozenset({"CA210", "CA211", "CA212", "CA213"})  # pool's: never cached
DEFAULT_IDLE_S = 900.0
MAX_LINE = 64 << 20  # a request carries one file: far below this


class UnsafeDirectory(Exception):
    """The directory or the socket is not ours alone: refuse it (validate in-process)."""


def open_private_dir(directory: Path, *, create: bool) -> int:
    """An fd of `directory`, made 0700 if we create it; refuses a symlink, another owner or
    a mode that lets anyone else in."""
    if create:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, 0o700)
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UnsafeDirectory(f"{directory}: {exc.strerror}") from None
    info = os.fstat(fd)
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        os.close(fd)
        raise UnsafeDirectory(
            f"{directory}: owned by uid {info.st_uid} with mode {stat.S_IMODE(info.st_mode):o}"
            " (expected ours, 0700)"
        )
    return fd


def in_dir(fd: int, name: str) -> str:
    return f"/proc/self/fd/{fd}/{name}"


def check_socket_file(fd: int) -> os.stat_result | None:
    """The socket file's status; None when absent. Raises when it is not a socket of ours
    with mode 0600 (a symlink or a file planted at its path)."""
    try:
        info = os.stat(SOCKET, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(info.st_mode):
        raise UnsafeDirectory(f"{SOCKET} is not a socket (mode {info.st_mode:o})")
    if info.st_uid != os.getuid() or info.st_mode & 0o177:
        raise UnsafeDirectory(f"{SOCKET}: owner {info.st_uid}, mode {info.st_mode & 0o777:o}")
    return info


def peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall((json.dumps(message, separators=(",", ":")) + "\n").encode("utf-8"))


class LineReader:
    """JSON lines from a socket, each within a deadline (raises TimeoutError, EOFError)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read(self, timeout_s: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE:
                raise EOFError
        line, _, self.buffer = self.buffer.partition(b"\n")
        message = json.loads(line)
        if not isinstance(message, dict):
            raise EOFError
        return message


def encode_result(
    findings: Iterable[Finding],
    effective_wire: dict[str, Any] | None,
    recognizer_count: int,
    samples_wire: list[dict[str, Any]],
    presidio_version: str,
) -> dict[str, Any]:
    """The worker's own result shape, so `Validator._decode` and the load cache read it."""
    return {
        "findings": [f.to_dict() for f in findings],
        "effective": effective_wire,
        "recognizer_count": recognizer_count,
        "samples": samples_wire,
        "presidio_version": presidio_version,
    }
