"""Static ReDoS heuristics and the bounded probe (pure: no worker, no Presidio)."""

from __future__ import annotations

import time

import pytest

from config_audit.model import Severity
from config_audit.validate import check_pattern
from config_audit.validate.regex_safety import adversarial_inputs, find_ambiguities

FLAGS = 26  # Presidio's default: IGNORECASE | MULTILINE | DOTALL


@pytest.mark.parametrize(
    "regex",
    [r"(a+)+$", r"(\w+\s?)+$", r"(x+x+)+y", r"^(([a-z])+.)+[A-Z]([a-z])+$", r"\p{L}+(\p{L}+)+$"],
)
def test_catastrophic_patterns_are_errors(regex: str) -> None:
    issues = check_pattern(regex, FLAGS, probe_timeout_s=0.2)
    assert [(i.code, i.severity) for i in issues] == [("CA301", Severity.ERROR)]
    assert "fail-open" in issues[0].message


@pytest.mark.parametrize("regex", [r"(a*)*b", r"^(\d+)+$", r"(\d{1,3})+!", r"ID-(\d+)+$"])
def test_ambiguous_but_survived_probe_is_warning(regex: str) -> None:
    issues = check_pattern(regex, FLAGS, probe_timeout_s=0.2)
    assert [(i.code, i.severity) for i in issues] == [("CA302", Severity.WARNING)]


@pytest.mark.parametrize(
    "regex",
    [
        r"\bNW-EMP-\d{6}\b",
        r"\bACCT-\d{4}-\d{4}\b",
        r"\b[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}\b",
        r"(\w+\s)+$",  # the separator is required and disjoint from \w: unambiguous
        r"(?:\d{3}[-\s]?)+",  # fixed-width inner repeat
        r"(?:\b\w+\b\s*)+!",  # \b cannot split a run of word characters
        r"\b(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[-+]?\d{4}\b",
        r"(a|ab)*c",
        r"(?>a+)+b",  # atomic: no backtracking into the group
    ],
)
def test_safe_patterns_pass(regex: str) -> None:
    assert check_pattern(regex, FLAGS, probe_timeout_s=0.2) == ()


def test_backspace_and_empty() -> None:
    [issue] = check_pattern("\bEMP-\\d{6}", FLAGS)
    assert (
        issue.code == "CA303" and issue.severity is Severity.ERROR and "single quotes" in issue.hint
    )
    [empty] = check_pattern("", FLAGS)
    assert empty.code == "CA304" and empty.severity is Severity.ERROR


def test_static_check_finds_pump_and_prefix() -> None:
    [amb] = find_ambiguities(r"ID-(\d+)+$", FLAGS)
    assert amb.kind == "nested" and amb.pump.isdigit() and amb.prefix == "ID-"
    assert any(s.startswith("ID-") for s in adversarial_inputs(r"ID-(\d+)+$", FLAGS))


def test_overlapping_alternation_under_quantifier() -> None:
    [amb] = find_ambiguities(r"(?:ab|a.)*!", FLAGS)
    assert amb.kind == "alternation"


def test_regex_module_only_syntax_still_probed() -> None:
    assert find_ambiguities(r"\p{Lu}\p{Ll}+", FLAGS) == []  # Python's parser cannot read it
    assert check_pattern(r"\p{Lu}\p{Ll}+", FLAGS, probe_timeout_s=0.2) == ()


def test_probe_is_bounded() -> None:
    started = time.perf_counter()
    check_pattern(r"(.*a){12}x", FLAGS, probe_timeout_s=0.1)
    assert time.perf_counter() - started < 2.0


def test_verbose_flag_is_honoured() -> None:
    # With VERBOSE (64) the space is ignored: '(a +)+' is '(a+)+'.
    assert find_ambiguities(r"(a +)+$", FLAGS | 64)
    assert not find_ambiguities(r"(a +)+$", FLAGS)


def test_findings_do_not_depend_on_hash_seed() -> None:
    """The pump (and so the finding's text and the probe inputs) is the same on every run."""
    import subprocess
    import sys

    code = (
        "from config_audit.validate.regex_safety import adversarial_inputs, find_ambiguities;"
        "r=r'(\\w+\\s?)+$';print([a.pump for a in find_ambiguities(r, 26)], "
        "adversarial_inputs(r, 26)[:1])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(outputs) == 1, outputs


def test_analysis_of_a_long_pattern_is_linear_not_quadratic() -> None:
    """Prefixes are built as the scan goes: 400 items cost about 4x 100 items, not 16x."""
    from config_audit.recognizers.regex_static import find_ambiguities as static

    def cost(n: int) -> float:
        # The fastest of five runs: on a loaded machine one run can stall for a second, which
        # says nothing about the algorithm; the fastest run is the algorithm's cost.
        regex = "".join(f"[a-z]{i % 7}" for i in range(n)) + r"(\w+\s?)+$"
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            assert static(regex, FLAGS)
            runs.append(time.perf_counter() - started)
        return min(runs)

    cost(50)  # warm-up
    assert cost(400) < 10 * cost(100)
