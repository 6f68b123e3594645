"""Identities from the directory (SCIM 2.0, CODEOWNERS, hand-written) and roles on real diffs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from config_audit.errors import UsageError
from config_audit.model import Assurance, CommitEvidence
from config_audit.policy.diff import diff_policies
from config_audit.policy.directory import parse_codeowners, parse_scim, read_files_under
from config_audit.policy.roles import preset_roles
from config_audit.policy.rules import parse_policy
from config_audit.recognizers.diff import diff_sets
from config_audit.recognizers.parse import parse_bytes

ACCESS = Path(__file__).parent / "fixtures" / "access"
READ = read_files_under(ACCESS)
BASE = """\
recognizers:
  - name: Employee
    supported_entity: NW_EMPLOYEE_ID
    supported_language: en
    patterns: [{name: emp, regex: 'NW-\\d{6}', score: 0.8}]
"""
WEAKER = BASE.replace("score: 0.8", "score: 0.5")
STRONGER = BASE.replace("score: 0.8", "score: 0.9")
ADDED = (
    BASE
    + """\
  - name: Badge
    supported_entity: NW_BADGE
    supported_language: en
    patterns: [{name: b, regex: 'B-\\d{4}', score: 0.7}]
"""
)
ROLES = {
    "contributor": {"grants": ["engineering"], "may": ["add", "strengthen", "neutral"]},
    "owner": {
        "grants": ["privacy"],
        "may": ["weaken", "remove"],
        "covers": ["NW_*"],
        "signed": True,
    },
    "policy-admin": {"grants": ["carol"], "may": ["policy"]},
}
POLICY: dict[str, Any] = {
    "people": {"carol": ["carol@nw.example"]},
    "directory": {"scim": "scim.json", "codeowners": "CODEOWNERS"},
    "roles": ROLES,
}


def who(email: str, *, signed: bool = False) -> CommitEvidence:
    author = CommitEvidence(Assurance.CLAIMED, author_email=email)
    if signed:
        author = replace(author, signature_status="good", signer=email)
    return author


def found(
    new: str, author: dict[str, Any], path: str = "recognizers/nw.yaml", **extra: Any
) -> list[str]:
    changes = diff_sets(
        parse_bytes(BASE.encode(), path=path).recognizers,
        parse_bytes(new.encode(), path=path).recognizers,
    )
    policy = parse_policy({**POLICY, **extra}, read=READ)
    return [f.message for f in policy.check(changes, author=author, path=path)]


def test_scim_export_users_groups_and_activity() -> None:
    users, groups = parse_scim((ACCESS / "scim.json").read_bytes())
    assert {u.user_name: u.active for u in users}["dave@nw.example"] is False
    alice = next(u for u in users if u.id == "u-alice")
    assert alice.identities == {"alice@nw.example", "a.liddell@nw.example"}
    assert groups["privacy"] == ["u-alice", "u-dave"]
    with pytest.raises(UsageError):
        parse_scim(b'{"Resources": [{"id": "x"}]}')


def test_identities_merge_into_one_person_and_inactive_owns_nothing() -> None:
    policy = parse_policy(
        {**POLICY, "people": {"alice": ["alice@nw.example", "alice"], "carol": []}}, read=READ
    )
    ids = policy.directory.identities
    assert ids is not None
    alice = ids.people["alice"]  # hand-written person joined by her SCIM user
    assert {"alice", "a.liddell@nw.example"} <= alice.identities and alice.in_directory
    assert "alice@nw.example" not in ids.people
    assert ids.people["dave@nw.example"].active is False
    assert ids.inactive == {"dave@nw.example"}
    assert policy.directory.person_of("a.liddell@nw.example") == "alice"


def test_codeowners_last_match_wins_and_unresolved_is_kept() -> None:
    policy = parse_policy(POLICY, read=READ)
    ids = policy.directory.identities
    assert ids is not None
    assert ids.owners_of_path("recognizers/hr.yaml") == {"dave@nw.example", "alice@nw.example"}
    assert "bob@nw.example" in ids.owners_of_path("recognizers/nw.yaml")
    legacy = next(e for e in ids.path_owners if e.pattern == "/recognizers/legacy/")
    assert legacy.unresolved == ("@mallory",) and legacy.people == frozenset()
    assert legacy.matches("recognizers/legacy/old.yaml")
    entries = parse_codeowners("docs/*.md @x\n[Section]\n**/hr.yaml a@b", {}, {})
    assert entries[0].matches("docs/a.md") and not entries[0].matches("docs/a/b.md")
    assert entries[1].matches("deep/er/hr.yaml")


def test_roles_permit_by_kind_and_name_the_missing_role() -> None:
    assert found(STRONGER, who("bob@nw.example")) == []
    assert found(ADDED, who("bob@nw.example")) == []
    [msg] = found(WEAKER, who("bob@nw.example"))
    assert "missing role 'owner' (signed)" in msg and "bob@nw.example" in msg
    [msg] = found(WEAKER, who("alice@nw.example"))
    assert "holds ['owner'] but the commit has no verified signature" in msg
    assert found(WEAKER, who("alice@nw.example", signed=True)) == []
    pending = replace(who("alice@nw.example"), signature_status="pending")
    assert found(WEAKER, pending) == []  # pre-commit: CI checks the signature
    [msg] = found(STRONGER, who("eve@elsewhere.example"))
    assert "an unknown author" in msg and "'contributor'" in msg


def test_an_inactive_directory_user_holds_no_role() -> None:
    [msg] = found(WEAKER, who("dave@nw.example", signed=True))
    assert "missing role 'owner'" in msg
    assert found(STRONGER, who("dave@nw.example")) != []


def test_roles_and_owner_rules_compose() -> None:
    # The preset (protected entities, owners) still holds beside the roles.
    extra = {
        "protected_entities": ["NW_*"],
        "owners": {"NW_*": ["carol"]},
        "directory": {"scim": "scim.json"},  # CODEOWNERS would make all of engineering owners
    }
    messages = found(WEAKER, who("alice@nw.example", signed=True), **extra)
    assert len(messages) == 1 and "not an owner" in messages[0]


def test_codeowners_owners_count_for_protected_entities() -> None:
    extra = {"protected_entities": ["NW_*"], "roles": {}}
    assert (
        found(WEAKER, who("alice@nw.example", signed=True), path="recognizers/hr.yaml", **extra)
        == []
    )
    # dave owns hr.yaml in CODEOWNERS but is inactive in the directory: owns nothing.
    [msg] = found(WEAKER, who("dave@nw.example", signed=True), path="recognizers/hr.yaml", **extra)
    assert "not an owner" in msg


def test_policy_changes_need_the_policy_role() -> None:
    before = {**POLICY}
    after = {**POLICY, "roles": {**ROLES, "contributor": {**ROLES["contributor"], "may": ["*"]}}}
    changes = diff_policies(before, after)
    assert [c.kind for c in changes] == ["policy.roles_changed"]
    policy = parse_policy(POLICY, read=READ)
    [f] = policy.check(changes, author=who("bob@nw.example"), path=".config-audit.yaml")
    assert "missing role 'policy-admin'" in f.message
    assert policy.check(changes, author=who("carol@nw.example"), path=".config-audit.yaml") == []


def test_configuration_errors_fail_closed() -> None:
    with pytest.raises(UsageError, match="neither a person"):
        parse_policy({**POLICY, "roles": {"x": {"grants": ["nobody"], "may": ["add"]}}}, read=READ)
    with pytest.raises(UsageError, match="permits nothing"):
        parse_policy({**POLICY, "roles": {"x": {"grants": ["carol"]}}}, read=READ)
    with pytest.raises(UsageError, match="not found"):
        parse_policy({**POLICY, "directory": {"scim": "missing.json"}}, read=READ)
    with pytest.raises(UsageError, match="unknown key"):
        parse_policy({**POLICY, "directory": {"ldap": "x"}}, read=READ)
    # Without a reader (a policy parsed only to be compared) directory names are let pass.
    assert parse_policy(POLICY).roles


def test_existing_settings_keep_their_meaning_as_the_owner_preset() -> None:
    raw = {
        "people": {"alice": ["alice@nw.example"]},
        "owners": {"NW_*": ["alice"]},
        "protected_entities": ["NW_*"],
    }
    with_reader, without = parse_policy(raw, read=READ), parse_policy(raw)
    assert with_reader.rules == without.rules and not with_reader.roles
    [role] = preset_roles(without.directory.owners, frozenset(["NW_*"]), "owner-signed")
    assert role.signed and role.holders == {"alice"} and role.on == ("NW_*",) and role.preset
