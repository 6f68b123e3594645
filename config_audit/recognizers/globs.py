"""The one glob rule for recognizer files, used by every door and command.

Git's `:(glob,icase)` pathspec semantics, which the hooks' shell filter hands to git itself:
`**/` spans directories (also none), `*` and `?` stay inside one path segment, and matching
ignores case (`recognizers/Extra.YAML` is a recognizer file everywhere, never skipped by one door
and audited by another).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=256)
def glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z", re.IGNORECASE | re.DOTALL)


def matches_glob(path: str, pattern: str) -> bool:
    """Whether a relative, '/'-separated path matches one glob."""
    return glob_regex(pattern).match(path) is not None


def matches_globs(path: str, globs: Iterable[str]) -> bool:
    """Whether a relative, '/'-separated path matches any of the globs."""
    return any(glob_regex(g).match(path) for g in globs)


def files_matching(root: Path, globs: Sequence[str]) -> Iterator[Path]:
    """Files under `root` whose relative path matches a glob, in sorted order; `.git` is skipped.

    Symlinked directories are not followed (a link can point anywhere)."""
    found = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        base = os.path.relpath(current, root)
        for name in files:
            rel = name if base == "." else f"{base}/{name}".replace(os.sep, "/")
            if matches_globs(rel, globs):
                found.append(Path(current, name))
    yield from sorted(found)
