"""Detection samples: texts each entity must (or must not) be found in.

Format of `recognizers/samples.yaml`:

    samples:
      - id: emp-id-plain            # unique, stable: it names the sample in findings and records
        entity: NW_EMPLOYEE_ID
        language: en                # default en
        text: "Badge NW-EMP-123456 was scanned"
        expect: found               # found | absent
        context: [employee]         # optional: passed to analyze(context=...) (no_op has no tokens)
        min_score: 0.5              # optional: a result must reach this score to count

Parsing is pure and runs in the parent; `run_samples` runs in the worker against the loaded
engine. A sample's text never leaves the worker: results carry only its sha256.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from config_audit.errors import UsageError
from config_audit.model import Finding, SampleResult, Severity

CODE_REGRESSION = "CA401"
_KEYS = frozenset({"id", "entity", "language", "text", "expect", "context", "min_score"})
_LANG = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")


@dataclass(frozen=True)
class Sample:
    id: str
    entity: str
    language: str
    text: str
    expect_found: bool
    context: tuple[str, ...] = ()
    min_score: float | None = None

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def load_samples(path: Path) -> tuple[Sample, ...]:
    """Read and check a samples file; any problem is a configuration error (fail closed)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: samples file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read samples: {exc}") from None
    return parse_samples(raw, where=str(path))


def parse_samples(raw: Any, *, where: str = "samples.yaml") -> tuple[Sample, ...]:
    """Pure: loaded YAML to samples. Unknown keys, bad types and duplicate ids are errors."""
    if not isinstance(raw, dict) or set(raw) != {"samples"} or not isinstance(raw["samples"], list):
        raise UsageError(f"{where}: top level must be a mapping with one key, 'samples' (a list)")
    out: list[Sample] = []
    seen: set[str] = set()
    for i, item in enumerate(raw["samples"]):
        at = f"{where}: samples[{i}]"
        if not isinstance(item, dict):
            raise UsageError(f"{at}: must be a mapping")
        unknown = sorted(set(item) - _KEYS)
        if unknown:
            raise UsageError(f"{at}: unknown key(s) {unknown}", advice=f"valid: {sorted(_KEYS)}")
        for key in ("id", "entity", "text"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise UsageError(f"{at}: '{key}' must be a non-empty string")
        if item["id"] in seen:
            raise UsageError(f"{at}: duplicate id {item['id']!r}")
        seen.add(item["id"])
        language = item.get("language", "en")
        if not isinstance(language, str) or not _LANG.match(language):
            raise UsageError(f"{at}: 'language' must be a language code such as en or de")
        expect = item.get("expect", "found")
        if expect not in ("found", "absent"):
            raise UsageError(f"{at}: 'expect' must be found or absent")
        context = item.get("context", [])
        if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            raise UsageError(f"{at}: 'context' must be a list of words")
        min_score = item.get("min_score")
        if min_score is not None and (
            isinstance(min_score, bool)
            or not isinstance(min_score, int | float)
            or not 0 <= min_score <= 1
        ):
            raise UsageError(f"{at}: 'min_score' must be a number in [0, 1]")
        out.append(
            Sample(
                id=item["id"],
                entity=item["entity"],
                language=language,
                text=item["text"],
                expect_found=expect == "found",
                context=tuple(context),
                min_score=float(min_score) if min_score is not None else None,
            )
        )
    return tuple(out)


def samples_to_wire(samples: Iterable[Sample]) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "entity": s.entity,
            "language": s.language,
            "text": s.text,
            "expect_found": s.expect_found,
            "context": list(s.context),
            "min_score": s.min_score,
        }
        for s in samples
    ]


def samples_from_wire(items: Iterable[Mapping[str, Any]]) -> tuple[Sample, ...]:
    return tuple(
        Sample(
            id=i["id"],
            entity=i["entity"],
            language=i["language"],
            text=i["text"],
            expect_found=bool(i["expect_found"]),
            context=tuple(i.get("context", ())),
            min_score=i.get("min_score"),
        )
        for i in items
    )


def result_to_wire(r: SampleResult) -> dict[str, Any]:
    return {
        "sample_id": r.sample_id,
        "entity": r.entity,
        "text_hash": r.text_hash,
        "expected": r.expected,
        "found": r.found,
    }


def result_from_wire(d: Mapping[str, Any]) -> SampleResult:
    return SampleResult(
        sample_id=d["sample_id"],
        entity=d["entity"],
        text_hash=d["text_hash"],
        expected=bool(d["expected"]),
        found=bool(d["found"]),
    )


def run_samples(
    engine: Any, samples: Sequence[Sample], *, path: str
) -> tuple[list[SampleResult], list[Finding]]:
    """Run the samples whose entity this engine detects in that language (worker side)."""
    supported: dict[str, set[str]] = {}
    for rec in engine.registry.recognizers:
        supported.setdefault(rec.supported_language, set()).update(rec.supported_entities)
    results: list[SampleResult] = []
    findings: list[Finding] = []
    for s in samples:
        if s.entity not in supported.get(s.language, set()):
            continue  # this file does not define or enable that entity in that language
        hits = engine.analyze(
            text=s.text,
            language=s.language,
            entities=[s.entity],
            context=list(s.context) or None,
            score_threshold=s.min_score,
        )
        found = any(h.entity_type == s.entity for h in hits)
        result = SampleResult(s.id, s.entity, s.text_hash, s.expect_found, found)
        results.append(result)
        if not result.ok:
            what = "is no longer detected" if s.expect_found else "is now detected (must be absent)"
            findings.append(
                Finding(
                    code=CODE_REGRESSION,
                    severity=Severity.ERROR,
                    path=path,
                    message=f"detection regression: sample {s.id!r} ({s.entity}, {s.language}) "
                    f"{what}",
                    hint="fix the recognizer, or update the sample in samples.yaml if the "
                    "change is intended",
                )
            )
    return results, findings
