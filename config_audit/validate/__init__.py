"""Validation by really loading files into Presidio, in a warm, bounded worker process.

The parent side (this package's public API) never imports Presidio; only the worker does.
The names below load on first use: a hook whose verdict is cached only needs
`validate.versions`, and importing it must not pull in the pool, the samples and the regex
analysis (about 20 ms on every commit).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config_audit.validate.pool import LoadResult, ValidationLimits, Validator
    from config_audit.validate.regex_safety import RegexIssue, check_pattern
    from config_audit.validate.samples import Sample, load_samples, parse_samples
    from config_audit.validate.versions import presidio_version

_HOMES = {
    "LoadResult": "pool",
    "ValidationLimits": "pool",
    "Validator": "pool",
    "RegexIssue": "regex_safety",
    "check_pattern": "regex_safety",
    "Sample": "samples",
    "load_samples": "samples",
    "parse_samples": "samples",
    "presidio_version": "versions",
}
__all__ = [
    "LoadResult",
    "RegexIssue",
    "Sample",
    "ValidationLimits",
    "Validator",
    "check_pattern",
    "load_samples",
    "parse_samples",
    "presidio_version",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
