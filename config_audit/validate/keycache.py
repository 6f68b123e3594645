"""Parent side of the derived key knowledge: the worker's answer (`presidio_schema.derive`),
kept in memory and in the validation cache directory, keyed by Presidio version and the
interpreter that runs the worker, so a hook pays the ~70 ms derivation once per upgrade."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from config_audit import __version__
from config_audit.durable import write_atomic
from config_audit.recognizers.presidio_keys import KeySchema, snapshot
from config_audit.validate.presidio_schema import SCHEMA_FORMAT
from config_audit.validate.versions import presidio_version

logger = logging.getLogger(__name__)


class KeyCache:
    def __init__(
        self, directory: Path | None, *, interpreter: str = "", imports: bool = False
    ) -> None:
        """`interpreter`: what runs the worker (interpreter, its Python and Presidio versions,
        the imports), so a deployment's Presidio never reads keys derived from ours.
        `imports`: `presidio.imports` register classes of their own, whose arguments the
        snapshot cannot know, so the worker is always asked."""
        self.directory = directory
        self.imports = imports
        self.interpreter = interpreter or f"{sys.executable}|{presidio_version()}"
        self._known: KeySchema | None = None
        self._looked = False

    def entry(self) -> Path | None:
        if self.directory is None:
            return None
        key = hashlib.sha256()
        for part in (self.interpreter, __version__, str(SCHEMA_FORMAT)):
            key.update(part.encode("utf-8", "surrogateescape") + b"\0")
        return self.directory / f"keys-{key.hexdigest()[:32]}.json"

    def known(self) -> KeySchema | None:
        """The derived schema if this process or an earlier one has it; None otherwise."""
        if self._known is None and not self._looked:
            self._looked = True
            entry = self.entry()
            if entry is not None:
                # Absent or damaged: derived again when a worker runs.
                with contextlib.suppress(OSError, ValueError):
                    self._known = _decode(json.loads(entry.read_bytes()))
        return self._known

    def ensure(
        self,
        hello: Callable[[], Mapping[str, Any]],
        ask: Callable[[], Mapping[str, Any]],
        *,
        force: bool = False,
    ) -> None:
        """Know the keys of the worker's Presidio: cached, else asked (`ask` sends the
        worker's `schema` request). A worker running the release the snapshot was derived from
        is not asked (`hello`: its start-up line): a test proves the snapshot is what it would
        derive. `force`: ask whatever is known."""
        if not force and self.known() is not None:
            return
        same_release = hello().get("presidio_version") == snapshot().presidio_version
        if not force and not self.imports and same_release:
            self._known = snapshot()  # memory only: nothing was derived
            return
        response = ask()
        if response.get("ok"):
            self.store(response["result"])
        else:
            logger.warning("Presidio's keys could not be derived: %s", response.get("message"))

    def store(self, wire: Any) -> None:
        schema = _decode(wire)
        if schema is None:
            logger.warning("the worker's key schema did not decode: using the snapshot")
            return
        self._known = schema
        entry = self.entry()
        if entry is None:
            return
        try:
            entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(entry, json.dumps(wire, sort_keys=True).encode("utf-8"), mode=0o600)
        except OSError as exc:
            logger.debug("key schema not cached: %s", exc)


def _decode(wire: Any) -> KeySchema | None:
    if not isinstance(wire, dict) or wire.get("format") != SCHEMA_FORMAT:
        return None
    try:
        return KeySchema.from_wire(wire)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
