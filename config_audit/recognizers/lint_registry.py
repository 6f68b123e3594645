"""Raw lint of the recognizer registry format (and of an analyzer file's inline registry):
the entries Presidio's RecognizerRegistryProvider drops, ignores or multiplies, with lines."""

from __future__ import annotations

from typing import Any

from config_audit.recognizers.lint_coerce import (
    coerced_number,
    custom_needs_single_entity,
    entity_keys,
    predefined_thresholds,
)
from config_audit.recognizers.lint_custom import custom_entry
from config_audit.recognizers.lint_entries import INFO, E, EntryLinter, W, as_number, suggest
from config_audit.recognizers.parse import entry_kind, entry_languages
from config_audit.recognizers.yamlsafe import line_of


def registry(linter: EntryLinter, raw: dict[Any, Any], *, languages: Any, where: str) -> None:
    linter.languages(languages, line=line_of(raw, "supported_languages"))
    registry_languages = tuple(str(x) for x in languages) if isinstance(languages, list) else ()
    if isinstance(languages, list) and not languages:
        linter.add(
            "CA108",
            E,
            "'supported_languages' is empty: zero recognizers load",
            line=line_of(raw, "supported_languages"),
            hint="list at least one language",
        )
    entries = linter.entries(raw)
    seen: dict[tuple[str, str], int | None] = {}
    enabled = 0
    for i, entry in enumerate(entries):
        line = line_of(entries, i)
        if isinstance(entry, str):
            linter.add(
                "CA111",
                E,
                f"bare string entry '{entry}' is silently dropped by Presidio",
                line=line,
                recognizer=entry,
                hint=f"write it as a mapping: - name: {entry}\\n    type: predefined",
            )
            continue
        if not isinstance(entry, dict):
            linter.add("CA111", E, "recognizer entry is not a mapping", line=line)
            continue
        name = str(entry.get("name", ""))
        if "name" not in entry:
            linter.add(
                "CA116",
                E,
                "recognizer entry has no name: Presidio rejects it",
                line=line,
                hint="add name: ...",
            )
        registry_entry(
            linter, entry, name=name, line=line, registry_languages=registry_languages, seen=seen
        )
        if entry.get("enabled", True) not in (False, "off", "no", "false", 0):
            enabled += 1
    if entries and not enabled:
        linter.add(
            "CA109",
            E,
            "every recognizer is disabled: an empty registry makes "
            "AnalyzerEngine load ALL predefined recognizers instead",
            line=line_of(raw, "recognizers"),
            hint="enable at least one recognizer",
        )


def registry_entry(
    linter: EntryLinter,
    entry: dict[Any, Any],
    *,
    name: str,
    line: int | None,
    registry_languages: tuple[str, ...],
    seen: dict[tuple[str, str], int | None],
) -> None:
    """One registry entry: its keys, its `type` and `enabled`, its languages, what its kind
    requires, then what it loads per language (templates, duplicates)."""
    kind = entry_kind(entry)
    cls = str(entry.get("class_name") or name)
    _entry_keys(linter, entry, name=name, kind=kind, cls=cls)
    _type_and_enabled(linter, entry, name=name)
    _entry_languages(linter, entry, name=name)
    if kind == "predefined":
        _predefined_entry(
            linter, entry, name=name, line=line, registry_languages=registry_languages
        )
    else:
        _custom_registry_entry(linter, entry, name=name, line=line)
    _per_language(
        linter,
        entry,
        name=name,
        kind=kind,
        line=line,
        registry_languages=registry_languages,
        seen=seen,
    )


def _entry_keys(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, kind: str, cls: str
) -> None:
    """Keys the class does not take (unless it accepts any), entity keys, a predefined class's
    thresholds: all judged against the constructor signatures (`KeySchema.classes`)."""
    if cls not in linter.schema.extra_allowed_classes:
        unknown_entry_keys(linter, entry, name=name, kind=kind, cls=cls)
    entity_keys(linter, entry, name=name, kind=kind, cls=cls)
    if kind == "predefined":
        predefined_thresholds(linter, entry, name=name, cls=cls)


def _type_and_enabled(linter: EntryLinter, entry: dict[Any, Any], *, name: str) -> None:
    """CA101: an unknown `type` (case-sensitive); CA119: an `enabled` that is not a boolean."""
    if entry.get("type") not in (None, "custom", "predefined"):
        linter.add(
            "CA101",
            E,
            f"type '{entry.get('type')}' is neither 'custom' nor 'predefined' (case-sensitive)",
            line=line_of(entry, "type"),
            recognizer=name,
            hint="use type: custom or type: predefined",
        )
    enabled = entry.get("enabled", True)
    if enabled is None or (not isinstance(enabled, bool) and enabled not in (0, 1)):
        linter.add(
            "CA119",
            W,
            f"enabled: {enabled!r} is not a boolean",
            line=line_of(entry, "enabled"),
            recognizer=name,
            hint="write enabled: true or enabled: false",
        )


def _entry_languages(linter: EntryLinter, entry: dict[Any, Any], *, name: str) -> None:
    """CA110: recognizer-level `context` lost to `supported_languages`; then the languages."""
    if "supported_languages" in entry and "context" in entry:
        linter.add(
            "CA110",
            E,
            "recognizer-level 'context' is discarded because "
            "'supported_languages' is set (Presidio issue #1696)",
            line=line_of(entry, "context"),
            recognizer=name,
            hint="move the words under each language: supported_languages: "
            "[{language: en, context: [...]}]",
        )
    linter.languages(
        entry.get("supported_languages"),
        line=line_of(entry, "supported_languages"),
        recognizer=name,
    )


def _predefined_entry(
    linter: EntryLinter,
    entry: dict[Any, Any],
    *,
    name: str,
    line: int | None,
    registry_languages: tuple[str, ...],
) -> None:
    """A predefined entry takes no patterns or deny list; some of its keys are dropped."""
    if "patterns" in entry or "deny_list" in entry:
        linter.add(
            "CA116",
            E,
            "type: predefined with patterns or deny_list: Presidio rejects it",
            line=line,
            recognizer=name,
            hint="use type: custom",
        )
    predefined_dropped_keys(linter, entry, name=name, registry_languages=registry_languages)


def _custom_registry_entry(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, line: int | None
) -> None:
    """A custom entry's shared checks, read laxly: the registry's pydantic models convert a
    numeric-string deny_list_score, so it is reported as converted (CA130), then scored."""
    custom_entry(linter, entry, name=name, line=line, lax=True)
    custom_needs_single_entity(linter, entry, name=name)
    score = entry.get("deny_list_score")
    if as_number(score) is not None:
        coerced_number(
            linter,
            score,
            line=line_of(entry, "deny_list_score"),
            recognizer=name,
            what="deny_list_score",
        )
        linter.score(
            as_number(score),
            line=line_of(entry, "deny_list_score"),
            recognizer=name,
            what="deny_list_score",
        )


def _per_language(
    linter: EntryLinter,
    entry: dict[Any, Any],
    *,
    name: str,
    kind: str,
    line: int | None,
    registry_languages: tuple[str, ...],
    seen: dict[tuple[str, str], int | None],
) -> None:
    """The languages the entry loads for: their templates, then duplicates across entries."""
    languages = [lang for lang, _ctx in entry_languages(entry, registry_languages, kind)]
    template_languages(
        linter,
        entry,
        name=name,
        kind=kind,
        languages=languages,
        registry=registry_languages,
        line=line,
    )
    # A predefined entry per language with the ignored singular `supported_language` loads the
    # same class once per registry language each: CA113 says so; identical duplicates lose no
    # detection, so they are not repeated as CA102 errors.
    folded = kind == "predefined" and "supported_language" in entry
    loads = entry.get("enabled", True) is not False and not folded
    for lang in languages:
        if loads and (not registry_languages or lang in registry_languages):
            linter.duplicate((name, lang), seen, line)


def predefined_dropped_keys(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, registry_languages: tuple[str, ...]
) -> None:
    """CA113: keys Presidio drops from a predefined entry, when dropping them changes
    something. `country_code` is checked against the class by the worker (CA210)."""
    single = entry.get("supported_language")
    # Ignored in favour of the registry languages: harmless when they are that one language.
    if "supported_language" in entry and list(registry_languages) != [str(single)]:
        linter.add(
            "CA113",
            W,
            f"'supported_language: {single}' on a predefined recognizer is ignored: it is "
            f"created for every registry language {list(registry_languages)} (an entry per "
            "language loads the class once per entry in each)",
            line=line_of(entry, "supported_language"),
            recognizer=name,
            hint="use supported_languages: [" + str(single) + "], or remove it",
        )
    if "deny_list_score" in entry:
        linter.add(
            "CA113",
            W,
            "'deny_list_score' on a predefined recognizer is dropped",
            line=line_of(entry, "deny_list_score"),
            recognizer=name,
            hint="remove it; predefined recognizers have no deny list",
        )


def template_languages(
    linter: EntryLinter,
    entry: dict[Any, Any],
    *,
    name: str,
    kind: str,
    languages: list[str],
    registry: tuple[str, ...],
    line: int | None,
) -> None:
    """CA115: languages the registry does not list get no instance. Presidio's own template
    does this on purpose (one line turns a language on): info. A custom recognizer left with
    no language at all never runs: its author wrote it for nothing, an error."""
    if not registry or entry.get("enabled", True) is False:
        return
    outside = [lang for lang in dict.fromkeys(languages) if lang not in registry]
    if not outside:
        return
    kept = [lang for lang in dict.fromkeys(languages) if lang in registry]
    key = "supported_languages" if "supported_languages" in entry else "supported_language"
    where = line_of(entry, key)
    if not kept and kind == "custom":
        linter.add(
            "CA115",
            E,
            f"none of this recognizer's languages {outside} is in the registry's "
            f"supported_languages {list(registry)}: Presidio creates no instance of it",
            line=where or line,
            recognizer=name,
            hint=f"add {outside[0]!r} to supported_languages, or give the recognizer one of "
            f"{list(registry)}",
        )
        return
    linter.add(
        "CA115",
        INFO,
        f"no instance for {', '.join(outside)} (not in the registry's supported_languages "
        f"{list(registry)}); instances: {', '.join(kept) or 'none'}",
        line=where or line,
        recognizer=name,
        hint="Presidio's multi-language template; add the language to supported_languages "
        "to turn it on",
    )


def unknown_entry_keys(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, kind: str, cls: str
) -> None:
    """CA101: keys the registry's pydantic models do not declare are dropped before the
    recognizer is built. A predefined class's own constructor argument (PhoneRecognizer's
    `supported_regions`) is dropped too: the message says so, from the class's signature."""
    valid = linter.schema.registry_entry
    constructor = linter.schema.classes.get(cls) if kind == "predefined" else None
    for key in entry:
        if key in valid:
            continue
        hint = suggest(str(key), valid) + "remove it; the setting has no effect"
        message = f"unknown key '{key}' is silently dropped by Presidio"
        if constructor is not None and constructor.accepts(str(key)):
            message = (
                f"'{key}' is a {cls} constructor argument, but the registry schema drops it: "
                "the recognizer runs with its default"
            )
            hint = "set it in code (registry.add_recognizer), or remove the key"
        elif kind == "predefined" and not suggest(str(key), valid):
            hint = (
                "registry YAML cannot set constructor arguments of predefined "
                "recognizers; configure the recognizer in code, or remove the key"
            )
        linter.add("CA101", E, message, line=line_of(entry, key), recognizer=name, hint=hint)
