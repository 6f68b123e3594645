"""The hook runner's client: what `python -m config_audit hook NAME` runs before anything else.

It asks the repository's hook runner (`zygote`) to run the hook in a fresh fork of itself,
with this process's arguments, environment, working directory, umask, stdin, stdout and
stderr, and exits with the fork's code. When no runner answers (none started yet, the warm
validator disabled, a socket that is not ours, a runner of another interpreter or version),
the hook runs in this process exactly as before, which then starts a runner for the next one.

Standard library only, and only its cheapest modules (`_socket`, not `socket`; no `json`,
`subprocess` or `logging`): this file is the whole cost of a warm hook besides the work.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # `signal` would cost ~5 ms of enums
import _socket
import os
import struct

from config_audit import private
from config_audit.hookrunner import wire
from config_audit.hookrunner.identity import identity

WARM_IDLE_ENV = "CONFIG_AUDIT_WARM_IDLE_S"  # 0 disables the warm validator and the runner
ACCEPT_TIMEOUT_S = 5.0  # a fork answers in milliseconds; a runner that does not is stuck
FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)
# Why the last `run_warm` gave None: "stale" means the runner is leaving, so the in-process
# hook starts its successor at once rather than finding the old socket still there.
REFUSED: list[bytes] = []


def disabled(environ: dict[str, str] | os._Environ[str]) -> bool:
    value = environ.get(WARM_IDLE_ENV, "").strip()
    try:
        return bool(value) and float(value) == 0
    except ValueError:
        return False  # the in-process hook reports the bad value


def warm_dir() -> str | None:
    """`<git common dir>/config-audit/warm`, asked of git (worktrees, GIT_DIR, GIT_COMMON_DIR)
    without the `subprocess` module."""
    read_end, write_end = os.pipe()
    try:
        pid = os.posix_spawnp(
            "git",
            ["git", "rev-parse", "--git-common-dir"],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
    except OSError:
        os.close(read_end)
        return None
    finally:
        os.close(write_end)
    chunks = []
    with open(read_end, "rb") as out:
        chunks.append(out.read())
    _, status = os.waitpid(pid, 0)
    common = b"".join(chunks).strip()
    if os.waitstatus_to_exitcode(status) != 0 or not common:
        return None
    return os.path.join(os.path.abspath(os.fsdecode(common)), "config-audit", "warm")


def connect(directory: str) -> _socket.socket | None:
    """The runner's socket, when one of ours listens; None otherwise (never raises)."""
    try:
        fd = private.open_private_dir(directory, create=False)
    except (private.UnsafeDirectory, OSError):
        return None
    sock = None
    try:
        if private.check_socket_file(fd, wire.SOCKET) is None:
            return None
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM | _socket.SOCK_CLOEXEC)
        sock.settimeout(ACCEPT_TIMEOUT_S)
        sock.connect(private.in_dir(fd, wire.SOCKET))
        if private.peer_uid(sock) != os.getuid():
            raise private.UnsafeDirectory("the runner runs as another user")
        return sock
    except (private.UnsafeDirectory, OSError):
        if sock is not None:
            sock.close()
        return None
    finally:
        os.close(fd)


class Lines:
    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def read(self) -> bytes | None:
        """The next line, None at EOF (a timeout raises)."""
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line


def ask(sock: _socket.socket, op: str, argv: list[str]) -> Lines:
    """Send one request (our streams go only once a fork has accepted it: see `run_warm`)."""
    request = wire.encode_request(
        op,
        executable=identity(),
        cwd=os.getcwdb(),
        umask=_umask(),
        argv=argv,
        environ=dict(os.environb),
    )
    sock.sendall(request)
    return Lines(sock)


def hand_over_streams(sock: _socket.socket) -> None:
    """Our stdin, stdout and stderr to the fork that accepted. Never before: descriptors in
    flight to a runner that is stuck would keep our output pipe open after we exit, and
    whoever reads it (an IDE running `git commit`) would wait for the runner."""
    fds = struct.pack("3i", 0, 1, 2)
    sock.sendmsg([b"F"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])


def query(directory: str, op: str) -> bytes | None:
    """`status` (a JSON line) or `stop` of the runner of `directory`; None when none answers."""
    sock = connect(directory)
    if sock is None:
        return None
    try:
        return ask(sock, op, []).read()
    except OSError:
        return None
    finally:
        sock.close()


def run_warm(argv: list[str]) -> int | None:
    """The hook's exit code from the runner; None when it must run in this process."""
    if disabled(os.environ):
        return None
    directory = warm_dir()
    if directory is None:
        return None
    sock = connect(directory)
    if sock is None:
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)  # a closed standard stream cannot be handed over
        lines = ask(sock, "hook", argv)
        answer = lines.read()
        if answer is None or not answer.startswith(b"accepted "):
            REFUSED[:] = [answer or b""]
            return None  # stale (it exits; we start its successor) or refused
        child = int(answer.split()[1])
        hand_over_streams(sock)
        interrupted: list[int] = []

        def forward(signum: int, _frame: object) -> None:
            interrupted.append(signum)
            try:  # noqa: SIM105  (contextlib costs the client ~2 ms)
                os.kill(child, signum)
            except OSError:
                pass

        previous = {signum: _signal.signal(signum, forward) for signum in FORWARDED}
        try:
            sock.settimeout(None)  # the hook takes what it takes: its own bounds apply
            done = lines.read()
        finally:
            for signum, handler in previous.items():
                _signal.signal(signum, handler)
    except (OSError, ValueError, IndexError):
        return None
    except KeyboardInterrupt:  # before the fork accepted: nothing ran
        os.write(2, b"config-audit: interrupted\n")
        return 130
    finally:
        sock.close()
    if done is not None and done.startswith(b"exit "):
        try:
            return int(done.split()[1])
        except (ValueError, IndexError):
            pass
    if interrupted:
        return 130
    os.write(
        2,
        b"config-audit: warning: the warm hook runner's fork ended without an answer "
        b"(see .git/config-audit/warm/hooks.log); running the hook in-process\n",
    )
    return None


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask
