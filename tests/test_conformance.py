"""Conformance suite: re-run on every Presidio upgrade (the pin in pyproject.toml).

On a candidate release, without installing it here: make an environment that has it (a venv,
or the production image's interpreter), then

    CONFIG_AUDIT_CONFORMANCE_PYTHON=/path/to/its/bin/python .venv/bin/pytest tests/test_conformance.py

Both Presidio's own loader (the reference) and our worker then run in that interpreter. When it
passes (snapshot reviewed), add the release to validate/release.py VERIFIED_RELEASES and to the
presidio-analyzer range in pyproject.toml (docs/presidio.md).

Every bad input we know of (lint fixtures, validation fixtures, the real-world corpus) goes
through the whole pipeline with the detected format, and through Presidio's own loader. We are
never less strict than Presidio, never crash, and the findings per corpus file match a snapshot
(tests/fixtures/conformance-snapshot.json) so a behaviour change in Presidio shows up as a diff.
Regenerate the snapshot with UPDATE_SNAPSHOT=1 after reviewing the change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config_audit.audit.check import check_bytes
from config_audit.recognizers.parse import UnparseableFile, parse_bytes
from config_audit.settings.presidio import PresidioSettings
from config_audit.validate import Validator
from tests.test_validate_corpus import DIRECT

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(
    [
        *FIXTURES.glob("corpus/*.y*ml"),
        *FIXTURES.glob("lint/*.yaml"),
        *FIXTURES.glob("validate/*.yaml"),
    ]
)
SNAPSHOT = FIXTURES / "conformance-snapshot.json"
# Inputs built to exhaust memory or time: Presidio itself would die on them (that is the point),
# so only our bounded pipeline runs them.
HOSTILE = ("memory_bomb", "catastrophic", "billion_laughs")
OTHER_PYTHON = os.environ.get("CONFIG_AUDIT_CONFORMANCE_PYTHON")  # a candidate release's
PYTHON = OTHER_PYTHON or sys.executable


def needs_a_model(path: Path) -> bool:
    """An analyzer file naming a spaCy/stanza engine: Presidio's own loader would download the
    model (impossible offline), so it cannot serve as the reference; we validate with no_op."""
    text = path.read_text(errors="replace")
    return "nlp_engine_name:" in text and "nlp_engine_name: no_op" not in text


def detected(path: Path) -> str | None:
    try:
        return parse_bytes(path.read_bytes(), path=path.name).format.value
    except UnparseableFile:
        return None


@pytest.fixture(scope="module")
def presidio_verdicts() -> dict[str, str]:
    formats = {
        str(p): detected(p) or "registry"
        for p in FILES
        if not any(h in p.name for h in HOSTILE) and not needs_a_model(p)
    }
    out = subprocess.run(
        [PYTHON, "-c", DIRECT, json.dumps(formats)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    verdicts: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return verdicts


@pytest.fixture(scope="module")
def ours() -> Iterator[dict[str, list[str]]]:
    results: dict[str, list[str]] = {}
    presidio = PresidioSettings(python=Path(OTHER_PYTHON)) if OTHER_PYTHON else None
    with Validator(presidio=presidio) as validator:
        for path in FILES:
            report = check_bytes(path.read_bytes(), path=path.name, validator=validator).report
            # CA220 only says the release is not (yet) a verified one: the run is to verify it
            codes = {f"{f.severity.value}:{f.code}" for f in report.findings} - {"info:CA220"}
            results[str(path)] = sorted(codes)
    yield results


def test_never_less_strict_than_presidio(
    presidio_verdicts: dict[str, str], ours: dict[str, list[str]]
) -> None:
    lenient = [
        Path(p).name
        for p, verdict in presidio_verdicts.items()
        if verdict != "ok" and not any(c.startswith("error:") for c in ours[p])
    ]
    assert lenient == []


def test_no_internal_errors_or_bounds_hit(ours: dict[str, list[str]]) -> None:
    crashed = {
        Path(p).name: c
        for p, c in ours.items()
        if {"error:CA210", "error:CA212", "error:CA213"} & set(c)
    }
    assert crashed == {}


def test_corpus_findings_match_the_snapshot(ours: dict[str, list[str]]) -> None:
    corpus = {Path(p).name: codes for p, codes in ours.items() if "/corpus/" in p}
    if os.environ.get("UPDATE_SNAPSHOT"):  # after reviewing a Presidio upgrade's effect
        SNAPSHOT.write_text(json.dumps(corpus, indent=2, sort_keys=True) + "\n")
        pytest.skip("snapshot rewritten; review `git diff` and commit it")
    assert SNAPSHOT.exists(), "snapshot missing: run with UPDATE_SNAPSHOT=1 and review it"
    assert corpus == json.loads(SNAPSHOT.read_text())


def test_cli_on_the_corpus_never_shows_a_traceback(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "config-audit"),
            "validate",
            "--format",
            "json",
            str(FIXTURES / "corpus"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "CONFIG_AUDIT_CRASH_DIR": str(tmp_path)},
    )
    assert out.returncode == 1  # some corpus files are invalid
    assert "Traceback" not in out.stderr and not list(tmp_path.glob("config-audit-crash-*"))
    data = json.loads(out.stdout)
    assert data["summary"]["files"] == len(list((FIXTURES / "corpus").glob("*.y*ml")))
