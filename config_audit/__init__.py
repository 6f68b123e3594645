"""presidio-config-audit: audit, validate and sign every change to Presidio recognizer config."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
