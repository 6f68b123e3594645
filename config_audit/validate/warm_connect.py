"""Reaching the warm validator: connect (refusing a socket that is not ours), one short
request, and launching a detached server whose environment holds no signing key."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from config_audit import private
from config_audit.settings import environ_without_keys
from config_audit.validate import warm_wire as wire

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 1.0
LOG_CAP = 1 << 20


def connect(directory: Path, *, timeout_s: float = CONNECT_TIMEOUT_S) -> socket.socket | None:
    """A connection to the server of `directory`, None when there is none. Raises
    `UnsafeDirectory` for a directory or socket that is not ours alone."""
    if not os.path.lexists(directory):
        return None  # never started here
    fd = wire.open_private_dir(directory, create=False)
    try:
        if wire.check_socket_file(fd) is None:
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        sock.settimeout(timeout_s)
        try:
            sock.connect(wire.in_dir(fd, wire.SOCKET))
        except OSError:  # a dead server's socket file: nobody listens
            sock.close()
            return None
    finally:
        os.close(fd)
    if wire.peer_uid(sock) != os.getuid():
        sock.close()
        raise wire.UnsafeDirectory("the server runs as another user")
    return sock


def ask(directory: Path, request: dict[str, Any], timeout_s: float = 5.0) -> dict[str, Any] | None:
    """One short request (status, stop); None when no server answers."""
    try:
        sock = connect(directory)
    except (wire.UnsafeDirectory, OSError):
        return None
    if sock is None:
        return None
    with sock:
        try:
            wire.send(sock, request)
            return wire.LineReader(sock).read(timeout_s)
        except (OSError, EOFError, TimeoutError, ValueError):
            return None


def launch(directory: Path, spec: dict[str, Any]) -> int | None:
    """Start a detached server for `directory` (its log beside the socket, 0600); its pid.
    Two launches at once are fine: the server's lock lets one win; the other exits."""
    try:
        # One line per load and a few per start: capped rather than rotated.
        log_fd = private.open_private_log(directory, wire.LOG, cap=LOG_CAP)
    except (wire.UnsafeDirectory, OSError) as exc:
        logger.warning("warm validator not started: %s", exc)
        return None
    env = environ_without_keys(os.environ)  # it only validates: the client signs
    env["PYTHONUTF8"] = "1"
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "config_audit.validate.warm_server", str(directory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_fd,
            cwd=directory,
            env=env,
            close_fds=True,
        )
        # Its first half exits once the spec is read (it detaches), printing the server's pid.
        out, _ = proc.communicate((json.dumps(spec) + "\n").encode("utf-8"), timeout=30)
        return int(out.split()[0])
    except (OSError, ValueError, IndexError, subprocess.SubprocessError) as exc:
        logger.warning("warm validator not started: %s", exc)
        return None
    finally:
        os.close(log_fd)


def lock_free(directory: Path) -> bool:
    """No server holds the directory's lock (none runs, and none is starting)."""
    try:
        fd = wire.open_private_dir(directory, create=False)
    except (wire.UnsafeDirectory, OSError):
        return True
    try:
        lock = os.open(wire.LOCK, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
    except OSError:
        return True
    finally:
        os.close(fd)
    try:
        fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(lock)
    return True


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
