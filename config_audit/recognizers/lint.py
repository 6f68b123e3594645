"""Raw lint: the edits Presidio accepts silently, found in the YAML itself, with lines.

Loading into Presidio proves a file loads; it cannot tell that `enable: false` was meant to
disable a recognizer (the key is dropped and it stays on). These checks catch what the author
*intended* but did not get. Codes CA1xx; every finding names file, line, recognizer and a fix.
"""

from __future__ import annotations

from typing import Any

from config_audit.model import ConfigFormat, Finding
from config_audit.recognizers.lint_coerce import first_entity_only
from config_audit.recognizers.lint_custom import custom_entry
from config_audit.recognizers.lint_entries import INFO, E, EntryLinter, W, suggest
from config_audit.recognizers.lint_registry import registry as lint_registry
from config_audit.recognizers.nlp import lint_nlp
from config_audit.recognizers.parse import ParsedFile
from config_audit.recognizers.presidio_keys import KeySchema, snapshot
from config_audit.recognizers.yamlsafe import line_of


def lint(parsed: ParsedFile, *, schema: KeySchema | None = None) -> list[Finding]:
    """All raw-lint findings for one parsed file, in file order. `schema`: the keys Presidio
    reads where, as the worker derived them; the 2.2.366 snapshot when no worker ran."""
    schema = schema or snapshot()
    linter = _Linter(parsed.path, schema)
    raw = parsed.raw
    if parsed.format is ConfigFormat.ADHOC:
        linter.adhoc(raw)
    elif parsed.format is ConfigFormat.REGISTRY:
        linter.registry_top(raw)
        lint_registry(linter, raw, languages=raw.get("supported_languages"), where="")
    elif parsed.format is ConfigFormat.NLP:
        linter.findings += lint_nlp(raw, path=parsed.path, top=True, schema=schema)
    else:
        linter.analyzer(raw)
        linter.findings += lint_nlp(
            raw.get("nlp_configuration"), path=parsed.path, top=False, schema=schema
        )
    linter.duplicate_yaml_keys(raw)
    return sorted(linter.findings, key=lambda f: (f.line or 0, f.code))


class _Linter(EntryLinter):
    """The walk of each format: which keys exist where, and what Presidio does with them."""

    # -- (a) ad-hoc --------------------------------------------------------------------------

    def adhoc(self, raw: dict[Any, Any]) -> None:
        for key in raw:
            if key != "recognizers":
                self.add(
                    "CA101",
                    W,
                    f"top-level key '{key}' is ignored by add_recognizers_from_yaml",
                    line=line_of(raw, key),
                    hint="only 'recognizers' is read in this format",
                )
        entries = self.entries(raw)
        seen: dict[tuple[str, str], int | None] = {}
        for i, entry in enumerate(entries):
            line = line_of(entries, i)
            if not isinstance(entry, dict):
                self.add(
                    "CA111",
                    E,
                    "recognizer entry is not a mapping",
                    line=line,
                    hint="each item under 'recognizers' is a mapping with supported_entity, "
                    "patterns or deny_list",
                )
                continue
            name = str(entry.get("name", "PatternRecognizer"))
            for key in entry:
                if key not in self.schema.adhoc_entry:
                    plural = key == "supported_languages"
                    self.add(
                        "CA101",
                        E,
                        f"unknown key '{key}': Presidio raises TypeError on it",
                        line=line_of(entry, key),
                        recognizer=name,
                        hint=(
                            "this format supports one language per entry: use "
                            "supported_language, one entry per language"
                            if plural
                            else suggest(str(key), self.schema.adhoc_entry) + "remove or rename it"
                        ),
                    )
            if "name" not in entry:
                self.add(
                    "CA116",
                    W,
                    "recognizer has no name: every unnamed recognizer is called "
                    "'PatternRecognizer'",
                    line=line,
                    recognizer=name,
                    hint="add a unique name so changes can be attributed to it",
                )
            custom_entry(self, entry, name=name, line=line)
            first_entity_only(self, entry, name=name)
            lang = entry.get("supported_language", "en")
            self.languages(
                [lang], line=line_of(entry, "supported_language") or line, recognizer=name
            )
            self.flags(
                entry.get("global_regex_flags"),
                line=line_of(entry, "global_regex_flags"),
                recognizer=name,
            )
            if "name" in entry:  # unnamed ones are already reported above
                self.duplicate((name, str(lang)), seen, line)

    # -- (b) registry ------------------------------------------------------------------------

    def registry_top(self, raw: dict[Any, Any]) -> None:
        if "supported_countries" in raw:
            self.add(
                "CA118",
                E,
                "'supported_countries' is rejected by Presidio 2.2.366's "
                "registry schema (extra_forbidden), although its docs show it",
                line=line_of(raw, "supported_countries"),
                hint="remove it; filter countries in code",
            )
        # supported_countries has its own finding (CA118) above.
        valid = self.schema.registry_top | {"supported_countries"}
        self.unknown_keys(raw, valid, "top-level", "Presidio rejects the file")
        if "supported_languages" not in raw:
            self.add(
                "CA108",
                E,
                "no 'supported_languages': Presidio 2.2.366 crashes with TypeError on this file",
                line=line_of(raw),
                hint="add supported_languages: [en]",
            )
        self.flags(raw.get("global_regex_flags"), line=line_of(raw, "global_regex_flags"))

    # -- (c) analyzer ------------------------------------------------------------------------

    def unknown_keys(self, section: Any, valid: frozenset[str], what: str, effect: str) -> None:
        """CA101 for every key of `section` that Presidio does not know, with a suggestion."""
        if not isinstance(section, dict):
            return
        for key in section:
            if key not in valid:
                self.add(
                    "CA101",
                    E,
                    f"unknown {what} key '{key}': {effect}",
                    line=line_of(section, key),
                    hint=suggest(str(key), valid) + "remove or rename it",
                )

    def analyzer(self, raw: dict[Any, Any]) -> None:
        self.unknown_keys(raw, self.schema.analyzer_top, "top-level", "Presidio rejects the file")
        languages = raw.get("supported_languages", ["en"])
        self.languages(languages, line=line_of(raw, "supported_languages"))
        if "default_score_threshold" in raw:
            self.score(
                raw["default_score_threshold"],
                line=line_of(raw, "default_score_threshold"),
                recognizer="(analyzer)",
                what="default_score_threshold",
                zero_ok=True,
            )
        nlp = raw.get("nlp_configuration")
        if isinstance(nlp, dict):
            self.languages_without_model(nlp, languages)
            engine = nlp.get("nlp_engine_name")
            if engine != "no_op":
                self.add(
                    "CA125",
                    INFO,
                    f"NLP engine '{engine}' is replaced by no_op for validation: "
                    "NER entities (PERSON, LOCATION...) are not checked",
                    line=line_of(nlp, "nlp_engine_name"),
                    hint="validation is model-free and offline by design",
                )
        self.unknown_keys(
            raw.get("context_aware_enhancer"),
            self.schema.enhancer,
            "context_aware_enhancer",
            "Presidio rejects it",
        )
        registry = raw.get("recognizer_registry")
        if isinstance(registry, dict):
            self.unknown_keys(
                registry, self.schema.registry_top, "recognizer_registry", "Presidio rejects it"
            )
            self.flags(
                registry.get("global_regex_flags"), line=line_of(registry, "global_regex_flags")
            )
            lint_registry(self, registry, languages=languages, where="recognizer_registry.")

    def languages_without_model(self, nlp: dict[Any, Any], languages: Any) -> None:
        """CA128: a supported language no NLP model serves. The engine keeps one pipeline per
        model `lang_code`; every request in another language raises (spaCy: KeyError)."""
        models = nlp.get("models")
        if not isinstance(models, list) or not isinstance(languages, list):
            return
        served = {str(m.get("lang_code")) for m in models if isinstance(m, dict)}
        for lang in languages:
            if isinstance(lang, str) and lang not in served:
                self.add(
                    "CA128",
                    E,
                    f"language '{lang}' is supported but nlp_configuration has no model for it: "
                    "every request in that language fails",
                    line=line_of(nlp, "models"),
                    hint=f"add a model with lang_code: {lang}, or remove '{lang}' from "
                    "supported_languages",
                )
