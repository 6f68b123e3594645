"""The checks of a custom entry (one Presidio builds from the file's own patterns and deny list,
not a predefined class), shared by ad-hoc entries and registry custom entries. Codes CA1xx."""

from __future__ import annotations

from typing import Any

from config_audit.recognizers.lint_entries import E, EntryLinter, W, as_number
from config_audit.recognizers.yamlsafe import line_of

LIST_KEYS = ("deny_list", "context", "patterns", "supported_languages", "supported_entities")


def custom_entry(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, line: int | None, lax: bool = False
) -> None:
    """Checks shared by ad-hoc entries and registry custom entries. `lax`: the registry's
    pydantic models convert numeric strings (its caller reports them, CA130)."""
    _what_it_detects(linter, entry, name=name, line=line)
    _shapes(linter, entry, name=name, line=line)
    _deny_list(linter, entry, name=name, lax=lax)
    _score_thresholds(linter, entry, name=name)
    _patterns(linter, entry, name=name)


def _what_it_detects(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, line: int | None
) -> None:
    """CA116: exactly one of supported_entity / supported_entities, and something to find with."""
    has_single, has_plural = "supported_entity" in entry, "supported_entities" in entry
    if has_single and has_plural:
        linter.add(
            "CA116",
            E,
            "both supported_entity and supported_entities are set: Presidio raises ValueError",
            line=line,
            recognizer=name,
            hint="keep one",
        )
    elif not has_single and not has_plural:
        linter.add(
            "CA116",
            E,
            "no supported_entity: Presidio cannot build this recognizer",
            line=line,
            recognizer=name,
            hint="add supported_entity: MY_ENTITY",
        )
    has_patterns = isinstance(entry.get("patterns"), list) and bool(entry["patterns"])
    has_deny = isinstance(entry.get("deny_list"), list) and bool(entry["deny_list"])
    if not has_patterns and not has_deny:
        linter.add(
            "CA116",
            E,
            "neither patterns nor deny_list: the recognizer finds nothing",
            line=line,
            recognizer=name,
            hint="add patterns or a deny_list",
        )


def _shapes(linter: EntryLinter, entry: dict[Any, Any], *, name: str, line: int | None) -> None:
    """CA103: the list keys hold lists; CA116: the entity and the name are strings."""
    for key in LIST_KEYS:
        value = entry.get(key)
        if key not in entry or value is None or isinstance(value, list):
            continue
        # Never echo the value: a deny list can hold personal data.
        what = "a string" if isinstance(value, str) else f"a {type(value).__name__}"
        linter.add(
            "CA103",
            E,
            f"'{key}' is {what}, not a list: Presidio iterates it "
            + ("character by character" if isinstance(value, str) else "wrongly or fails"),
            line=line_of(entry, key),
            recognizer=name,
            hint=f'write it as a YAML list: {key}: ["...", "..."]',
        )
    for key in ("supported_entity", "name"):
        value = entry.get(key)
        if key in entry and not isinstance(value, str):
            linter.add(
                "CA116",
                E,
                f"'{key}' must be a string, got a {type(value).__name__}",
                line=line_of(entry, key),
                recognizer=name,
                hint=f"write {key}: MY_VALUE",
            )


def _deny_list(linter: EntryLinter, entry: dict[Any, Any], *, name: str, lax: bool) -> None:
    """CA121: each deny-list entry a non-empty string; then its score (a numeric string the
    registry converts is its caller's to report, so `lax` skips it here)."""
    deny = entry.get("deny_list")
    if isinstance(deny, list):
        for i, item in enumerate(deny):
            if not isinstance(item, str) or not item:
                linter.add(
                    "CA121",
                    E,
                    "deny_list entry is empty or not a string",
                    line=line_of(deny, i),
                    recognizer=name,
                    hint="quote each entry",
                )
    if "deny_list_score" in entry and not (lax and as_number(entry["deny_list_score"])):
        linter.score(
            entry["deny_list_score"],
            line=line_of(entry, "deny_list_score"),
            recognizer=name,
            what="deny_list_score",
        )


def _score_thresholds(linter: EntryLinter, entry: dict[Any, Any], *, name: str) -> None:
    """Each threshold a score (0 allowed); CA123: a key naming no entity of this recognizer."""
    thresholds = entry.get("score_thresholds")
    if not isinstance(thresholds, dict):
        return
    entities = {str(entry.get("supported_entity"))} | set(
        map(str, entry.get("supported_entities") or [])
    )
    for key, value in thresholds.items():
        kline = line_of(thresholds, key)
        linter.score(
            value, line=kline, recognizer=name, what=f"score_thresholds.{key}", zero_ok=True
        )
        if key != "default" and str(key) not in entities:
            linter.add(
                "CA123",
                W,
                f"score_thresholds key '{key}' is neither 'default' nor "
                "an entity of this recognizer: it has no effect",
                line=kline,
                recognizer=name,
                hint="use 'default' or the entity name",
            )


def _patterns(linter: EntryLinter, entry: dict[Any, Any], *, name: str) -> None:
    """Each pattern's own checks; CA126: a repeated pattern name (its changes blur together)."""
    patterns = entry.get("patterns")
    if not isinstance(patterns, list):
        return
    names: set[Any] = set()
    for i, pattern in enumerate(patterns):
        linter.pattern(pattern, line=line_of(patterns, i), recognizer=name)
        named = isinstance(pattern, dict) and pattern.get("name") is not None
        if named and pattern.get("name") in names:  # unnamed patterns are another finding
            linter.add(
                "CA126",
                W,
                f"pattern name '{pattern['name']}' repeats: changes to it cannot be told apart",
                line=line_of(patterns, i),
                recognizer=name,
                hint="give each pattern a unique name",
            )
        if named:
            names.add(pattern.get("name"))
