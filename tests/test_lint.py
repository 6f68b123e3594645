"""Every lint class has a fixture in tests/fixtures/lint whose first line names the code."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from config_audit.audit.check import check_bytes
from config_audit.model import Severity

FIXTURES = sorted((Path(__file__).parent / "fixtures" / "lint").glob("*.yaml"))


def expected(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("# expect: "), path
    return first.removeprefix("# expect: ").strip()


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_reports_its_code(path: Path) -> None:
    checked = check_bytes(path.read_bytes(), path=path.name)
    codes = {f.code for f in checked.report.findings}
    want = expected(path)
    if want == "clean":
        assert not checked.report.findings, checked.report.findings
        return
    assert want in codes, checked.report.findings
    for f in checked.report.findings:
        assert f.path == path.name and f.message and f.hint, f
        if f.code == want and f.code not in ("CA003",):
            assert f.line is not None, f  # every finding names its line


def test_every_lint_code_in_the_module_has_a_fixture() -> None:
    import re

    source = "".join(
        (Path(__file__).parents[1] / "config_audit" / m).read_text()
        for m in ("recognizers/lint.py", "recognizers/lint_registry.py", "recognizers/lint_coerce.py", "recognizers/parse.py", "recognizers/yamlsafe.py")
    )
    codes = set(re.findall(r'"(CA[01]\d\d)"', source)) - {"CA100"}
    covered = {expected(p) for p in FIXTURES}
    assert codes <= covered, sorted(codes - covered)


def test_billion_laughs_rejected_in_milliseconds() -> None:
    data = (Path(__file__).parent / "fixtures" / "lint" / "CA003_billion_laughs.yaml").read_bytes()
    start = time.perf_counter()
    checked = check_bytes(data, path="bomb.yaml")
    assert time.perf_counter() - start < 0.5
    assert [f.code for f in checked.report.findings] == ["CA003"]


def test_huge_file_rejected_before_parsing() -> None:
    data = b"recognizers:\n" + b"  - name: x\n" * 300_000
    checked = check_bytes(data, path="huge.yaml")
    assert checked.report.findings[0].code == "CA003"
    assert "byte limit" in checked.report.findings[0].message


def test_deep_nesting_is_a_finding_not_a_crash() -> None:
    checked = check_bytes(b"a: " + b"[" * 5000 + b"]" * 5000, path="deep.yaml")
    assert checked.report.findings[0].severity is Severity.ERROR


def test_unknown_key_suggests_the_right_one() -> None:
    data = b"supported_languages: [en]\nrecognizers:\n  - name: E\n    type: predefined\n    enable: false\n"
    finding = next(f for f in check_bytes(data, path="x.yaml").report.findings if f.code == "CA101")
    assert finding.line == 5 and finding.recognizer == "E"
    assert "did you mean 'enabled'" in finding.hint


@pytest.mark.parametrize(
    "deny_list", ['[Jane Doe, 42, ""]', '"Jane Doe"', "{Jane Doe: 1}", "[[Jane Doe]]"]
)
def test_findings_never_echo_deny_list_values(deny_list: str) -> None:
    data = f"recognizers:\n  - name: T\n    supported_entity: T\n    deny_list: {deny_list}\n"
    findings = check_bytes(data.encode(), path="x.yaml").report.findings
    assert findings  # every one of these shapes is wrong
    for f in findings:
        assert "Jane" not in f.message + f.hint, f


@pytest.mark.parametrize(
    ("field", "value"),
    [("patterns", "{name: p, regex: x, score: 0.5}"), ("context", "5"),
     ("supported_entity", "[X, Y]"), ("name", "[a, b]"), ("deny_list", "{a: b}")],
)
def test_wrongly_typed_fields_are_errors(field: str, value: str) -> None:
    fields = {"name": "T", "supported_entity": "T", "patterns": "[{name: p, regex: 'x', score: 0.5}]"}
    fields[field] = value
    body = "".join(f"    {k}: {v}\n" for k, v in fields.items()).replace("    ", "  - ", 1)
    report = check_bytes(f"recognizers:\n{body}".encode(), path="x.yaml").report
    assert not report.valid, report.findings


def test_several_unnamed_patterns_are_findings_not_a_crash() -> None:
    # Two patterns without `name` used to meet in the repeated-name check as None, which then
    # read pattern['name']: "internal error: KeyError" instead of the finding.
    data = b"""recognizers:
  - name: r
    supported_language: en
    supported_entity: X
    patterns:
      - {regex: "a+b", score: 0.5}
      - {regex: "c+d", score: 0.5}
"""
    checked = check_bytes(data, path="unnamed.yaml")
    codes = [f.code for f in checked.report.findings]
    assert codes.count("CA117") == 2 and "CA126" not in codes
