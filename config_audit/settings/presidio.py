"""`presidio:` in the settings: validate with the Presidio the deployment runs.

    presidio:
      python: /opt/presidio/venv/bin/python   # the deployment's interpreter (relative: from here)
      imports: [acme_pii.recognizers]          # modules defining its own recognizer classes
      version: 2.2.366                         # what production runs; checked against `python`

Absent, validation uses this tool's own interpreter and Presidio. Like every setting that
decides a verdict it is read from the audited past, and changing it weakens what is protected:
another interpreter, other imports or another release decide what is valid.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config_audit.errors import UsageError, did_you_mean
from config_audit.model import Change, Impact

KEYS = frozenset({"python", "imports", "version"})
# Patterns, not compiled at import: every hook run imports this module, few files have the section.
_MODULE = r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*"
_VERSION = r"[0-9][0-9A-Za-z.+!-]*"
POLICY = "(policy)"  # stands where a recognizer would, as in policy/diff.py


@dataclass(frozen=True)
class PresidioSettings:
    python: Path | None = None  # None: this tool's own interpreter
    imports: tuple[str, ...] = ()
    version: str | None = None

    @property
    def foreign(self) -> bool:
        return self.python is not None

    def describe(self) -> str:
        """One line for messages and cache keys."""
        return (
            f"python={self.python or 'own'} imports={','.join(self.imports) or '-'} "
            f"version={self.version or 'any'}"
        )


def parse_presidio(raw: Any, *, root: Path, where: str) -> PresidioSettings:
    """Pure: the `presidio:` mapping to `PresidioSettings`; each error names the setting."""
    if raw is None:
        return PresidioSettings()
    if not isinstance(raw, Mapping):
        raise UsageError(f"{where}: 'presidio' must be a mapping of python, imports, version")
    unknown = sorted(str(k) for k in set(raw) - KEYS)
    if unknown:
        raise UsageError(
            f"{where}: unknown presidio key(s) {unknown}", advice=did_you_mean(unknown, KEYS)
        )
    python = raw.get("python")
    if python is not None and (not isinstance(python, str) or not python.strip()):
        raise UsageError(f"{where}: 'presidio.python' must be the path of a Python interpreter")
    imports = raw.get("imports") or []
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, list) or not all(
        isinstance(m, str) and re.fullmatch(_MODULE, m) for m in imports
    ):
        raise UsageError(
            f"{where}: 'presidio.imports' must be a list of module names",
            advice="e.g. imports: [acme_pii.recognizers]",
        )
    version = raw.get("version")
    if isinstance(version, int | float) and not isinstance(version, bool):
        version = str(version)  # YAML reads 2.2 as a number
    if version is not None and (
        not isinstance(version, str) or not re.fullmatch(_VERSION, version)
    ):
        raise UsageError(f"{where}: 'presidio.version' must be a version such as 2.2.366")
    return PresidioSettings(
        # normpath: messages and records show the path as the interpreter reports itself
        python=Path(os.path.normpath(root / os.path.expanduser(python))) if python else None,
        imports=tuple(imports),
        version=version,
    )


def diff_presidio(
    before: Mapping[str, Any], after: Mapping[str, Any], everything: tuple[str, ...]
) -> list[Change]:
    """A change of interpreter, imports or version changes what decides validity (a file
    CA202 rejects may pass, a check may stop applying): a weakening of every protected entity,
    so the owners must agree, under the policy in force before. Compared as written."""
    old, new = before.get("presidio") or {}, after.get("presidio") or {}
    out = []
    for key in sorted(KEYS):
        a = old.get(key) if isinstance(old, Mapping) else old
        b = new.get(key) if isinstance(new, Mapping) else new
        if a != b:
            out.append(
                Change(
                    f"validation.presidio_{key}_changed",
                    Impact.WEAKENS,
                    POLICY,
                    f"presidio.{key} {a!r} -> {b!r}: validation runs against another Presidio",
                    everything,
                    str(a),
                    str(b),
                )
            )
    return out


def interpreter_changed(path: str, everything: tuple[str, ...]) -> list[Change]:
    """The interpreter `presidio.python` names is a file of the repository (a wrapper script):
    whatever the edit, it changes what decides validity."""
    return [
        Change(
            "validation.presidio_interpreter_changed",
            Impact.WEAKENS,
            POLICY,
            f"{path}, the interpreter presidio.python names, changed",
            everything,
        )
    ]
