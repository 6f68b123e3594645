"""Static ReDoS heuristics over Python's regex parse tree (`sre_parse`).

Flags a repeat whose body can match the same input in two ways: a nested variable-length repeat
whose way round back to itself consumes only characters it could consume too ((a+)+,
(\\w+\\s?)+), or two alternatives of a repeated group that match a common string. Characters
are reasoned about over a small universe: ASCII, a few non-ASCII letters, digits and spaces, and
every literal of the pattern. Pure and best effort.
"""

from __future__ import annotations

import logging
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants
    import sre_parse

logger = logging.getLogger(__name__)

_MAXREPEAT = int(sre_constants.MAXREPEAT)
_RE_FLAGS = 0x1FF  # the flags Python's parser knows (regex-only flags such as V1 are dropped)
_IGNORECASE = 2

# Characters the heuristics reason about: ASCII plus a few non-ASCII letters, digits and spaces,
# and every literal of the pattern (added per pattern).
_BASE_UNIVERSE = frozenset([chr(c) for c in range(128)] + list("éÉßЖж中٣\u00a0\u2003"))


@dataclass(frozen=True)
class Ambiguity:
    kind: str  # "nested" | "alternation"
    pump: str  # a character both ways of matching can consume
    prefix: str  # a string that reaches the repeat


def parse(regex: str, flags: int) -> Any | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sre_parse.parse(regex, flags & _RE_FLAGS)
    except Exception:
        return None


class Analyzer:
    def __init__(self, tree: Any, flags: int) -> None:
        self.ignorecase = bool(flags & _IGNORECASE) or bool(tree.state.flags & _IGNORECASE)
        literals = {chr(av) for op, av in _walk(tree) if str(op) in ("LITERAL", "NOT_LITERAL")}
        universe = set(_BASE_UNIVERSE) | literals
        if self.ignorecase:
            universe |= {c.swapcase() for c in literals if len(c.swapcase()) == 1}
        self.universe = tuple(sorted(universe, key=pump_rank))
        self._leaf_cache: dict[tuple[str, object], frozenset[str]] = {}
        self.tree = tree

    # Character sets ---------------------------------------------------------------------------
    def leaf(self, op: Any, av: Any) -> frozenset[str]:
        """Characters (of the universe) one single-character item matches."""
        name = str(op)
        key = (name, _freeze(av))  # by value: a pattern repeats its classes ([A-Z], \d) a lot
        found = self._leaf_cache.get(key)
        if found is None:
            found = frozenset(c for c in self.universe if self._leaf_matches(name, av, c))
            self._leaf_cache[key] = found
        return found

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

    def ranked(self, chars: frozenset[str]) -> list[str]:
        """`chars` in pump order: the same pump, and so the same finding, on every run."""
        return [c for c in self.universe if c in chars]

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
    def ambiguities(self, tree: Any) -> list[Ambiguity]:
        found: list[Ambiguity] = []
        self._scan(list(tree), "", found)
        return found

    def _scan(self, items: list[Any], prefix: str, found: list[Ambiguity]) -> None:
        here = prefix
        for i, (op, av) in enumerate(items):
            if i:
                here += self.sample(items[i - 1 : i])  # = prefix + sample(items[:i])
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

    def _check_body(self, body: list[Any], prefix: str, found: list[Ambiguity]) -> None:
        for inner, before, after in _inner_repeats(body):
            lo, hi, inner_body = inner
            if lo == hi:
                continue
            for pump in self.ranked(self.chars(list(inner_body))):
                one = frozenset(pump)
                if self.within(after, one) and self.within(before, one):
                    found.append(Ambiguity("nested", pump, prefix + self.sample(before)))
                    return
        for op, av in _walk_items(body):
            if str(op) != "BRANCH":
                continue
            branches = [list(b) for b in av[1]]
            for pump in self.ranked(self.chars(body)):
                one = frozenset(pump)
                able = [b for b in branches if self.within(b, one) and pump in self.chars(b)]
                if len(able) >= 2 and self.within(body, one):
                    found.append(Ambiguity("alternation", pump, prefix))
                    return
            shapes = [s for s in (self._fixed_shape(b) for b in branches) if s]
            for i, first in enumerate(shapes):
                for second in shapes[i + 1 :]:
                    if len(first) == len(second) and all(
                        a & b for a, b in zip(first, second, strict=True)
                    ):
                        # one iteration of the body, taking the first (overlapping) branch
                        pump = self.sample(body) or "".join(
                            sorted(a & b, key=pump_rank)[0]
                            for a, b in zip(first, second, strict=True)
                        )
                        found.append(Ambiguity("alternation", pump, prefix))
                        return

    def _fixed_shape(self, items: list[Any]) -> list[frozenset[str]] | None:
        """The per-position character sets of a branch made only of single characters."""
        shape = []
        for op, av in items:
            if str(op) not in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                return None
            shape.append(self.leaf(op, av))
        return shape

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
        here = prefix
        for i, (op, av) in enumerate(items):
            if i:
                here += self.sample(items[i - 1 : i])
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


def _freeze(av: Any) -> object:
    """A hashable copy of a parse-tree argument (lists become tuples, opcodes their names)."""
    if av is None or isinstance(av, (int, str)):
        return av if not hasattr(av, "name") else str(av)
    if isinstance(av, (list, tuple)):
        return tuple(_freeze(x) for x in av)
    return str(av)


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


def pump_rank(ch: str) -> tuple[int, str]:
    """Prefer ordinary characters as pumps and in samples: letters, digits, then the rest."""
    return (0 if ch.isalpha() and ch.isascii() else 1 if ch.isdigit() else 2, ch)


def find_ambiguities(regex: str, flags: int) -> list[Ambiguity]:
    """Nested quantifiers or overlapping alternatives that can split the same input two ways."""
    return analyze(regex, flags)[1]


def analyze(regex: str, flags: int) -> tuple[Analyzer | None, list[Ambiguity]]:
    """One parse and one analyzer for both the static check and the probe's inputs."""
    tree = parse(regex, flags)
    if tree is None:
        return None, []
    try:
        analyzer = Analyzer(tree, flags)
        return analyzer, analyzer.ambiguities(tree)
    except (RecursionError, ValueError, TypeError, IndexError):
        logger.debug("static regex analysis failed", exc_info=True)
        return None, []


NESTING_LIMIT = 12  # `regex` needs ~7 ms to compile (?:...(?:a+)+...)+ at 12 levels, 2.4 s at 20


def repeat_nesting(regex: str) -> int:
    """How deeply repeated groups nest in `regex` (0 if Python's parser cannot read it)."""
    tree = parse(regex, 0)
    if tree is None:
        return 0

    def depth(items: Sequence[Any]) -> int:
        deepest = 0
        for op, av in items:
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                deepest = max(deepest, 1 + depth(list(av[2])))
            elif name == "SUBPATTERN":
                deepest = max(deepest, depth(list(av[-1])))
            elif name == "ATOMIC_GROUP":
                deepest = max(deepest, depth(list(av)))
            elif name in ("ASSERT", "ASSERT_NOT"):
                deepest = max(deepest, depth(list(av[1])))
            elif name == "BRANCH":
                deepest = max([deepest, *(depth(list(b)) for b in av[1])])
        return deepest

    try:
        return depth(list(tree))
    except RecursionError:
        return NESTING_LIMIT  # too deep to even walk
