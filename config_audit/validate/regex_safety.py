"""Regex safety: static ReDoS heuristics plus a bounded probe with the `regex` engine.

Presidio matches with `regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS)` and, on timeout,
logs a warning and skips the pattern: a catastrophic regex fails open and PII goes undetected.
The static check reads Python's own regex parse tree (`sre_parse`); patterns that only the
`regex` module understands (e.g. `\\p{L}`) skip it and get the probe alone. The probe runs the
pattern with the real flags against inputs built from its structure, each bounded by a timeout.
It is pure (no Presidio); the worker runs it because it may burn CPU.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from config_audit.model import Severity
from config_audit.recognizers.regex_static import (
    Ambiguity,
    Analyzer,
    analyze,
    find_ambiguities,
    parse,
)

logger = logging.getLogger(__name__)

__all__ = [
    "RegexIssue",
    "adversarial_inputs",
    "check_pattern",
    "find_ambiguities",
    "probe",
]

CODE_CATASTROPHIC = "CA301"  # the probe timed out: Presidio would skip the pattern (fail-open)
CODE_AMBIGUOUS = "CA302"  # nested or overlapping quantifiers the probe could not confirm
CODE_BACKSPACE = "CA303"  # "\b" in double quotes became a backspace
CODE_EMPTY = "CA304"  # empty regex: matches nothing useful (every match is empty and skipped)

# Exponential blow-up shows at 40 characters; the long input catches the worst polynomial cases
# while keeping a quadratic (common, tolerable) pattern to a few milliseconds.
_PUMP_SHORT, _PUMP_LONG = 40, 512
_MAX_PROBES = 16


@dataclass(frozen=True)
class RegexIssue:
    """One problem with one regex; the caller adds path and recognizer."""

    code: str
    severity: Severity
    message: str
    hint: str = ""


def check_pattern(
    regex: str, flags: int, *, probe_timeout_s: float | None = None
) -> tuple[RegexIssue, ...]:
    """Static checks, then (if `probe_timeout_s`) the bounded probe; never raises."""
    if regex == "":
        return (
            RegexIssue(
                CODE_EMPTY,
                Severity.ERROR,
                "empty regex: every match is empty and Presidio skips it, so nothing is detected",
                "give the pattern a real regex or remove it",
            ),
        )
    issues: list[RegexIssue] = []
    if "\x08" in regex:
        issues.append(
            RegexIssue(
                CODE_BACKSPACE,
                Severity.ERROR,
                'regex contains a backspace character (\\x08): YAML turned "\\b" in double '
                "quotes into a backspace, so the word boundary never matches",
                "use single quotes ('\\b...') or escape it as \"\\\\b\"",
            )
        )
    analyzer, ambiguities = analyze(regex, flags)
    timed_out = (
        probe(regex, flags, timeout_s=probe_timeout_s, ambiguities=ambiguities, analyzer=analyzer)
        if probe_timeout_s
        else None
    )
    if timed_out is not None:
        issues.append(
            RegexIssue(
                CODE_CATASTROPHIC,
                Severity.ERROR,
                f"catastrophic backtracking: matching a {len(timed_out)}-character input took "
                f"over {probe_timeout_s}s; Presidio times the match out and skips the pattern "
                "(fail-open, PII goes undetected)",
                "remove nested or overlapping quantifiers, e.g. (a+)+ -> a+, (\\w|\\d)+ -> \\w+; "
                "bound repetitions ({1,64})",
            )
        )
    elif ambiguities:
        kinds = sorted({a.kind for a in ambiguities})
        what = " and ".join(
            "nested quantifiers over the same characters"
            if k == "nested"
            else "overlapping alternatives under a quantifier"
            for k in kinds
        )
        issues.append(
            RegexIssue(
                CODE_AMBIGUOUS,
                Severity.WARNING,
                f"possibly catastrophic regex: {what} (exponential in backtracking engines; "
                "the bounded probe did not time out with Presidio's regex engine)",
                "make the repetition unambiguous, e.g. (a+)+ -> a+, or use a possessive "
                "quantifier / atomic group",
            )
        )
    return tuple(issues)


# --- probe -----------------------------------------------------------------------------------


def adversarial_inputs(
    regex: str,
    flags: int,
    ambiguities: Sequence[Ambiguity] | None = None,
    analyzer: Analyzer | None = None,
) -> tuple[str, ...]:
    """Inputs that make a backtracking matcher try many ways: prefix + pump * n + a killer."""
    tree = analyzer.tree if analyzer is not None else parse(regex, flags)
    seeds: list[tuple[str, str]] = []
    if tree is not None:
        found = find_ambiguities(regex, flags) if ambiguities is None else ambiguities
        seeds += [(a.prefix, a.pump) for a in found]
        try:
            analyzer = analyzer or Analyzer(tree, flags)
            literal_chars = analyzer.chars(list(tree))
            for chars, prefix in analyzer.repeats(tree):
                ranked = [c for c in analyzer.universe if c in chars]
                overlap = [c for c in ranked if c in literal_chars and c != ranked[0]][:1]
                seeds += [(prefix, c) for c in ranked[:1] + overlap]
        except (RecursionError, ValueError, TypeError, IndexError):
            logger.debug("probe seeding failed", exc_info=True)
    else:
        seeds += [("", c) for c in "a1 ."]
    inputs: list[str] = []
    for prefix, pump in dict.fromkeys(seeds):
        killer = next(k for k in "!#\x00~ 0a" if k != pump)
        for candidate in (
            prefix + pump * _PUMP_SHORT + killer,
            prefix + pump * _PUMP_SHORT,
            prefix + pump * _PUMP_LONG + killer,
        ):
            if candidate not in inputs:
                inputs.append(candidate)
    return tuple(inputs[:_MAX_PROBES])


def probe(
    regex: str,
    flags: int,
    *,
    timeout_s: float,
    ambiguities: Sequence[Ambiguity] | None = None,
    compile_fn: Callable[[str, int], Any] | None = None,
    analyzer: Analyzer | None = None,
) -> str | None:
    """Run the regex on adversarial inputs; return the first input that timed out, else None."""
    if compile_fn is None:
        import regex as regex_module  # Presidio's engine; imported lazily, it is not small

        compile_fn = regex_module.compile
    try:
        compiled = compile_fn(regex, flags)
    except Exception:
        return None
    started = time.perf_counter()
    for text in adversarial_inputs(regex, flags, ambiguities, analyzer):
        try:
            for _ in compiled.finditer(text, timeout=timeout_s):
                pass
        except TimeoutError:
            return text
        if time.perf_counter() - started > 2 * timeout_s:
            break  # slow but not catastrophic on any single input: stop spending time
    return None


@functools.lru_cache(maxsize=4096)
def _check_pattern_memo(regex: str, flags: int, probe_timeout_s: float) -> tuple[RegexIssue, ...]:
    return check_pattern(regex, flags, probe_timeout_s=probe_timeout_s)


def check_pattern_once(regex: str, flags: int, probe_timeout_s: float) -> tuple[RegexIssue, ...]:
    """`check_pattern`, remembered for the process: a pattern's verdict depends on the pattern
    alone, so a range of versions, or a watcher, checks each regex once (the analysis and the
    probe are most of a load's time). CONFIG_AUDIT_WORKER_MEMO=0 checks every time
    (benchmarks measure versions alone)."""
    if os.environ.get("CONFIG_AUDIT_WORKER_MEMO") == "0":
        return check_pattern(regex, flags, probe_timeout_s=probe_timeout_s)
    return _check_pattern_memo(regex, flags, probe_timeout_s)
