"""The checks every recognizer entry gets, whatever its format: scores, regexes, lists, languages,
flags, duplicates. `lint` walks the formats and calls these. Codes CA1xx."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator
from typing import Any

from config_audit.model import Finding, Severity
from config_audit.recognizers.lint_regex import regex_problems
from config_audit.recognizers.presidio_keys import KeySchema
from config_audit.recognizers.yamlsafe import line_of

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
LANGUAGE_CODE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
IGNORECASE, VERBOSE, ASCII = 2, 64, 256


def as_number(value: Any) -> float | None:
    """The number a string like "0.5" holds, as pydantic's lax float reads it; else None."""
    if not isinstance(value, str):
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def suggest(key: str, valid: frozenset[str]) -> str:
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.75)
    return f"did you mean '{close[0]}'? " if close else ""


class EntryLinter:
    """Collects findings for one file; the per-entry checks shared by every format."""

    def __init__(self, path: str, schema: KeySchema) -> None:
        self.path = path
        self.schema = schema  # which keys Presidio reads where
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
        for child in walk(node):
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
                self.language_item(lang, recognizer=recognizer)
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

    def language_item(self, item: dict[Any, Any], *, recognizer: str | None) -> None:
        """CA101: an item keeps only `language` and `context` (a `contexts` typo loses words)."""
        valid = self.schema.language_item
        for key in (k for k in item if k not in valid):
            self.add(
                "CA101",
                E,
                f"'{key}' inside a supported_languages item is silently dropped by Presidio",
                line=line_of(item, key),
                recognizer=recognizer,
                hint=suggest(str(key), valid) + f"an item takes only {', '.join(sorted(valid))}",
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
        pattern_keys = self.schema.pattern
        for key in pattern:
            if key not in pattern_keys:
                self.add(
                    "CA117",
                    E,
                    f"unknown pattern key '{key}': Presidio raises TypeError",
                    line=line_of(pattern, key),
                    recognizer=recognizer,
                    hint=suggest(str(key), pattern_keys) + "patterns take name, regex, score",
                )
        for key in sorted(pattern_keys - set(pattern)):
            self.add(
                "CA117",
                E,
                f"pattern lacks '{key}'",
                line=line,
                recognizer=recognizer,
                hint="patterns need name, regex and score",
            )
        rline = line_of(pattern, "regex")
        if "regex" in pattern:
            for code, severity, message, hint in regex_problems(pattern["regex"]):
                self.add(code, severity, message, line=rline, recognizer=recognizer, hint=hint)
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


def walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
