"""YAML bytes -> `RecognizerSet`: detect which Presidio format a file is and normalize it.

The declared view: one `RecognizerDef` per (entry, language), exactly as Presidio's loaders would
expand the entry, but without importing Presidio. Normalization is tolerant of bad shapes (those
are reported by `lint` and by loading into Presidio); it never raises on a well-formed document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from config_audit.errors import RecognizerFileError
from config_audit.model import (
    ConfigFormat,
    Finding,
    PatternDef,
    RecognizerDef,
    RecognizerSet,
    Severity,
)
from config_audit.recognizers.nlp import is_nlp_document, nlp_settings
from config_audit.recognizers.yamlsafe import YamlLoadError, line_of, load_yaml

DEFAULT_FLAGS = 26  # re.DOTALL | re.MULTILINE | re.IGNORECASE, Presidio's default
ANALYZER_KEYS = frozenset(
    {
        "nlp_configuration",
        "recognizer_registry",
        "default_score_threshold",
        "context_aware_enhancer",
    }
)
REGISTRY_ENTRY_KEYS = frozenset({"type", "enabled", "class_name", "supported_languages"})


class UnparseableFile(RecognizerFileError):
    """The file is not YAML we can read, or not a Presidio recognizer file at all."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(f"{finding.location}: {finding.message}", advice=finding.hint)
        self.finding = finding


@dataclass(frozen=True)
class ParsedFile:
    path: str
    format: ConfigFormat
    raw: Any  # LineDict tree, for lint
    recognizers: RecognizerSet


def parse_bytes(data: bytes, *, path: str, fmt: ConfigFormat | None = None) -> ParsedFile:
    """Parse and normalize one recognizer file; raise `UnparseableFile` with a finding."""
    try:
        raw = load_yaml(data)
    except YamlLoadError as exc:
        raise UnparseableFile(
            Finding(
                exc.code,
                Severity.ERROR,
                str(exc),
                path=path,
                line=exc.line,
                hint="fix the YAML; Presidio would reject or misread this file",
            )
        ) from None
    if isinstance(raw, list):
        raise UnparseableFile(
            Finding(
                "CA004",
                Severity.ERROR,
                "top level is a list; Presidio expects a mapping with "
                "a 'recognizers' key and cannot load this file",
                path=path,
                line=line_of(raw),
                hint="indent the list under a top-level 'recognizers:' key",
            )
        )
    fmt = fmt or detect_format(raw)
    if fmt is None and is_langextract_document(raw):
        raise UnparseableFile(
            Finding(
                "CA004",
                Severity.WARNING,  # a valid file of another reader: not ours to block
                "a LangExtract recognizer configuration, read by LangExtractRecognizer, not by "
                "Presidio's four loaders: its entities and labels are not audited",
                path=path,
                line=line_of(raw),
                hint="review its changes by hand, or keep it out of the recognizer globs",
            )
        )
    if fmt is None:
        raise UnparseableFile(
            Finding(
                "CA004",
                Severity.ERROR,
                "not a Presidio recognizer file: no 'recognizers' list, "
                "no analyzer and no NLP engine configuration keys",
                path=path,
                line=line_of(raw),
                hint="add a top-level 'recognizers:' list, or exclude this file from the "
                "recognizer globs in .config-audit.yaml",
            )
        )
    return ParsedFile(
        path=path, format=fmt, raw=raw, recognizers=normalize(raw, path=path, fmt=fmt)
    )


def is_langextract_document(raw: Any) -> bool:
    """Presidio's shipped langextract_config_*.yaml: an LLM recognizer's own settings."""
    return isinstance(raw, dict) and bool(raw) and set(raw) <= {"lm_recognizer", "langextract"}


def detect_format(raw: Any) -> ConfigFormat | None:
    """Which loader reads this document, judged by its keys (None: not a recognizer file)."""
    if not isinstance(raw, dict):
        return None
    if ANALYZER_KEYS & set(raw):
        return ConfigFormat.ANALYZER
    if "recognizers" not in raw:
        if is_nlp_document(raw):
            return ConfigFormat.NLP
        return ConfigFormat.ANALYZER if set(raw) == {"supported_languages"} else None
    if {"supported_languages", "global_regex_flags", "supported_countries"} & set(raw):
        return ConfigFormat.REGISTRY
    entries = raw.get("recognizers")
    if isinstance(entries, list) and any(
        isinstance(e, str) or (isinstance(e, dict) and REGISTRY_ENTRY_KEYS & set(e))
        for e in entries
    ):
        return ConfigFormat.REGISTRY
    return ConfigFormat.ADHOC


def normalize(raw: Any, *, path: str, fmt: ConfigFormat) -> RecognizerSet:
    if fmt is ConfigFormat.ADHOC:
        return _normalize_adhoc(raw, path)
    if fmt is ConfigFormat.REGISTRY:
        return _normalize_registry(
            raw, path, fmt=fmt, languages=_str_list(raw.get("supported_languages"))
        )
    if fmt is ConfigFormat.NLP:
        models = raw.get("models") if isinstance(raw, dict) else None
        languages = (
            tuple(sorted({str(m.get("lang_code")) for m in models or [] if isinstance(m, dict)}))
            if isinstance(models, list)
            else ()
        )
        return RecognizerSet(
            path=path,
            format=fmt,
            languages=languages,
            recognizers=(),
            settings=tuple(nlp_settings(raw)),
        )
    return _normalize_analyzer(raw, path)


# -- shared helpers ------------------------------------------------------------------------------


def _str_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if not isinstance(v, dict))
    return ()


def _as_list(value: Any) -> list[Any]:
    """Presidio iterates whatever it is given; a string becomes its characters (lint flags it)."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return list(value)
    return []


def _score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _entities(entry: dict[Any, Any]) -> tuple[str, ...]:
    if "supported_entity" in entry:
        return (str(entry["supported_entity"]),)
    ents = entry.get("supported_entities")
    if isinstance(ents, list):
        return tuple(str(e) for e in ents)
    return ()


def _patterns(value: Any) -> tuple[PatternDef, ...]:
    out = []
    if isinstance(value, list):
        for i, p in enumerate(value):
            if isinstance(p, dict):
                out.append(
                    PatternDef(
                        str(p.get("name", f"#{i + 1}")),
                        str(p.get("regex", "")),
                        _score(p.get("score")),
                        line_of(value, i),
                    )
                )
    return tuple(out)


def _thresholds(value: Any) -> tuple[tuple[str, float], ...]:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _score(v)) for k, v in value.items()))
    return ()


def _flags(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)  # pydantic is lax: "26" is accepted
    return None


def _lax_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "off", "no", "0", "n", "f")
    return bool(value) if value is not None else True


def _custom_def(
    entry: dict[Any, Any],
    *,
    name: str,
    language: str,
    context: Any,
    line: int | None,
    flags: int | None,
) -> RecognizerDef:
    deny = _as_list(entry.get("deny_list"))
    return RecognizerDef(
        name=name,
        language=language,
        entities=_entities(entry),
        kind="custom",
        enabled=_lax_bool(entry.get("enabled", True)),
        patterns=_patterns(entry.get("patterns")),
        deny_list=tuple(sorted({str(d) for d in deny})),
        deny_list_score=_score(entry.get("deny_list_score", 1.0)) if deny else None,
        context=tuple(sorted({str(c) for c in _as_list(context)})),
        global_regex_flags=flags,
        score_thresholds=_thresholds(entry.get("score_thresholds")),
        country_code=str(entry["country_code"]).lower() if entry.get("country_code") else None,
        line=line,
    )


# -- (a) ad-hoc recognizers file ---------------------------------------------------------------


def _normalize_adhoc(raw: Any, path: str) -> RecognizerSet:
    recs = []
    entries = raw.get("recognizers") if isinstance(raw, dict) else None
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue
        flags = _flags(entry.get("global_regex_flags", DEFAULT_FLAGS))
        recs.append(
            _custom_def(
                entry,
                name=str(entry.get("name", "PatternRecognizer")),
                language=str(entry.get("supported_language", "en")),
                context=entry.get("context"),
                line=line_of(entries, i),
                flags=flags,
            )
        )
    languages = tuple(sorted({r.language for r in recs}))
    return RecognizerSet(
        path=path, format=ConfigFormat.ADHOC, languages=languages, recognizers=tuple(recs)
    )


# -- (b) recognizer registry configuration ----------------------------------------------------


def entry_kind(entry: dict[Any, Any]) -> str:
    """Presidio infers `custom` when patterns or deny_list are present, else `predefined`."""
    declared = entry.get("type")
    if declared in ("custom", "predefined"):
        return str(declared)
    return "custom" if ("patterns" in entry or "deny_list" in entry) else "predefined"


def entry_languages(
    entry: dict[Any, Any], registry_languages: tuple[str, ...], kind: str
) -> list[tuple[str, Any]]:
    """(language, context) pairs the entry expands to, as `RecognizerListLoader` does it."""
    items = entry.get("supported_languages")
    if isinstance(items, list):
        # Recognizer-level `context` is discarded when supported_languages is given (issue #1696).
        pairs = []
        for item in items:
            if isinstance(item, dict):
                pairs.append((str(item.get("language")), item.get("context")))
            else:
                pairs.append((str(item), None))
        return pairs
    if kind == "custom" and entry.get("supported_language"):
        return [(str(entry["supported_language"]), entry.get("context"))]
    return [(lang, entry.get("context")) for lang in registry_languages]


def _normalize_registry(
    raw: Any, path: str, *, fmt: ConfigFormat, languages: tuple[str, ...]
) -> RecognizerSet:
    flags = _flags(raw.get("global_regex_flags", DEFAULT_FLAGS)) if isinstance(raw, dict) else None
    entries = raw.get("recognizers") if isinstance(raw, dict) else None
    recs: list[RecognizerDef] = []
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict):
            continue  # bare strings are dropped by Presidio; lint reports them
        kind = entry_kind(entry)
        line = line_of(entries, i)
        name = str(entry.get("name", ""))
        for language, context in entry_languages(entry, languages, kind):
            if language not in languages:
                continue  # Presidio drops it with a WARNING; lint reports it
            if kind == "custom":
                recs.append(
                    _custom_def(
                        entry, name=name, language=language, context=context, line=line, flags=flags
                    )
                )
            else:
                recs.append(
                    RecognizerDef(
                        name=name,
                        language=language,
                        entities=_entities(entry),
                        kind="predefined",
                        class_name=str(entry.get("class_name") or name),
                        enabled=_lax_bool(entry.get("enabled", True)),
                        context=tuple(sorted({str(c) for c in _as_list(context)})),
                        score_thresholds=_thresholds(entry.get("score_thresholds")),
                        line=line,
                    )
                )
    return RecognizerSet(
        path=path,
        format=fmt,
        languages=languages,
        recognizers=tuple(recs),
        global_regex_flags=flags,
    )


# -- (c) analyzer engine configuration --------------------------------------------------------


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            _flatten(f"{prefix}.{k}", value[k], out)
    elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        out.append((prefix, repr(sorted(map(str, value)))))
    else:
        out.append((prefix, repr(value)))


def _normalize_analyzer(raw: Any, path: str) -> RecognizerSet:
    languages = _str_list(raw.get("supported_languages", ["en"]))
    settings: list[tuple[str, str]] = []
    settings.append(("default_score_threshold", repr(raw.get("default_score_threshold", 0))))
    if "nlp_configuration" in raw:
        settings += nlp_settings(raw["nlp_configuration"])
    if "context_aware_enhancer" in raw:
        _flatten("context_aware_enhancer", raw["context_aware_enhancer"], settings)
    registry = raw.get("recognizer_registry")
    if not isinstance(registry, dict):
        settings.append(("recognizer_registry", "'presidio defaults'"))
        return RecognizerSet(
            path=path,
            format=ConfigFormat.ANALYZER,
            languages=languages,
            recognizers=(),
            settings=tuple(sorted(settings)),
        )
    # The top-level supported_languages replaces the section's own.
    inner = _normalize_registry(registry, path, fmt=ConfigFormat.ANALYZER, languages=languages)
    return RecognizerSet(
        path=path,
        format=ConfigFormat.ANALYZER,
        languages=languages,
        recognizers=inner.recognizers,
        global_regex_flags=inner.global_regex_flags,
        settings=tuple(sorted(settings)),
    )
