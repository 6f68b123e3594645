"""The monthly access review: who holds which rights, what is orphaned or over-permissive, what
activity was unusual, and a checklist item with a suggested action for each finding.

Pure over values (`build_review`): the parsed policy (roles, directory), what the recognizer files
define, the record log's entries, the trusted keys and allowed signers. Items carry a stable id
(`kind:subject`) so a reviewer's sign-off (`siem.access.signoff`) can name them and the next review can
tell whether a "remove" was done. Rendering lives in `render`.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config_audit.ledger.entries import Entry
from config_audit.ledger.signing import TrustedKeys
from config_audit.policy.directory import Identities
from config_audit.policy.roles import EVERYONE, Role, preset_roles
from config_audit.policy.rules import Policy
from config_audit.siem.access.activity import activity_items
from config_audit.siem.access.keys import key_items
from config_audit.siem.access.model import (
    CHANGE_SOURCES,
    Grant,
    Inventory,
    Item,
    Review,
    ReviewOptions,
    SignerRow,
    make_item,
    persons_of,
)
from config_audit.times import format_time, parse_time


def all_roles(policy: Policy, raw: Mapping[str, Any]) -> tuple[Role, ...]:
    """The roles written under `roles:` and the owner preset the owner rules amount to."""
    protected = frozenset(str(e) for e in raw.get("protected_entities") or [])
    mode = str(raw.get("weakening_protected", "owner-signed"))
    return (*policy.roles, *preset_roles(policy.directory.owners, protected, mode))


@dataclass(frozen=True)
class _Scope:
    """What every phase of the review looks at."""

    policy: Policy
    raw: Mapping[str, Any]
    inventory: Inventory
    roles: tuple[Role, ...]
    protected: tuple[str, ...]
    options: ReviewOptions

    @property
    def ids(self) -> Identities | None:
        return self.policy.directory.identities

    @property
    def groups(self) -> Mapping[str, frozenset[str]]:
        return self.ids.groups if self.ids is not None else self.policy.directory.teams

    def status(self, person: str) -> str:
        p = self.ids.people.get(person) if self.ids is not None else None
        if p is None or p.in_directory is None:
            return ""
        if not p.in_directory:
            return "not in directory"
        return "active" if p.active else "inactive"


def build_review(
    *,
    policy: Policy,
    raw_policy: Mapping[str, Any],
    inventory: Inventory,
    entries: Sequence[Entry],
    since: datetime,
    until: datetime,
    trusted: TrustedKeys | None = None,
    signers: Sequence[tuple[str, str]] = (),  # (principal, key) from allowed_signers
    trust_paths: Iterable[str] = (),
    options: ReviewOptions = ReviewOptions(),  # noqa: B008 - frozen value
) -> Review:
    """Everything the reviewer decides on, for records in [since, until)."""
    protected = tuple(str(e) for e in raw_policy.get("protected_entities") or [])
    scope = _Scope(policy, raw_policy, inventory, all_roles(policy, raw_policy), protected, options)
    in_period = [e for e in entries if since <= parse_time(e.record["time"]) < until]
    seen = {
        p
        for e in in_period
        if e.record.get("source") in CHANGE_SOURCES
        for p in persons_of(e, policy)
    }
    holdings = _holdings(scope)
    items = _person_items(scope, holdings, seen)
    items += _codeowners_items(scope) + _pattern_items(scope) + _protected_items(scope)
    key_rows = key_items(trusted, entries, until, options, items)
    signer_rows = [SignerRow(p, k, policy.directory.person_of(p.lower()) or "") for p, k in signers]
    items += _signer_items(scope, signer_rows)
    items += _role_items(scope) + _mode_items(scope)
    items += activity_items(
        in_period,
        entries,
        since=since,
        policy=policy,
        protected=protected,
        trust_paths=tuple(trust_paths),
        options=options,
        persons_of=persons_of,
    )
    return Review(
        since=format_time(since),
        until=format_time(until),
        records=len(in_period),
        grants=_grants(scope, holdings),
        keys=key_rows,
        signers=signer_rows,
        items=list(dict.fromkeys(items)),
    )


def _holdings(scope: _Scope) -> dict[str, list[str]]:
    """Person -> what they hold: roles (written and the owner preset) and CODEOWNERS lines."""
    holdings: dict[str, list[str]] = defaultdict(list)
    for role in scope.roles:
        line = f"{role.name}: may {', '.join(role.may)} on {', '.join(role.on)}"
        line += " (signed)" if role.signed else ""
        for person in sorted(role.holders):
            holdings[person].append(line)
    if scope.ids is not None:
        for entry in scope.ids.path_owners:
            for person in sorted(entry.people):
                holdings[person].append(f"CODEOWNERS line {entry.line}: owns {entry.pattern}")
    return holdings


def _grants(scope: _Scope, holdings: Mapping[str, list[str]]) -> list[Grant]:
    grants = [
        Grant(p, "person", tuple(lines), scope.status(p)) for p, lines in sorted(holdings.items())
    ]
    for role in scope.roles:
        for grantee in role.grants:
            if grantee in scope.groups:
                line = f"{role.name} via group ({len(scope.groups[grantee])} member(s))"
                grants.append(Grant(grantee, "group", (line,)))
    return grants


def _person_items(scope: _Scope, holdings: Mapping[str, list[str]], seen: set[str]) -> list[Item]:
    """Granted but gone from the directory, or granted and unused in the period."""
    items = []
    for person in sorted(holdings):
        state = scope.status(person)
        if state in ("inactive", "not in directory"):
            items.append(
                make_item(
                    "orphaned",
                    "directory-" + state.replace(" ", "-"),
                    person,
                    f"{person} is {state} but still holds: {'; '.join(holdings[person])}",
                    "remove the grants (roles, owners, CODEOWNERS) of this person",
                )
            )
        elif person not in seen:
            items.append(
                make_item(
                    "orphaned",
                    "unused-grant",
                    person,
                    f"{person} made no change in the period but holds "
                    f"{len(holdings[person])} grant(s)",
                    "confirm the need, or remove the grant",
                )
            )
    return items


def _codeowners_items(scope: _Scope) -> list[Item]:
    items: list[Item] = []
    if scope.ids is None:
        return items
    for entry in scope.ids.path_owners:
        for token in entry.unresolved:
            items.append(
                make_item(
                    "orphaned",
                    "codeowners-unresolved",
                    token,
                    f"CODEOWNERS line {entry.line} ({entry.pattern}) names {token}, who is "
                    "in no directory",
                    "remove the owner from CODEOWNERS or add them to the directory",
                )
            )
        if not any(entry.matches(p) for p in scope.inventory.files):
            items.append(
                make_item(
                    "orphaned",
                    "pattern-matches-nothing",
                    f"CODEOWNERS {entry.pattern}",
                    f"CODEOWNERS line {entry.line} matches no recognizer file",
                    "remove the line or fix the pattern",
                )
            )
    return items


def _pattern_items(scope: _Scope) -> list[Item]:
    targets = scope.inventory.names() | scope.inventory.entities()
    return [
        make_item(
            "orphaned",
            "pattern-matches-nothing",
            f"owners {glob}",
            f"owner pattern {glob} matches no recognizer or entity",
            "remove the pattern or fix it",
        )
        for glob, _ in scope.policy.directory.owners
        if not any(fnmatch.fnmatchcase(t, glob) for t in targets)
    ]


def _protected_entities(scope: _Scope) -> list[str]:
    return sorted(
        e
        for e in scope.inventory.entities()
        if any(fnmatch.fnmatchcase(e, p) for p in scope.protected)
    )


def _protected_items(scope: _Scope) -> list[Item]:
    items = []
    for entity in _protected_entities(scope):
        owners = {
            p
            for g, ps in scope.policy.directory.owners
            if fnmatch.fnmatchcase(entity, g)
            for p in ps
        }
        if scope.ids is not None:
            for path in scope.inventory.files_with(entity):
                owners |= scope.ids.owners_of_path(path)
            owners -= scope.ids.inactive
        if not owners:
            items.append(
                make_item(
                    "orphaned",
                    "protected-without-owner",
                    entity,
                    f"protected entity {entity} has no active owner",
                    "name an owner under policy.owners or in CODEOWNERS",
                )
            )
    return items


def _signer_items(scope: _Scope, rows: Sequence[SignerRow]) -> list[Item]:
    items = []
    for row in rows:
        if not row.person:
            items.append(
                make_item(
                    "orphaned",
                    "signer-unmapped",
                    row.principal,
                    f"allowed signer {row.principal} maps to no person",
                    "remove the line from allowed_signers or add the principal to a person",
                )
            )
        elif scope.status(row.person) in ("inactive", "not in directory"):
            items.append(
                make_item(
                    "alerts",
                    "directory-removed-still-signer",
                    row.principal,
                    f"{row.person} is {scope.status(row.person)} but can still sign commits "
                    f"as {row.principal}",
                    "remove the key from allowed_signers",
                )
            )
    return items


def _role_items(scope: _Scope) -> list[Item]:
    """Wildcard grants, roles that may weaken everything, large groups owning protected."""
    items = []
    protected = _protected_entities(scope)
    for role in scope.roles:
        if EVERYONE in role.grants:
            items.append(
                make_item(
                    "over_permissive",
                    "wildcard-grant",
                    role.name,
                    f"role {role.name} is granted to everyone ({len(role.holders)} people)",
                    "grant the role to a named group instead",
                )
            )
        weakens = any(w in ("weaken", "weakens", "remove", "*") for w in role.may)
        if weakens and any(fnmatch.fnmatchcase("(anything)", g) for g in role.on):
            items.append(
                make_item(
                    "over_permissive",
                    "may-weaken-everything",
                    role.name,
                    f"role {role.name} may weaken every recognizer and entity",
                    "narrow `on:` to the recognizers the holders own",
                )
            )
        covers = any(fnmatch.fnmatchcase(e, g) for e in protected for g in role.on)
        if not (weakens and covers):
            continue
        large = len(role.holders) > scope.options.max_owner_group
        if large:
            items.append(
                make_item(
                    "over_permissive",
                    "large-group-owns-protected",
                    role.name,
                    f"{len(role.holders)} people ({', '.join(role.grants)}) may weaken "
                    f"protected entities via {role.name}",
                    f"limit owners of protected entities to {scope.options.max_owner_group}",
                )
            )
    return items


def _mode_items(scope: _Scope) -> list[Item]:
    """Modes that let anyone weaken or remove, and one person holding every role."""
    items = []
    if scope.protected and str(scope.raw.get("weakening_protected", "owner-signed")) == "allow":
        items.append(
            make_item(
                "over_permissive",
                "allow-mode",
                "weakening_protected",
                "weakening_protected: allow lets anyone weaken protected entities",
                "use owner-signed",
            )
        )
    if scope.protected and scope.raw.get("forbid_removing_protected", True) is False:
        items.append(
            make_item(
                "over_permissive",
                "allow-mode",
                "forbid_removing_protected",
                "protected recognizers may be removed",
                "set forbid_removing_protected: true",
            )
        )
    written = [r for r in scope.roles if not r.preset]
    if len(written) >= 2:
        for person in sorted(set.intersection(*(set(r.holders) for r in written))):
            items.append(
                make_item(
                    "over_permissive",
                    "holds-every-role",
                    person,
                    f"{person} holds every role ({', '.join(r.name for r in written)})",
                    "separate duties: remove the roles this person does not need",
                )
            )
    return items
