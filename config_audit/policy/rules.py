"""Who may change what: owners, protected entities, forbidden changes.

Pure. Rules are small objects with one `check(change, context)` method; `Policy` composes them.
`.config-audit.yaml`:

    policy:
      people:                      # person -> identities (commit e-mails, signing principals)
        alice: [alice@northwind.example]
      teams:
        privacy: [alice]
      owners:                      # recognizer or entity glob -> people or teams
        "NW_*": [privacy]
      protected_entities: [NW_EMPLOYEE_ID]
      weakening_protected: owner-signed   # owner-signed | owner | forbid | allow
      forbid_removing_protected: true
      min_score: 0.3
      directory: {scim: identity/scim.json, codeowners: CODEOWNERS}   # see policy.directory
      roles: {...}                                                    # see policy.roles
      policy_owners: [security]    # who may loosen the policy and trust material (default:
                                   # the owners of the protected entities it touches)

An unknown person or team is a configuration error (fail closed).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from config_audit.errors import UsageError, did_you_mean
from config_audit.model import Change, CommitEvidence, Evidence, Finding, Impact, Severity
from config_audit.policy.directory import Identities, Reader, build_identities, directory_paths
from config_audit.policy.roles import Role, RolesRequired, parse_roles

WEAKENING_MODES = ("owner-signed", "owner", "forbid", "allow")
REMOVAL_KINDS = frozenset({"recognizer.removed", "recognizer.disabled", "file.removed"})
POLICY_KEYS = frozenset(
    {
        "people",
        "teams",
        "owners",
        "protected_entities",
        "weakening_protected",
        "forbid_removing_protected",
        "min_score",
        "directory",
        "roles",
        "policy_owners",
    }
)
POLICY_RECOGNIZER = "(policy)"  # the settings file's changes stand where a recognizer would


@dataclass(frozen=True)
class Actor:
    """Who made the change, with how sure we are (never invented)."""

    identities: frozenset[str] = frozenset()  # claimed e-mails/names, lower-cased
    verified_signer: str | None = None  # principal or fingerprint of a verified signature
    # pre-commit: the commit will be signed, but the signature does not exist yet (CI verifies).
    pending_signature: bool = False

    @classmethod
    def from_author(cls, author: Evidence) -> Actor:
        pending = isinstance(author, CommitEvidence) and author.pending_signature
        return cls(author.claimed(), author.verified_signer, pending)


@dataclass(frozen=True)
class Context:
    actor: Actor
    path: str
    owners_of: Any  # callable(Change) -> set of person names


class Rule(Protocol):
    def check(self, change: Change, context: Context) -> list[Finding]: ...


@dataclass(frozen=True)
class Directory:
    people: Mapping[str, frozenset[str]]
    teams: Mapping[str, frozenset[str]]
    owners: Sequence[tuple[str, frozenset[str]]]  # (glob, people)
    identities: Identities | None = None  # merged with the directory sources (CODEOWNERS, SCIM)

    def person_of(self, identity: str) -> str | None:
        for person, identities in self.people.items():
            if identity in identities or identity == person.lower():
                return person
        return None

    def owners_of(self, change: Change) -> set[str]:
        names = {change.recognizer.rsplit(" [", 1)[0]} if change.recognizer else set()
        names |= set(change.entities)
        return {
            p
            for glob, people in self.owners
            for n in names
            if fnmatch.fnmatchcase(n, glob)
            for p in people
        }

    def owners_at(self, change: Change, path: str) -> set[str]:
        """Owners by name glob and by CODEOWNERS path; an inactive directory user owns nothing."""
        owners = self.owners_of(change)
        if self.identities is not None:
            owners |= self.identities.owners_of_path(path)
            owners -= self.identities.inactive
        return owners


def _protected(change: Change, protected: frozenset[str]) -> bool:
    if change.recognizer is None and not change.entities and protected:
        return True  # a file-wide change whose reach is unknown may touch any entity
    return any(fnmatch.fnmatchcase(e, p) for e in change.entities for p in protected)


@dataclass(frozen=True)
class WeakeningProtected:
    """Weakening a protected entity needs an owner (and, by default, a verified signature)."""

    protected: frozenset[str]
    mode: str
    directory: Directory
    # `policy_owners`: loosening the policy or trust material needs one of them instead of an
    # owner of the entities it touches (None: those owners, as before the role existed).
    policy_owners: frozenset[str] | None = None

    def check(self, change: Change, context: Context) -> list[Finding]:
        if change.impact is not Impact.WEAKENS or not _protected(change, self.protected):
            return []
        if self.mode == "allow":
            return []
        if change.recognizer == POLICY_RECOGNIZER and self.policy_owners is not None:
            owners = set(self.policy_owners)
        else:
            owners = self.directory.owners_at(change, context.path)
        claimed = {self.directory.person_of(i) for i in context.actor.identities} - {None}
        signer = context.actor.verified_signer
        signed_by = self.directory.person_of(signer) if signer else None
        if self.mode == "forbid":
            why = "weakening a protected entity is forbidden by policy"
        elif self.mode == "owner" and claimed & owners:
            return []
        elif self.mode == "owner-signed" and signed_by in owners:
            return []
        elif self.mode == "owner-signed" and claimed & owners and context.actor.pending_signature:
            return []  # provisional in pre-commit; CI checks the real signature
        elif self.mode == "owner-signed" and claimed & owners:
            why = "the author is an owner, but the commit has no verified signature by an owner"
        else:
            why = f"the author is not an owner (owners: {sorted(owners) or 'none'})"
        return [
            _violation(
                "CA501",
                change,
                context,
                f"weakens protected entity {list(change.entities)}: {why}",
                "ask an owner to make or sign the change (git commit -S)",
            )
        ]


@dataclass(frozen=True)
class ForbidRemovingProtected:
    protected: frozenset[str]

    def check(self, change: Change, context: Context) -> list[Finding]:
        if change.kind in REMOVAL_KINDS and _protected(change, self.protected):
            return [
                _violation(
                    "CA502",
                    change,
                    context,
                    f"{change.kind}: removing or disabling a recognizer of protected "
                    f"entity {list(change.entities)} is forbidden",
                    "keep the recognizer; change the policy first if this is intended",
                )
            ]
        return []


@dataclass(frozen=True)
class MinScore:
    floor: float

    def check(self, change: Change, context: Context) -> list[Finding]:
        if change.kind not in ("pattern.score_lowered", "pattern.added", "pattern.score_raised"):
            return []
        score = change.score
        if score is not None and math.isnan(score):
            score = None
        if score is None or score >= self.floor:
            return []
        return [
            _violation(
                "CA503",
                change,
                context,
                f"pattern score {score:g} is under the policy floor {self.floor:g}",
                f"use a score of at least {self.floor:g}",
            )
        ]


def _violation(code: str, change: Change, context: Context, message: str, hint: str) -> Finding:
    return Finding(
        code,
        Severity.ERROR,
        message,
        path=context.path,
        line=change.line,
        recognizer=change.recognizer,
        hint=hint,
    )


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...] = ()
    directory: Directory = field(default_factory=lambda: Directory({}, {}, ()))
    roles: tuple[Role, ...] = ()

    def policy_owners(self) -> frozenset[str]:
        """Who may loosen the policy: `policy_owners`, else the owners of every protected
        entity (the people a weakening of all of them would need before the role existed)."""
        for rule in self.rules:
            if isinstance(rule, WeakeningProtected) and rule.policy_owners is not None:
                return rule.policy_owners
        # the owners a loss of every protection would need: asked with a change of that kind
        everything = Change(
            "policy.protection_removed", Impact.WEAKENS, POLICY_RECOGNIZER, "", self.protected
        )
        return frozenset(self.directory.owners_of(everything))

    @property
    def protected(self) -> tuple[str, ...]:
        """Every protected-entity pattern of the policy (what "everything" means)."""
        found: set[str] = set()
        for rule in self.rules:
            found |= set(getattr(rule, "protected", ()))
        return tuple(sorted(found))

    def check(self, changes: Iterable[Change], *, author: Evidence, path: str) -> list[Finding]:
        context = Context(Actor.from_author(author), path, self.directory.owners_of)
        found = [
            f for change in changes for rule in self.rules for f in rule.check(change, context)
        ]
        return list(dict.fromkeys(found))  # one finding per distinct violation


def parse_policy(
    raw: Mapping[str, Any], *, where: str = ".config-audit.yaml", read: Reader | None = None
) -> Policy:
    """Build a `Policy` from the `policy:` mapping; unknown names are configuration errors.

    `read(path)` gives the bytes of the `policy.directory` files (paths as written, relative to
    the settings file) from where trust comes from; without it they are not consulted, and names
    only the directory could define are let pass (a policy parsed to be compared, not enforced)."""
    unknown = sorted(set(raw) - POLICY_KEYS)
    if unknown:
        raise UsageError(
            f"{where}: unknown policy key(s) {unknown}", advice=did_you_mean(unknown, POLICY_KEYS)
        )
    people = {
        str(p): frozenset(str(i).lower() for i in (ids or []))
        for p, ids in _mapping(raw, "people", where).items()
    }
    strict = read is not None or not directory_paths(raw)
    teams: dict[str, frozenset[str]] = {}
    for team, members in _mapping(raw, "teams", where).items():
        teams[str(team)] = frozenset(members or [])
    identities = build_identities(people, teams, raw, read)  # SCIM users join the people
    people = {name: p.identities for name, p in identities.people.items()}
    for team, members in teams.items():
        missing = sorted(m for m in members if m not in people)
        if missing and strict:
            raise UsageError(
                f"{where}: team '{team}' lists unknown people {missing}",
                advice="add them under policy.people",
            )
    teams = dict(identities.groups)
    owners = [
        (str(glob), _resolve(names, people, teams, f"owner of '{glob}'", where, strict))
        for glob, names in _mapping(raw, "owners", where).items()
    ]
    policy_owners = None
    if raw.get("policy_owners") is not None:
        names = raw["policy_owners"]
        if not isinstance(names, list):
            raise UsageError(f"{where}: policy.policy_owners must be a list of people or teams")
        policy_owners = _resolve(names, people, teams, "policy owner", where, strict)
    directory = Directory(people, teams, tuple(owners), identities)
    protected = frozenset(str(e) for e in raw.get("protected_entities") or [])
    mode = raw.get("weakening_protected", "owner-signed")
    if mode not in WEAKENING_MODES:
        raise UsageError(f"{where}: weakening_protected must be one of {list(WEAKENING_MODES)}")
    rules: list[Rule] = []
    if protected:
        rules.append(WeakeningProtected(protected, str(mode), directory, policy_owners))
        if raw.get("forbid_removing_protected", True):
            rules.append(ForbidRemovingProtected(protected))
    if raw.get("min_score") is not None:
        floor = raw["min_score"]
        if isinstance(floor, bool) or not isinstance(floor, int | float) or not 0 <= floor <= 1:
            raise UsageError(f"{where}: min_score must be a number in [0, 1]")
        rules.append(MinScore(float(floor)))
    roles = parse_roles(
        raw, people=people, groups=teams, where=where, strict=strict, inactive=identities.inactive
    )
    if roles:
        rules.append(RolesRequired(roles, directory.person_of, identities.inactive))
    return Policy(tuple(rules), directory, roles)


def _resolve(
    names: Iterable[Any] | None,
    people: Mapping[str, frozenset[str]],
    teams: Mapping[str, frozenset[str]],
    what: str,
    where: str,
    strict: bool,
) -> frozenset[str]:
    """People named directly or through their teams; an unknown name fails closed."""
    resolved: set[str] = set()
    for name in names or []:
        if name in teams:
            resolved |= teams[name]
        elif name in people:
            resolved.add(name)
        elif strict:
            raise UsageError(
                f"{where}: {what}: '{name}' is neither a person nor a team",
                advice="define it under policy.people or policy.teams",
            )
    return frozenset(resolved)


def _mapping(raw: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, Mapping):
        raise UsageError(f"{where}: policy.{key} must be a mapping")
    return value
