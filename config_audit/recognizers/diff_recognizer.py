"""Changes inside one recognizer that kept its identity: patterns, context, deny list, flags,
thresholds, entity, class. Impact follows PRESIDIO_NOTES section 4.2."""

from __future__ import annotations

import json
import math
from typing import Protocol

from config_audit.model import Change, Impact, PatternDef, RecognizerDef

WEAKENS, STRENGTHENS, NEUTRAL = Impact.WEAKENS, Impact.STRENGTHENS, Impact.NEUTRAL
IGNORECASE, VERBOSE, ASCII = 2, 64, 256


class Adder(Protocol):
    """Records one change of the recognizer being compared."""

    def __call__(
        self, kind: str, impact: Impact, summary: str, before: object = None, after: object = None
    ) -> None: ...


def _flag_names(value: int) -> list[str]:
    names = {
        2: "IGNORECASE",
        4: "LOCALE",
        8: "MULTILINE",
        16: "DOTALL",
        32: "UNICODE",
        64: "VERBOSE",
        128: "DEBUG",
        256: "ASCII",
    }
    return [n for bit, n in names.items() if value & bit]


def flag_changes(
    label: str | None, old: int | None, new: int | None, *, entities: tuple[str, ...]
) -> list[Change]:
    if old == new or old is None or new is None:
        return []
    lost_case = bool(old & IGNORECASE and not new & IGNORECASE)
    gained_bad = bool(new & ~old & (VERBOSE | ASCII))
    impact = WEAKENS if lost_case or gained_bad else NEUTRAL
    lost, gained = (
        set(_flag_names(old)) - set(_flag_names(new)),
        set(_flag_names(new)) - set(_flag_names(old)),
    )
    return [
        Change(
            "regex_flags.changed",
            impact,
            label,
            f"global_regex_flags {old} -> {new} (lost {sorted(lost)}, gained {sorted(gained)})",
            entities,
            str(old),
            str(new),
        )
    ]


def _score_text(score: float) -> str:
    return "invalid" if math.isnan(score) else f"{score:g}"


def diff_recognizer(old: RecognizerDef, new: RecognizerDef) -> list[Change]:
    """Changes inside one recognizer that kept its identity."""
    # Old and new entities: moving a recognizer off a protected entity touches that entity.
    label, ents = new.label, tuple(dict.fromkeys(old.entities + new.entities))
    out: list[Change] = []

    def add(
        kind: str,
        impact: Impact,
        summary: str,
        before: object = None,
        after: object = None,
        line: int | None = new.line,
    ) -> None:
        out.append(
            Change(
                kind,
                impact,
                label,
                summary,
                ents,
                None if before is None else _text(before),
                None if after is None else _text(after),
                line=line,
            )
        )

    _identity(add, old, new)
    out += _patterns(label, ents, old.patterns, new.patterns)
    _word_lists(add, old, new)
    out += flag_changes(label, old.global_regex_flags, new.global_regex_flags, entities=ents)
    _thresholds(add, dict(old.score_thresholds), dict(new.score_thresholds))
    _scope(add, old, new)
    return out


def _identity(add: Adder, old: RecognizerDef, new: RecognizerDef) -> None:
    """Whether it runs, for which entity, as which class."""
    if old.enabled != new.enabled:
        if new.enabled:
            add("recognizer.enabled", STRENGTHENS, "recognizer enabled")
        else:
            add("recognizer.disabled", WEAKENS, "recognizer disabled: it no longer runs")
    if old.entities != new.entities and old.entities and new.entities:
        add(
            "recognizer.entity_changed",
            WEAKENS,
            f"entity {list(old.entities)} -> "
            f"{list(new.entities)}: entity-filtered requests and anonymizer operators stop "
            "matching",
            old.entities,
            new.entities,
        )
    if old.kind != new.kind or old.class_name != new.class_name:
        add(
            "recognizer.class_changed",
            WEAKENS,
            f"type/class {old.kind}/{old.class_name} -> {new.kind}/{new.class_name}",
            old.class_name,
            new.class_name,
        )


def _word_lists(add: Adder, old: RecognizerDef, new: RecognizerDef) -> None:
    """Context words and the deny list with its score."""
    _set_change(add, "context.words", old.context, new.context, "context word")
    _set_change(add, "deny_list.entries", old.deny_list, new.deny_list, "deny-list entry")
    if old.deny_list_score != new.deny_list_score and old.deny_list and new.deny_list:
        lowered = (new.deny_list_score or 0) < (old.deny_list_score or 0)
        add(
            "deny_list.score_lowered" if lowered else "deny_list.score_raised",
            WEAKENS if lowered else STRENGTHENS,
            f"deny_list_score {old.deny_list_score} -> {new.deny_list_score}",
            old.deny_list_score,
            new.deny_list_score,
        )


def _scope(add: Adder, old: RecognizerDef, new: RecognizerDef) -> None:
    """Country filtering and the class's other attributes."""
    if old.country_code != new.country_code:
        add(
            "recognizer.country_changed",
            WEAKENS if new.country_code else STRENGTHENS,
            f"country_code {old.country_code} -> {new.country_code}: with country filtering "
            "the recognizer may stop running",
            old.country_code,
            new.country_code,
        )
    old_attrs, new_attrs = dict(old.attributes), dict(new.attributes)
    for key in sorted(old_attrs.keys() | new_attrs.keys()):
        if old_attrs.get(key) != new_attrs.get(key):
            add(
                "recognizer.attribute_changed",
                WEAKENS,
                f"{key}: {old_attrs.get(key)} -> "
                f"{new_attrs.get(key)} (review: may narrow detection)",
                old_attrs.get(key),
                new_attrs.get(key),
            )


def _text(value: object) -> str:
    if isinstance(value, tuple | list | set):
        return json.dumps(sorted(map(str, value)), ensure_ascii=False)
    return str(value)


def _set_change(
    add: Adder, kind: str, old: tuple[str, ...], new: tuple[str, ...], noun: str
) -> None:
    gone, came = sorted(set(old) - set(new)), sorted(set(new) - set(old))
    if gone:
        add(f"{kind}_removed", WEAKENS, f"{len(gone)} {noun}(s) removed", gone, None)
    if came:
        add(f"{kind}_added", STRENGTHENS, f"{len(came)} {noun}(s) added", None, came)


def _thresholds(add: Adder, old: dict[str, float], new: dict[str, float]) -> None:
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key, 0.0), new.get(key, 0.0)
        if a == b or (math.isnan(a) and math.isnan(b)):
            continue
        raised = b > a or math.isnan(b)
        add(
            "score_threshold.raised" if raised else "score_threshold.lowered",
            WEAKENS if raised else STRENGTHENS,
            f"score_thresholds[{key}] {_score_text(a)} -> {_score_text(b)}",
            a,
            b,
        )


PatternKey = tuple[str, int]  # (name, occurrence): pattern names are not unique either


def _pattern_index(patterns: tuple[PatternDef, ...]) -> dict[PatternKey, PatternDef]:
    index: dict[PatternKey, PatternDef] = {}
    seen: dict[str, int] = {}
    for p in patterns:
        seen[p.name] = seen.get(p.name, 0) + 1
        index[(p.name, seen[p.name])] = p  # a name that looks like a suffix cannot collide
    return index


def _shown(key: PatternKey) -> str:
    name, occurrence = key
    return name if occurrence == 1 else f"{name} (#{occurrence})"


def _patterns(
    label: str, ents: tuple[str, ...], old: tuple[PatternDef, ...], new: tuple[PatternDef, ...]
) -> list[Change]:
    before, after = _pattern_index(old), _pattern_index(new)
    gone = {k: p for k, p in before.items() if k not in after}
    came = {k: p for k, p in after.items() if k not in before}
    out = _renamed(label, ents, gone, came)  # pairs leave `gone` and `came`
    for key, p in gone.items():
        out.append(
            Change(
                "pattern.removed",
                WEAKENS,
                label,
                f"pattern '{_shown(key)}' removed",
                ents,
                p.regex,
                None,
                line=None,
            )
        )
    for key, p in came.items():
        out.append(
            Change(
                "pattern.added",
                STRENGTHENS,
                label,
                f"pattern '{_shown(key)}' added (score {_score_text(p.score)})",
                ents,
                None,
                p.regex,
                line=p.line,
                score=p.score,
            )
        )
    for key in before.keys() & after.keys():
        out += _pattern_changed(label, ents, key, before[key], after[key])
    return out


def _renamed(
    label: str,
    ents: tuple[str, ...],
    gone: dict[PatternKey, PatternDef],
    came: dict[PatternKey, PatternDef],
) -> list[Change]:
    """A pattern gone under one name and come under another with the same regex and score."""
    out: list[Change] = []
    for gk, gp in list(gone.items()):
        match = next(
            (k for k, p in came.items() if (p.regex, p.score) == (gp.regex, gp.score)), None
        )
        if match is not None:
            out.append(
                Change(
                    "pattern.renamed",
                    NEUTRAL,
                    label,
                    f"pattern '{_shown(gk)}' renamed to '{_shown(match)}'",
                    ents,
                    _shown(gk),
                    _shown(match),
                    line=came[match].line,
                )
            )
            del gone[gk], came[match]
    return out


def _pattern_changed(
    label: str, ents: tuple[str, ...], key: PatternKey, a: PatternDef, b: PatternDef
) -> list[Change]:
    out: list[Change] = []
    if a.regex != b.regex:
        out.append(
            Change(
                "pattern.regex_changed",
                WEAKENS,
                label,
                f"pattern '{_shown(key)}' regex "
                "changed (review: recall cannot be judged statically; samples "
                "decide)",
                ents,
                a.regex,
                b.regex,
                line=b.line,
            )
        )
    if a.score != b.score and not (math.isnan(a.score) and math.isnan(b.score)):
        lowered = math.isnan(b.score) or (not math.isnan(a.score) and b.score < a.score)
        out.append(
            Change(
                "pattern.score_lowered" if lowered else "pattern.score_raised",
                WEAKENS if lowered else STRENGTHENS,
                label,
                f"pattern '{_shown(key)}' score {_score_text(a.score)} -> {_score_text(b.score)}",
                ents,
                _score_text(a.score),
                _score_text(b.score),
                line=b.line,
                score=b.score,
            )
        )
    return out
