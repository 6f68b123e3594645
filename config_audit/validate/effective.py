"""The effective recognizer view: what Presidio actually instantiated, as model values.

`from_registry` reads live Presidio recognizer objects (duck-typed; called in the worker);
`to_wire` / `from_wire` carry the result across the process boundary as JSON. Nothing here
imports Presidio, so the parent can decode without paying for it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from config_audit.model import ConfigFormat, PatternDef, RecognizerDef, RecognizerSet

# Attributes already represented by a RecognizerDef field, or process-local / not configuration.
_KNOWN = frozenset(
    {
        "name",
        "supported_entities",
        "supported_language",
        "version",
        "is_loaded",
        "context",
        "patterns",
        "deny_list",
        "deny_list_score",
        "global_regex_flags",
        "id",
    }
)
_SIMPLE = (str, int, float, bool, type(None))


def _simple_repr(value: Any) -> str | None:
    """A stable repr for simple values and flat containers of them; None for anything else."""
    if isinstance(value, _SIMPLE):
        return repr(value)
    if isinstance(value, (set, frozenset)) and all(isinstance(v, _SIMPLE) for v in value):
        return "{" + ", ".join(sorted(repr(v) for v in value)) + "}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, _SIMPLE) for v in value):
        return repr(list(value))
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (list, tuple)) and all(isinstance(x, _SIMPLE) for x in v) for v in value
    ):
        return repr([list(v) for v in value])
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, _SIMPLE) for k, v in value.items()
    ):
        return repr(dict(sorted(value.items())))
    return None


def _score(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _country_code(rec: Any) -> str | None:
    value = getattr(rec, "_country_code", None)
    if value is None:
        attr = getattr(rec, "country_code", None)
        value = attr() if callable(attr) else attr
    return str(value) if value else None


def recognizer_def(rec: Any, *, pattern_class: type) -> RecognizerDef:
    """One live Presidio recognizer as a RecognizerDef (`kind` custom = plain PatternRecognizer)."""
    cls = type(rec)
    patterns = list(getattr(rec, "patterns", None) or [])
    deny_list = [str(d) for d in (getattr(rec, "deny_list", None) or [])]
    if deny_list and patterns and patterns[-1].name == "deny_list":
        patterns = patterns[:-1]  # generated from deny_list by PatternRecognizer.__init__
    flags = getattr(rec, "global_regex_flags", None)
    thresholds = getattr(rec, "_score_thresholds", None) or {}
    attributes: list[tuple[str, str]] = []
    for key, value in sorted(vars(rec).items()):
        if key.startswith("_") or key in _KNOWN:
            continue
        text = _simple_repr(value)
        if text is not None:
            attributes.append((key, text))
    return RecognizerDef(
        name=str(rec.name),
        language=str(rec.supported_language),
        entities=tuple(str(e) for e in (rec.supported_entities or ())),
        kind="custom" if cls is pattern_class else "predefined",
        class_name=cls.__name__,
        patterns=tuple(PatternDef(str(p.name), str(p.regex), _score(p.score)) for p in patterns),
        deny_list=tuple(deny_list),
        deny_list_score=_score(rec.deny_list_score) if hasattr(rec, "deny_list_score") else None,
        context=tuple(str(c) for c in (getattr(rec, "context", None) or ())),
        global_regex_flags=int(flags) if flags is not None else None,
        score_thresholds=tuple(sorted((str(k), _score(v)) for k, v in thresholds.items())),
        country_code=_country_code(rec),
        attributes=tuple(attributes),
    )


def from_registry(
    recognizers: Iterable[Any],
    *,
    path: str,
    fmt: ConfigFormat,
    languages: Iterable[str],
    global_regex_flags: int | None,
    pattern_class: type,
    settings: Iterable[tuple[str, str]] = (),
) -> RecognizerSet:
    return RecognizerSet(
        path=path,
        format=fmt,
        languages=tuple(str(lang) for lang in languages),
        recognizers=tuple(recognizer_def(r, pattern_class=pattern_class) for r in recognizers),
        global_regex_flags=int(global_regex_flags) if global_regex_flags is not None else None,
        settings=tuple(settings),
    )


def _num(value: float | None) -> float | str | None:
    # JSON has no NaN; keep it distinguishable.
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _unnum(value: Any) -> float | None:
    return math.nan if value == "NaN" else (None if value is None else float(value))


def to_wire(rs: RecognizerSet) -> dict[str, Any]:
    return {
        "path": rs.path,
        "format": rs.format.value,
        "languages": list(rs.languages),
        "global_regex_flags": rs.global_regex_flags,
        "settings": [list(s) for s in rs.settings],
        "recognizers": [
            {
                "name": r.name,
                "language": r.language,
                "entities": list(r.entities),
                "kind": r.kind,
                "class_name": r.class_name,
                "patterns": [[p.name, p.regex, _num(p.score)] for p in r.patterns],
                "deny_list": list(r.deny_list),
                "deny_list_score": _num(r.deny_list_score),
                "context": list(r.context),
                "global_regex_flags": r.global_regex_flags,
                "score_thresholds": [[k, _num(v)] for k, v in r.score_thresholds],
                "country_code": r.country_code,
                "attributes": [list(a) for a in r.attributes],
            }
            for r in rs.recognizers
        ],
    }


def from_wire(data: Mapping[str, Any]) -> RecognizerSet:
    return RecognizerSet(
        path=str(data["path"]),
        format=ConfigFormat(data["format"]),
        languages=tuple(data["languages"]),
        global_regex_flags=data.get("global_regex_flags"),
        settings=tuple((str(k), str(v)) for k, v in data.get("settings", ())),
        recognizers=tuple(
            RecognizerDef(
                name=r["name"],
                language=r["language"],
                entities=tuple(r["entities"]),
                kind=r["kind"],
                class_name=r["class_name"],
                patterns=tuple(PatternDef(n, rx, _score(_unnum(s))) for n, rx, s in r["patterns"]),
                deny_list=tuple(r["deny_list"]),
                deny_list_score=_unnum(r["deny_list_score"]),
                context=tuple(r["context"]),
                global_regex_flags=r["global_regex_flags"],
                score_thresholds=tuple((k, _score(_unnum(v))) for k, v in r["score_thresholds"]),
                country_code=r["country_code"],
                attributes=tuple((k, v) for k, v in r["attributes"]),
            )
            for r in data["recognizers"]
        ),
    )
