"""presidio-config-audit: audit, validate and sign every change to Presidio recognizer config."""

from __future__ import annotations

__version__ = "0.1.0"
# The library's NullHandler is added in `config_audit.errors`, which every module that logs
# imports: importing `logging` here would cost the warm hook runner's client ~15 ms.
