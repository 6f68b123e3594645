"""The NLP engine configuration, Presidio's fourth format (`NlpEngineProvider(conf_file=...)`).

It decides which NER labels become which entities: removing `PER: PERSON` from
`model_to_presidio_entity_mapping`, or adding a label to `labels_to_ignore`, silently stops a whole
entity. Standalone files and an analyzer file's inline `nlp_configuration` are read the same way:
flattened to settings keyed `nlp_configuration.<path>` with one key per mapping entry and per
list element (set semantics), so the diff names exactly what changed. Lint: keys Presidio ignores
at each level (misplaced settings), strings where lists are expected. Pure; no Presidio import.
"""

from __future__ import annotations

import re
from typing import Any

from config_audit.model import Change, Finding, Impact, Severity
from config_audit.recognizers.presidio_keys import KeySchema, snapshot
from config_audit.recognizers.yamlsafe import line_of

# Engines that never read ner_model_configuration (NlpEngineProvider.create_engine).
NO_NER_CONFIG = ("no_op", "slim")
SET_KEYS = ("labels_to_ignore", "low_score_entity_names")
PREFIX = "nlp_configuration"
W, S = Impact.WEAKENS, Impact.STRENGTHENS
# Settings keys `diff_nlp` names precisely (the rest: generic engine.setting_changed).
NLP_SPECIFIC = re.compile(
    r"^nlp_configuration\.(models\.|ner_model_configuration\."
    r"(model_to_presidio_entity_mapping\.|labels_to_ignore\[|low_score_entity_names\[))"
)


def is_nlp_document(raw: Any) -> bool:
    return isinstance(raw, dict) and bool(
        {"nlp_engine_name", "models", "ner_model_configuration"} & set(raw)
    )


def nlp_settings(conf: Any, prefix: str = PREFIX) -> list[tuple[str, str]]:
    """Flattened, order-free settings of one NLP configuration mapping."""
    out: list[tuple[str, str]] = []
    if not isinstance(conf, dict):
        return out
    if "nlp_engine_name" in conf:
        out.append((f"{prefix}.nlp_engine_name", repr(conf["nlp_engine_name"])))
    models = conf.get("models")
    for model in models if isinstance(models, list) else []:
        if isinstance(model, dict):
            out.append((f"{prefix}.models.{model.get('lang_code')}", repr(model.get("model_name"))))
    if "generic_tokenizer" in conf:
        out.append((f"{prefix}.generic_tokenizer", repr(conf["generic_tokenizer"])))
    out += ner_settings(conf.get("ner_model_configuration"), f"{prefix}.ner_model_configuration")
    return sorted(out)


def ner_settings(ner: Any, prefix: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if not isinstance(ner, dict):
        return out
    for key, value in ner.items():
        if key == "model_to_presidio_entity_mapping" and isinstance(value, dict):
            out += [(f"{prefix}.{key}.{label}", repr(str(ent))) for label, ent in value.items()]
        elif key in SET_KEYS and isinstance(value, list | tuple | set | frozenset):
            out += [(f"{prefix}.{key}[{item}]", "True") for item in value if item is not None]
        else:
            out.append((f"{prefix}.{key}", repr(value)))
    return out


def lint_nlp(conf: Any, *, path: str, top: bool, schema: KeySchema | None = None) -> list[Finding]:
    """Keys Presidio ignores at each level of an NLP configuration, and mistyped values."""
    schema = schema or snapshot()
    ner_keys = schema.ner_config
    findings: list[Finding] = []

    def add(code: str, sev: Severity, message: str, line: int | None, hint: str) -> None:
        findings.append(Finding(code, sev, message, path=path, line=line, hint=hint))

    if not isinstance(conf, dict):
        return findings
    where = "" if top else "nlp_configuration."
    for key in conf:
        if key in schema.nlp_top:
            continue
        misplaced = key in ner_keys
        add(
            "CA101",
            Severity.ERROR if key == "model_to_presidio_entity_mapping" else Severity.WARNING,
            f"'{where}{key}' is ignored by Presidio"
            + (": it belongs under ner_model_configuration" if misplaced else ""),
            line_of(conf, key),
            "move it under ner_model_configuration" if misplaced else "remove it",
        )
    if "models" in conf:
        models = conf["models"]
        if not isinstance(models, list) or not models:
            add(
                "CA103",
                Severity.ERROR,
                f"'{where}models' must be a non-empty list",
                line_of(conf, "models"),
                "list {lang_code, model_name} entries",
            )
        else:
            _lint_models(models, where, add, schema)
    elif top:
        add(
            "CA108",
            Severity.ERROR,
            "no 'models': Presidio rejects the NLP configuration",
            line_of(conf),
            "add models: [{lang_code: en, model_name: ...}]",
        )
    ner = conf.get("ner_model_configuration")
    if ner is not None and conf.get("nlp_engine_name") in NO_NER_CONFIG:
        add(
            "CA101",
            Severity.WARNING,
            f"ner_model_configuration is ignored by the '{conf.get('nlp_engine_name')}' engine",
            line_of(conf, "ner_model_configuration"),
            "only spacy, stanza and transformers engines read it",
        )
    if isinstance(ner, dict):
        _lint_ner(ner, add, ner_keys)
    return findings


def _lint_ner(ner: dict[Any, Any], add: Any, ner_keys: frozenset[str]) -> None:
    for key in ner:
        if key not in ner_keys:
            add(
                "CA101",
                Severity.WARNING,
                f"unknown ner_model_configuration key '{key}' is ignored",
                line_of(ner, key),
                "remove or rename it",
            )
    for key in SET_KEYS:
        if isinstance(ner.get(key), str):
            add(
                "CA103",
                Severity.ERROR,
                f"'{key}' is a string: Presidio reads it character by character",
                line_of(ner, key),
                "write it as a YAML list",
            )
    mapping = ner.get("model_to_presidio_entity_mapping")
    if mapping is not None and not isinstance(mapping, dict):
        add(
            "CA103",
            Severity.ERROR,
            "'model_to_presidio_entity_mapping' must map labels to entities",
            line_of(ner, "model_to_presidio_entity_mapping"),
            "write LABEL: ENTITY pairs",
        )


def _lint_models(models: list[Any], where: str, add: Any, schema: KeySchema) -> None:
    for i, model in enumerate(models):
        if not isinstance(model, dict) or "lang_code" not in model or "model_name" not in model:
            add(
                "CA103",
                Severity.ERROR,
                "each model needs 'lang_code' and 'model_name': Presidio rejects it",
                line_of(models, i),
                "write {lang_code: en, model_name: en_core_web_lg}",
            )
            continue
        for key in model:
            if key not in schema.nlp_model:
                misplaced = key in schema.ner_config or key == "ner_model_configuration"
                add(
                    "CA101",
                    Severity.ERROR
                    if key == "model_to_presidio_entity_mapping"
                    else Severity.WARNING,
                    f"'{key}' inside a model entry is ignored by Presidio"
                    + (": NER settings belong under ner_model_configuration" if misplaced else ""),
                    line_of(model, key),
                    "model entries read only lang_code and model_name",
                )


def _entity(value: str | None) -> str:
    return value.strip("'\"") if value else ""


# The flattened keys (see nlp_settings) of the four parts diff_nlp judges.
_MAPPING = f"{PREFIX}.ner_model_configuration.model_to_presidio_entity_mapping."
_IGNORE = f"{PREFIX}.ner_model_configuration.labels_to_ignore["
_LOW = f"{PREFIX}.ner_model_configuration.low_score_entity_names["
_MODELS = f"{PREFIX}.models."


def diff_nlp(old: dict[str, str], new: dict[str, str]) -> list[Change]:
    """Changes between the `nlp_configuration.*` settings of two versions, with impact
    (PRESIDIO_NOTES §4.2): a mapping removed or retargeted, a label ignored, an entity marked
    low-score, a language's model removed: weakens."""
    # An ignored label also stops the entity it maps to in the new version.
    labels = {k[len(_MAPPING) :]: _entity(v) for k, v in new.items() if k.startswith(_MAPPING)}
    out: list[Change] = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b or not key.startswith(PREFIX):
            continue
        change = _setting_change(key, a, b, labels)
        if change is not None:
            out.append(change)
    return out


def _setting_change(
    key: str, a: str | None, b: str | None, labels: dict[str, str]
) -> Change | None:
    """The change one differing setting makes, by the part it belongs to (others: none)."""
    if key.startswith(_MAPPING):
        return _mapping_change(key[len(_MAPPING) :], a, b)
    if key.startswith(_IGNORE):
        return _ignored_label_change(key[len(_IGNORE) : -1], a, b, labels)
    if key.startswith(_LOW):
        return _low_score_change(key[len(_LOW) : -1], a, b)
    if key.startswith(_MODELS):
        return _model_change(key[len(_MODELS) :], a, b)
    return None


def _mapping_change(label: str, a: str | None, b: str | None) -> Change:
    """An NER label's entity: removed or retargeted weakens (the old entity is lost)."""
    if b is None:
        return _c(
            "nlp.mapping_removed",
            W,
            f"NER label {label} no longer maps to {_entity(a)}",
            (_entity(a),),
            a,
            b,
        )
    if a is None:
        return _c(
            "nlp.mapping_added",
            S,
            f"NER label {label} now maps to {_entity(b)}",
            (_entity(b),),
            a,
            b,
        )
    return _c(
        "nlp.mapping_retargeted",
        W,
        f"NER label {label}: {_entity(a)} -> {_entity(b)}",
        (_entity(a), _entity(b)),
        a,
        b,
    )


def _ignored_label_change(
    label: str, a: str | None, b: str | None, labels: dict[str, str]
) -> Change:
    """A label added to labels_to_ignore weakens it and the entity it maps to."""
    ents = tuple(dict.fromkeys(e for e in (labels.get(label), label) if e))
    return _c(
        "nlp.label_ignored" if b else "nlp.label_unignored",
        W if b else S,
        f"label {label} " + ("added to" if b else "removed from") + " labels_to_ignore",
        ents,
        a,
        b,
    )


def _low_score_change(name: str, a: str | None, b: str | None) -> Change:
    """An entity added to low_score_entity_names weakens it (its results score lower)."""
    return _c(
        "nlp.low_score_entity_added" if b else "nlp.low_score_entity_removed",
        W if b else S,
        f"{name} " + ("added to" if b else "removed from") + " low_score_entity_names",
        (name,),
        a,
        b,
    )


def _model_change(lang: str, a: str | None, b: str | None) -> Change:
    """A language's model: removed stops its NER entities; changed needs a review."""
    if b is None:
        return _c(
            "nlp.model_removed",
            W,
            f"no NLP model for language '{lang}': its NER entities stop",
            (),
            a,
            b,
        )
    if a is None:
        return _c("nlp.model_added", S, f"NLP model for '{lang}': {b}", (), a, b)
    return _c(
        "nlp.model_changed",
        W,
        f"NLP model for '{lang}': {a} -> {b} (review)",
        (),
        a,
        b,
    )


def _c(
    kind: str, impact: Impact, summary: str, entities: tuple[str, ...], a: str | None, b: str | None
) -> Change:
    return Change(kind, impact, None, summary, entities, a, b)
