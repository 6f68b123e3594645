"""What the warm validator's client and server share: the private directory, the socket's
safety checks, JSON lines over the socket and the result encoding (the key: `warm_key`).

The directory (`<git common dir>/config-audit/warm`) and the socket are checked by
`config_audit.private` (shared with the warm hook runner). Nothing here imports Presidio.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from config_audit import private
from config_audit.model import Finding
from config_audit.private import UnsafeDirectory as UnsafeDirectory  # re-exported: the
from config_audit.private import in_dir as in_dir  # warm validator's modules use them as
from config_audit.private import open_private_dir as open_private_dir  # `wire.NAME`
from config_audit.private import peer_uid as peer_uid

SOCKET = "validator.sock"
LOCK = "validator.lock"
LOG = "validator.log"
FAILURE_CODES = frozenset({"CA210", "CA211", "CA212", "CA213"})  # pool's: never cached
DEFAULT_IDLE_S = 900.0
MAX_LINE = 64 << 20  # a request carries one file: far below this


def check_socket_file(fd: int) -> os.stat_result | None:
    """The validator socket's status; None when absent (raises `UnsafeDirectory`, as
    `config_audit.private.check_socket_file` does)."""
    return private.check_socket_file(fd, SOCKET)


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
