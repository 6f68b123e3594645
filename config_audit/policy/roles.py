"""Roles: who may make which kind of change, on which recognizers and entities.

Pure. `.config-audit.yaml`:

    policy:
      roles:
        contributor:
          grants: [engineering]          # people, teams, SCIM groups; "*" is everyone known
          may: [add, strengthen, neutral]
          covers: ["*"]                  # recognizer names, entities or file paths (globs)
        owner:
          grants: [privacy]
          may: [weaken, remove]
          covers: ["NW_*"]               # (not `on:`: YAML reads a bare `on` as true)
          signed: true                   # the verified signer of the commit must hold the role
        policy-admin:
          grants: [carol]
          may: [policy]                  # the settings file: policy, coverage, roles

`may` takes impacts (`weaken`, `strengthen`, `neutral`), `add`, `remove`, `policy`, or change
kinds (globs such as `pattern.*`). Without `roles:` nothing changes: the owner and protected
entity rules (`owners`, `protected_entities`, `weakening_protected`) are the built-in preset,
which `preset_roles` names for the review. With `roles:`, every change must also be permitted by
a role its author holds; a violation names the role that was missing.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from config_audit.errors import UsageError
from config_audit.model import Change, Finding, Impact, Severity

ROLE_KEYS = frozenset({"grants", "may", "covers", "signed", "description"})
IMPACT_WORDS = {
    "weaken": Impact.WEAKENS,
    "weakens": Impact.WEAKENS,
    "strengthen": Impact.STRENGTHENS,
    "strengthens": Impact.STRENGTHENS,
    "neutral": Impact.NEUTRAL,
}
REMOVAL_KINDS = frozenset({"recognizer.removed", "recognizer.disabled", "file.removed"})
POLICY_RECOGNIZER = "(policy)"
EVERYONE = "*"


@dataclass(frozen=True)
class Role:
    name: str
    holders: frozenset[str]  # person names
    grants: tuple[str, ...]  # as written: people, teams, groups, "*"
    may: tuple[str, ...]
    on: tuple[str, ...] = (EVERYONE,)
    signed: bool = False
    preset: bool = False  # derived from owners/protected_entities, not written under roles:

    def permits(self, change: Change, path: str) -> bool:
        """Whether the role covers this change (whoever holds it)."""
        return self._may(change) and self._on(change, path)

    def _may(self, change: Change) -> bool:
        is_policy = change.recognizer == POLICY_RECOGNIZER
        for word in self.may:
            if word == "policy":
                if is_policy:
                    return True
            elif is_policy:
                continue  # only `policy` covers the settings file, however it is phrased
            elif IMPACT_WORDS.get(word) is change.impact and change.kind not in REMOVAL_KINDS:
                return True
            elif word == "add" and change.kind.endswith(".added"):
                return True
            elif word == "remove" and change.kind in REMOVAL_KINDS:
                return True
            elif fnmatch.fnmatchcase(change.kind, word):
                return True
        return False

    def _on(self, change: Change, path: str) -> bool:
        names = [change.recognizer.rsplit(" [", 1)[0]] if change.recognizer else []
        names += [*change.entities, path]
        return any(fnmatch.fnmatchcase(n, g) for g in self.on for n in names)


class _Actor(Protocol):
    @property
    def identities(self) -> frozenset[str]: ...
    @property
    def verified_signer(self) -> str | None: ...
    @property
    def pending_signature(self) -> bool: ...


class _Context(Protocol):
    @property
    def actor(self) -> _Actor: ...
    @property
    def path(self) -> str: ...


@dataclass(frozen=True)
class RolesRequired:
    """Every change must be covered by a role its author holds (signed roles: its signer)."""

    roles: tuple[Role, ...]
    person_of: Callable[[str], str | None]
    inactive: frozenset[str] = frozenset()

    def check(self, change: Change, context: _Context) -> list[Finding]:
        actor = context.actor
        claimed = {self.person_of(i) for i in actor.identities} - {None} - self.inactive
        signer = self.person_of(actor.verified_signer) if actor.verified_signer else None
        needed = [r for r in self.roles if r.permits(change, context.path)]
        for role in needed:
            if not role.signed and claimed & role.holders:
                return []
            if role.signed and signer in role.holders and signer not in self.inactive:
                return []
            if role.signed and claimed & role.holders and actor.pending_signature:
                return []  # provisional in pre-commit; CI checks the real signature
        who = ", ".join(sorted(str(c) for c in claimed)) or "an unknown author"
        if not needed:
            why = f"no role permits {change.kind} ({change.impact.value})"
        else:
            signed = [r.name for r in needed if r.signed and claimed & r.holders]
            why = "missing role " + " or ".join(
                f"'{r.name}'" + (" (signed)" if r.signed else "") for r in needed
            )
            if signed:
                why += f"; {who} holds {signed} but the commit has no verified signature"
        target = change.recognizer or context.path
        return [
            Finding(
                "CA505",
                Severity.ERROR,
                f"{change.kind} on {target}: {who} may not make it: {why}",
                path=context.path,
                line=change.line,
                recognizer=change.recognizer,
                hint="ask someone holding the role, or have a policy admin grant it",
            )
        ]


def parse_roles(
    raw: Mapping[str, Any],
    *,
    people: Iterable[str],
    groups: Mapping[str, frozenset[str]],
    where: str = ".config-audit.yaml",
    strict: bool = True,
    inactive: frozenset[str] = frozenset(),
) -> tuple[Role, ...]:
    """`policy.roles`; an unknown grantee is a configuration error when `strict` (fail closed)."""
    section = raw.get("roles") or {}
    if not isinstance(section, Mapping):
        raise UsageError(f"{where}: policy.roles must be a mapping of role name -> grant")
    known = set(people)
    roles = []
    for name, spec in section.items():
        if not isinstance(spec, Mapping):
            raise UsageError(f"{where}: role '{name}' must be a mapping")
        unknown = sorted(set(spec) - ROLE_KEYS)
        if unknown:
            raise UsageError(
                f"{where}: role '{name}': unknown key(s) {unknown}",
                advice=f"valid keys: {sorted(ROLE_KEYS)}",
            )
        grants = _strings(spec.get("grants"), f"{where}: role '{name}' grants")
        may = _strings(spec.get("may"), f"{where}: role '{name}' may")
        if not may:
            raise UsageError(f"{where}: role '{name}' permits nothing", advice="add `may:`")
        holders: set[str] = set()
        for grantee in grants:
            if grantee == EVERYONE:
                holders |= known - inactive
            elif grantee in groups:
                holders |= groups[grantee]
            elif grantee in known:
                holders.add(grantee)
            elif strict:
                raise UsageError(
                    f"{where}: role '{name}' is granted to '{grantee}', who is neither a person, "
                    "a team nor a directory group",
                    advice="define it under policy.people/teams or in the directory",
                )
        on = _strings(spec.get("covers"), f"{where}: role '{name}' covers") or (EVERYONE,)
        roles.append(
            Role(str(name), frozenset(holders), grants, may, on, bool(spec.get("signed", False)))
        )
    return tuple(roles)


def preset_roles(
    owners: Sequence[tuple[str, frozenset[str]]], protected: frozenset[str], mode: str
) -> tuple[Role, ...]:
    """Today's owner rules as roles: each owner glob grants `owner` on it (weakening protected
    entities, signed unless the mode is `owner`). For the review's list of grants."""
    if mode in ("forbid", "allow") or not protected:
        return ()
    return tuple(
        Role(
            f"owner of {glob}",
            people,
            tuple(sorted(people)),
            ("weaken",),
            (glob,),
            mode == "owner-signed",
            preset=True,
        )
        for glob, people in owners
    )


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{what} must be a list of strings")
    return tuple(value)
