"""Immutable values shared by every layer: recognizers, findings, changes.

Identity of a recognizer is (name, language), the same notion Presidio uses in
`RecognizerRegistry.remove_recognizer`. Never list position.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from config_audit.contracts import NO_EVIDENCE as NO_EVIDENCE
from config_audit.contracts import Assurance as Assurance  # re-exported: the record schema's enum
from config_audit.contracts import ChangeKind as ChangeKind
from config_audit.contracts import CommitEvidence as CommitEvidence
from config_audit.contracts import Evidence as Evidence
from config_audit.contracts import HostEvidence as HostEvidence
from config_audit.contracts import OperatorEvidence as OperatorEvidence
from config_audit.contracts import evidence_from_dict as evidence_from_dict


class ConfigFormat(enum.StrEnum):
    """Which Presidio loader reads the file."""

    ADHOC = "adhoc"  # RecognizerRegistry.add_recognizers_from_yaml
    REGISTRY = "registry"  # RecognizerRegistryProvider
    ANALYZER = "analyzer"  # AnalyzerEngineProvider
    NLP = "nlp"  # NlpEngineProvider(conf_file=...): which NER labels become which entities


class Severity(enum.StrEnum):
    ERROR = "error"  # invalid: Presidio rejects it, or it silently leaks PII
    WARNING = "warning"  # accepted, but probably not what the author meant
    INFO = "info"


class Impact(enum.StrEnum):
    """Effect of a change on recall: can PII that was detected go undetected?"""

    WEAKENS = "weakens"
    STRENGTHENS = "strengthens"
    NEUTRAL = "neutral"


class Source(enum.StrEnum):
    """Where a record comes from: a front door, or the watcher's own life cycle."""

    PRE_COMMIT = "pre-commit"
    POST_COMMIT = "post-commit"
    POST_REWRITE = "post-rewrite"
    CI = "ci"
    WATCHER = "watcher"
    MANUAL = "manual"
    WATCHER_START = "watcher-start"
    WATCHER_STOP = "watcher-stop"
    HEARTBEAT = "heartbeat"
    KEY_ROTATION = "key-rotation"
    ACCESS_REVIEW = "access-review"  # a reviewer's signed decisions on the grants
    PRUNE = "prune"  # local segments removed past retention


@dataclass(frozen=True)
class Finding:
    """One problem found in one file, with where it is and how to fix it."""

    code: str  # stable identifier, e.g. "CA104"
    severity: Severity
    message: str
    path: str = ""
    line: int | None = None
    recognizer: str | None = None
    hint: str = ""
    accepted: str | None = None  # the reason, when a waiver accepts it (it then never blocks)
    existing: bool = False  # also present in the parent version (the change did not add it)

    @property
    def blocking(self) -> bool:
        """An error no waiver accepts."""
        return self.severity is Severity.ERROR and self.accepted is None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["severity"] = self.severity.value
        # Waiver and gate marks only when set: records of unwaived findings keep their shape.
        for key, unset in (("accepted", None), ("existing", False)):
            if data[key] == unset:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "severity": Severity(data["severity"])})


@dataclass(frozen=True)
class PatternDef:
    name: str
    regex: str
    score: float
    line: int | None = None


@dataclass(frozen=True)
class RecognizerDef:
    """One recognizer instance as Presidio would hold it: one per language."""

    name: str
    language: str
    entities: tuple[str, ...] = ()
    kind: str = "custom"  # "custom" | "predefined"
    class_name: str | None = None
    enabled: bool = True
    patterns: tuple[PatternDef, ...] = ()
    deny_list: tuple[str, ...] = ()
    deny_list_score: float | None = None
    context: tuple[str, ...] = ()
    global_regex_flags: int | None = None
    score_thresholds: tuple[tuple[str, float], ...] = ()
    country_code: str | None = None
    # Other simple attributes (predefined constructor defaults such as supported_regions).
    attributes: tuple[tuple[str, str], ...] = ()
    line: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.language)

    @property
    def label(self) -> str:
        return f"{self.name} [{self.language}]"


@dataclass(frozen=True)
class RecognizerSet:
    """A whole configuration file, normalized: what it makes Presidio detect."""

    path: str
    format: ConfigFormat
    languages: tuple[str, ...]
    recognizers: tuple[RecognizerDef, ...]
    global_regex_flags: int | None = None
    # Engine-level settings that change recall (analyzer format): threshold, NLP engine, enhancer.
    settings: tuple[tuple[str, str], ...] = ()

    def by_key(self) -> dict[tuple[str, str, int], RecognizerDef]:
        """Index by identity, (name, language, occurrence): a duplicate name is the second
        occurrence, never lost and never confused with a recognizer literally named `x#2`."""
        index: dict[tuple[str, str, int], RecognizerDef] = {}
        seen: dict[tuple[str, str], int] = {}
        for rec in self.recognizers:
            seen[rec.key] = seen.get(rec.key, 0) + 1
            index[(*rec.key, seen[rec.key])] = rec
        return index


@dataclass(frozen=True)
class Change:
    """One semantic change between two versions of a recognizer file."""

    kind: str  # a ChangeKind (a plain string is accepted and checked: see __post_init__)
    impact: Impact
    recognizer: str | None  # "name [lang]" or None for file-level changes
    summary: str
    entities: tuple[str, ...] = ()
    before: str | None = None
    after: str | None = None
    level: str = "declared"  # "declared" (YAML) or "effective" (as Presidio instantiates it)
    line: int | None = None
    score: float | None = None  # the new pattern score, for pattern changes (policy floors)

    def __post_init__(self) -> None:
        # Every producer passes its kind through here: a misspelt or undeclared kind fails the
        # first test that makes it, instead of reaching a record that policy rules never match.
        if not isinstance(self.kind, ChangeKind):
            object.__setattr__(self, "kind", ChangeKind(self.kind))

    def to_dict(self) -> dict[str, Any]:
        # Flat fields only: a direct copy is ~20x faster than dataclasses.asdict's deep copy,
        # which matters for diffs with thousands of changes.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["kind"] = str(self.kind)
        data["impact"] = self.impact.value
        data["entities"] = list(self.entities)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(
            **{
                **data,
                "impact": Impact(data["impact"]),
                "entities": tuple(data.get("entities", ())),
            }
        )


@dataclass(frozen=True)
class SampleResult:
    """Outcome of one detection sample against one file."""

    sample_id: str
    entity: str
    text_hash: str
    expected: bool  # True: must be found; False: must not be found
    found: bool

    @property
    def ok(self) -> bool:
        return self.expected == self.found


@dataclass(frozen=True)
class ValidationReport:
    """Verdict for one file: findings from parsing, lint, Presidio loading and samples."""

    path: str
    format: ConfigFormat | None
    findings: tuple[Finding, ...] = ()
    recognizer_count: int = 0
    presidio_version: str = ""
    samples: tuple[SampleResult, ...] = ()
    effective: RecognizerSet | None = field(default=None, compare=False)
    presidio_interpreter: str = ""  # the Python whose Presidio loaded the file (issue 16)
    python_version: str = ""

    @property
    def valid(self) -> bool:
        return not any(f.blocking for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format.value if self.format else None,
            "valid": self.valid,
            "recognizer_count": self.recognizer_count,
            "presidio_version": self.presidio_version,
            "presidio_interpreter": self.presidio_interpreter,
            "python_version": self.python_version,
            "findings": [f.to_dict() for f in self.findings],
            "samples": [asdict(s) | {"ok": s.ok} for s in self.samples],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """Inverse of `to_dict` (the effective recognizer set is not kept)."""
        return cls(
            path=data["path"],
            format=ConfigFormat(data["format"]) if data.get("format") else None,
            findings=tuple(Finding.from_dict(f) for f in data["findings"]),
            recognizer_count=data["recognizer_count"],
            presidio_version=data["presidio_version"],
            presidio_interpreter=data.get("presidio_interpreter", ""),
            python_version=data.get("python_version", ""),
            samples=tuple(
                SampleResult(**{k: v for k, v in s.items() if k != "ok"}) for s in data["samples"]
            ),
        )


@dataclass(frozen=True)
class ChangeEvent:
    """One file changed: both versions' bytes (None: absent), where, and who with evidence."""

    path: str
    before: bytes | None
    after: bytes | None
    source: str  # pre-commit | post-commit | post-rewrite | ci | watcher | manual
    repository: str | None = None
    commit: str | None = None
    author: Evidence = NO_EVIDENCE
    extra: Mapping[str, Any] = field(default_factory=dict)
    time: datetime | None = None


@dataclass(frozen=True)
class AuditResult:
    event: ChangeEvent
    changes: tuple[Change, ...]
    before: ValidationReport | None
    after: ValidationReport | None
    problems: tuple[Finding, ...]  # a version that could not be read at all
    violations: tuple[Finding, ...]  # policy
    record: Mapping[str, Any] | None = None
    strict: bool = False  # settings `strict: true`: existing errors block too

    @property
    def invalid(self) -> bool:
        return bool(self.problems) or (self.after is not None and not self.after.valid)

    @property
    def blocked(self) -> bool:
        """Gate on what the change introduces: policy violations, and unaccepted errors of the
        new version that the parent version did not have (all of them when strict)."""
        if self.violations:
            return True
        if self.after is None:
            # A settings-file audit has no versions, only problems; a deletion adds no finding.
            return self.before is None and bool(self.problems)
        return any(f.blocking and (self.strict or not f.existing) for f in self.after.findings)

    @property
    def weakens(self) -> bool:
        return any(c.impact is Impact.WEAKENS for c in self.changes)

    def findings(self) -> list[Finding]:
        after = list(self.after.findings) if self.after else []
        return [*self.problems, *after, *self.violations]
