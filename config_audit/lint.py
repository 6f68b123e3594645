"""Raw lint: the edits Presidio accepts silently, found in the YAML itself, with lines.

Loading into Presidio proves a file loads; it cannot tell that `enable: false` was meant to
disable a recognizer (the key is dropped and it stays on). These checks catch what the author
*intended* but did not get. Codes CA1xx; every finding names file, line, recognizer and a fix.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from typing import Any

from config_audit.model import ConfigFormat, Finding, Severity
from config_audit.parse import ParsedFile, entry_kind, entry_languages
from config_audit.yamlsafe import line_of

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
LANGUAGE_CODE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
IGNORECASE, VERBOSE, ASCII = 2, 64, 256

ADHOC_ENTRY_KEYS = frozenset(
    {
        "supported_entity",
        "supported_entities",
        "name",
        "supported_language",
        "patterns",
        "deny_list",
        "context",
        "deny_list_score",
        "global_regex_flags",
        "version",
        "country_code",
        "score_thresholds",
    }
)
REGISTRY_TOP_KEYS = frozenset({"supported_languages", "global_regex_flags", "recognizers"})
REGISTRY_ENTRY_KEYS = frozenset(
    {
        "name",
        "class_name",
        "type",
        "enabled",
        "supported_language",
        "supported_languages",
        "context",
        "supported_entity",
        "supported_entities",
        "score_thresholds",
        "patterns",
        "deny_list",
        "deny_list_score",
        "country_code",
    }
)
# These classes use pydantic models with extra="allow": their extra keys reach the constructor.
EXTRA_ALLOWED_CLASSES = frozenset(
    {
        "HuggingFaceNerRecognizer",
        "GLiNERRecognizer",
        "BasicLangExtractRecognizer",
        "AzureOpenAILangExtractRecognizer",
    }
)
ANALYZER_TOP_KEYS = frozenset(
    {
        "supported_languages",
        "default_score_threshold",
        "nlp_configuration",
        "recognizer_registry",
        "context_aware_enhancer",
    }
)
ENHANCER_KEYS = frozenset(
    {
        "context_similarity_factor",
        "min_score_with_context_similarity",
        "context_prefix_count",
        "context_suffix_count",
        "context_matching_mode",
    }
)
NER_CONFIG_KEYS = frozenset(
    {
        "labels_to_ignore",
        "aggregation_strategy",
        "stride",
        "alignment_mode",
        "default_score",
        "model_to_presidio_entity_mapping",
        "low_score_entity_names",
        "low_confidence_score_multiplier",
    }
)
PATTERN_KEYS = frozenset({"name", "regex", "score"})
LIST_KEYS = ("deny_list", "context", "patterns", "supported_languages", "supported_entities")


def lint(parsed: ParsedFile) -> list[Finding]:
    """All raw-lint findings for one parsed file, in file order."""
    linter = _Linter(parsed.path)
    raw = parsed.raw
    if parsed.format is ConfigFormat.ADHOC:
        linter.adhoc(raw)
    elif parsed.format is ConfigFormat.REGISTRY:
        linter.registry_top(raw)
        linter.registry(raw, languages=raw.get("supported_languages"), where="")
    else:
        linter.analyzer(raw)
    linter.duplicate_yaml_keys(raw)
    return sorted(linter.findings, key=lambda f: (f.line or 0, f.code))


def _suggest(key: str, valid: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'? " if close else ""


class _Linter:
    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        line: int | None,
        recognizer: str | None = None,
        hint: str = "",
    ) -> None:
        self.findings.append(
            Finding(
                code, severity, message, path=self.path, line=line, recognizer=recognizer, hint=hint
            )
        )

    # -- document-wide ---------------------------------------------------------------------

    def duplicate_yaml_keys(self, node: Any) -> None:
        for child in _walk(node):
            for key, line in getattr(child, "duplicate_keys", []):
                self.add(
                    "CA112",
                    E,
                    f"duplicate key '{key}': YAML keeps only the last value",
                    line=line,
                    hint="remove one of the two; an earlier value is silently lost",
                )

    def languages(self, value: Any, *, line: int | None, recognizer: str | None = None) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.add(
                "CA103",
                E,
                "'supported_languages' must be a list",
                line=line,
                recognizer=recognizer,
                hint="write it as a YAML list: [en, de]",
            )
            return
        for i, lang in enumerate(value):
            item_line = line_of(value, i)
            if isinstance(lang, dict):
                lang = lang.get("language")
            if isinstance(lang, bool):
                self.add(
                    "CA107",
                    E,
                    f"language read as boolean {lang}: YAML 1.1 turns no/yes/on/off into booleans",
                    line=item_line,
                    recognizer=recognizer,
                    hint="quote the code, e.g. 'no' for Norwegian",
                )
            elif not isinstance(lang, str) or not LANGUAGE_CODE.match(lang):
                self.add(
                    "CA107",
                    E,
                    f"'{lang}' is not a language code (expected e.g. en, de, pt-BR)",
                    line=item_line,
                    recognizer=recognizer,
                    hint="use an ISO 639-1 code; recognizers for unknown languages never run",
                )

    def flags(self, value: Any, *, line: int | None, recognizer: str | None = None) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            if not (isinstance(value, str) and value.strip().isdigit()):
                self.add(
                    "CA114",
                    E,
                    f"global_regex_flags must be an integer, got {value!r}",
                    line=line,
                    recognizer=recognizer,
                    hint="26 = IGNORECASE|MULTILINE|DOTALL",
                )
            return
        if not value & IGNORECASE:
            self.add(
                "CA114",
                W,
                f"global_regex_flags {value} lacks IGNORECASE (2): matching becomes case-sensitive",
                line=line,
                recognizer=recognizer,
                hint="use 26 unless case-sensitive matching is intended",
            )
        for bit, name in ((VERBOSE, "VERBOSE"), (ASCII, "ASCII")):
            if value & bit:
                self.add(
                    "CA114",
                    E,
                    f"global_regex_flags {value} sets {name} ({bit}), which "
                    "silently changes what every pattern matches",
                    line=line,
                    recognizer=recognizer,
                    hint="remove the flag; 26 is Presidio's default",
                )

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
                            else _suggest(str(key), ADHOC_ENTRY_KEYS) + "remove or rename it"
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

    def entries(self, raw: dict[Any, Any]) -> list[Any]:
        entries = raw.get("recognizers")
        if not isinstance(entries, list):
            self.add(
                "CA108",
                E,
                "'recognizers' must be a non-empty list",
                line=line_of(raw, "recognizers"),
                hint="list the recognizers under 'recognizers:'",
            )
            return []
        if not entries:
            self.add(
                "CA108",
                E,
                "'recognizers' is empty: Presidio then loads every predefined "
                "recognizer, or none, depending on the entry point",
                line=line_of(raw, "recognizers"),
                hint="list the recognizers you intend to run",
            )
        return entries

    def duplicate(
        self, key: tuple[str, str], seen: dict[tuple[str, str], int | None], line: int | None
    ) -> None:
        if key in seen:
            self.add(
                "CA102",
                E,
                f"duplicate recognizer {key[0]} [{key[1]}] (first at line "
                f"{seen[key]}): both load and changes cannot be attributed to one",
                line=line,
                recognizer=key[0],
                hint="give each recognizer a unique name",
            )
        else:
            seen[key] = line

    def custom_entry(self, entry: dict[Any, Any], *, name: str, line: int | None) -> None:
        """Checks shared by ad-hoc entries and registry custom entries."""
        has_single, has_plural = "supported_entity" in entry, "supported_entities" in entry
        if has_single and has_plural:
            self.add(
                "CA116",
                E,
                "both supported_entity and supported_entities are set: Presidio raises ValueError",
                line=line,
                recognizer=name,
                hint="keep one",
            )
        elif not has_single and not has_plural:
            self.add(
                "CA116",
                E,
                "no supported_entity: Presidio cannot build this recognizer",
                line=line,
                recognizer=name,
                hint="add supported_entity: MY_ENTITY",
            )
        if not entry.get("patterns") and not entry.get("deny_list"):
            self.add(
                "CA116",
                E,
                "neither patterns nor deny_list: the recognizer finds nothing",
                line=line,
                recognizer=name,
                hint="add patterns or a deny_list",
            )
        for key in LIST_KEYS:
            if isinstance(entry.get(key), str):
                self.add(
                    "CA103",
                    E,
                    f"'{key}' is a string, not a list: Presidio iterates it character by character",
                    line=line_of(entry, key),
                    recognizer=name,
                    hint=f'write it as a list: {key}: ["{entry[key]}"]',
                )
        deny = entry.get("deny_list")
        if isinstance(deny, list):
            for i, item in enumerate(deny):
                if not isinstance(item, str) or not item:
                    self.add(
                        "CA121",
                        E,
                        "deny_list entry is empty or not a string",
                        line=line_of(deny, i),
                        recognizer=name,
                        hint="quote each entry",
                    )
        if "deny_list_score" in entry:
            self.score(
                entry["deny_list_score"],
                line=line_of(entry, "deny_list_score"),
                recognizer=name,
                what="deny_list_score",
            )
        thresholds = entry.get("score_thresholds")
        if isinstance(thresholds, dict):
            entities = {str(entry.get("supported_entity"))} | set(
                map(str, entry.get("supported_entities") or [])
            )
            for key, value in thresholds.items():
                kline = line_of(thresholds, key)
                self.score(
                    value, line=kline, recognizer=name, what=f"score_thresholds.{key}", zero_ok=True
                )
                if key != "default" and str(key) not in entities:
                    self.add(
                        "CA123",
                        W,
                        f"score_thresholds key '{key}' is neither 'default' nor "
                        "an entity of this recognizer: it has no effect",
                        line=kline,
                        recognizer=name,
                        hint="use 'default' or the entity name",
                    )
        patterns = entry.get("patterns")
        if isinstance(patterns, list):
            names: set[Any] = set()
            for i, pattern in enumerate(patterns):
                self.pattern(pattern, line=line_of(patterns, i), recognizer=name)
                if isinstance(pattern, dict) and pattern.get("name") in names:
                    self.add(
                        "CA126",
                        W,
                        f"pattern name '{pattern['name']}' repeats: changes to it "
                        "cannot be told apart",
                        line=line_of(patterns, i),
                        recognizer=name,
                        hint="give each pattern a unique name",
                    )
                if isinstance(pattern, dict):
                    names.add(pattern.get("name"))

    def pattern(self, pattern: Any, *, line: int | None, recognizer: str) -> None:
        if not isinstance(pattern, dict):
            self.add(
                "CA117",
                E,
                "pattern is not a mapping of name, regex, score",
                line=line,
                recognizer=recognizer,
                hint="- {name: ..., regex: ..., score: 0.5}",
            )
            return
        for key in pattern:
            if key not in PATTERN_KEYS:
                self.add(
                    "CA117",
                    E,
                    f"unknown pattern key '{key}': Presidio raises TypeError",
                    line=line_of(pattern, key),
                    recognizer=recognizer,
                    hint=_suggest(str(key), PATTERN_KEYS) + "patterns take name, regex, score",
                )
        for key in sorted(PATTERN_KEYS - set(pattern)):
            self.add(
                "CA117",
                E,
                f"pattern lacks '{key}'",
                line=line,
                recognizer=recognizer,
                hint="patterns need name, regex and score",
            )
        regex = pattern.get("regex")
        rline = line_of(pattern, "regex")
        if "regex" in pattern and (not isinstance(regex, str) or not regex):
            self.add(
                "CA106",
                E,
                "empty or non-string regex: it matches everywhere or nothing",
                line=rline,
                recognizer=recognizer,
                hint="write the pattern as a quoted string",
            )
        elif isinstance(regex, str):
            if "\x08" in regex:
                self.add(
                    "CA104",
                    E,
                    'regex contains a backspace character: "\\b" inside double '
                    "quotes is YAML's backspace escape, not a word boundary",
                    line=rline,
                    recognizer=recognizer,
                    hint="use single quotes ('\\b...') or escape it as \"\\\\b\"",
                )
            if re.match(r"""^r["']""", regex):
                self.add(
                    "CA120",
                    W,
                    "regex starts with r\" or r': a Python raw-string prefix "
                    "copied into YAML becomes part of the pattern",
                    line=rline,
                    recognizer=recognizer,
                    hint="drop the r prefix and the inner quotes",
                )
        if "score" in pattern:
            self.score(
                pattern["score"],
                line=line_of(pattern, "score"),
                recognizer=recognizer,
                what=f"score of pattern '{pattern.get('name')}'",
            )

    def score(
        self, value: Any, *, line: int | None, recognizer: str, what: str, zero_ok: bool = False
    ) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(
                "CA105",
                E,
                f"{what} is {value!r}, not a number",
                line=line,
                recognizer=recognizer,
                hint="use a number between 0 and 1, e.g. 0.6",
            )
        elif math.isnan(value) or not 0 <= value <= 1:
            self.add(
                "CA105",
                E,
                f"{what} is {value}, outside [0, 1]",
                line=line,
                recognizer=recognizer,
                hint="use a number between 0 and 1",
            )
        elif value == 0 and not zero_ok:
            self.add(
                "CA105",
                E,
                f"{what} is 0: results with score 0 are never reported",
                line=line,
                recognizer=recognizer,
                hint="use a score above the threshold",
            )

    # -- (b) registry ------------------------------------------------------------------------

    def registry_top(self, raw: dict[Any, Any]) -> None:
        for key in raw:
            if key == "supported_countries":
                self.add(
                    "CA118",
                    E,
                    "'supported_countries' is rejected by Presidio 2.2.366's "
                    "registry schema (extra_forbidden), although its docs show it",
                    line=line_of(raw, key),
                    hint="remove it; filter countries in code",
                )
            elif key not in REGISTRY_TOP_KEYS:
                self.add(
                    "CA101",
                    E,
                    f"unknown top-level key '{key}': Presidio rejects the file",
                    line=line_of(raw, key),
                    hint=_suggest(str(key), REGISTRY_TOP_KEYS) + "remove or rename it",
                )
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
                        _suggest(str(key), REGISTRY_ENTRY_KEYS)
                        + "remove it; the setting has no effect"
                    )
                    if kind == "predefined" and not _suggest(str(key), REGISTRY_ENTRY_KEYS):
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
            for key, why in (
                ("supported_language", "ignored: the registry languages apply"),
                ("country_code", "dropped before the class cross-check"),
                ("deny_list_score", "dropped"),
            ):
                if key in entry:
                    self.add(
                        "CA113",
                        W,
                        f"'{key}' on a predefined recognizer is {why}",
                        line=line_of(entry, key),
                        recognizer=name,
                        hint="use supported_languages items, or remove it",
                    )
        else:
            self.custom_entry(entry, name=name, line=line)
        for lang, _ctx in entry_languages(entry, registry_languages, kind):
            if registry_languages and lang not in registry_languages:
                self.add(
                    "CA115",
                    E,
                    f"language '{lang}' is not in the registry's "
                    f"supported_languages {list(registry_languages)}: Presidio drops this "
                    "recognizer for it",
                    line=line_of(entry, "supported_languages") or line,
                    recognizer=name,
                    hint=f"add '{lang}' to supported_languages, or fix the code",
                )
            if entry.get("enabled", True) is not False:
                self.duplicate((name, lang), seen, line)

    # -- (c) analyzer ------------------------------------------------------------------------

    def analyzer(self, raw: dict[Any, Any]) -> None:
        for key in raw:
            if key not in ANALYZER_TOP_KEYS:
                self.add(
                    "CA101",
                    E,
                    f"unknown top-level key '{key}': Presidio rejects the file",
                    line=line_of(raw, key),
                    hint=_suggest(str(key), ANALYZER_TOP_KEYS) + "remove or rename it",
                )
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
            ner = nlp.get("ner_model_configuration")
            if isinstance(ner, dict):
                for key in ner:
                    if key not in NER_CONFIG_KEYS:
                        self.add(
                            "CA101",
                            E,
                            f"unknown ner_model_configuration key '{key}' is silently ignored",
                            line=line_of(ner, key),
                            hint=_suggest(str(key), NER_CONFIG_KEYS) + "remove or rename it",
                        )
        enhancer = raw.get("context_aware_enhancer")
        if isinstance(enhancer, dict):
            for key in enhancer:
                if key not in ENHANCER_KEYS:
                    self.add(
                        "CA101",
                        E,
                        f"unknown context_aware_enhancer key '{key}': Presidio rejects it",
                        line=line_of(enhancer, key),
                        hint=_suggest(str(key), ENHANCER_KEYS) + "remove or rename it",
                    )
        registry = raw.get("recognizer_registry")
        if isinstance(registry, dict):
            for key in registry:
                if key not in REGISTRY_TOP_KEYS:
                    self.add(
                        "CA101",
                        E,
                        f"unknown recognizer_registry key '{key}': Presidio rejects it",
                        line=line_of(registry, key),
                        hint=_suggest(str(key), REGISTRY_TOP_KEYS) + "remove or rename it",
                    )
            self.flags(
                registry.get("global_regex_flags"), line=line_of(registry, "global_regex_flags")
            )
            self.registry(registry, languages=languages, where="recognizer_registry.")


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
