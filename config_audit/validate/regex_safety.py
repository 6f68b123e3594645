"""Regex safety: static ReDoS heuristics plus a bounded probe with the `regex` engine.

Presidio matches with `regex.finditer(text, timeout=REGEX_TIMEOUT_SECONDS)` and, on timeout,
logs a warning and skips the pattern: a catastrophic regex fails open and PII goes undetected.
The static check reads Python's own regex parse tree (`sre_parse`); patterns that only the
`regex` module understands (e.g. `\\p{L}`) skip it and get the probe alone. The probe runs the
pattern with the real flags against inputs built from its structure, each bounded by a timeout.
It is pure (no Presidio); the worker runs it because it may burn CPU.
"""

from __future__ import annotations

import logging
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from config_audit.model import Severity

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

logger = logging.getLogger(__name__)

CODE_CATASTROPHIC = "CA301"  # the probe timed out: Presidio would skip the pattern (fail-open)
CODE_AMBIGUOUS = "CA302"  # nested or overlapping quantifiers the probe could not confirm
CODE_BACKSPACE = "CA303"  # "\b" in double quotes became a backspace
CODE_EMPTY = "CA304"  # empty regex: matches nothing useful (every match is empty and skipped)

_MAXREPEAT = int(sre_constants.MAXREPEAT)
_RE_FLAGS = 0x1FF  # the flags Python's parser knows (regex-only flags such as V1 are dropped)
_IGNORECASE, _VERBOSE = 2, 64
# Exponential blow-up shows at 40 characters; the long input catches the worst polynomial cases
# while keeping a quadratic (common, tolerable) pattern to a few milliseconds.
_PUMP_SHORT, _PUMP_LONG = 40, 512
_MAX_PROBES = 16

# Characters the heuristics reason about: ASCII plus a few non-ASCII letters, digits and spaces,
# and every literal of the pattern (added per pattern).
_BASE_UNIVERSE = frozenset([chr(c) for c in range(128)] + list("éÉßЖж中٣\u00a0\u2003"))


@dataclass(frozen=True)
class RegexIssue:
    """One problem with one regex; the caller adds path and recognizer."""

    code: str
    severity: Severity
    message: str
    hint: str = ""


@dataclass(frozen=True)
class _Ambiguity:
    kind: str  # "nested" | "alternation"
    pump: str  # a character both ways of matching can consume
    prefix: str  # a string that reaches the repeat


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
    ambiguities = find_ambiguities(regex, flags)
    timed_out = (
        probe(regex, flags, timeout_s=probe_timeout_s, ambiguities=ambiguities)
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


# --- static analysis -------------------------------------------------------------------------


def _parse(regex: str, flags: int) -> Any | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sre_parse.parse(regex, flags & _RE_FLAGS)
    except Exception:
        return None


class _Analyzer:
    def __init__(self, tree: Any, flags: int) -> None:
        self.ignorecase = bool(flags & _IGNORECASE) or bool(tree.state.flags & _IGNORECASE)
        literals = {chr(av) for op, av in _walk(tree) if str(op) in ("LITERAL", "NOT_LITERAL")}
        universe = set(_BASE_UNIVERSE) | literals
        if self.ignorecase:
            universe |= {c.swapcase() for c in literals if len(c.swapcase()) == 1}
        self.universe = tuple(sorted(universe, key=_pump_rank))
        self._leaf_cache: dict[int, frozenset[str]] = {}

    # Character sets ---------------------------------------------------------------------------
    def leaf(self, op: Any, av: Any) -> frozenset[str]:
        """Characters (of the universe) one single-character item matches."""
        return frozenset(c for c in self.universe if self._leaf_matches(str(op), av, c))

    def _leaf_matches(self, name: str, av: Any, ch: str) -> bool:
        if name == "LITERAL":
            return self._eq(chr(av), ch)
        if name == "NOT_LITERAL":
            return not self._eq(chr(av), ch)
        if name == "ANY":
            return True  # DOTALL is in Presidio's default flags; close enough otherwise
        if name == "IN":
            negate = bool(av) and str(av[0][0]) == "NEGATE"
            items = av[1:] if negate else av
            hit = any(self._in_item(str(o), a, ch) for o, a in items)
            return hit != negate
        return False

    def _eq(self, a: str, b: str) -> bool:
        return a == b or (self.ignorecase and a.casefold() == b.casefold())

    def _in_item(self, name: str, av: Any, ch: str) -> bool:
        if name == "LITERAL":
            return self._eq(chr(av), ch)
        if name == "RANGE":
            lo, hi = av
            if lo <= ord(ch) <= hi:
                return True
            return self.ignorecase and any(
                len(v) == 1 and lo <= ord(v) <= hi for v in (ch.lower(), ch.upper())
            )
        if name == "CATEGORY":
            return _category(str(av), ch)
        return False

    def chars(self, items: Sequence[Any]) -> frozenset[str]:
        """Every character some single-character item in `items` can consume."""
        out: set[str] = set()
        for op, av in _walk_items(items):
            if str(op) in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                out |= self.leaf(op, av)
        return frozenset(out)

    # Matching with a restricted alphabet -------------------------------------------------------
    def within(self, items: Sequence[Any], alphabet: frozenset[str]) -> bool:
        """Can this sequence match some string made only of `alphabet` (possibly empty)?"""
        return all(self._item_within(op, av, alphabet) for op, av in items)

    def _item_within(self, op: Any, av: Any, alphabet: frozenset[str]) -> bool:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            return bool(self.leaf(op, av) & alphabet)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            return av[0] == 0 or self.within(av[2], alphabet)
        if name == "SUBPATTERN":
            return self.within(av[-1], alphabet)
        if name == "ATOMIC_GROUP":
            return self.within(av, alphabet)
        if name == "BRANCH":
            return any(self.within(b, alphabet) for b in av[1])
        if name == "AT" and str(av) in ("AT_BOUNDARY", "AT_UNI_BOUNDARY"):
            # \b inside a run of word characters never matches
            return not all(_category("CATEGORY_WORD", c) for c in alphabet)
        return True  # anchors, lookarounds, back-references: assume they can pass

    # Finding ambiguity -------------------------------------------------------------------------
    def ambiguities(self, tree: Any) -> list[_Ambiguity]:
        found: list[_Ambiguity] = []
        self._scan(list(tree), "", found)
        return found

    def _scan(self, items: list[Any], prefix: str, found: list[_Ambiguity]) -> None:
        for i, (op, av) in enumerate(items):
            here = prefix + self.sample(items[:i])
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT"):
                _lo, hi, body = av
                if hi == _MAXREPEAT or hi >= 10:
                    self._check_body(list(body), here, found)
                self._scan(list(body), here, found)
            elif name == "SUBPATTERN":
                self._scan(list(av[-1]), here, found)
            elif name == "BRANCH":
                for branch in av[1]:
                    self._scan(list(branch), here, found)
            # possessive repeats and atomic groups never backtrack into themselves: skip

    def _check_body(self, body: list[Any], prefix: str, found: list[_Ambiguity]) -> None:
        for inner, before, after in _inner_repeats(body):
            lo, hi, inner_body = inner
            if lo == hi:
                continue
            for pump in self.chars(list(inner_body)):
                one = frozenset(pump)
                if self.within(after, one) and self.within(before, one):
                    found.append(_Ambiguity("nested", pump, prefix + self.sample(before)))
                    return
        for op, av in _walk_items(body):
            if str(op) != "BRANCH":
                continue
            branches = [list(b) for b in av[1]]
            for pump in self.chars(body):
                one = frozenset(pump)
                able = [b for b in branches if self.within(b, one) and pump in self.chars(b)]
                if len(able) >= 2 and self.within(body, one):
                    found.append(_Ambiguity("alternation", pump, prefix))
                    return

    def sample(self, items: Sequence[Any]) -> str:
        """A short string that the sequence matches (best effort, for probe prefixes)."""
        out: list[str] = []
        for op, av in items:
            name = str(op)
            if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                chars = self.leaf(op, av)
                out.append(next((c for c in self.universe if c in chars), ""))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                out.append(self.sample(av[2]) * min(av[0], 64))
            elif name == "SUBPATTERN":
                out.append(self.sample(av[-1]))
            elif name == "ATOMIC_GROUP":
                out.append(self.sample(av))
            elif name == "BRANCH":
                out.append(self.sample(av[1][0]))
        return "".join(out)

    def repeats(self, tree: Any) -> Iterator[tuple[frozenset[str], str]]:
        """(consumable characters, prefix) for every variable-length repeat, for the probe."""
        yield from self._repeats(list(tree), "")

    def _repeats(self, items: list[Any], prefix: str) -> Iterator[tuple[frozenset[str], str]]:
        for i, (op, av) in enumerate(items):
            here = prefix + self.sample(items[:i])
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if av[0] != av[1]:
                    yield self.chars(list(av[2])), here
                yield from self._repeats(list(av[2]), here)
            elif name == "SUBPATTERN":
                yield from self._repeats(list(av[-1]), here)
            elif name == "BRANCH":
                for branch in av[1]:
                    yield from self._repeats(list(branch), here)


def _inner_repeats(body: list[Any]) -> Iterator[tuple[Any, list[Any], list[Any]]]:
    """Backtracking repeats inside `body`, each with the items before and after it.

    "Before" and "after" are flattened across groups and alternation branches: the path from
    the end of one iteration of the inner repeat to the start of the next one.
    """
    for i, (op, av) in enumerate(body):
        name = str(op)
        before, after = body[:i], body[i + 1 :]
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            yield av, before, after
            for inner, b, a in _inner_repeats(list(av[2])):
                yield inner, before + b, a + after
        elif name == "SUBPATTERN":
            for inner, b, a in _inner_repeats(list(av[-1])):
                yield inner, before + b, a + after
        elif name == "BRANCH":
            for branch in av[1]:
                for inner, b, a in _inner_repeats(list(branch)):
                    yield inner, before + b, a + after


def _walk(tree: Any) -> Iterator[tuple[Any, Any]]:
    yield from _walk_items(list(tree))


def _walk_items(items: Sequence[Any]) -> Iterator[tuple[Any, Any]]:
    for op, av in items:
        yield op, av
        name = str(op)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            yield from _walk_items(list(av[2]))
        elif name == "SUBPATTERN":
            yield from _walk_items(list(av[-1]))
        elif name in ("ATOMIC_GROUP",):
            yield from _walk_items(list(av))
        elif name in ("ASSERT", "ASSERT_NOT"):
            yield from _walk_items(list(av[1]))
        elif name == "BRANCH":
            for branch in av[1]:
                yield from _walk_items(list(branch))


def _category(name: str, ch: str) -> bool:
    word = ch.isalnum() or ch == "_"
    digit = unicodedata.category(ch) == "Nd"
    space = ch.isspace()
    table = {
        "DIGIT": digit,
        "NOT_DIGIT": not digit,
        "SPACE": space,
        "NOT_SPACE": not space,
        "WORD": word,
        "NOT_WORD": not word,
        "LINEBREAK": ch == "\n",
        "NOT_LINEBREAK": ch != "\n",
    }
    key = name.replace("CATEGORY_", "").replace("UNI_", "").replace("LOC_", "")
    return table.get(key, False)


def _pump_rank(ch: str) -> tuple[int, str]:
    """Prefer ordinary characters as pumps and in samples: letters, digits, then the rest."""
    return (0 if ch.isalpha() and ch.isascii() else 1 if ch.isdigit() else 2, ch)


def find_ambiguities(regex: str, flags: int) -> list[_Ambiguity]:
    """Nested quantifiers or overlapping alternatives that can split the same input two ways."""
    tree = _parse(regex, flags)
    if tree is None:
        return []
    try:
        return _Analyzer(tree, flags).ambiguities(tree)
    except (RecursionError, ValueError, TypeError, IndexError):
        logger.debug("static regex analysis failed", exc_info=True)
        return []


# --- probe -----------------------------------------------------------------------------------


def adversarial_inputs(
    regex: str, flags: int, ambiguities: Sequence[_Ambiguity] | None = None
) -> tuple[str, ...]:
    """Inputs that make a backtracking matcher try many ways: prefix + pump * n + a killer."""
    tree = _parse(regex, flags)
    seeds: list[tuple[str, str]] = []
    if tree is not None:
        found = find_ambiguities(regex, flags) if ambiguities is None else ambiguities
        seeds += [(a.prefix, a.pump) for a in found]
        try:
            analyzer = _Analyzer(tree, flags)
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
    ambiguities: Sequence[_Ambiguity] | None = None,
    compile_fn: Callable[[str, int], Any] | None = None,
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
    for text in adversarial_inputs(regex, flags, ambiguities):
        try:
            for _ in compiled.finditer(text, timeout=timeout_s):
                pass
        except TimeoutError:
            return text
        if time.perf_counter() - started > 2 * timeout_s:
            break  # slow but not catastrophic on any single input: stop spending time
    return None
