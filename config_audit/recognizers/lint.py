"""Raw lint: the edits Presidio accepts silently, found in the YAML itself, with lines.

Loading into Presidio proves a file loads; it cannot tell that `enable: false` was meant to
disable a recognizer (the key is dropped and it stays on). These checks catch what the author
*intended* but did not get. Codes CA1xx; every finding names file, line, recognizer and a fix.
"""

from __future__ import annotations

from typing import Any

from config_audit.model import ConfigFormat, Finding
from config_audit.recognizers.lint_entries import INFO, E, EntryLinter, W, suggest
from config_audit.recognizers.nlp import lint_nlp
from config_audit.recognizers.parse import ParsedFile, entry_kind, entry_languages
from config_audit.recognizers.presidio_keys import (
    ADHOC_ENTRY_KEYS,
    ANALYZER_TOP_KEYS,
    ENHANCER_KEYS,
    EXTRA_ALLOWED_CLASSES,
    REGISTRY_ENTRY_KEYS,
    REGISTRY_TOP_KEYS,
)
from config_audit.recognizers.yamlsafe import line_of


def lint(parsed: ParsedFile) -> list[Finding]:
    """All raw-lint findings for one parsed file, in file order."""
    linter = _Linter(parsed.path)
    raw = parsed.raw
    if parsed.format is ConfigFormat.ADHOC:
        linter.adhoc(raw)
    elif parsed.format is ConfigFormat.REGISTRY:
        linter.registry_top(raw)
        linter.registry(raw, languages=raw.get("supported_languages"), where="")
    elif parsed.format is ConfigFormat.NLP:
        linter.findings += lint_nlp(raw, path=parsed.path, top=True)
    else:
        linter.analyzer(raw)
        linter.findings += lint_nlp(raw.get("nlp_configuration"), path=parsed.path, top=False)
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
                if key not in ADHOC_ENTRY_KEYS:
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
                            else suggest(str(key), ADHOC_ENTRY_KEYS) + "remove or rename it"
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
            self.custom_entry(entry, name=name, line=line)
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
        valid = REGISTRY_TOP_KEYS | {"supported_countries"}
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

    def registry(self, raw: dict[Any, Any], *, languages: Any, where: str) -> None:
        self.languages(languages, line=line_of(raw, "supported_languages"))
        registry_languages = tuple(str(x) for x in languages) if isinstance(languages, list) else ()
        if isinstance(languages, list) and not languages:
            self.add(
                "CA108",
                E,
                "'supported_languages' is empty: zero recognizers load",
                line=line_of(raw, "supported_languages"),
                hint="list at least one language",
            )
        entries = self.entries(raw)
        seen: dict[tuple[str, str], int | None] = {}
        enabled = 0
        for i, entry in enumerate(entries):
            line = line_of(entries, i)
            if isinstance(entry, str):
                self.add(
                    "CA111",
                    E,
                    f"bare string entry '{entry}' is silently dropped by Presidio",
                    line=line,
                    recognizer=entry,
                    hint=f"write it as a mapping: - name: {entry}\\n    type: predefined",
                )
                continue
            if not isinstance(entry, dict):
                self.add("CA111", E, "recognizer entry is not a mapping", line=line)
                continue
            name = str(entry.get("name", ""))
            if "name" not in entry:
                self.add(
                    "CA116",
                    E,
                    "recognizer entry has no name: Presidio rejects it",
                    line=line,
                    hint="add name: ...",
                )
            self.registry_entry(
                entry, name=name, line=line, registry_languages=registry_languages, seen=seen
            )
            if entry.get("enabled", True) not in (False, "off", "no", "false", 0):
                enabled += 1
        if entries and not enabled:
            self.add(
                "CA109",
                E,
                "every recognizer is disabled: an empty registry makes "
                "AnalyzerEngine load ALL predefined recognizers instead",
                line=line_of(raw, "recognizers"),
                hint="enable at least one recognizer",
            )

    def registry_entry(
        self,
        entry: dict[Any, Any],
        *,
        name: str,
        line: int | None,
        registry_languages: tuple[str, ...],
        seen: dict[tuple[str, str], int | None],
    ) -> None:
        kind = entry_kind(entry)
        cls = str(entry.get("class_name") or name)
        if cls not in EXTRA_ALLOWED_CLASSES:
            for key in entry:
                if key not in REGISTRY_ENTRY_KEYS:
                    hint = (
                        suggest(str(key), REGISTRY_ENTRY_KEYS)
                        + "remove it; the setting has no effect"
                    )
                    if kind == "predefined" and not suggest(str(key), REGISTRY_ENTRY_KEYS):
                        hint = (
                            "registry YAML cannot set constructor arguments of predefined "
                            "recognizers; configure the recognizer in code, or remove the key"
                        )
                    self.add(
                        "CA101",
                        E,
                        f"unknown key '{key}' is silently dropped by Presidio",
                        line=line_of(entry, key),
                        recognizer=name,
                        hint=hint,
                    )
        if entry.get("type") not in (None, "custom", "predefined"):
            self.add(
                "CA101",
                E,
                f"type '{entry.get('type')}' is neither 'custom' nor 'predefined' (case-sensitive)",
                line=line_of(entry, "type"),
                recognizer=name,
                hint="use type: custom or type: predefined",
            )
        enabled = entry.get("enabled", True)
        if enabled is None or (not isinstance(enabled, bool) and enabled not in (0, 1)):
            self.add(
                "CA119",
                W,
                f"enabled: {enabled!r} is not a boolean",
                line=line_of(entry, "enabled"),
                recognizer=name,
                hint="write enabled: true or enabled: false",
            )
        if "supported_languages" in entry and "context" in entry:
            self.add(
                "CA110",
                E,
                "recognizer-level 'context' is discarded because "
                "'supported_languages' is set (Presidio issue #1696)",
                line=line_of(entry, "context"),
                recognizer=name,
                hint="move the words under each language: supported_languages: "
                "[{language: en, context: [...]}]",
            )
        self.languages(
            entry.get("supported_languages"),
            line=line_of(entry, "supported_languages"),
            recognizer=name,
        )
        if kind == "predefined":
            if "patterns" in entry or "deny_list" in entry:
                self.add(
                    "CA116",
                    E,
                    "type: predefined with patterns or deny_list: Presidio rejects it",
                    line=line,
                    recognizer=name,
                    hint="use type: custom",
                )
            self.predefined_dropped_keys(entry, name=name, registry_languages=registry_languages)
        else:
            self.custom_entry(entry, name=name, line=line)
        languages = [lang for lang, _ctx in entry_languages(entry, registry_languages, kind)]
        self.template_languages(
            entry, name=name, kind=kind, languages=languages, registry=registry_languages, line=line
        )
        # A predefined entry per language with the ignored singular `supported_language` loads the
        # same class once per registry language each: CA113 says so; identical duplicates lose no
        # detection, so they are not repeated as CA102 errors.
        folded = kind == "predefined" and "supported_language" in entry
        loads = entry.get("enabled", True) is not False and not folded
        for lang in languages:
            if loads and (not registry_languages or lang in registry_languages):
                self.duplicate((name, lang), seen, line)

    def predefined_dropped_keys(
        self, entry: dict[Any, Any], *, name: str, registry_languages: tuple[str, ...]
    ) -> None:
        """CA113: keys Presidio drops from a predefined entry, when dropping them changes
        something. `country_code` is checked against the class by the worker (CA210)."""
        single = entry.get("supported_language")
        # Ignored in favour of the registry languages: harmless when they are that one language.
        if "supported_language" in entry and list(registry_languages) != [str(single)]:
            self.add(
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
            self.add(
                "CA113",
                W,
                "'deny_list_score' on a predefined recognizer is dropped",
                line=line_of(entry, "deny_list_score"),
                recognizer=name,
                hint="remove it; predefined recognizers have no deny list",
            )

    def template_languages(
        self,
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
            self.add(
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
        self.add(
            "CA115",
            INFO,
            f"no instance for {', '.join(outside)} (not in the registry's supported_languages "
            f"{list(registry)}); instances: {', '.join(kept) or 'none'}",
            line=where or line,
            recognizer=name,
            hint="Presidio's multi-language template; add the language to supported_languages "
            "to turn it on",
        )

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
        self.unknown_keys(raw, ANALYZER_TOP_KEYS, "top-level", "Presidio rejects the file")
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
            ENHANCER_KEYS,
            "context_aware_enhancer",
            "Presidio rejects it",
        )
        registry = raw.get("recognizer_registry")
        if isinstance(registry, dict):
            self.unknown_keys(
                registry, REGISTRY_TOP_KEYS, "recognizer_registry", "Presidio rejects it"
            )
            self.flags(
                registry.get("global_regex_flags"), line=line_of(registry, "global_regex_flags")
            )
            self.registry(registry, languages=languages, where="recognizer_registry.")

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
