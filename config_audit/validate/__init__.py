"""Validation by really loading files into Presidio, in a warm, bounded worker process.

The parent side (this package's public API) never imports Presidio; only the worker does.
"""

from __future__ import annotations

from config_audit.validate.pool import LoadResult, ValidationLimits, Validator
from config_audit.validate.regex_safety import RegexIssue, check_pattern
from config_audit.validate.samples import Sample, load_samples, parse_samples
from config_audit.validate.versions import presidio_version

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
