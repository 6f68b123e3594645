"""Every change kind has a fixture pair in tests/fixtures/diff (old doc, `--- # new`, new doc)."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from config_audit.model import Impact
from config_audit.recognizers.diff import diff_sets
from config_audit.recognizers.parse import parse_bytes

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "diff").glob("*.yaml"))


def load_pair(path: Path) -> tuple[str, bytes, bytes]:
    text = path.read_text()
    header, rest = text.split("\n", 1)
    old, new = rest.split("--- # new\n")
    return header.removeprefix("# expect: ").strip(), old.encode(), new.encode()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_change_kind(path: Path) -> None:
    want, old, new = load_pair(path)
    a = parse_bytes(old, path="old.yaml").recognizers
    b = parse_bytes(new, path="new.yaml").recognizers
    changes = diff_sets(a, b)
    if want == "none":
        assert changes == []
        return
    kind, impact = want.split()
    matching = [c for c in changes if c.kind == kind]
    assert matching, changes
    assert matching[0].impact is Impact(impact)


def test_rename_is_paired_not_remove_plus_add() -> None:
    _, old, new = load_pair(Path(__file__).parent / "fixtures" / "diff" / "recognizer_renamed.yaml")
    kinds = [c.kind for c in diff_sets(parse_bytes(old, path="a").recognizers,
                                       parse_bytes(new, path="b").recognizers)]
    assert kinds.count("recognizer.renamed") == 2  # one per language
    assert "recognizer.removed" not in kinds and "recognizer.added" not in kinds


def test_language_removal_does_not_also_list_every_recognizer() -> None:
    _, old, new = load_pair(Path(__file__).parent / "fixtures" / "diff" / "language_removed.yaml")
    changes = diff_sets(parse_bytes(old, path="a").recognizers, parse_bytes(new, path="b").recognizers)
    assert [c.kind for c in changes] == ["language.removed"]


def generated(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    lines = ["supported_languages: [en]", "recognizers:"]
    for i in range(n):
        lines += [
            f"  - name: Recognizer {i}",
            f"    supported_entity: ENTITY_{i % 50}",
            f"    context: [word{i}, other{i}]",
            "    patterns:",
            f"      - {{name: p{i}, regex: 'ID{i}-\\d{{{rng.randint(3, 9)}}}', score: {rng.randint(1, 9) / 10}}}",
        ]
    return ("\n".join(lines) + "\n").encode()


def test_diff_of_two_1000_recognizer_files_is_fast_enough_to_run_in_a_hook() -> None:
    # A generous functional bound; the real figure comes from bench/bench_diff.py.
    old, new = generated(1000, 1), generated(1000, 2)
    start = time.perf_counter()
    changes = diff_sets(parse_bytes(old, path="a").recognizers, parse_bytes(new, path="b").recognizers)
    assert time.perf_counter() - start < 5
    assert changes


def test_duplicate_pattern_and_recognizer_names_never_shift_identities() -> None:
    """A second pattern `p` next to one literally named `p#2` (and the same for recognizers):
    adding the duplicate is one addition, not a spurious regex change of `p#2`."""
    old = b"""recognizers:
  - name: R
    supported_entity: ID
    patterns:
      - {name: p, regex: 'A\\d{4}', score: 0.8}
      - {name: 'p#2', regex: 'B\\d{4}', score: 0.8}
  - name: 'R#2'
    supported_entity: ID2
    deny_list: [x]
"""
    new = b"""recognizers:
  - name: R
    supported_entity: ID
    patterns:
      - {name: p, regex: 'A\\d{4}', score: 0.8}
      - {name: p, regex: 'C\\d{4}', score: 0.8}
      - {name: 'p#2', regex: 'B\\d{4}', score: 0.8}
  - name: R
    supported_entity: ID3
    deny_list: [y]
  - name: 'R#2'
    supported_entity: ID2
    deny_list: [x]
"""
    a = parse_bytes(old, path="old.yaml").recognizers
    b = parse_bytes(new, path="new.yaml").recognizers
    changes = diff_sets(a, b)
    assert sorted((c.kind, c.summary) for c in changes) == [
        ("pattern.added", "pattern 'p (#2)' added (score 0.8)"),
        ("recognizer.added", "recognizer added"),
    ], changes
    assert all(c.impact is Impact.STRENGTHENS for c in changes)
