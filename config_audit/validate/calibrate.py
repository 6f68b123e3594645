"""Worker side: turn what Presidio logs and knows into calibrated findings (issue 12).

Presidio logs one WARNING per dropped instance and per optional section it fills with defaults.
Those lines explain findings we already make (CA115 names the languages without an instance) or
describe a deployment choice (the registry in a separate file), so they are folded, not repeated
one warning per line. Class facts (a predefined class's COUNTRY_CODE) are read from Presidio
itself, so a new release is covered without a hand list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from config_audit.model import ConfigFormat, Finding, Severity

CODE_PRESIDIO_WARNING = "CA207"
CODE_COUNTRY_CODE = "CA214"

# Explained by lint's CA115 (template languages without an instance): never repeated.
_LANGUAGE_DROP = "Recognizer not added to registry because language is not supported by registry"
# Optional sections Presidio fills with its defaults. The deployment commonly passes them as
# separate files (recognizer_registry_conf_file, nlp_engine_conf_file); CA208 already says the
# NLP engine is not loaded.
_MISSING_SECTION = re.compile(r"configuration file is missing for '(\w+)'")


def fold_warnings(messages: Iterable[str], *, path: str, fmt: ConfigFormat) -> list[Finding]:
    """At most one finding per kind of Presidio warning; the ones our own findings say, none."""
    grouped: dict[str, list[str]] = {}
    for message in dict.fromkeys(messages):
        if message.startswith(_LANGUAGE_DROP):
            continue
        section = _MISSING_SECTION.search(message)
        if section:
            if section.group(1) == "recognizer_registry" and fmt is ConfigFormat.ANALYZER:
                grouped.setdefault("registry", []).append(message)
            continue
        key = re.sub(r"[\w.-]*\d[\w.-]*|'[^']*'", "_", message)[:80]
        grouped.setdefault(key, []).append(message)
    findings = []
    for key, lines in grouped.items():
        if key == "registry":
            findings.append(
                Finding(
                    CODE_PRESIDIO_WARNING,
                    Severity.INFO,
                    "no recognizer_registry section: Presidio builds its default registry unless "
                    "the deployment passes a registry file (recognizer_registry_conf_file); "
                    "validate that file on its own",
                    path=path,
                    hint="nothing to do when the registry is a separate file",
                )
            )
            continue
        more = f" (and {len(lines) - 1} more like it)" if len(lines) > 1 else ""
        findings.append(
            Finding(
                CODE_PRESIDIO_WARNING,
                Severity.WARNING,
                f"Presidio warned while loading: {lines[0]}{more}"[:800],
                path=path,
                hint="Presidio accepted the file but changed or dropped something",
            )
        )
    return findings


def registry_entries(parsed: Any, fmt: ConfigFormat) -> list[dict[Any, Any]]:
    """The registry entries of a registry or analyzer document (raw dicts)."""
    if not isinstance(parsed, dict):
        return []
    section = parsed.get("recognizer_registry") if fmt is ConfigFormat.ANALYZER else parsed
    entries = section.get("recognizers") if isinstance(section, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def country_codes(parsed: Any, fmt: ConfigFormat, *, path: str) -> list[Finding]:
    """CA214: a predefined entry's `country_code` that disagrees with its class's COUNTRY_CODE.

    The registry schema drops the key (no effect here), but `load_predefined_recognizers`, the path
    AnalyzerEngine uses for its default file, raises ValueError on a mismatch. A value equal to the
    class's own code changes nothing and is no finding.
    """
    if fmt is ConfigFormat.ADHOC:
        return []
    from presidio_analyzer.recognizer_registry.recognizers_loader_utils import (
        RecognizerListLoader,
    )

    findings = []
    for entry in registry_entries(parsed, fmt):
        value = entry.get("country_code")
        is_custom = entry.get("type") == "custom" or "patterns" in entry or "deny_list" in entry
        if value is None or is_custom:
            continue
        name = str(entry.get("name", ""))
        cls_name = str(entry.get("class_name") or name)
        try:
            cls = RecognizerListLoader.get_existing_recognizer_cls(cls_name)
        except Exception:
            continue  # an unknown class is reported by Presidio itself
        declared = getattr(cls, "COUNTRY_CODE", None)
        own = declared.lower() if isinstance(declared, str) else None
        given = value.strip().lower() if isinstance(value, str) else None
        if given is not None and given == own:
            continue
        said = f"class {cls.__name__} has COUNTRY_CODE {declared!r}"
        findings.append(
            Finding(
                CODE_COUNTRY_CODE,
                Severity.WARNING,
                f"country_code {value!r} disagrees with Presidio: {said}. This loader drops the "
                "key; Presidio's default loading path (load_predefined_recognizers) raises "
                "ValueError on it",
                path=path,
                recognizer=name,
                hint=f"write country_code: {own}" if own else "remove country_code",
            )
        )
    return findings
