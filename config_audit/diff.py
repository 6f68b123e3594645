"""Semantic diff of two `RecognizerSet`s: changes keyed by (name, language), with impact.

Never by list position: reordering, comments, quoting and formatting produce no change.
A removed and an added recognizer that are otherwise identical are paired as a rename.
Impact follows the weakening table of PRESIDIO_NOTES §4.2; changes that cannot be judged
statically (a regex rewritten, an entity renamed) count as `weakens` so they get reviewed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import replace

from config_audit.model import Change, Impact, PatternDef, RecognizerDef, RecognizerSet

WEAKENS, STRENGTHENS, NEUTRAL = Impact.WEAKENS, Impact.STRENGTHENS, Impact.NEUTRAL
IGNORECASE, VERBOSE, ASCII = 2, 64, 256
# Engine settings where a lower value detects less (PRESIDIO_NOTES §4.2).
LOWER_WEAKENS = (
    "context_aware_enhancer.context_similarity_factor",
    "context_aware_enhancer.min_score_with_context_similarity",
    "context_aware_enhancer.context_prefix_count",
    "context_aware_enhancer.context_suffix_count",
    "nlp_configuration.ner_model_configuration.default_score",
    "nlp_configuration.ner_model_configuration.low_confidence_score_multiplier",
)


def diff_sets(old: RecognizerSet, new: RecognizerSet, *, level: str = "declared") -> list[Change]:
    """All semantic changes from `old` to `new` (empty: no semantic change)."""
    changes: list[Change] = []
    changes += _languages(old.languages, new.languages)
    changes += _flags(None, old.global_regex_flags, new.global_regex_flags, entities=())
    changes += _settings(dict(old.settings), dict(new.settings))
    before, after = old.by_key(), new.by_key()
    removed = [before[k] for k in before if k not in after]
    added = [after[k] for k in after if k not in before]
    renamed = _pair_renames(removed, added)
    for old_rec, new_rec in renamed:
        changes.append(
            Change(
                "recognizer.renamed",
                NEUTRAL,
                new_rec.label,
                f"renamed {old_rec.name} -> {new_rec.name}",
                new_rec.entities,
                old_rec.name,
                new_rec.name,
                line=new_rec.line,
            )
        )
    paired = {id(r) for pair in renamed for r in pair}
    for rec in removed:
        if id(rec) not in paired and rec.language in new.languages:
            # A recognizer dropped because its language went away is covered by language.removed.
            changes.append(_whole(rec, "recognizer.removed", WEAKENS, "recognizer removed"))
        elif id(rec) not in paired and not new.languages:
            changes.append(_whole(rec, "recognizer.removed", WEAKENS, "recognizer removed"))
    for rec in added:
        if id(rec) not in paired:
            changes.append(_whole(rec, "recognizer.added", STRENGTHENS, "recognizer added"))
    set_flags = (old.global_regex_flags, new.global_regex_flags)
    for key in before.keys() & after.keys():
        for change in diff_recognizer(before[key], after[key]):
            # Registry-wide flags are copied onto every recognizer; report them once.
            if change.kind == "regex_flags.changed" and (change.before, change.after) == tuple(
                map(str, set_flags)
            ):
                continue
            changes.append(change)
    return [replace(c, level=level) for c in _ordered(changes)]


def merge_levels(declared: list[Change], effective: list[Change]) -> list[Change]:
    """Declared changes plus effective ones that the YAML view did not show (code defaults,
    silently dropped keys)."""
    seen = {(c.kind, c.recognizer) for c in declared}
    return declared + [c for c in effective if (c.kind, c.recognizer) not in seen]


def _ordered(changes: Iterable[Change]) -> list[Change]:
    rank = {WEAKENS: 0, NEUTRAL: 1, STRENGTHENS: 2}
    return sorted(changes, key=lambda c: (rank[c.impact], c.recognizer or "", c.kind, c.summary))


def _whole(rec: RecognizerDef, kind: str, impact: Impact, summary: str) -> Change:
    return Change(kind, impact, rec.label, summary, rec.entities, line=rec.line)


def _fingerprint(rec: RecognizerDef) -> tuple[object, ...]:
    return (
        rec.language,
        rec.kind,
        rec.class_name if rec.kind == "predefined" else None,
        rec.entities,
        rec.patterns and tuple((p.regex, p.score) for p in rec.patterns),
        rec.deny_list,
        rec.context,
        rec.enabled,
    )


def _pair_renames(
    removed: list[RecognizerDef], added: list[RecognizerDef]
) -> list[tuple[RecognizerDef, RecognizerDef]]:
    pairs = []
    pool = {id(a): a for a in added}
    for old in removed:
        match = next((a for a in pool.values() if _fingerprint(a) == _fingerprint(old)), None)
        if match is not None:
            pairs.append((old, match))
            del pool[id(match)]
    return pairs


def _languages(old: tuple[str, ...], new: tuple[str, ...]) -> list[Change]:
    out = [
        Change(
            "language.removed",
            WEAKENS,
            None,
            f"language '{lang}' removed: every recognizer for it stops running",
            before=lang,
        )
        for lang in old
        if lang not in new
    ]
    out += [
        Change("language.added", STRENGTHENS, None, f"language '{lang}' added", after=lang)
        for lang in new
        if lang not in old
    ]
    return out


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


def _flags(
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


def _settings(old: dict[str, str], new: dict[str, str]) -> list[Change]:
    out = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        impact = _setting_impact(key, a, b)
        out.append(
            Change("engine.setting_changed", impact, None, f"{key}: {a} -> {b}", before=a, after=b)
        )
    return out


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def _setting_impact(key: str, old: str | None, new: str | None) -> Impact:
    a, b = _number(old), _number(new)
    if a is not None and b is not None:
        if key == "default_score_threshold":
            return WEAKENS if b > a else STRENGTHENS
        if key in LOWER_WEAKENS:
            return WEAKENS if b < a else STRENGTHENS
    if key.endswith("nlp_engine_name") and new in ("'no_op'", "'slim'"):
        return WEAKENS
    if key.endswith("context_matching_mode"):
        return WEAKENS if new == "'whole_word'" else STRENGTHENS
    return WEAKENS  # unknown direction: review it


def _score_text(score: float) -> str:
    return "invalid" if math.isnan(score) else f"{score:g}"


def diff_recognizer(old: RecognizerDef, new: RecognizerDef) -> list[Change]:
    """Changes inside one recognizer that kept its identity."""
    label, ents = new.label, new.entities or old.entities
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
    out += _patterns(label, ents, old.patterns, new.patterns)
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
    out += _flags(label, old.global_regex_flags, new.global_regex_flags, entities=ents)
    _thresholds(add, dict(old.score_thresholds), dict(new.score_thresholds))
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
    return out


def _text(value: object) -> str:
    if isinstance(value, tuple | list | set):
        return json.dumps(sorted(map(str, value)), ensure_ascii=False)
    return str(value)


def _set_change(
    add: object, kind: str, old: tuple[str, ...], new: tuple[str, ...], noun: str
) -> None:
    assert callable(add)
    gone, came = sorted(set(old) - set(new)), sorted(set(new) - set(old))
    if gone:
        add(f"{kind}_removed", WEAKENS, f"{len(gone)} {noun}(s) removed", gone, None)
    if came:
        add(f"{kind}_added", STRENGTHENS, f"{len(came)} {noun}(s) added", None, came)


def _thresholds(add: object, old: dict[str, float], new: dict[str, float]) -> None:
    assert callable(add)
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


def _pattern_index(patterns: tuple[PatternDef, ...]) -> dict[str, PatternDef]:
    index: dict[str, PatternDef] = {}
    for p in patterns:
        key, n = p.name, 1
        while key in index:  # pattern names are not unique either
            n += 1
            key = f"{p.name}#{n}"
        index[key] = p
    return index


def _patterns(
    label: str, ents: tuple[str, ...], old: tuple[PatternDef, ...], new: tuple[PatternDef, ...]
) -> list[Change]:
    out: list[Change] = []
    before, after = _pattern_index(old), _pattern_index(new)
    gone = {k: p for k, p in before.items() if k not in after}
    came = {k: p for k, p in after.items() if k not in before}
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
                    f"pattern '{gk}' renamed to '{match}'",
                    ents,
                    gk,
                    match,
                    line=came[match].line,
                )
            )
            del gone[gk], came[match]
    for key, p in gone.items():
        out.append(
            Change(
                "pattern.removed",
                WEAKENS,
                label,
                f"pattern '{key}' removed",
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
                f"pattern '{key}' added (score {_score_text(p.score)})",
                ents,
                None,
                p.regex,
                line=p.line,
                score=p.score,
            )
        )
    for key in before.keys() & after.keys():
        a, b = before[key], after[key]
        if a.regex != b.regex:
            out.append(
                Change(
                    "pattern.regex_changed",
                    WEAKENS,
                    label,
                    f"pattern '{key}' regex "
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
                    f"pattern '{key}' score {_score_text(a.score)} -> {_score_text(b.score)}",
                    ents,
                    _score_text(a.score),
                    _score_text(b.score),
                    line=b.line,
                    score=b.score,
                )
            )
    return out


def file_added(new: RecognizerSet) -> list[Change]:
    """A new recognizer file: everything in it is added."""
    return [
        _whole(r, "recognizer.added", STRENGTHENS, "recognizer added (new file)")
        for r in new.recognizers
    ]


def file_removed(old: RecognizerSet) -> list[Change]:
    """A deleted recognizer file: Presidio falls back to its defaults or fails to start."""
    return [
        Change(
            "file.removed",
            WEAKENS,
            None,
            f"recognizer file {old.path} deleted: "
            "Presidio silently falls back to its default recognizers",
        )
    ] + [
        _whole(r, "recognizer.removed", WEAKENS, "recognizer removed (file deleted)")
        for r in old.recognizers
    ]
