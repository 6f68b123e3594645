"""Changes to the policy itself are audited like recognizer changes.

Loosening protection (an entity no longer protected, a laxer weakening mode, a lower score floor,
more owners, more identities for an owner) weakens what the tool enforces, so it is judged by
the policy in force before the change: only the owners of what was protected may loosen it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from config_audit.model import Change, Impact

# The settings that decide what is audited live beside this module; callers diff both here.
from config_audit.policy.coverage import diff_coverage as diff_coverage
from config_audit.policy.globs import overlaps
from config_audit.policy.rules import parse_policy
from config_audit.settings import Settings

STRENGTH = {"allow": 0, "owner": 1, "owner-signed": 2, "forbid": 3}
W, S, N = Impact.WEAKENS, Impact.STRENGTHENS, Impact.NEUTRAL
# Stands where a recognizer would: a policy change touches exactly the entities it names (none:
# nothing protected was affected), never "every entity" as a file-wide recognizer change does.
POLICY = "(policy)"


def diff_policies(old_raw: Mapping[str, Any], new_raw: Mapping[str, Any]) -> list[Change]:
    """Semantic changes between two `policy:` sections (both must parse)."""
    if not old_raw:  # the first policy: nothing was enforced before, so nothing is loosened
        return [Change("policy.created", N, POLICY, "policy established")] if new_raw else []
    old, new = parse_policy(old_raw), parse_policy(new_raw)
    old_protected = {str(e) for e in old_raw.get("protected_entities") or []}
    new_protected = {str(e) for e in new_raw.get("protected_entities") or []}
    # What a loosening reaches is judged by what was protected before the change.
    everything = tuple(sorted(old_protected))
    owners_a, owners_b = dict(old.directory.owners), dict(new.directory.owners)
    return [
        *_protection_changes(old_protected, new_protected),
        *_rule_changes(old_raw, new_raw, everything),
        *_owner_changes(owners_a, owners_b, everything),
        *_identity_changes(old.directory.people, new.directory.people, owners_a, everything),
        *_access_changes(old_raw, new_raw, everything),
        *_policy_owner_changes(old.policy_owners(), new.policy_owners(), everything),
    ]


def _protection_changes(old_protected: set[str], new_protected: set[str]) -> list[Change]:
    """Entities leaving the protected list (weakens), then entities joining it (strengthens)."""
    removed = [
        Change(
            "policy.protection_removed",
            W,
            POLICY,
            f"{entity} is no longer a protected entity",
            (entity,),
        )
        for entity in sorted(old_protected - new_protected)
    ]
    added = [
        Change(
            "policy.protection_added",
            S,
            POLICY,
            f"{entity} is now a protected entity",
            (entity,),
        )
        for entity in sorted(new_protected - old_protected)
    ]
    return removed + added


def _rule_changes(
    old_raw: Mapping[str, Any], new_raw: Mapping[str, Any], everything: tuple[str, ...]
) -> list[Change]:
    """The three enforcement knobs: the weakening mode, the removal rule, the score floor;
    each laxer setting weakens every protected entity."""
    out: list[Change] = []
    a = str(old_raw.get("weakening_protected", "owner-signed"))
    b = str(new_raw.get("weakening_protected", "owner-signed"))
    if a != b:
        laxer = STRENGTH.get(b, 0) < STRENGTH.get(a, 0)
        out.append(
            Change(
                "policy.weakening_rule_changed",
                W if laxer else S,
                POLICY,
                f"weakening_protected {a} -> {b}",
                everything,
                a,
                b,
            )
        )
    if old_raw.get("forbid_removing_protected", True) != new_raw.get(
        "forbid_removing_protected", True
    ):
        allowed = not new_raw.get("forbid_removing_protected", True)
        out.append(
            Change(
                "policy.removal_rule_changed",
                W if allowed else S,
                POLICY,
                "removing protected recognizers is now " + ("allowed" if allowed else "forbidden"),
                everything,
            )
        )
    floor_a, floor_b = old_raw.get("min_score"), new_raw.get("min_score")
    if floor_a != floor_b:
        lower = floor_b is None or (floor_a is not None and float(floor_b) < float(floor_a))
        out.append(
            Change(
                "policy.score_floor_changed",
                W if lower else S,
                POLICY,
                f"min_score {floor_a} -> {floor_b}",
                everything,
                str(floor_a),
                str(floor_b),
            )
        )
    return out


def _reach(glob: str, protected: tuple[str, ...]) -> tuple[str, ...]:
    """The glob, and every protected pattern it can match a name of (not its text)."""
    return (glob, *(p for p in protected if p != glob and overlaps(glob, p)))


def _owner_changes(
    owners_a: Mapping[str, frozenset[str]],
    owners_b: Mapping[str, frozenset[str]],
    everything: tuple[str, ...],
) -> list[Change]:
    """Per owner glob: people gained (they may now weaken what it covers), then people lost."""
    out: list[Change] = []
    for glob in sorted(owners_a.keys() | owners_b.keys()):
        gained = owners_b.get(glob, frozenset()) - owners_a.get(glob, frozenset())
        lost = owners_a.get(glob, frozenset()) - owners_b.get(glob, frozenset())
        if gained:  # more people may now weaken what the glob covers
            out.append(
                Change(
                    "policy.owners_added",
                    W,
                    POLICY,
                    f"{sorted(gained)} now own {glob}",
                    _reach(glob, everything),
                )
            )
        if lost:
            out.append(
                Change(
                    "policy.owners_removed",
                    N,
                    POLICY,
                    f"{sorted(lost)} no longer own {glob}",
                    (glob,),
                )
            )
    return out


def _identity_changes(
    people_a: Mapping[str, frozenset[str]],
    people_b: Mapping[str, frozenset[str]],
    owners_a: Mapping[str, frozenset[str]],
    everything: tuple[str, ...],
) -> list[Change]:
    """Identities added to a person in both policies; weakens what that person owned before."""
    out: list[Change] = []
    for person in sorted(people_a.keys() & people_b.keys()):
        added = people_b[person] - people_a[person]
        if added:  # a new identity for an owner is a way to act as that owner
            owned = tuple(
                sorted(
                    {
                        r
                        for g, people in owners_a.items()
                        if person in people
                        for r in _reach(g, everything)
                    }
                )
            )
            out.append(
                Change(
                    "policy.identities_added",
                    W if owned else N,
                    POLICY,
                    f"{person} gained {len(added)} identit(y/ies)",
                    owned,
                )
            )
    return out


def _policy_owner_changes(
    before: frozenset[str], after: frozenset[str], everything: tuple[str, ...]
) -> list[Change]:
    """More people may now loosen everything the policy protects."""
    gained = after - before
    if not gained:
        return []
    return [
        Change(
            "policy.policy_owners_added",
            W,
            POLICY,
            f"{sorted(gained)} may now change the policy",
            everything,
        )
    ]


def _access_changes(
    old_raw: Mapping[str, Any], new_raw: Mapping[str, Any], everything: tuple[str, ...]
) -> list[Change]:
    """Roles and directory sources (issue 14): any edit may widen who acts as whom, so it
    weakens what was protected (judged by the policy before, i.e. by its `policy` role)."""
    out = []
    for key in ("roles", "directory"):
        if (old_raw.get(key) or {}) != (new_raw.get(key) or {}):
            out.append(
                Change(f"policy.{key}_changed", W, POLICY, f"policy.{key} changed", everything)
            )
    return out


def policy_section(data: bytes | None) -> Mapping[str, Any]:
    """The validated `policy:` mapping of a settings file's bytes ({} when absent)."""
    return settings_of(data)[0].policy


def settings_of(data: bytes | None) -> tuple[Settings, Mapping[str, Any]]:
    """The validated settings of a settings file's bytes (the defaults when absent), and the
    raw mapping (what the file itself says, whatever the disk around it holds)."""
    import yaml

    from config_audit.errors import ConfigAuditError
    from config_audit.settings import Settings, parse_settings

    if data is None:
        return Settings(root=Path("."), config_path=None), {}
    try:
        raw = yaml.safe_load(data.decode("utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigAuditError(f"not readable YAML: {exc}") from None
    settings = parse_settings(raw, root=Path("."), config_path=None)
    parse_policy(settings.policy)  # unknown people, bad modes: errors here, not later
    return settings, raw


LAYOUT = {
    "moved": "the settings file was moved away: its policy and globs no longer govern",
    "removed": "the settings file was removed: nothing it protected is enforced",
    "not_regular": "the settings file was replaced by a symlink or submodule",
    "second": "a second settings file was added: tools may follow either",
}


def layout_changes(
    layout: str, before: bytes | None, after: bytes | None, everything: tuple[str, ...]
) -> list[Change]:
    """What happened to the settings file itself, or to a trust file (allowed signers, trusted
    keys): each loosens everything the policy in force protects, except a trust file that only
    loses lines (fewer keys or signers can vouch for less)."""
    if layout == "attributes":
        return []  # see attributes_changes: only lines that reach audited files count
    if layout != "trust_file":
        return [Change(f"settings.{layout}", W, POLICY, LAYOUT.get(layout, layout), everything)]
    old = set((before or b"").splitlines()) - {b""}
    new = set((after or b"").splitlines()) - {b""}
    if after is None and before is not None:
        # gone from its path: the tool falls back to keys found elsewhere
        return [Change("trust.file_removed", W, POLICY, "trust file removed", everything)]
    if new - old:
        return [
            Change(
                "trust.entries_added",
                W,
                POLICY,
                f"{len(new - old)} line(s) added to a trust file: more keys can vouch",
                everything,
            )
        ]
    return [Change("trust.entries_removed", S, POLICY, "trust file lost entries")] if old else []


def attributes_changes(lines: list[str], everything: tuple[str, ...]) -> list[Change]:
    """`.gitattributes` lines touching recognizer files: `export-ignore` drops a file from
    releases, `filter`/`eol`/`text` change the bytes deployed; each loosens what we vouch for."""
    return [
        Change("attributes.changed", W, POLICY, f".gitattributes: {line}", everything)
        for line in lines
    ]
