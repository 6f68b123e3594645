"""One error base with advice; the CLI is the only place that maps errors to exit codes."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable

# A library stays silent until its user configures logging (the CLI does, in `cli`).
logging.getLogger("config_audit").addHandler(logging.NullHandler())


class ConfigAuditError(Exception):
    """Base error. `diagnostics()` tells the user what to do next."""

    exit_code = 2
    advice = ""

    def __init__(self, message: str, *, advice: str = "") -> None:
        super().__init__(message)
        if advice:
            self.advice = advice

    def diagnostics(self) -> str:
        return f"{self}\n  hint: {self.advice}" if self.advice else str(self)


class UsageError(ConfigAuditError):
    """Bad arguments or a bad configuration file of ours (exit 2)."""


class RecognizerFileError(ConfigAuditError):
    """A recognizer file cannot be read or parsed at all (exit 1: it is a finding)."""

    exit_code = 1


class GitError(ConfigAuditError):
    """A git operation failed or the repository is not in a usable state."""


class VerificationError(ConfigAuditError):
    """A signature, key or log failed verification (exit 1)."""

    exit_code = 1


class SigningKeyError(ConfigAuditError):
    """A signing key is missing, unreadable or unsafe."""


class SinkError(ConfigAuditError):
    """A sink or alert channel failed."""


def did_you_mean(unknown: Iterable[str], known: Iterable[str]) -> str:
    """`did you mean 'enabled'?` for each unknown key close to a known one, else the list."""
    valid = sorted(known)
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(str(key), valid, n=1)
        if close:
            hints.append(f"'{key}': did you mean '{close[0]}'?")
    return "; ".join([*hints, f"valid keys: {valid}"])
