"""Presidio exceptions -> findings with a clean message, a hint and the recognizer when known.

Never a traceback, never input values: pydantic errors are read with `include_input=False`, and
reprs of mappings or lists embedded in messages (they can hold deny-list entries) are cut.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from config_audit.model import ConfigFormat, Finding, Severity

CODE_REJECTED = "CA202"  # Presidio's loader rejects the file
CODE_MISSING_PACKAGE = "CA209"

# A mapping repr appended to a message (Presidio's Pattern errors append the whole entry).
_EMBEDDED_VALUE = re.compile(r":\s*\{.*$", re.DOTALL)
_ENTRY_NOTE = re.compile(r"config-audit: entry index (\d+)")


def clean(exc: BaseException) -> str:
    """One line, no embedded values, bounded."""
    if isinstance(exc, KeyError):
        text = f"missing key {exc.args[0]!r}" if exc.args else "missing key"
    else:
        text = str(exc) or type(exc).__name__
    text = _EMBEDDED_VALUE.sub("", " ".join(text.split()))
    return text[:400]


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _entry_name(parsed: Any, index: int | None, fmt: ConfigFormat) -> str | None:
    recognizers = parsed
    if isinstance(parsed, dict):
        recognizers = parsed.get("recognizers")
        if fmt is ConfigFormat.ANALYZER and isinstance(parsed.get("recognizer_registry"), dict):
            recognizers = parsed["recognizer_registry"].get("recognizers")
    if index is None or not isinstance(recognizers, list) or not 0 <= index < len(recognizers):
        return None
    entry = recognizers[index]
    if isinstance(entry, dict):
        return str(entry.get("name") or "") or None
    return str(entry) if isinstance(entry, str) else None


def _pydantic_errors(exc: BaseException) -> list[dict[str, Any]] | None:
    for candidate in (exc, exc.__cause__, exc.__context__):
        errors = getattr(candidate, "errors", None)
        if candidate is not None and callable(errors) and hasattr(candidate, "error_count"):
            try:
                result: list[dict[str, Any]] = errors(include_input=False, include_url=False)
                return result
            except TypeError:
                return None
    return None


def _hint(text: str, exc: BaseException) -> str:
    lowered = text.lower()
    if "extra inputs are not permitted" in lowered or "unknown configuration key" in lowered:
        if "supported_countries" in text:
            return (
                "supported_countries is documented but rejected by this Presidio version "
                "(issue #2277); filter by country in code instead"
            )
        return "remove or correct the misspelled key (Presidio rejects unknown keys here)"
    if isinstance(exc, KeyError) or "field required" in lowered:
        return "add the missing key"
    if "unexpected keyword argument" in lowered:
        return "remove the unsupported key from that recognizer (patterns take name, regex, score)"
    if "supported_entity" in lowered and "supported_entities" in lowered:
        return "give either supported_entity or supported_entities, not both"
    if "score" in lowered:
        return "scores must be numbers between 0 and 1"
    if "language" in lowered:
        return "use language codes such as en or de-DE (quote 'no' for Norwegian)"
    return "fix the entry; Presidio refuses to load the file as it is"


def describe(
    exc: BaseException, *, fmt: ConfigFormat, path: str, parsed: Any, tmp: str = ""
) -> Finding:
    """Map one exception raised by a Presidio loader to an ERROR finding."""
    finding = _describe(exc, fmt=fmt, path=path, parsed=parsed)
    if tmp and tmp in finding.message:  # name the user's file, not our private copy
        finding = replace(finding, message=finding.message.replace(tmp, path))
    return finding


def _describe(exc: BaseException, *, fmt: ConfigFormat, path: str, parsed: Any) -> Finding:
    if isinstance(exc, ImportError):
        return Finding(
            code=CODE_MISSING_PACKAGE,
            severity=Severity.ERROR,
            path=path,
            message=f"a recognizer needs an optional package that is not installed: {clean(exc)}",
            hint="install the package where Presidio runs, or disable that recognizer",
        )
    index: int | None = None
    for note in getattr(exc, "__notes__", ()):
        match = _ENTRY_NOTE.search(note)
        if match:
            index = int(match.group(1))
    errors = _pydantic_errors(exc)
    if errors:
        parts = []
        for err in errors[:8]:
            loc = tuple(err.get("loc", ()))
            if (
                index is None
                and len(loc) > 1
                and loc[0] == "recognizers"
                and isinstance(loc[1], int)
            ):
                index = loc[1]
            msg = _EMBEDDED_VALUE.sub("", str(err.get("msg", "")))
            parts.append(f"{_loc(loc)}: {msg}")
        more = f" (+{len(errors) - 8} more)" if len(errors) > 8 else ""
        text = "; ".join(parts) + more
    else:
        text = clean(exc)
    name = _entry_name(parsed, index, fmt)
    where = f"recognizer #{index + 1}{f' ({name})' if name else ''}: " if index is not None else ""
    return Finding(
        code=CODE_REJECTED,
        severity=Severity.ERROR,
        path=path,
        recognizer=name,
        message=f"Presidio rejects this {fmt.value} file: {where}{text}",
        hint=_hint(text, exc),
    )
