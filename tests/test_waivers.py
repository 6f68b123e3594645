"""Governed waivers and the gate on what a change introduces (issue 12)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config_audit.audit.check import check_bytes
from config_audit.audit.pipeline import Auditor, ChangeEvent
from config_audit.errors import UsageError
from config_audit.model import Assurance, CommitEvidence, Severity
from config_audit.settings import Settings, parse_settings
from config_audit.settings.waivers import apply_waivers, parse_waivers

ROOT = Path("/repo")

# CA110 (error) on line 6, CA119 (warning) on line 7.
BASE = b"""supported_languages: [en]
recognizers:
  - name: Acct
    supported_entity: ACCOUNT
    supported_languages: [en]
    context: [account]
    enabled: "yes"
    patterns: [{name: p, regex: 'ACCT-\\d{4}', score: 0.6}]
"""
# The same, plus a new error: a custom recognizer left with no language (CA115).
WORSE = BASE + b"""  - name: Emp
    supported_entity: EMP
    supported_language: de
    patterns: [{name: p, regex: 'EMP-\\d{4}', score: 0.6}]
"""


def report(data: bytes, **settings: object):  # type: ignore[no-untyped-def]
    waivers = parse_waivers(settings.get("findings"), settings.get("accept"), where="t")
    checked = check_bytes(data, path="recognizers/a.yaml").report
    today = settings.get("today", date(2026, 12, 1))
    return apply_waivers(checked, waivers, path="recognizers/a.yaml", source=data, today=today)  # type: ignore[arg-type]


def by_code(rep, code):  # type: ignore[no-untyped-def]
    [finding] = [f for f in rep.findings if f.code == code]
    return finding


def test_severity_override_and_off_is_recorded_as_accepted() -> None:
    rep = report(BASE, findings={"CA119": "off", "CA110": "warning"})
    assert by_code(rep, "CA110").severity is Severity.WARNING and rep.valid
    off = by_code(rep, "CA119")
    assert off.accepted and "off" in off.accepted  # never dropped
    assert off.to_dict()["accepted"] == off.accepted


def test_acceptance_with_reason_and_expiry() -> None:
    entry = {"code": "CA110", "path": "recognizers/*.yaml", "reason": "R-12", "expires": "2027-01-31"}
    rep = report(BASE, accept=[entry])
    accepted = by_code(rep, "CA110")
    assert rep.valid and accepted.severity is Severity.ERROR and "R-12" in str(accepted.accepted)
    expired = report(BASE, accept=[entry], today=date(2027, 2, 1))
    assert not expired.valid and by_code(expired, "CA110").accepted is None
    other = report(BASE, accept=[{**entry, "recognizer": "Other"}])
    assert not other.valid


def test_inline_acceptance_same_line_and_line_before() -> None:
    same = BASE.replace(b"[account]", b"[account]  # config-audit: accept CA110 -- decorative")
    assert report(same).valid and "decorative" in str(by_code(report(same), "CA110").accepted)
    before = BASE.replace(
        b"    context:", b"    # config-audit: accept CA110, CA119 -- both known\n    context:"
    )
    rep = report(before)
    assert rep.valid and by_code(rep, "CA110").accepted


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        ({"validation": {"ignore": ["CA115"]}}, "ignore"),
        ({"finding": {"CA115": "off"}}, "did you mean 'findings'"),
        ({"accept": [{"code": "CA110"}]}, "reason"),
        ({"accept": [{"code": "CA110", "reason": "x", "recogniser": "A"}]}, "recognizer"),
        ({"findings": {"CA110": "ignore"}}, "CA110"),
        ({"accept": [{"code": "CA110", "reason": "x", "expires": "soon"}]}, "date"),
    ],
)
def test_malformed_waiver_settings_are_errors(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_settings(raw, root=ROOT, config_path=None)
    assert needle in str(info.value) + info.value.diagnostics()


def gate(before: bytes | None, after: bytes, **raw: object) -> tuple[bool, list[str]]:
    settings: Settings = parse_settings(raw, root=ROOT, config_path=None)
    result = Auditor(settings, environ={}).audit(
        ChangeEvent("recognizers/a.yaml", before, after, "pre-commit"), write=False
    )
    assert result.after is not None
    return result.blocked, sorted(f.code for f in result.after.findings if f.existing)


def test_existing_errors_do_not_block_new_ones_do() -> None:
    assert gate(BASE, BASE) == (False, ["CA110", "CA119"])  # existing: shown, not blocking
    blocked, existing = gate(BASE, WORSE)
    assert blocked and "CA115" not in existing
    assert gate(None, BASE)[0]  # a new file introduces all its findings
    assert gate(BASE, BASE, strict=True)[0]


def test_inline_acceptance_added_by_the_change_does_not_waive_it() -> None:
    waived = WORSE.replace(
        b"supported_language: de", b"supported_language: de  # config-audit: accept CA115 -- me"
    )
    assert gate(BASE, waived)[0]  # self-granted in the change under audit
    assert not gate(waived, waived)[0]  # already in the audited past


def test_adding_an_acceptance_or_lowering_a_severity_is_a_judged_policy_change() -> None:
    import yaml

    from config_audit.policy.diff import diff_coverage, settings_of
    from config_audit.policy.rules import parse_policy

    policy = {
        "people": {"alice": ["alice@nw.example"], "bob": ["bob@nw.example"]},
        "owners": {"NW_*": ["alice"]},
        "protected_entities": ["NW_*"],
        "weakening_protected": "owner",
    }
    old = {"policy": policy, "strict": True}
    new = {
        "policy": policy,
        "findings": {"CA110": "warning", "CA206": "error"},
        "accept": [{"code": "CA115", "path": "recognizers/*", "reason": "rollout"}],
    }
    changes = diff_coverage(settings_of(yaml.safe_dump(old).encode()),
                            settings_of(yaml.safe_dump(new).encode()))
    kinds = sorted((c.kind, c.impact.value, c.summary.split(":")[0]) for c in changes)
    assert kinds == [
        ("waivers.acceptance_added", "weakens", "accepts CA115 in recognizers/* with no expiry"),
        ("waivers.severity_changed", "strengthens", "CA206"),
        ("waivers.severity_changed", "weakens", "CA110"),
        ("waivers.strict_off", "weakens", "existing errors no longer block"),
    ]
    rules = parse_policy(policy)
    bob = CommitEvidence(Assurance.CLAIMED, author_email="bob@nw.example")
    alice = CommitEvidence(Assurance.CLAIMED, author_email="alice@nw.example")
    assert {f.code for f in rules.check(changes, author=bob, path=".config-audit.yaml")} == {"CA501"}
    assert rules.check(changes, author=alice, path=".config-audit.yaml") == []


def test_hook_and_ci_gate_on_what_a_commit_introduces(tmp_path: Path) -> None:
    import json

    from tests.gitfixtures import RECOGNIZERS, make_repo

    repo = make_repo(tmp_path, hooks=True)
    # An existing problem: 'enable' is dropped by Presidio (CA101 error), committed past the hook.
    broken = RECOGNIZERS.replace("    context: [employee]\n", "    context: [employee]\n    enable: false\n")
    repo.write("recognizers/custom.yaml", broken)
    assert repo.commit("base", extra=("--no-verify",)).returncode == 0
    repo.git("tag", "base")
    repo.write("recognizers/custom.yaml", broken.replace("[Dr., Prof.]", "[Dr., Prof., Mx.]"))
    ok = repo.commit("more titles")
    assert ok.returncode == 0, ok.stderr  # the existing error is shown, not blocking
    assert "error (existing) CA101" in ok.stderr
    record = json.loads(repo.log.read_text().splitlines()[-1])
    [kept] = [f for f in record["validation"]["findings"] if f["code"] == "CA101"]
    assert kept["existing"] is True  # recorded as existing, not dropped
    worse = broken.replace("score: 0.8", "score: 0")  # a new error: score 0 is never reported
    repo.write("recognizers/custom.yaml", worse)
    blocked = repo.commit("zero score")
    assert blocked.returncode != 0 and "CA105" in blocked.stderr
    assert repo.commit("zero score", extra=("--no-verify",)).returncode == 0
    out = repo.run("ci", "--base", "base", "--log", str(tmp_path / "ci.jsonl"), "--format", "json")
    data = json.loads(out.stdout)
    verdicts = [[f["blocked"] for f in c["files"]] for c in data["commits"]]
    assert data["failed"] and verdicts == [[False], [True]], verdicts
    assert out.returncode == 1


def test_unknown_keys_in_lazily_read_sections_fail_at_load() -> None:
    with pytest.raises(UsageError) as info:
        parse_settings({"alerts": {"chanels": []}}, root=ROOT, config_path=None)
    assert "did you mean 'channels'" in info.value.diagnostics()
    with pytest.raises(UsageError):
        parse_settings({"retention": {"keep": 3}}, root=ROOT, config_path=None)


def test_bare_off_in_yaml_means_off() -> None:
    import yaml

    raw = yaml.safe_load("findings: {CA119: off}\n")  # YAML 1.1 reads a bare off as false
    settings = parse_settings(raw, root=ROOT, config_path=None)
    assert settings.waivers.severities == (("CA119", "off"),)
