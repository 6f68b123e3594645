"""One fork of the hook runner: read the client's request, become that process, run the hook.

What a fresh `python -m config_audit hook NAME` would have is set from the request before
anything runs: standard streams (the client's own descriptors), working directory, umask,
environment (so git, GIT_INDEX_FILE and any signing key are the client's), arguments, logging
unconfigured, temporary directory unresolved, default signal handlers. The runner's log gets
the hook's name, exit code and time, never the environment or any output.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import io
import json
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from config_audit.hookrunner import wire
from config_audit.hookrunner.identity import identity, tool_fingerprint
from config_audit.hookrunner.launch import WANTED, run

if TYPE_CHECKING:
    from config_audit.hookrunner.zygote import Runner

logger = logging.getLogger("config_audit.hookrunner")
REQUEST_TIMEOUT_S = 10.0


def serve_one(runner: Runner, conn: socket.socket, main: Callable[[list[str]], object]) -> int:
    """The fork's whole life; returns its own exit status (the hook's goes to the client)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if runner.listener is not None:
        runner.listener.close()
    if runner.lock_fd is not None:
        os.close(runner.lock_fd)
    log_fd = os.dup(2)  # the runner's log, kept once stderr becomes the client's
    try:
        request = _read_request(conn)
    except EOFError:
        return 0  # a client that only checked a runner is there
    except (wire.BadRequest, OSError, TimeoutError) as exc:
        logger.info("refused a request: %s", exc)
        _send(conn, b"refused " + str(exc).encode("ascii", "replace")[:200])
        return 0
    if request.op == "status":
        _send(conn, json.dumps(runner.status()).encode())
        return 0
    if request.op == "stop":
        os.kill(os.getppid(), signal.SIGTERM)
        _send(conn, b"stopping")
        return 0
    stale = _staleness(runner, request)
    if request.op != "hook" or stale:
        if stale:
            logger.info("%s changed: exiting", stale)
            os.kill(os.getppid(), signal.SIGTERM)
        _send(conn, b"stale" if stale else b"refused request")
        return 0
    _send(conn, b"accepted %d" % os.getpid())
    try:
        fds = _receive_streams(conn)
    except (wire.BadRequest, OSError, TimeoutError) as exc:
        logger.info("no streams came with the request: %s", exc)
        return 0
    started = time.perf_counter()
    before = set(sys.modules)
    _become(request, fds)
    code = run(main, request.argv)
    _finish_like_a_process()
    _release_streams()
    _send(conn, b"exit %d" % code)
    _tell_runner(runner)
    os.write(
        log_fd,
        (
            f"{time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(request.argv[:2])[:60]}: exit {code} in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms, "
            f"imported beyond the preload: {', '.join(sorted(set(sys.modules) - before)) or 'none'}\n"
        ).encode(),
    )
    return 0


def _read_request(conn: socket.socket) -> wire.Request:
    conn.settimeout(REQUEST_TIMEOUT_S)
    data = b""
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            if not data:
                raise EOFError
            raise wire.BadRequest("incomplete")
        data += chunk
        if len(data) > wire.MAX_REQUEST:
            raise wire.BadRequest("too large")
        fields = wire.parse_netstrings(data)
        if fields is not None and fields and fields[-1] == b"":
            return wire.Request(fields)


def _receive_streams(conn: socket.socket) -> list[int]:
    """The client's stdin, stdout and stderr, sent once we accepted (one byte with them)."""
    fds = array.array("i")
    marker, ancillary, _flags, _addr = conn.recvmsg(1, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    if marker != b"F" or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise wire.BadRequest("no streams")
    return list(fds)


def _become(request: wire.Request, fds: list[int]) -> None:
    """This process now has the client's streams, directory, umask, environment, arguments."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    encoding = sys.stdout.encoding or "utf-8"
    env_encoding = request.environ.get(b"PYTHONIOENCODING", b"").split(b":")[0]
    if env_encoding:
        encoding = env_encoding.decode("ascii", "replace")
    sys.stdin = open(0, encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding=encoding, closefd=False)  # noqa: SIM115
    sys.stderr = io.TextIOWrapper(
        open(2, "wb", buffering=0, closefd=False),  # noqa: SIM115
        encoding=encoding,
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )
    if os.isatty(1):
        sys.stdout.reconfigure(line_buffering=True)
    os.chdir(request.cwd)
    os.umask(request.umask)
    os.environb.clear()
    os.environb.update(request.environ)
    sys.argv = ["config-audit", *request.argv]
    root = logging.getLogger()
    for handler in list(root.handlers):  # the runner's log: the hook configures its own
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    tempfile.tempdir = None  # resolved again from the client's TMPDIR


def _finish_like_a_process() -> None:
    """What interpreter exit does before teardown: wait for threads, run atexit callbacks."""
    threading._shutdown()  # type: ignore[attr-defined]  # as multiprocessing's forks do
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()


def _release_streams() -> None:
    """Close our copies of the client's streams before answering: whoever reads the hook's
    output through a pipe sees its end when the client exits, not when we do."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        os.dup2(devnull, target)
    os.close(devnull)


def _staleness(runner: Runner, request: wire.Request) -> str:
    """What changed since the runner started ("" when nothing did)."""
    if identity() != request.executable:
        return "the client's interpreter"
    now = tool_fingerprint().split("\0")
    then = runner.fingerprint.split("\0")
    if now == then:
        return ""
    if now[:2] != then[:2]:
        return "the tool's code"
    return "an installed package" if now[3:] != then[3:] else "the interpreter"


def _tell_runner(runner: Runner) -> None:
    """The settings in force now may disable the runner or want another idle time: then it
    exits, and the next in-process hook starts the right one (or none)."""
    wanted = WANTED.get("runner")
    if wanted is None:
        return  # a hook that read no settings (pre-push) says nothing about the runner
    if (str(wanted[0]), wanted[1]) != (runner.directory, runner.idle_s):
        logger.info("the settings in force want another runner, or none: exiting")
        os.kill(os.getppid(), signal.SIGTERM)


def _send(conn: socket.socket, line: bytes) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(line + b"\n")
