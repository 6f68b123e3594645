"""Policy rules on real diffs: owners, signatures, protected entities, forbidden changes, and the
ways a weakening could slip past them (language removal, entity moves, renames, file-wide edits)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from config_audit.errors import UsageError
from config_audit.model import Assurance, CommitEvidence
from config_audit.policy.rules import parse_policy
from config_audit.recognizers.diff import diff_sets
from config_audit.recognizers.parse import parse_bytes

POLICY = {
    "people": {"alice": ["alice@nw.example"], "bob": ["bob@nw.example"]},
    "teams": {"privacy": ["alice"]},
    "owners": {"NW_*": ["privacy"]},
    "protected_entities": ["NW_*"],
    "min_score": 0.3,
}
BASE = """\
supported_languages: [en, de]
global_regex_flags: 26
recognizers:
  - name: Employee
    supported_entity: NW_EMPLOYEE_ID
    supported_languages: [en]
    patterns: [{name: emp, regex: 'NW-\\d{6}', score: 0.8}]
  - name: Email
    type: predefined
"""
BOB = CommitEvidence(Assurance.CLAIMED, author_email="bob@nw.example")
ALICE = CommitEvidence(Assurance.CLAIMED, author_email="alice@nw.example")
ALICE_SIGNED = replace(ALICE, signature_status="good", signer="alice@nw.example")


def violations(new: str, author: CommitEvidence, **policy: Any) -> list[str]:
    changes = diff_sets(parse_bytes(BASE.encode(), path="r.yaml").recognizers,
                        parse_bytes(new.encode(), path="r.yaml").recognizers)
    rules = parse_policy({**POLICY, **policy})
    return [f.code for f in rules.check(changes, author=author, path="r.yaml")]


def test_owner_signed_mode() -> None:
    weaker = BASE.replace("score: 0.8", "score: 0.5")
    assert violations(weaker, BOB) == ["CA501"]
    assert violations(weaker, ALICE) == ["CA501"]  # owner, but unsigned
    assert violations(weaker, ALICE_SIGNED) == []
    assert violations(weaker, replace(ALICE, signature_status="pending")) == []  # pre-commit
    assert violations(weaker, ALICE, weakening_protected="owner") == []
    assert violations(weaker, ALICE_SIGNED, weakening_protected="forbid") == ["CA501"]


def test_strengthening_and_unprotected_changes_pass() -> None:
    assert violations(BASE.replace("score: 0.8", "score: 0.9"), BOB) == []
    assert violations(BASE.replace("- name: Email\n    type: predefined\n", ""), BOB) == []


def test_score_floor() -> None:
    assert "CA503" in violations(BASE.replace("score: 0.8", "score: 0.2"), ALICE_SIGNED)


def test_removing_a_protected_recognizer_is_forbidden_even_for_owners() -> None:
    gone = BASE.replace("""  - name: Employee
    supported_entity: NW_EMPLOYEE_ID
    supported_languages: [en]
    patterns: [{name: emp, regex: 'NW-\\d{6}', score: 0.8}]
""", "")
    assert "CA502" in violations(gone, ALICE_SIGNED)


def test_dropping_the_language_of_a_protected_recognizer_is_caught() -> None:
    assert violations(BASE.replace("[en, de]", "[de]"), BOB) == ["CA501"]


def test_moving_a_recognizer_off_a_protected_entity_is_caught() -> None:
    assert "CA501" in violations(BASE.replace("NW_EMPLOYEE_ID", "SOMETHING_ELSE"), BOB)


def test_a_rename_does_not_hide_a_weakening() -> None:
    sneaky = BASE.replace("name: Employee\n", "name: Staff\n    score_thresholds: {default: 1.0}\n")
    changes = diff_sets(parse_bytes(BASE.encode(), path="a").recognizers,
                        parse_bytes(sneaky.encode(), path="b").recognizers)
    assert {"recognizer.renamed", "score_threshold.raised"} <= {c.kind for c in changes}
    assert violations(sneaky, BOB) == ["CA501"]


def test_file_wide_weakening_touches_protected_entities() -> None:
    assert violations(BASE.replace("global_regex_flags: 26", "global_regex_flags: 24"), BOB) == ["CA501"]


def test_unknown_people_and_teams_are_configuration_errors() -> None:
    with pytest.raises(UsageError, match="unknown people"):
        parse_policy({**POLICY, "teams": {"privacy": ["carol"]}})
    with pytest.raises(UsageError, match="neither a person nor a team"):
        parse_policy({**POLICY, "owners": {"NW_*": ["ghosts"]}})
    with pytest.raises(UsageError, match="unknown policy key"):
        parse_policy({**POLICY, "protected": ["x"]})


def test_policy_changes_are_classified() -> None:
    from config_audit.policy.diff import diff_policies

    kinds = {c.kind: c.impact.value for c in diff_policies(POLICY, {
        **POLICY, "protected_entities": [], "weakening_protected": "owner", "min_score": 0.1,
        "teams": {"privacy": ["alice", "bob"]},
        "people": {**POLICY["people"], "alice": ["alice@nw.example", "mallory@evil.example"]},
    })}
    assert kinds == {
        "policy.protection_removed": "weakens", "policy.weakening_rule_changed": "weakens",
        "policy.score_floor_changed": "weakens", "policy.owners_added": "weakens",
        "policy.identities_added": "weakens",
    }
    assert [c.kind for c in diff_policies({}, POLICY)] == ["policy.created"]
    stricter = diff_policies(POLICY, {**POLICY, "weakening_protected": "forbid"})
    assert [(c.kind, c.impact.value) for c in stricter] == [("policy.weakening_rule_changed", "strengthens")]


def test_loosening_the_policy_needs_an_owner_of_what_was_protected() -> None:
    from config_audit.policy.diff import diff_policies

    changes = diff_policies(POLICY, {**POLICY, "protected_entities": []})
    rules = parse_policy({**POLICY, "weakening_protected": "owner"})
    assert [f.code for f in rules.check(changes, author=BOB, path="c")] == ["CA501"]
    assert rules.check(changes, author=ALICE, path="c") == []
    unprotected = diff_policies({**POLICY, "protected_entities": []},
                                {**POLICY, "protected_entities": [], "min_score": 0.1})
    assert rules.check(unprotected, author=BOB, path="c") == []  # nothing protected was loosened
