"""Which keys Presidio reads where, at every level of its four formats (PRESIDIO_NOTES §1).

The knowledge is derived from Presidio itself by the validation worker
(`validate/presidio_schema.py`: pydantic models, constructor signatures) and cached per
Presidio version and interpreter. Lint runs before (or without) a worker, so the hook's fast
path reads a snapshot derived from presidio-analyzer 2.2.366 (`schemas/presidio-keys.json`);
a test checks the snapshot equals what the worker derives, so drift is caught on upgrade.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

SNAPSHOT = Path(__file__).resolve().parent.parent / "schemas" / "presidio-keys.json"


@dataclass(frozen=True)
class RecognizerClass:
    """A recognizer class's constructor, as the registry loader sees it."""

    params: frozenset[str]
    var_kw: bool  # takes **kwargs: unknown keys reach it without a TypeError
    country: str | None
    entities: frozenset[str] | None = None  # detected when the YAML names none; None: unknown

    def accepts(self, key: str) -> bool:
        return key in self.params


@dataclass(frozen=True)
class KeySchema:
    presidio_version: str
    adhoc_entry: frozenset[str]
    pattern: frozenset[str]
    registry_top: frozenset[str]
    predefined_entry: frozenset[str]
    custom_entry: frozenset[str]
    language_item: frozenset[str]
    extra_allowed_classes: frozenset[str]
    analyzer_top: frozenset[str]
    enhancer: frozenset[str]
    nlp_top: frozenset[str]
    nlp_model: frozenset[str]
    ner_config: frozenset[str]
    classes: Mapping[str, RecognizerClass]

    def __hash__(self) -> int:
        # `classes` is a read-only mapping (unhashable); equal schemas still hash equal.
        return hash((self.presidio_version, self.adhoc_entry, self.registry_entry))

    @property
    def registry_entry(self) -> frozenset[str]:
        """Keys a registry entry may carry; which kind reads which is checked by kind."""
        return self.predefined_entry | self.custom_entry

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> KeySchema:
        """From the worker's JSON (or the snapshot); KeyError/TypeError on a damaged one."""
        sets = {
            name: frozenset(str(k) for k in wire[name])
            for name in (
                "adhoc_entry",
                "pattern",
                "registry_top",
                "predefined_entry",
                "custom_entry",
                "language_item",
                "extra_allowed_classes",
                "analyzer_top",
                "enhancer",
                "nlp_top",
                "nlp_model",
                "ner_config",
            )
        }
        classes = {
            str(name): RecognizerClass(
                frozenset(str(p) for p in info["params"]),
                bool(info["var_kw"]),
                None if info.get("country") is None else str(info["country"]),
                None if info.get("entities") is None else frozenset(map(str, info["entities"])),
            )
            for name, info in dict(wire["predefined_classes"]).items()
        }
        return cls(
            presidio_version=str(wire["presidio_version"]),
            classes=MappingProxyType(classes),
            **sets,
        )


@functools.lru_cache(maxsize=1)
def snapshot() -> KeySchema:
    """The keys of the Presidio release the snapshot was derived from (2.2.366)."""
    return KeySchema.from_wire(json.loads(SNAPSHOT.read_text(encoding="utf-8")))
