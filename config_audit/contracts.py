"""The record's typed contracts: who made a change (`Assurance`, one `Evidence` kind per front
door: the `author` object) and what kind of change it was (`ChangeKind`).

Below `model`, which re-exports these names for the rest of the package; tests hold each equal
to schemas/record-v1.json or docs/changes.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


class Assurance(enum.StrEnum):
    """How sure a record is of who made the change, strongest first; never upgraded."""

    VERIFIED_SIGNATURE = "verified-signature"  # git verified it with the trusted signers
    SIGNATURE_UNKNOWN_TRUST = "signature-unknown-trust"
    SIGNATURE_EXPIRED = "signature-expired"
    SIGNATURE_REVOKED = "signature-revoked"
    BAD_SIGNATURE = "bad-signature"
    UNVERIFIABLE_SIGNATURE = "unverifiable-signature"
    GIT_COMMIT_MATCH = "git-commit-match"  # watcher: the content is a commit's
    CLAIMED = "claimed"  # git author and committer, as typed
    OS_USER = "os-user"  # the OS account that ran a command on a host (prune)
    UNATTRIBUTED = "unattributed"  # watcher: the host knows the file, not the editor
    NONE = "none"  # no change made by anyone (watcher start, stop, heartbeat)


@dataclass(frozen=True)
class Evidence:
    """Who made a change, and how sure the record is of it: a record's `author` object.

    Each front door has its own kind (`CommitEvidence`, `HostEvidence`, `OperatorEvidence`);
    `to_dict` is exactly the schema's `author` (schemas/record-v1.json: a test holds the union of
    their fields equal to its properties). Absent facts are left out, never guessed."""

    assurance: Assurance

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value != "":
                out[f.name] = str(value) if isinstance(value, enum.Enum) else value
        return out

    def claimed(self) -> frozenset[str]:
        """Identities the evidence names but does not prove, lower-cased (policy owners match
        them unless a verified signer is required)."""
        return frozenset()

    @property
    def verified_signer(self) -> str | None:
        return None

    @property
    def who(self) -> str:
        """One line for people: the claimed author, the file's owner, or the OS account."""
        return ""


@dataclass(frozen=True)
class CommitEvidence(Evidence):
    """The git doors (hooks, ci): a commit's claimed author and committer and its signature."""

    author_name: str | None = None
    author_email: str | None = None
    author_time: str | None = None
    committer_name: str | None = None
    committer_email: str | None = None
    signature_status: str | None = None  # git's %G? in words; "pending" in pre-commit
    signer: str | None = None
    signing_key: str | None = None
    verification: str | None = None  # gpg | ssh

    def claimed(self) -> frozenset[str]:
        return frozenset(v.lower() for v in (self.author_email, self.committer_email) if v)

    @property
    def verified_signer(self) -> str | None:
        good = self.signature_status == "good" and self.signer
        return self.signer.lower() if good and self.signer else None

    @property
    def pending_signature(self) -> bool:
        return self.signature_status == "pending"

    @property
    def who(self) -> str:
        return self.author_email or self.author_name or ""


@dataclass(frozen=True)
class HostEvidence(Evidence):
    """The watcher: what the host knows of a file it saw change, and the commit whose content
    it matched, if any (assurance git-commit-match)."""

    host: str | None = None
    file_owner: str | None = None
    watcher_user: str | None = None
    observed_at: str | None = None
    commit: str | None = None  # a commit whose content equals what the watcher read
    author_name: str | None = None  # that commit's claimed author
    author_email: str | None = None

    def claimed(self) -> frozenset[str]:
        return frozenset(v.lower() for v in (self.author_email, self.file_owner) if v)

    @property
    def who(self) -> str:
        if self.author_email:
            return self.author_email
        return f"{self.file_owner}@{self.host}" if self.file_owner else ""


@dataclass(frozen=True)
class OperatorEvidence(Evidence):
    """A person running a command on a host (prune, an access review's sign-off)."""

    os_user: str | None = None
    host: str | None = None
    reviewer: str | None = None  # as the reviewer named themselves: claimed

    @property
    def who(self) -> str:
        return self.reviewer or (f"{self.os_user}@{self.host}" if self.os_user else "")


NO_EVIDENCE = Evidence(Assurance.NONE)
KINDS: tuple[type[Evidence], ...] = (CommitEvidence, HostEvidence, OperatorEvidence)


def evidence_from_dict(author: object) -> Evidence:
    """A record's `author` object read back (access reviews): the kind whose fields it uses;
    fields it does not know are left out, and an assurance it does not know reads as claimed."""
    if not isinstance(author, Mapping):
        return NO_EVIDENCE
    try:
        assurance = Assurance(str(author.get("assurance")))
    except ValueError:
        assurance = Assurance.CLAIMED
    present = {k for k, v in author.items() if isinstance(v, str) and v and k != "assurance"}
    for kind in KINDS:
        names = {f.name for f in fields(kind)}
        if present and present <= names:
            return kind(assurance, **{k: author[k] for k in present})
    best = max(KINDS, key=lambda kind: len(present & {f.name for f in fields(kind)}))
    names = {f.name for f in fields(best)} & present
    return best(assurance, **{k: author[k] for k in names})


class ChangeKind(enum.StrEnum):
    """Every kind of semantic change a record can hold (`Change.kind`); docs/changes.md says
    what each means and how it is judged. A kind not listed here is a bug, raised at once."""

    FILE_REMOVED = "file.removed"
    RECOGNIZER_ADDED = "recognizer.added"
    RECOGNIZER_REMOVED = "recognizer.removed"
    RECOGNIZER_RENAMED = "recognizer.renamed"
    RECOGNIZER_ENABLED = "recognizer.enabled"
    RECOGNIZER_DISABLED = "recognizer.disabled"
    RECOGNIZER_ENTITY_CHANGED = "recognizer.entity_changed"
    RECOGNIZER_CLASS_CHANGED = "recognizer.class_changed"
    RECOGNIZER_COUNTRY_CHANGED = "recognizer.country_changed"
    RECOGNIZER_ATTRIBUTE_CHANGED = "recognizer.attribute_changed"
    PATTERN_ADDED = "pattern.added"
    PATTERN_REMOVED = "pattern.removed"
    PATTERN_RENAMED = "pattern.renamed"
    PATTERN_REGEX_CHANGED = "pattern.regex_changed"
    PATTERN_SCORE_LOWERED = "pattern.score_lowered"
    PATTERN_SCORE_RAISED = "pattern.score_raised"
    CONTEXT_WORDS_ADDED = "context.words_added"
    CONTEXT_WORDS_REMOVED = "context.words_removed"
    DENY_LIST_ENTRIES_ADDED = "deny_list.entries_added"
    DENY_LIST_ENTRIES_REMOVED = "deny_list.entries_removed"
    DENY_LIST_SCORE_LOWERED = "deny_list.score_lowered"
    DENY_LIST_SCORE_RAISED = "deny_list.score_raised"
    REGEX_FLAGS_CHANGED = "regex_flags.changed"
    SCORE_THRESHOLD_LOWERED = "score_threshold.lowered"
    SCORE_THRESHOLD_RAISED = "score_threshold.raised"
    LANGUAGE_ADDED = "language.added"
    LANGUAGE_REMOVED = "language.removed"
    ENGINE_SETTING_CHANGED = "engine.setting_changed"
    DETECTION_REGRESSION = "detection.regression"  # a sample no longer found
    COVERAGE_ENTITY_LOST = "coverage.entity_lost"  # a language lost an entity the others have
    COVERAGE_FILE_LEFT = "coverage.file_left"  # the watcher no longer sees a file it audited
    NLP_MAPPING_ADDED = "nlp.mapping_added"
    NLP_MAPPING_REMOVED = "nlp.mapping_removed"
    NLP_MAPPING_RETARGETED = "nlp.mapping_retargeted"
    NLP_LABEL_IGNORED = "nlp.label_ignored"
    NLP_LABEL_UNIGNORED = "nlp.label_unignored"
    NLP_LOW_SCORE_ENTITY_ADDED = "nlp.low_score_entity_added"
    NLP_LOW_SCORE_ENTITY_REMOVED = "nlp.low_score_entity_removed"
    NLP_MODEL_ADDED = "nlp.model_added"
    NLP_MODEL_REMOVED = "nlp.model_removed"
    NLP_MODEL_CHANGED = "nlp.model_changed"
    # The settings file and trust material: changes to what decides verdicts.
    POLICY_CREATED = "policy.created"
    POLICY_PROTECTION_ADDED = "policy.protection_added"
    POLICY_PROTECTION_REMOVED = "policy.protection_removed"
    POLICY_OWNERS_ADDED = "policy.owners_added"
    POLICY_OWNERS_REMOVED = "policy.owners_removed"
    POLICY_IDENTITIES_ADDED = "policy.identities_added"
    POLICY_WEAKENING_RULE_CHANGED = "policy.weakening_rule_changed"
    POLICY_REMOVAL_RULE_CHANGED = "policy.removal_rule_changed"
    POLICY_SCORE_FLOOR_CHANGED = "policy.score_floor_changed"
    POLICY_ROLES_CHANGED = "policy.roles_changed"
    POLICY_DIRECTORY_CHANGED = "policy.directory_changed"
    POLICY_POLICY_OWNERS_ADDED = "policy.policy_owners_added"
    COVERAGE_GLOBS_ADDED = "coverage.globs_added"
    COVERAGE_GLOBS_REMOVED = "coverage.globs_removed"
    COVERAGE_SAMPLES_CHANGED = "coverage.samples_changed"
    COVERAGE_FORMATS_CHANGED = "coverage.formats_changed"
    COVERAGE_DEPLOYED_CHANGED = "coverage.deployed_changed"
    RECORDS_DENY_LIST_HASHING_CHANGED = "records.deny_list_hashing_changed"
    WAIVERS_ACCEPTANCE_ADDED = "waivers.acceptance_added"
    WAIVERS_ACCEPTANCE_REMOVED = "waivers.acceptance_removed"
    WAIVERS_SEVERITY_CHANGED = "waivers.severity_changed"
    WAIVERS_STRICT_OFF = "waivers.strict_off"
    SETTINGS_MOVED = "settings.moved"
    SETTINGS_REMOVED = "settings.removed"
    SETTINGS_NOT_REGULAR = "settings.not_regular"
    SETTINGS_SECOND = "settings.second"
    TRUST_FILE_REMOVED = "trust.file_removed"
    TRUST_ENTRIES_ADDED = "trust.entries_added"
    TRUST_ENTRIES_REMOVED = "trust.entries_removed"
    TRUST_PATH_CHANGED = "trust.path_changed"
    TRUST_ANCHOR_CHANGED = "trust.anchor_changed"
    ATTRIBUTES_CHANGED = "attributes.changed"  # .gitattributes lines on audited paths
    # `presidio:`: which Presidio decides validity (issue 16)
    VALIDATION_PRESIDIO_PYTHON_CHANGED = "validation.presidio_python_changed"
    VALIDATION_PRESIDIO_IMPORTS_CHANGED = "validation.presidio_imports_changed"
    VALIDATION_PRESIDIO_VERSION_CHANGED = "validation.presidio_version_changed"
    VALIDATION_PRESIDIO_INTERPRETER_CHANGED = "validation.presidio_interpreter_changed"
