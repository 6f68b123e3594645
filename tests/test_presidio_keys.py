"""Unknown and ineffective keys at every depth, from what Presidio itself reads (issue 12,
deliverable 3): the worker derives the keys from Presidio's pydantic models and constructor
signatures, caches them per Presidio version, and lint follows them; the shipped snapshot (the
hook's fast path without a worker) must equal what the worker derives, so drift is caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config_audit.audit.check import check_bytes
from config_audit.model import ConfigFormat
from config_audit.recognizers.presidio_keys import SNAPSHOT, KeySchema, snapshot
from config_audit.validate import Validator

REGISTRY = ConfigFormat.REGISTRY
SOURCE = b"supported_languages: [en]\nrecognizers:\n  - name: EmailRecognizer\n"


def test_snapshot_equals_what_the_worker_derives_from_presidio(tmp_path: Path) -> None:
    with Validator(cache_dir=tmp_path) as validator:
        assert validator.key_schema() is None  # never spawns a worker just for the keys
        validator.load(SOURCE, path="r.yaml", fmt=REGISTRY)
        # The worker runs the snapshot's Presidio: trusted without asking (this test is why).
        assert validator.key_schema() == snapshot() and not list(tmp_path.glob("keys-*"))
        derived = validator.key_schema(derive=True)
    [cached] = tmp_path.glob("keys-*.json")
    # Regenerate after a Presidio upgrade: python -c 'from config_audit.validate.presidio_schema
    # import derive; import json; print(json.dumps(derive(), indent=1, sort_keys=True))'
    assert json.loads(cached.read_text()) == json.loads(SNAPSHOT.read_text())
    assert derived == snapshot()


def test_a_later_process_reads_the_cached_keys_without_a_worker(tmp_path: Path) -> None:
    with Validator(cache_dir=tmp_path) as first:
        first.key_schema(derive=True)
    with Validator(cache_dir=tmp_path) as later:
        assert later.key_schema() == snapshot()
        assert later.workers_started == 0


def test_lint_follows_the_keys_the_installed_presidio_reads(tmp_path: Path) -> None:
    """A Presidio release that reads a new entry key (here `min_score`, dropped by 2.2.366) is
    covered without a hand list: the worker's derivation replaces the snapshot."""
    data = b"supported_languages: [en]\nrecognizers:\n  - name: EmailRecognizer\n    min_score: 0.5\n"
    assert "CA101" in {f.code for f in check_bytes(data, path="r.yaml").report.findings}
    wire = json.loads(SNAPSHOT.read_text())
    wire["predefined_entry"] = [*wire["predefined_entry"], "min_score"]
    with Validator(cache_dir=tmp_path) as validator:
        validator.key_schema(derive=True)  # derives and caches
        [entry] = tmp_path.glob("keys-*.json")
    entry.write_text(json.dumps(wire))  # as if the installed Presidio had derived it
    with Validator(cache_dir=tmp_path) as validator:
        checked = check_bytes(data, path="r.yaml", validator=validator)
    assert "CA101" not in {f.code for f in checked.report.findings}, checked.report.findings
    assert checked.linted_with is not None and "min_score" in checked.linted_with.predefined_entry


def test_a_damaged_cache_entry_is_ignored(tmp_path: Path) -> None:
    with Validator(cache_dir=tmp_path) as validator:
        validator.key_schema(derive=True)
        [entry] = tmp_path.glob("keys-*.json")
    entry.write_text("{not json")
    with Validator(cache_dir=tmp_path) as validator:
        assert validator.key_schema() is None
        validator.load(SOURCE + b"\n", path="r.yaml", fmt=REGISTRY)
        assert validator.key_schema() == snapshot()


# One unknown key at each level Presidio reads, in each format: (file, key, code).
LEVELS = [
    ("recognizers:\n  - name: T\n    supported_entity: T\n    deny_list: [a]\n    enity: X\n", "enity", "CA101"),
    ("recognizers:\n  - name: T\n    supported_entity: T\n    patterns:\n      - {name: p, regex: a, score: 0.5, flags: 2}\n", "flags", "CA117"),
    ("supported_languages: [en]\nrecognizer: []\nrecognizers:\n  - name: EmailRecognizer\n", "recognizer", "CA101"),
    ("supported_languages: [en]\nrecognizers:\n  - name: EmailRecognizer\n    enable: false\n", "enable", "CA101"),
    ("supported_languages: [en]\nrecognizers:\n  - name: T\n    supported_entity: T\n    deny_list: [a]\n    supported_languages:\n      - {language: en, contexts: [x]}\n", "contexts", "CA101"),
    ("supported_languages: [en]\ndefault_score_treshold: 0.3\nrecognizer_registry:\n  recognizers:\n    - name: EmailRecognizer\n", "default_score_treshold", "CA101"),
    ("supported_languages: [en]\ncontext_aware_enhancer:\n  context_prefix: 3\nrecognizer_registry:\n  recognizers:\n    - name: EmailRecognizer\n", "context_prefix", "CA101"),
    ("supported_languages: [en]\nrecognizer_registry:\n  global_flags: 26\n  recognizers:\n    - name: EmailRecognizer\n", "global_flags", "CA101"),
    ("supported_languages: [en]\nrecognizer_registry:\n  recognizers:\n    - name: EmailRecognizer\n      enabeld: false\n", "enabeld", "CA101"),
    ("nlp_engine_name: spacy\nmodels:\n  - {lang_code: en, model_name: en_core_web_lg}\nlabels_to_ignore: [O]\n", "labels_to_ignore", "CA101"),
    ("nlp_engine_name: spacy\nmodels:\n  - {lang_code: en, model_name: en_core_web_lg, default_score: 0.6}\n", "default_score", "CA101"),
    ("nlp_engine_name: spacy\nmodels:\n  - {lang_code: en, model_name: en_core_web_lg}\nner_model_configuration:\n  labels_to_ignor: [O]\n", "labels_to_ignor", "CA101"),
    ("supported_languages: [en]\nnlp_configuration:\n  nlp_engine_name: spacy\n  models:\n    - {lang_code: en, model_name: en_core_web_lg, stride: 4}\nrecognizer_registry:\n  recognizers:\n    - name: EmailRecognizer\n", "stride", "CA101"),
]


@pytest.mark.parametrize(("text", "key", "code"), LEVELS, ids=[k for _t, k, _c in LEVELS])
def test_every_level_reports_its_unknown_key_with_its_line(text: str, key: str, code: str) -> None:
    findings = check_bytes(text.encode(), path="x.yaml").report.findings
    [hit] = [f for f in findings if f.code == code and key in f.message]
    line = next(i for i, row in enumerate(text.splitlines(), 1) if key in row)
    assert hit.line == line, hit


def test_keys_come_from_presidio_not_from_a_hand_list() -> None:
    keys = snapshot()
    assert keys.presidio_version == "2.2.366"
    # Constructor signatures: what a predefined class takes, and which entity key.
    assert {"supported_regions", "leniency"} <= keys.classes["PhoneRecognizer"].params
    assert keys.classes["SpacyRecognizer"].accepts("supported_entities")
    assert not keys.classes["SpacyRecognizer"].accepts("supported_entity")
    assert keys.classes["UsSsnRecognizer"].country == "us"
    # pydantic models: the registry rejects unknown top-level keys; entries drop them.
    assert keys.registry_top == {"supported_languages", "global_regex_flags", "recognizers"}
    assert keys.language_item == {"language", "context"}
    assert KeySchema.from_wire(json.loads(SNAPSHOT.read_text())) == keys
