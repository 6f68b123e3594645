"""What the hook runner's client and its forks say to each other (standard library only).

A request is a run of netstrings (`<length>:<bytes>,`): the protocol name, the operation
("hook", "status", "stop"), the client's interpreter, working directory and umask, its
arguments and its environment (as bytes: names and values need not be UTF-8). Answers are
ASCII lines: `accepted PID`, then `exit CODE`; or `stale` / `refused WHY` before anything ran.
Only after `accepted` does the client send its stdin, stdout and stderr (one byte `F` with
SCM_RIGHTS), so that no descriptor of its waits in a socket nobody reads.
"""

from __future__ import annotations

SOCKET = "hooks.sock"
LOCK = "hooks.lock"
LOG = "hooks.log"
PROTOCOL = b"config-audit-hooks/1"
MAX_REQUEST = 4 << 20  # an environment and a command line: far below this


class BadRequest(Exception):
    """Not a request of ours, or too large."""


def netstrings(fields: list[bytes]) -> bytes:
    return b"".join(b"%d:%s," % (len(field), field) for field in fields)


def parse_netstrings(data: bytes) -> list[bytes] | None:
    """The fields of `data`; None while it is incomplete. Raises `BadRequest`."""
    fields: list[bytes] = []
    at = 0
    while at < len(data):
        colon = data.find(b":", at, at + 12)
        if colon < 0:
            if len(data) - at >= 12:
                raise BadRequest("no length")
            return None
        digits = data[at:colon]
        if not digits.isdigit():
            raise BadRequest("bad length")
        end = colon + 1 + int(digits)
        if end >= len(data):
            return None
        if data[end : end + 1] != b",":
            raise BadRequest("bad terminator")
        fields.append(data[colon + 1 : end])
        at = end + 1
    return fields


def encode_request(
    op: str,
    *,
    executable: str,
    cwd: bytes,
    umask: int,
    argv: list[str],
    environ: dict[bytes, bytes],
) -> bytes:
    """One request; it ends with an empty field, so the reader knows it has all of it."""
    fields = [PROTOCOL, op.encode(), executable.encode("utf-8", "surrogateescape"), cwd]
    fields += [b"%d" % umask, b"%d" % len(argv)]
    fields += [arg.encode("utf-8", "surrogateescape") for arg in argv]
    fields += [b"%d" % len(environ)]
    fields += [name + b"=" + value for name, value in environ.items()]
    return netstrings([*fields, b""])


class Request:
    """A decoded request (the fork's side)."""

    def __init__(self, fields: list[bytes]) -> None:
        try:
            if fields[0] != PROTOCOL or fields[-1] != b"":
                raise BadRequest("another protocol")
            self.op = fields[1].decode("ascii")
            self.executable = fields[2].decode("utf-8", "surrogateescape")
            self.cwd = fields[3]
            self.umask = int(fields[4])
            argc = int(fields[5])
            self.argv = [f.decode("utf-8", "surrogateescape") for f in fields[6 : 6 + argc]]
            envc = int(fields[6 + argc])
            entries = fields[7 + argc : 7 + argc + envc]
        except (IndexError, ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"malformed: {type(exc).__name__}") from None
        if len(entries) != envc or len(fields) != 8 + argc + envc or len(self.argv) != argc:
            raise BadRequest("field count")
        self.environ: dict[bytes, bytes] = {}
        for entry in entries:
            name, eq, value = entry.partition(b"=")
            if not eq or not name:
                raise BadRequest("environment entry")
            self.environ[name] = value
