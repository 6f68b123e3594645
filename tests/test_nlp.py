"""The NLP engine configuration as a fourth format: detect, lint, validate offline, diff."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config_audit.audit.check import check_bytes, compare_versions
from config_audit.model import ConfigFormat, Impact, Severity
from config_audit.validate import Validator

SHIPPED = Path(__import__("presidio_analyzer").__file__).parent / "conf"
NLP_FILES = [
    "default.yaml",
    "spacy.yaml",
    "spacy_multilingual.yaml",
    "stanza.yaml",
    "stanza_multilingual.yaml",
    "transformers.yaml",
    "slim_nlp.yaml",
    "no_op.yaml",
]

BASE = b"""nlp_engine_name: spacy
models:
  - {lang_code: en, model_name: en_core_web_lg}
  - {lang_code: de, model_name: de_core_news_md}
ner_model_configuration:
  model_to_presidio_entity_mapping: {PER: PERSON, LOC: LOCATION, GPE: LOCATION, ORG: ORGANIZATION}
  labels_to_ignore: [CARDINAL]
  low_confidence_score_multiplier: 0.4
"""


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator() as v:
        yield v


@pytest.mark.parametrize("name", NLP_FILES)
def test_shipped_nlp_files_validate_clean(name: str, validator: Validator) -> None:
    checked = check_bytes((SHIPPED / name).read_bytes(), path=name, validator=validator)
    assert checked.report.format is ConfigFormat.NLP
    assert all(f.severity is Severity.INFO for f in checked.report.findings), checked.report
    assert checked.report.effective is not None


def test_presidio_rejections_are_errors(validator: Validator) -> None:
    bad_engine = BASE.replace(b"spacy", b"spaCy", 1)
    rejected = check_bytes(bad_engine, path="n.yaml", validator=validator).report
    assert not rejected.valid and "CA202" in {f.code for f in rejected.findings}
    bad_score = BASE + b"  default_score: 1.5\n"
    assert not check_bytes(bad_score, path="n.yaml", validator=validator).report.valid


@pytest.mark.parametrize(
    ("edit", "code", "severity"),
    [
        # Settings at the wrong level are ignored silently by NlpEngineProvider.
        (b"labels_to_ignore: [PERSON]\n", "CA101", Severity.WARNING),
        (b"model_to_presidio_entity_mapping: {EMP: EMPLOYEE}\n", "CA101", Severity.ERROR),
        (b"supported_languages: [en]\n", "CA101", Severity.WARNING),
    ],
)
def test_misplaced_settings(edit: bytes, code: str, severity: Severity) -> None:
    report = check_bytes(BASE + edit, path="n.yaml").report
    assert (code, severity) in {(f.code, f.severity) for f in report.findings}, report.findings


def test_settings_inside_a_model_entry_and_strings_for_lists() -> None:
    inside = BASE.replace(
        b"{lang_code: de, model_name: de_core_news_md}",
        b"{lang_code: de, model_name: de_core_news_md, labels_to_ignore: [ORG]}",
    )
    [finding] = [f for f in check_bytes(inside, path="n.yaml").report.findings]
    assert finding.code == "CA101" and "inside a model entry" in finding.message
    string = BASE.replace(b"labels_to_ignore: [CARDINAL]", b"labels_to_ignore: CARDINAL")
    assert "CA103" in {f.code for f in check_bytes(string, path="n.yaml").report.findings}


def test_ner_config_on_an_engine_that_ignores_it() -> None:
    slim = BASE.replace(b"nlp_engine_name: spacy", b"nlp_engine_name: slim")
    messages = [f.message for f in check_bytes(slim, path="n.yaml").report.findings]
    assert any("ignored by the 'slim' engine" in m for m in messages)


def test_semantic_diff_of_nlp_changes(validator: Validator) -> None:
    new = (
        BASE.replace(b"PER: PERSON, ", b"")
        .replace(b"GPE: LOCATION", b"GPE: ORGANIZATION")
        .replace(b"[CARDINAL]", b"[CARDINAL, LOC]")
        .replace(b"0.4", b"0.2")
        .replace(b"  - {lang_code: de, model_name: de_core_news_md}\n", b"")
    )
    before = check_bytes(BASE, path="n.yaml", validator=validator)
    after = check_bytes(new, path="n.yaml", validator=validator)
    changes, problems = compare_versions(before, after)
    assert not problems
    kinds = {(c.kind, c.impact) for c in changes}
    assert {
        ("nlp.mapping_removed", Impact.WEAKENS),
        ("nlp.mapping_retargeted", Impact.WEAKENS),
        ("nlp.label_ignored", Impact.WEAKENS),
        ("nlp.model_removed", Impact.WEAKENS),
        ("engine.setting_changed", Impact.WEAKENS),  # low_confidence_score_multiplier lowered
    } <= kinds, kinds
    [ignored] = [c for c in changes if c.kind == "nlp.label_ignored"]
    assert "LOCATION" in ignored.entities  # the entity the label fed
    [removed] = [c for c in changes if c.kind == "nlp.mapping_removed"]
    assert removed.entities == ("PERSON",)
    same = compare_versions(before, check_bytes(BASE, path="n.yaml", validator=validator))[0]
    assert same == []
