"""Checks whose facts were read off particular Presidio releases say so when another one is used.

Lint (CA1xx) encodes what Presidio does with a file (which keys it drops, what it iterates
character by character, which sections it fills with defaults), and the worker folds Presidio's
warnings by their wording (CA207). Those facts were verified by the conformance suite on the
releases below, the dependency range in pyproject.toml. Validating with another release (the
deployment's, `presidio.python`) keeps every finding but notes on each such finding, and in one
info finding per file, that its fact was not verified there: a note, not a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from config_audit.model import Finding, Severity

# Releases the conformance suite (tests/test_conformance.py) has been run on; keep equal to the
# presidio-analyzer range in pyproject.toml (tests/test_presidio_env.py checks it).
# 2.2.365 through presidio.python (CONFIG_AUDIT_CONFORMANCE_PYTHON), 2.2.366 as our own.
VERIFIED_RELEASES = ("2.2.365", "2.2.366")
CODE_OTHER_RELEASE = "CA220"
# Codes stating how Presidio treats a construct (docs/findings.md cites its behaviour).
RELEASE_FACTS = frozenset(
    {
        *(f"CA1{n:02d}" for n in (1, 2, 3, 5, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 21, 23, 28)),
        "CA203",  # zero recognizers: AnalyzerEngine then loads all its defaults
        "CA207",  # Presidio's warnings, folded by their 2.2.366 wording
    }
)


def note_release(
    findings: Sequence[Finding], *, presidio_version: str, interpreter: str, path: str
) -> tuple[Finding, ...]:
    """`findings` as they are when `presidio_version` is a verified release (or none was used);
    otherwise each release-specific one carries a note, and one info finding says which."""
    if not presidio_version or presidio_version in VERIFIED_RELEASES:
        return tuple(findings)
    verified = ", ".join(VERIFIED_RELEASES)
    note = (
        f"(this check's Presidio behaviour was verified on presidio-analyzer {verified}, "
        f"not on {presidio_version})"
    )
    out = [
        replace(f, hint=f"{f.hint} {note}".strip()) if f.code in RELEASE_FACTS else f
        for f in findings
    ]
    affected = sorted({f.code for f in findings if f.code in RELEASE_FACTS})
    message = (
        f"validated with presidio-analyzer {presidio_version} ({interpreter}); the checks that "
        f"state Presidio's behaviour were verified on {verified} only"
    )
    if affected:
        message += f": {', '.join(affected)} here rest on those facts"
    out.append(
        Finding(
            CODE_OTHER_RELEASE,
            Severity.INFO,
            message,
            path=path,
            hint="run the conformance suite on this release (docs/presidio.md) and add it to "
            "the verified range",
        )
    )
    return tuple(out)
