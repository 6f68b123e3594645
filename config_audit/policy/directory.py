"""Where people come from: a SCIM 2.0 export, a CODEOWNERS file and the hand-written lists.

Pure: every source arrives as bytes through a `read(path)` callable the caller binds to where
trust comes from (the parent commit, the working tree that was last audited). `.config-audit.yaml`:

    policy:
      directory:
        scim: identity/scim.json          # RFC 7643 Users and Groups (Entra ID, Okta, Auth0)
        codeowners: .github/CODEOWNERS     # path patterns -> @people, @org/teams, e-mails

Each person's identities (hand-written, SCIM userName and e-mails) are merged into one person;
an inactive SCIM user stays known (so the review can name what they still own) but owns nothing
and holds no role. A CODEOWNERS owner that resolves to nobody is kept as unresolved, never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from config_audit.errors import UsageError

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
DIRECTORY_KEYS = frozenset({"scim", "codeowners"})

Reader = Callable[[str], bytes | None]


@dataclass(frozen=True)
class Person:
    name: str
    identities: frozenset[str]
    active: bool = True
    in_directory: bool | None = None  # None: no SCIM source is configured
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class PathOwners:
    """One CODEOWNERS line: a pattern, the people it resolves to, and what did not resolve."""

    pattern: str
    people: frozenset[str]
    unresolved: tuple[str, ...] = ()
    line: int = 0

    def matches(self, path: str) -> bool:
        return _codeowners_regex(self.pattern).search(path.lstrip("/")) is not None


@dataclass(frozen=True)
class Identities:
    people: Mapping[str, Person]
    groups: Mapping[str, frozenset[str]]  # hand-written teams and SCIM groups -> person names
    path_owners: tuple[PathOwners, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)  # kind -> path

    @property
    def inactive(self) -> frozenset[str]:
        return frozenset(p.name for p in self.people.values() if not p.active)

    def owners_of_path(self, path: str) -> frozenset[str]:
        """CODEOWNERS semantics: the last matching line wins."""
        for entry in reversed(self.path_owners):
            if entry.matches(path):
                return entry.people
        return frozenset()


def directory_paths(raw: Mapping[str, Any]) -> dict[str, str]:
    """The files `policy.directory` names, by kind (relative to the settings file)."""
    section = raw.get("directory") or {}
    if not isinstance(section, Mapping):
        raise UsageError("policy.directory must be a mapping", advice="keys: scim, codeowners")
    unknown = sorted(set(section) - DIRECTORY_KEYS)
    if unknown:
        raise UsageError(
            f"policy.directory: unknown key(s) {unknown}", advice=f"keys: {sorted(DIRECTORY_KEYS)}"
        )
    if not all(isinstance(v, str) for v in section.values()):
        raise UsageError("policy.directory: each source is a path string")
    return {str(k): str(v) for k, v in section.items()}


def build_identities(
    people: Mapping[str, frozenset[str]],
    teams: Mapping[str, frozenset[str]],
    raw: Mapping[str, Any],
    read: Reader | None,
) -> Identities:
    """Merge the hand-written people/teams with the directory sources `read` can reach.

    Without a reader (a policy parsed only to be compared) the sources are not consulted."""
    paths = directory_paths(raw)
    merged = {name: Person(name, ids, sources=("settings",)) for name, ids in people.items()}
    groups = {name: frozenset(members) for name, members in teams.items()}
    if read is None:
        return Identities(merged, groups, (), paths)
    if "scim" in paths:
        users, scim_groups = parse_scim(_required(read, paths["scim"]), where=paths["scim"])
        merged, groups = _merge_scim(merged, groups, users, scim_groups)
    owners: tuple[PathOwners, ...] = ()
    if "codeowners" in paths:
        text = _required(read, paths["codeowners"]).decode("utf-8", "replace")
        owners = parse_codeowners(text, merged, groups)
    return Identities(merged, groups, owners, paths)


def _required(read: Reader, path: str) -> bytes:
    data = read(path)
    if data is None:  # fail closed: a named directory that is not there is not "nobody"
        raise UsageError(
            f"policy.directory: {path} not found",
            advice="commit the export beside .config-audit.yaml or fix the path",
        )
    return data


@dataclass(frozen=True)
class ScimUser:
    id: str
    user_name: str
    identities: frozenset[str]
    active: bool


def parse_scim(data: bytes, *, where: str = "scim") -> tuple[list[ScimUser], dict[str, list[str]]]:
    """RFC 7643 Users and Groups from a ListResponse, a {Users, Groups} export or a list.

    Returns the users and each group's display name -> member user ids."""
    try:
        doc = json.loads(data) if data.lstrip()[:1] in (b"{", b"[") else yaml.safe_load(data)
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{where}: SCIM export does not parse: {exc}") from None
    if isinstance(doc, Mapping):
        resources = list(doc.get("Resources") or []) + list(doc.get("Users") or [])
        resources += list(doc.get("Groups") or [])
    elif isinstance(doc, list):
        resources = doc
    else:
        raise UsageError(f"{where}: SCIM export must be a ListResponse or a list of resources")
    users: list[ScimUser] = []
    groups: dict[str, list[str]] = {}
    for res in resources:
        if not isinstance(res, Mapping):
            raise UsageError(f"{where}: a SCIM resource is not an object")
        schemas = set(res.get("schemas") or [])
        if GROUP_SCHEMA in schemas or ("members" in res and "userName" not in res):
            name = str(res.get("displayName") or res.get("id") or "")
            groups[name] = [str(m.get("value")) for m in res.get("members") or []]
        elif USER_SCHEMA in schemas or "userName" in res:
            user_name = str(res.get("userName") or "")
            if not user_name:
                raise UsageError(f"{where}: a SCIM user has no userName")
            ids = {user_name.lower()} | {
                str(e.get("value")).lower() for e in res.get("emails") or [] if e.get("value")
            }
            active = res.get("active", True)
            users.append(
                ScimUser(
                    str(res.get("id") or user_name), user_name, frozenset(ids), active is not False
                )
            )
        else:
            raise UsageError(f"{where}: resource {res.get('id')!r} is neither a User nor a Group")
    return users, groups


def _merge_scim(
    people: dict[str, Person],
    groups: dict[str, frozenset[str]],
    users: Iterable[ScimUser],
    scim_groups: Mapping[str, list[str]],
) -> tuple[dict[str, Person], dict[str, frozenset[str]]]:
    out = {name: Person(p.name, p.identities, True, False, p.sources) for name, p in people.items()}
    by_id: dict[str, str] = {}
    for user in users:
        match = next(
            (
                p
                for p in out.values()
                if p.name.lower() in user.identities or p.identities & user.identities
            ),
            None,
        )
        if match is None:
            match = Person(user.user_name, frozenset(), sources=())
        out[match.name] = Person(
            match.name,
            match.identities | user.identities,
            user.active,
            True,
            (*match.sources, "scim"),
        )
        by_id[user.id] = match.name
    merged = dict(groups)
    for name, members in scim_groups.items():
        merged[name] = merged.get(name, frozenset()) | {by_id[m] for m in members if m in by_id}
    return out, merged


def parse_codeowners(
    text: str, people: Mapping[str, Person], groups: Mapping[str, frozenset[str]]
) -> tuple[PathOwners, ...]:
    """GitHub/GitLab CODEOWNERS: `pattern owner...`; @user, @org/team or an e-mail."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#") or line.startswith(("[", "^[")):
            continue  # comments and GitLab section headers
        pattern, *owners = line.split()
        resolved: set[str] = set()
        unresolved: list[str] = []
        for token in owners:
            found = _resolve_owner(token, people, groups)
            if found is None:
                unresolved.append(token)
            else:
                resolved |= found
        entries.append(PathOwners(pattern, frozenset(resolved), tuple(unresolved), number))
    return tuple(entries)


def _resolve_owner(
    token: str, people: Mapping[str, Person], groups: Mapping[str, frozenset[str]]
) -> frozenset[str] | None:
    bare = token.lstrip("@").lower()
    if "/" in bare:  # @org/team
        team = bare.split("/", 1)[1]
        for name, members in groups.items():
            if name.lower() == team:
                return members
        return None
    for person in people.values():
        if (
            bare == person.name.lower()
            or bare in person.identities
            or token.lower() in (person.identities)
        ):
            return frozenset({person.name})
        if any(i.split("@", 1)[0] == bare for i in person.identities if "@" in i):
            return frozenset({person.name})  # @alice for alice@northwind.example
    return None


@lru_cache(maxsize=512)
def _codeowners_regex(pattern: str) -> re.Pattern[str]:
    """gitignore-style: `/x` anchors at the root, `x/` is a directory, `*` stays in one segment."""
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    prefix = "^" if anchored else "(?:^|/)"
    return re.compile(prefix + "".join(out) + "(?:/.*)?$")


def read_files_under(root: Path) -> Reader:
    """The I/O edge: directory sources as files relative to `root` (None when missing)."""

    def read(path: str) -> bytes | None:
        try:
            return (root / path).read_bytes()
        except FileNotFoundError:
            return None

    return read
