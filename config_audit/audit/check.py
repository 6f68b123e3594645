"""One file, all checks: parse, raw lint, load into Presidio, samples -> `ValidationReport`.

Shared by `validate`, `diff` and the audit pipeline, so every front door judges a file the same
way. Presidio is reached only through a `Validator` passed in (one warm worker for many files).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from config_audit.model import (
    Change,
    ConfigFormat,
    Finding,
    Impact,
    RecognizerSet,
    Severity,
    ValidationReport,
)
from config_audit.recognizers.coverage import coverage_findings
from config_audit.recognizers.diff import diff_sets, file_added, file_removed, merge_levels
from config_audit.recognizers.globs import matches_glob
from config_audit.recognizers.lint import lint
from config_audit.recognizers.parse import ParsedFile, UnparseableFile, parse_bytes
from config_audit.recognizers.presidio_keys import KeySchema, snapshot
from config_audit.validate.release import note_release

if TYPE_CHECKING:
    from config_audit.validate import Validator


# Worker findings that repeat a lint finding: backspace in regex, empty regex.
SAME_AS_LINT = {"CA303": "CA104", "CA304": "CA106"}


@dataclass(frozen=True)
class CheckedFile:
    report: ValidationReport
    parsed: ParsedFile | None
    linted_with: KeySchema | None = None  # None: lint did not run

    @property
    def declared(self) -> RecognizerSet | None:
        return self.parsed.recognizers if self.parsed else None


def format_for(path: str, overrides: Sequence[tuple[str, str]]) -> ConfigFormat | None:
    """The format forced by `.config-audit.yaml` `formats:` for this path, if any."""
    for pattern, fmt in overrides:
        if matches_glob(path.replace(os.sep, "/").removeprefix("./"), pattern):
            return ConfigFormat(fmt)
    return None


def missing_file(path: str) -> CheckedFile:
    finding = Finding(
        "CA100",
        Severity.ERROR,
        "file not found",
        path=path,
        hint="Presidio silently falls back to its default recognizers when its "
        "config file is missing; restore the file or fix the path",
    )
    return CheckedFile(ValidationReport(path=path, format=None, findings=(finding,)), None)


def unreadable_file(path: str, exc: OSError) -> CheckedFile:
    finding = Finding(
        "CA100",
        Severity.ERROR,
        f"cannot read file: {exc.strerror}",
        path=path,
        hint="fix the file's permissions; an unreadable config leaks PII",
    )
    return CheckedFile(ValidationReport(path=path, format=None, findings=(finding,)), None)


def check_bytes(
    data: bytes,
    *,
    path: str,
    fmt: ConfigFormat | None = None,
    validator: Validator | None = None,
    run_lint: bool = True,
) -> CheckedFile:
    """Judge one version of one file. Without a validator, only parse and lint run."""
    checked = prepare(data, path=path, fmt=fmt, run_lint=run_lint)
    return load_into_presidio(checked, data, validator) if validator is not None else checked


def prepare(
    data: bytes, *, path: str, fmt: ConfigFormat | None = None, run_lint: bool = True
) -> CheckedFile:
    """The Presidio-free half: parse and lint (cheap; can run while the worker starts)."""
    try:
        parsed = parse_bytes(data, path=path, fmt=fmt)
    except UnparseableFile as exc:
        return CheckedFile(ValidationReport(path=path, format=fmt, findings=(exc.finding,)), None)
    schema = snapshot() if run_lint else None
    findings = lint(parsed, schema=schema) if schema is not None else []
    report = ValidationReport(
        path=path,
        format=parsed.format,
        findings=tuple(findings),
        recognizer_count=len(parsed.recognizers.recognizers),
    )
    return CheckedFile(report, parsed, schema)


# Lint findings that make loading pointless and harmful: Presidio would spend the worker's whole
# time or memory bound on them (and the worker would be replaced).
UNSAFE_TO_LOAD = frozenset({"CA127"})


def load_into_presidio(checked: CheckedFile, data: bytes, validator: Validator) -> CheckedFile:
    """The other half: load into Presidio, run the samples, add the effective view."""
    parsed, report = checked.parsed, checked.report
    if parsed is None:
        return checked  # unreadable: nothing to load
    if any(f.code in UNSAFE_TO_LOAD for f in report.findings):
        return checked  # invalid already, and loading it would only exhaust the worker
    loaded = validator.load(data, path=report.path, fmt=parsed.format)
    linted_with, derived = checked.linted_with, validator.key_schema()
    if linted_with is not None and derived is not None and derived != linted_with:
        # The installed Presidio reads other keys than the snapshot says: lint again with
        # what the worker derived from it (pure and cheap; only after an upgrade).
        report = replace(report, findings=tuple(lint(parsed, schema=derived)))
        linted_with = derived
    lines = {rec.name: rec.line for rec in parsed.recognizers.recognizers}
    found = loaded.findings
    if loaded.effective is not None:
        found = (*found, *coverage_findings(loaded.effective, path=report.path))
    located = tuple(
        replace(f, line=lines.get(f.recognizer)) if f.line is None and f.recognizer else f
        for f in found
    )
    # The worker re-checks patterns Presidio really loaded; keep lint's version (it has lines).
    have = {(f.code, f.recognizer) for f in report.findings}
    located = tuple(f for f in located if (SAME_AS_LINT.get(f.code), f.recognizer) not in have)
    findings = note_release(
        report.findings + located,
        presidio_version=loaded.presidio_version,
        interpreter=loaded.interpreter,
        path=report.path,
    )
    report = replace(
        report,
        findings=findings,
        recognizer_count=loaded.recognizer_count,
        presidio_version=loaded.presidio_version,
        presidio_interpreter=loaded.interpreter,
        python_version=loaded.python_version,
        samples=loaded.samples,
        effective=loaded.effective,
    )
    return CheckedFile(report, parsed, linted_with)


def compare_versions(
    before: CheckedFile | None, after: CheckedFile | None
) -> tuple[list[Change], list[Finding]]:
    """Changes between two checked versions (None: the file does not exist in that version),
    and the findings that made a version impossible to read."""
    problems = [
        f for c in (before, after) if c is not None and c.parsed is None for f in c.report.findings
    ]
    if problems:
        return [], problems
    if before is None or before.declared is None:
        return (file_added(after.declared) if after and after.declared else []), []
    if after is None or after.declared is None:
        # The effective view also knows the entities of predefined recognizers.
        return file_removed(before.report.effective or before.declared), []
    changes = diff_sets(before.declared, after.declared)
    old_eff, new_eff = before.report.effective, after.report.effective
    if old_eff is not None and new_eff is not None:
        effective = diff_sets(old_eff, new_eff, level="effective")
        if old_eff.format is new_eff.format is ConfigFormat.NLP:
            # Presidio fills an omitted NER section with its defaults: only the effective view
            # says what really changed (a removed section is not every mapping removed).
            changes = effective
        else:
            changes = merge_levels(changes, effective)
    return changes + detection_regressions(before.report, after.report), []


def detection_regressions(old: ValidationReport, new: ValidationReport) -> list[Change]:
    """A sample that passed on the old version and fails on the new one."""
    passed = {s.sample_id for s in old.samples if s.ok}
    return [
        Change(
            "detection.regression",
            Impact.WEAKENS,
            None,
            f"sample '{s.sample_id}' ({s.entity}) "
            + ("is no longer detected" if s.expected else "is now wrongly detected"),
            (s.entity,),
        )
        for s in new.samples
        if not s.ok and s.sample_id in passed
    ]
