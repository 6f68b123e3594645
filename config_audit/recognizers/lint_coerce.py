"""What Presidio truncates, drops or converts on the way from YAML to a recognizer (CA129,
CA130), judged against the constructor signatures the worker derives (`KeySchema.classes`).

Read in Presidio 2.2.366's source: `RecognizerListLoader._prepare_recognizer_kwargs` turns
`supported_entities` into `supported_entity` = its first element for a class that takes one
entity, and drops `supported_entity` for a class that takes a list; `PatternRecognizer.from_dict`
keeps only the first of an ad-hoc entry's `supported_entities`; the registry's pydantic models
convert numbers written as strings (`deny_list_score: "0.5"`), which the ad-hoc reader does not.
"""

from __future__ import annotations

from typing import Any

from config_audit.recognizers.lint_entries import INFO, E, EntryLinter, W, as_number
from config_audit.recognizers.yamlsafe import line_of


def entity_keys(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, kind: str, cls: str
) -> None:
    """CA129 for a registry entry whose entity keys Presidio truncates or drops."""
    plural = entry.get("supported_entities")
    if kind == "custom":
        return  # the registry requires supported_entity there (custom_needs_single_entity)
    info = linter.schema.classes.get(cls)
    if info is None:
        return  # not a class Presidio knows: it rejects the entry (CA202)
    if "supported_entity" in entry and not info.accepts("supported_entity"):
        takes = "supported_entities" if info.accepts("supported_entities") else "no entity"
        linter.add(
            "CA129",
            W,
            f"'supported_entity' is dropped: {cls} takes {takes}, so it keeps detecting its "
            "own entities",
            line=line_of(entry, "supported_entity"),
            recognizer=name,
            hint="write supported_entities: [...]"
            if info.accepts("supported_entities")
            else "remove it",
        )
    if not isinstance(plural, list) or info.accepts("supported_entities"):
        return
    if info.accepts("supported_entity"):
        if len(plural) > 1:
            linter.add(
                "CA129",
                E,
                f"only the first of {len(plural)} supported_entities ({plural[0]}) is used: "
                f"{cls} takes one entity; {', '.join(map(str, plural[1:]))} is never reported",
                line=line_of(entry, "supported_entities"),
                recognizer=name,
                hint=f"keep one entity (supported_entity: {plural[0]}); another entity "
                "needs its own recognizer",
            )
    elif not info.var_kw:
        linter.add(
            "CA129",
            W,
            f"'supported_entities' is dropped: {cls} takes no entity argument",
            line=line_of(entry, "supported_entities"),
            recognizer=name,
            hint="remove it",
        )


def predefined_thresholds(
    linter: EntryLinter, entry: dict[Any, Any], *, name: str, cls: str
) -> None:
    """CA123 for a predefined entry: a `score_thresholds` key that is neither `default` nor an
    entity the instance detects (the YAML's, else the class's default) has no effect
    (`normalize_score_thresholds` does not check the keys)."""
    thresholds, info = entry.get("score_thresholds"), linter.schema.classes.get(cls)
    if not isinstance(thresholds, dict) or info is None:
        return
    plural, single = entry.get("supported_entities"), entry.get("supported_entity")
    if isinstance(plural, list) and (info.accepts("supported_entities") or info.var_kw):
        entities: frozenset[str] | None = frozenset(map(str, plural))
    elif isinstance(plural, list) and plural and info.accepts("supported_entity"):
        entities = frozenset({str(plural[0])})
    elif isinstance(single, str) and info.accepts("supported_entity"):
        entities = frozenset({single})
    else:
        entities = info.entities
    if entities is None:
        return  # the class decides at run time (a model's labels): nothing to compare with
    for key in thresholds:
        if key != "default" and str(key) not in entities:
            linter.add(
                "CA123",
                W,
                f"score_thresholds key '{key}' is neither 'default' nor an entity {cls} "
                f"detects ({', '.join(sorted(entities))}): it has no effect",
                line=line_of(thresholds, key),
                recognizer=name,
                hint="use 'default' or one of the entity names",
            )


def first_entity_only(linter: EntryLinter, entry: dict[Any, Any], *, name: str) -> None:
    """CA129: a pattern recognizer has one entity; from a list Presidio keeps the first."""
    plural = entry.get("supported_entities")
    if isinstance(plural, list) and len(plural) > 1 and "supported_entity" not in entry:
        linter.add(
            "CA129",
            E,
            f"only the first of {len(plural)} supported_entities ({plural[0]}) is used: a "
            f"pattern recognizer has one entity; {', '.join(map(str, plural[1:]))} is never "
            "reported",
            line=line_of(entry, "supported_entities"),
            recognizer=name,
            hint="one recognizer per entity: copy the entry for each",
        )


def custom_needs_single_entity(linter: EntryLinter, entry: dict[Any, Any], *, name: str) -> None:
    """CA116: the registry's CustomRecognizerConfig requires `supported_entity`; unlike the
    ad-hoc reader it does not take the first of `supported_entities` (pydantic: Field
    required), and names a predefined class only as `type: predefined`."""
    if "supported_entities" in entry and "supported_entity" not in entry:
        linter.add(
            "CA116",
            E,
            "a custom registry entry needs 'supported_entity': 'supported_entities' alone is "
            "rejected by Presidio",
            line=line_of(entry, "supported_entities"),
            recognizer=name,
            hint="write supported_entity: ENTITY (one entity per custom recognizer)",
        )
    if name in linter.schema.classes:
        linter.add(
            "CA116",
            E,
            f"custom recognizer named '{name}' like a predefined class: Presidio rejects the file",
            line=line_of(entry, "name"),
            recognizer=name,
            hint="rename it, or use type: predefined for the built-in recognizer",
        )


def coerced_number(
    linter: EntryLinter, value: Any, *, line: int | None, recognizer: str, what: str
) -> bool:
    """CA130 (info) when the registry schema converts a numeric string; True if it did."""
    number = as_number(value)
    if number is None:
        return False
    linter.add(
        "CA130",
        INFO,
        f"{what} is written as a string ({value!r}); Presidio's registry schema converts it "
        f"to {number}",
        line=line,
        recognizer=recognizer,
        hint="write it as a number",
    )
    return True
