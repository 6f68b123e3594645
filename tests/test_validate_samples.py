"""The samples file format (pure parsing; running them is covered in test_validate_load)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config_audit.errors import UsageError
from config_audit.validate import load_samples, parse_samples

ROOT = Path(__file__).parent.parent


def test_northwind_samples_parse() -> None:
    samples = load_samples(ROOT / "recognizers" / "samples.yaml")
    assert len({s.id for s in samples}) == len(samples) >= 15
    national = next(s for s in samples if s.id == "national-id-context")
    assert national.context == ("national", "id") and national.min_score == 0.5
    assert any(not s.expect_found for s in samples)
    assert all(len(s.text_hash) == 64 for s in samples)


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ("[]", "top level"),
        ("samples: [{id: a, entity: E, text: t, colour: red}]", "unknown key"),
        ("samples: [{id: a, entity: E}]", "'text'"),
        ("samples: [{id: a, entity: E, text: t}, {id: a, entity: E, text: u}]", "duplicate id"),
        ("samples: [{id: a, entity: E, text: t, expect: maybe}]", "found or absent"),
        ("samples: [{id: a, entity: E, text: t, language: english}]", "language code"),
        ("samples: [{id: a, entity: E, text: t, context: word}]", "list of words"),
        ("samples: [{id: a, entity: E, text: t, min_score: 2}]", "min_score"),
        ("samples: [{id: a, entity: E, text: t, min_score: true}]", "min_score"),
    ],
)
def test_bad_samples_fail_closed(doc: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_samples(yaml.safe_load(doc))


def test_missing_samples_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_samples(tmp_path / "nope.yaml")
