"""The warm server's side of one connection: status, stop, and loads checked against its key.

The log gets sizes, verdicts and times, never a file's content or name.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from config_audit.model import ConfigFormat
from config_audit.validate import effective, samples
from config_audit.validate import warm_wire as wire
from config_audit.validate.versions import presidio_version

if TYPE_CHECKING:
    from config_audit.validate.warm_server import WarmServer

logger = logging.getLogger("config_audit.warm")


def handle(server: WarmServer, conn: socket.socket) -> None:
    """One client: one request, one answer (a load gets an acknowledgement first)."""
    with conn:
        if wire.peer_uid(conn) != os.getuid():
            logger.warning("refused a client of another user")
            return
        with server.state:
            server.active += 1
        try:
            request = wire.LineReader(conn).read(10.0)
            wire.send(conn, _answer(server, request, conn))
        except EOFError:
            pass  # a client that only checked we are there
        except (OSError, ValueError) as exc:
            logger.info("client went away: %s", type(exc).__name__)
        finally:
            with server.state:
                server.active -= 1
                server.last = time.monotonic()


def _answer(server: WarmServer, request: dict[str, Any], conn: socket.socket) -> dict[str, Any]:
    op = request.get("op")
    if op == "status":
        return {"ok": True, "status": status(server)}
    if op == "stop":
        logger.info("asked to stop")
        server.shut_down()
        return {"ok": True}
    if op != "load":
        return {"ok": False, "error": "unknown-op"}
    if request.get("key") != server.key:
        logger.info("a client's key differs (tool, Presidio, settings or samples): exiting")
        server.shut_down()
        return {"stale": True}
    wire.send(conn, {"accepted": True, "warm": server.validator.worker_ready})
    return _load(server, request)


def _load(server: WarmServer, request: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64decode(request["data_b64"])
    started = time.perf_counter()
    result = server.validator.load(
        data, path=str(request["path"]), fmt=ConfigFormat(request["fmt"])
    )
    with server.state:
        server.served += 1
    logger.info(
        "load: %d bytes, %s, %.0f ms",
        len(data),
        "valid" if result.valid else "invalid",
        (time.perf_counter() - started) * 1000,
    )
    encoded = wire.encode_result(
        result.findings,
        effective.to_wire(result.effective) if result.effective else None,
        result.recognizer_count,
        [samples.result_to_wire(s) for s in result.samples],
        result.presidio_version,
    )
    cacheable = not any(f.code in wire.FAILURE_CODES for f in result.findings)
    return {"ok": True, "result": encoded, "cacheable": cacheable}


def status(server: WarmServer) -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "uptime_s": round(time.time() - server.started, 1),
        "requests": server.served,
        "presidio_version": presidio_version(),
        "key": server.key,
        "idle_s": server.idle_s,
        "warm": server.validator.worker_ready,
        "worker_pid": server.validator.worker_pid,
    }
