"""Whether two fnmatch-style patterns (`*`, `?`, `[set]`, `[!set]`) can match a common name.

Policy patterns are compared by what they match, not by their text: `"[N]W_*"` and `"*"` both
overlap the protected `"NW_*"`. Pure; quadratic in the patterns' lengths (they are short).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

STAR = None
LARGE = 4096  # a set this big (a wide range) is taken to share a character with anything


@dataclass(frozen=True)
class CharSet:
    chars: frozenset[str]
    negated: bool = False

    def intersects(self, other: CharSet) -> bool:
        if self.negated and other.negated:
            return True  # the alphabet is larger than any two finite sets
        if self.negated or other.negated:
            pos, neg = (other, self) if self.negated else (self, other)
            return bool(pos.chars - neg.chars)
        return bool(self.chars & other.chars)


def _tokens(pattern: str) -> tuple[CharSet | None, ...]:
    out: list[CharSet | None] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        i += 1
        if c == "*":
            if not out or out[-1] is not STAR:
                out.append(STAR)
        elif c == "?":
            out.append(CharSet(frozenset(), negated=True))
        elif c == "[":
            end = i + (1 if pattern[i : i + 1] in ("!", "]") else 0)
            end += 1 if pattern[i : i + 2] == "!]" else 0
            close = pattern.find("]", end)
            if close < 0:  # as fnmatch: an unclosed bracket is a literal
                out.append(CharSet(frozenset("[")))
                continue
            body, i = pattern[i:close], close + 1
            negated = body.startswith("!")
            out.append(CharSet(_members(body[1:] if negated else body), negated))
        else:
            out.append(CharSet(frozenset(c)))
    return tuple(out)


def _members(body: str) -> frozenset[str]:
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = ord(body[i]), ord(body[i + 2])
            if hi - lo > LARGE:
                hi = lo + LARGE
            chars.update(chr(o) for o in range(lo, hi + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return frozenset(chars)


@lru_cache(maxsize=1024)
def overlaps(a: str, b: str) -> bool:
    """True when some name matches both patterns (case-sensitive, as `fnmatchcase`)."""
    if len(a) + len(b) > 512:
        return True  # no entity name is that long: assume the worst, never recurse that deep
    x, y = _tokens(a), _tokens(b)
    seen: dict[tuple[int, int], bool] = {}

    def go(i: int, j: int) -> bool:
        key = (i, j)
        if key in seen:
            return seen[key]
        seen[key] = False  # cycles (two stars) end here
        if i == len(x) and j == len(y):
            result = True
        elif i < len(x) and x[i] is STAR:
            result = go(i + 1, j) or (j < len(y) and go(i, j + 1))
        elif j < len(y) and y[j] is STAR:
            result = go(i, j + 1) or (i < len(x) and go(i + 1, j))
        elif i < len(x) and j < len(y):
            xi, yj = x[i], y[j]
            assert xi is not None and yj is not None
            result = xi.intersects(yj) and go(i + 1, j + 1)
        else:
            result = False
        seen[key] = result
        return result

    return go(0, 0)
