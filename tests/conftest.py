"""Leak guard for every test: a test that leaves a thread, a child process or a stray file fails.

Threads are compared with the set alive before the test; processes are found under /proc by what
ties them to this test (its tmp dir in their command line, working directory or environment), so
a daemon that double-forked away from us (gpg-agent) is still caught, and the other xdist worker's
processes are never blamed. Files: the checkout must hold no new untracked file after the session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Hooks and `validate` run by tests validate in-process unless a test asks for the warm
# validator (tests/test_warm.py): a server lingering 15 minutes would outlive its test.
os.environ.setdefault("CONFIG_AUDIT_WARM_IDLE_S", "0")
GRACE_S = 3.0  # threads and children that are already stopping get this long to finish


def _own_pids() -> set[int]:
    uid = os.getuid()
    pids = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.add(int(entry.name))
            except OSError:
                continue
    return pids


def _mentions(pid: int, needle: bytes) -> bool:
    base = f"/proc/{pid}"
    try:
        with open(f"{base}/cmdline", "rb") as fh:
            if needle in fh.read():
                return True
        if os.readlink(f"{base}/cwd").encode().startswith(needle):
            return True
        with open(f"{base}/environ", "rb") as fh:
            return needle in fh.read()
    except OSError:
        return False


def _describe(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()[:200]
    except OSError:
        return "?"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b") ", 1)[1][:1] != b"Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(autouse=True)
def leak_guard(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    threads_before = set(threading.enumerate())
    pids_before = _own_pids()
    yield
    # The test's own tmp dirs live under the factory's base (one per test, numbered).
    needle = str(tmp_path_factory.getbasetemp()).encode()
    deadline = time.monotonic() + GRACE_S
    while True:
        threads = [
            t
            for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and not t.daemon
        ]
        daemons = [
            t
            for t in threading.enumerate()
            if t not in threads_before and t.is_alive() and t.daemon
        ]
        procs = [
            p
            for p in _own_pids() - pids_before - {os.getpid()}
            if _alive(p) and _mentions(p, needle)
        ]
        if not (threads or daemons or procs) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    problems = [f"thread {t.name!r}" for t in [*threads, *daemons]]
    for pid in procs:
        problems.append(f"process {pid}: {_describe(pid)}")
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)  # do not let it poison the next test
    if problems:
        pytest.fail("test leaked: " + "; ".join(problems), pytrace=False)


def _untracked() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--ignored=no"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    ).stdout.decode(errors="replace")
    return {line[3:] for line in out.splitlines() if line.startswith("??")}


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_UNTRACKED] = _untracked()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # the controller checks once, after every worker is done
    new = _untracked() - session.config.stash.get(_UNTRACKED, set())
    if new:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print(f"\nleak guard: tests left files in the checkout: {sorted(new)[:10]}")


_UNTRACKED = pytest.StashKey[set[str]]()
