"""What can be wrong with a pattern's regex as written in YAML, before Presidio sees it (CA1xx).
Pure: the linter adds file, line and recognizer."""

from __future__ import annotations

import re
from typing import Any

from config_audit.model import Severity

E, W = Severity.ERROR, Severity.WARNING

Problem = tuple[str, Severity, str, str]  # code, severity, message, hint


def regex_problems(regex: Any) -> list[Problem]:
    if not isinstance(regex, str) or not regex:
        return [
            (
                "CA106",
                E,
                "empty or non-string regex: it matches everywhere or nothing",
                "write the pattern as a quoted string",
            )
        ]
    # Imported here: the validate package costs ~40 ms that linting a file without patterns
    # (and the hooks' verdict-cache path) never needs.
    from config_audit.recognizers.regex_static import NESTING_LIMIT, repeat_nesting

    out: list[Problem] = []
    if "\x08" in regex:
        out.append(
            (
                "CA104",
                E,
                'regex contains a backspace character: "\\b" inside double '
                "quotes is YAML's backspace escape, not a word boundary",
                "use single quotes ('\\b...') or escape it as \"\\\\b\"",
            )
        )
    depth = repeat_nesting(regex)
    if depth >= NESTING_LIMIT:
        out.append(
            (
                "CA127",
                E,
                f"regex nests {depth} repeated groups: the regex engine Presidio uses "
                "compiles nested repeats in exponential time and memory (this one can stall "
                "or kill the analyzer when it loads)",
                "flatten it: (?:(?:a+)+)+ matches what a+ matches",
            )
        )
    if re.match(r"""^r["']""", regex):
        out.append(
            (
                "CA120",
                W,
                "regex starts with r\" or r': a Python raw-string prefix "
                "copied into YAML becomes part of the pattern",
                "drop the r prefix and the inner quotes",
            )
        )
    return out
