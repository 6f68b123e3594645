"""Validation by really loading into Presidio: one fixture per load finding class, real Presidio."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from config_audit.audit.check import check_bytes
from config_audit.model import ConfigFormat, Severity
from config_audit.validate import LoadResult, Validator, presidio_version

FIXTURES = Path(__file__).parent / "fixtures" / "validate"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def validator() -> Iterator[Validator]:
    with Validator(samples_path=ROOT / "recognizers" / "samples.yaml") as v:
        yield v


def load(validator: Validator, name: str) -> LoadResult:
    fmt = ConfigFormat(name.split("_")[0])
    return validator.load((FIXTURES / name).read_bytes(), path=name, fmt=fmt)


def codes(result: LoadResult) -> set[str]:
    return {f.code for f in result.findings}


@pytest.mark.parametrize(
    ("name", "code", "needle"),
    [
        ("registry_yaml_broken.yaml", "CA201", "line 2"),
        ("registry_supported_countries.yaml", "CA202", "supported_countries: Extra inputs"),
        ("registry_top_level_typo.yaml", "CA202", "global_regex_flag: Extra inputs"),
        ("registry_bad_score.yaml", "CA202", "score should be between 0 and 1"),
        ("registry_all_disabled.yaml", "CA203", "ALL predefined"),
        ("registry_incompatible_flags.yaml", "CA205", "mutually incompatible"),
        ("registry_catastrophic.yaml", "CA301", "catastrophic backtracking"),
        ("adhoc_unknown_key.yaml", "CA202", "unexpected keyword argument 'entity'"),
        ("adhoc_missing_entity.yaml", "CA202", "recognizer #2 (NoEntity)"),
        ("adhoc_backspace.yaml", "CA303", "backspace"),
        ("adhoc_empty_regex.yaml", "CA304", "empty regex"),
        ("analyzer_noop_with_spacy.yaml", "CA202", "NoOpNlpEngine cannot be used"),
        ("analyzer_unknown_key.yaml", "CA202", "default_score_treshold"),
    ],
)
def test_error_findings(validator: Validator, name: str, code: str, needle: str) -> None:
    result = load(validator, name)
    assert not result.valid
    matching = [f for f in result.findings if f.code == code]
    assert matching, result.findings
    finding = matching[0]
    assert finding.severity is Severity.ERROR
    assert needle in finding.message
    assert finding.path == name and finding.hint
    assert "Traceback" not in finding.message and "/tmp/" not in finding.message


def test_messages_never_carry_input_values(validator: Validator) -> None:
    finding = load(validator, "registry_bad_score.yaml").findings[0]
    assert "EMP-" not in finding.message and "1.5" not in finding.message


def test_recognizer_named_in_findings(validator: Validator) -> None:
    assert load(validator, "adhoc_unknown_key.yaml").findings[0].recognizer == "Siret"
    flags = load(validator, "registry_incompatible_flags.yaml").findings[0]
    assert flags.recognizer == "EmployeeId" and "'emp'" in flags.message
    assert load(validator, "adhoc_backspace.yaml").findings[0].recognizer == "Employee"


def test_dropped_language_log_lines_are_folded(validator: Validator) -> None:
    # Presidio logs one WARNING per dropped instance; lint's CA115 already names the language
    # (an error here: the custom FrenchSiren is left with no language at all), so no CA207.
    result = load(validator, "registry_language_dropped.yaml")
    assert result.valid and result.recognizer_count == 1
    assert "CA207" not in codes(result)
    checked = check_bytes(
        (FIXTURES / "registry_language_dropped.yaml").read_bytes(), path="x.yaml", validator=validator
    )
    [ca115] = [f for f in checked.report.findings if f.code == "CA115"]
    assert ca115.severity is Severity.ERROR and ca115.recognizer == "FrenchSiren"


def test_country_code_checked_against_the_class(validator: Validator) -> None:
    data = (
        b"supported_languages: [en]\nrecognizers:\n"
        b"  - {name: UsSsnRecognizer, type: predefined, country_code: us}\n"
        b"  - {name: UsBankRecognizer, type: predefined, country_code: uk}\n"
        b"  - {name: EmailRecognizer, type: predefined, country_code: us}\n"
    )
    result = validator.load(data, path="cc.yaml", fmt=ConfigFormat.REGISTRY)
    found = sorted((f.recognizer, f.severity) for f in result.findings if f.code == "CA214")
    assert found == [("EmailRecognizer", Severity.WARNING), ("UsBankRecognizer", Severity.WARNING)]


def test_spacy_recognizer_noted_and_dropped(validator: Validator) -> None:
    result = load(validator, "registry_spacy_only.yaml")
    assert result.valid
    [info] = [f for f in result.findings if f.code == "CA204"]
    assert info.severity is Severity.INFO and info.recognizer == "SpacyRecognizer"
    assert result.effective is not None
    assert {r.class_name for r in result.effective.recognizers} == {
        "SpacyRecognizer",
        "EmailRecognizer",
    }


def test_not_utf8(validator: Validator) -> None:
    result = validator.load(
        b"recognizers:\n  - name: caf\xe9\n", path="x.yaml", fmt=ConfigFormat.ADHOC
    )
    assert codes(result) == {"CA201"} and "UTF-8" in result.findings[0].message


def test_empty_file(validator: Validator) -> None:
    result = validator.load(b"", path="empty.yaml", fmt=ConfigFormat.REGISTRY)
    assert not result.valid


def test_analyzer_inline_registry(validator: Validator) -> None:
    result = load(validator, "analyzer_inline.yaml")
    assert result.valid, result.findings
    assert codes(result) == {"CA208"}  # spaCy engine declared, not loaded offline
    eff = result.effective
    assert eff is not None and eff.format is ConfigFormat.ANALYZER
    assert eff.languages == ("en",)
    assert dict(eff.settings)["default_score_threshold"] == "0.4"
    assert dict(eff.settings)["nlp_engine"] == "spacy"
    assert dict(eff.settings)["context_aware_enhancer.context_similarity_factor"] == "0.35"
    assert {r.name for r in eff.recognizers} == {"EmailRecognizer", "EmployeeId"}


def test_northwind_registry_is_clean_with_effective_view(validator: Validator) -> None:
    data = (ROOT / "recognizers" / "registry.yaml").read_bytes()
    result = validator.load(data, path="recognizers/registry.yaml", fmt=ConfigFormat.REGISTRY)
    assert result.findings == ()
    assert result.presidio_version == presidio_version() != ""
    eff = result.effective
    assert eff is not None
    assert eff.languages == ("en", "de") and eff.global_regex_flags == 26
    index = eff.by_key()
    assert result.recognizer_count == len(eff.recognizers) == 15
    phone = index[("PhoneRecognizer", "de", 1)]
    assert phone.kind == "predefined" and "supported_regions" in dict(phone.attributes)
    emp = index[("NorthwindEmployeeIdRecognizer", "en", 1)]
    assert emp.kind == "custom" and emp.class_name == "PatternRecognizer"
    assert [(p.name, p.regex, p.score) for p in emp.patterns] == [
        ("nw_employee_id", r"\bNW-EMP-\d{6}\b", 0.9)
    ]
    assert emp.entities == ("NW_EMPLOYEE_ID",) and emp.global_regex_flags == 26
    nat_de = index[("NorthwindNationalIdRecognizer", "de", 1)]
    assert "personalausweis" in nat_de.context
    card = index[("CreditCardRecognizer", "en", 1)]
    assert card.patterns and card.context  # code defaults are visible
    assert ("UsPassportRecognizer", "de") not in index
    assert {s.sample_id for s in result.samples} >= {"employee-id", "national-id-de", "iban-de"}
    assert all(s.ok for s in result.samples)
    assert all(len(s.text_hash) == 64 for s in result.samples)


def test_northwind_adhoc_is_clean(validator: Validator) -> None:
    data = (ROOT / "recognizers" / "custom.yaml").read_bytes()
    result = validator.load(data, path="recognizers/custom.yaml", fmt=ConfigFormat.ADHOC)
    assert result.findings == ()
    eff = result.effective
    assert eff is not None
    title = eff.by_key()[("NorthwindTitleRecognizer", "en", 1)]
    assert title.patterns == ()  # the generated deny_list pattern is not a declared pattern
    assert title.deny_list[:2] == ("Dr.", "Prof.") and title.deny_list_score == 0.6
    assert {s.sample_id for s in result.samples} == {
        "title-dr",
        "title-absent",
        "mrn",
        "mrn-too-short",
    }


def test_detection_regression(validator: Validator) -> None:
    data = (
        (ROOT / "recognizers" / "registry.yaml")
        .read_bytes()
        .replace(rb"\bNW-EMP-\d{6}\b", rb"\bNW-EMP-\d{7}\b")
    )
    result = validator.load(data, path="registry.yaml", fmt=ConfigFormat.REGISTRY)
    failed = [f for f in result.findings if f.code == "CA401"]
    assert {f.severity for f in failed} == {Severity.ERROR}
    assert any("'employee-id'" in f.message for f in failed)
    assert all("Badge" not in f.message for f in failed)  # sample text never leaves the worker
    assert not next(s for s in result.samples if s.sample_id == "employee-id").ok


def test_nan_score_round_trips(validator: Validator) -> None:
    data = (
        b"recognizers:\n  - name: N\n    supported_entity: N\n    patterns:\n"
        b"      - {name: n, regex: 'N-\\d{3}', score: .nan}\n"
    )
    result = validator.load(data, path="nan.yaml", fmt=ConfigFormat.ADHOC)
    assert result.effective is not None  # Presidio's ad-hoc loader accepts NaN (lint flags it)
    assert math.isnan(result.effective.recognizers[0].patterns[0].score)


def test_one_worker_serves_many_files(validator: Validator) -> None:
    pid = validator.worker_pid
    for _ in range(3):
        load(validator, "registry_spacy_only.yaml")
    assert validator.worker_pid == pid
