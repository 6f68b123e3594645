"""Semantic diff of two `RecognizerSet`s: changes keyed by (name, language), with impact.

Never by list position: reordering, comments, quoting and formatting produce no change.
A removed and an added recognizer that are otherwise identical are paired as a rename.
Impact follows the weakening table of PRESIDIO_NOTES §4.2; changes that cannot be judged
statically (a regex rewritten, an entity renamed) count as `weakens` so they get reviewed.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import fields, replace
from operator import attrgetter

from config_audit.model import Change, Impact, RecognizerDef, RecognizerSet
from config_audit.recognizers.coverage import coverage_changes
from config_audit.recognizers.diff_recognizer import diff_recognizer, flag_changes
from config_audit.recognizers.nlp import NLP_SPECIFIC, diff_nlp

WEAKENS, STRENGTHENS, NEUTRAL = Impact.WEAKENS, Impact.STRENGTHENS, Impact.NEUTRAL
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
    # File-wide changes touch every entity of the file: policy on protected entities must see it.
    everything = _entities_of(old.recognizers + new.recognizers)
    changes += _languages(old, new)
    changes += flag_changes(
        None, old.global_regex_flags, new.global_regex_flags, entities=everything
    )
    old_settings, new_settings = dict(old.settings), dict(new.settings)
    nlp = diff_nlp(old_settings, new_settings)
    handled = {k for k in old_settings.keys() | new_settings.keys() if NLP_SPECIFIC.match(k)}
    changes += [replace(c, entities=c.entities or everything) for c in nlp]
    changes += [
        replace(c, entities=everything)
        for c in _settings(
            {k: v for k, v in old_settings.items() if k not in handled},
            {k: v for k, v in new_settings.items() if k not in handled},
        )
    ]
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
        if _rest(old_rec) != _rest(new_rec):  # a rename must not hide other edits
            changes += diff_recognizer(old_rec, new_rec)
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
    if level == "effective":  # the declared view does not know predefined classes' entities
        changes += coverage_changes(old, new)
    return [c if c.level == level else replace(c, level=level) for c in _ordered(changes)]


def merge_levels(declared: list[Change], effective: list[Change]) -> list[Change]:
    """Declared changes plus effective ones that the YAML view did not show (code defaults,
    silently dropped keys)."""
    merged = list(declared)
    index = {(c.kind, c.recognizer): i for i, c in enumerate(merged)}
    for change in effective:
        key = (change.kind, change.recognizer)
        if key not in index:
            index[key] = len(merged)
            merged.append(change)
        else:  # same change seen in both views: the effective one knows code-default entities
            known = merged[index[key]]
            entities = tuple(dict.fromkeys(known.entities + change.entities))
            merged[index[key]] = replace(known, entities=entities)
    return merged


def _entities_of(recognizers: Iterable[RecognizerDef]) -> tuple[str, ...]:
    return tuple(sorted({e for r in recognizers for e in r.entities}))


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


# Every field but the name and the line (derived, so a field added later is never skipped).
_rest = attrgetter(*(f.name for f in fields(RecognizerDef) if f.name not in ("name", "line")))


def _pair_renames(
    removed: list[RecognizerDef], added: list[RecognizerDef]
) -> list[tuple[RecognizerDef, RecognizerDef]]:
    # Bucketed by fingerprint, each bucket in file order: linear, where comparing every removed
    # recognizer with every added one held a 30,000-recognizer replacement for minutes.
    pool: dict[tuple[object, ...], deque[RecognizerDef]] = defaultdict(deque)
    for a in added:
        pool[_fingerprint(a)].append(a)
    pairs = []
    for old in removed:
        bucket = pool.get(_fingerprint(old))
        if bucket:
            pairs.append((old, bucket.popleft()))
    return pairs


def _languages(old: RecognizerSet, new: RecognizerSet) -> list[Change]:
    out = [
        Change(
            "language.removed",
            WEAKENS,
            None,
            f"language '{lang}' removed: every recognizer for it stops running",
            _entities_of(r for r in old.recognizers if r.language == lang),
            before=lang,
        )
        for lang in old.languages
        if lang not in new.languages
    ]
    out += [
        Change("language.added", STRENGTHENS, None, f"language '{lang}' added", after=lang)
        for lang in new.languages
        if lang not in old.languages
    ]
    return out


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
            _entities_of(old.recognizers),
        )
    ] + [
        _whole(r, "recognizer.removed", WEAKENS, "recognizer removed (file deleted)")
        for r in old.recognizers
    ]
