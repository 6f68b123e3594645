"""Worker side of the NLP engine format: Presidio's own checks, without loading a model.

`NlpEngineProvider(conf_file=...)` reads the file and validates nothing until `create_engine`,
which loads (or downloads) the models. We run what it would check first, offline: the structure
(`ConfigurationValidator.validate_nlp_configuration`), the engine name, and the NER settings
(`NerModelConfiguration.from_dict`, pydantic), and report the effective NER settings with
Presidio's defaults filled in, so a removed section shows in the diff as what Presidio then uses.
"""

from __future__ import annotations

from typing import Any

from config_audit.model import ConfigFormat, Finding, RecognizerSet, Severity
from config_audit.recognizers.nlp import NO_NER_CONFIG, PREFIX, ner_settings

CODE_NLP_ENGINE = "CA208"


def _engine_classes() -> dict[str, Any]:
    from presidio_analyzer.nlp_engine import (
        NoOpNlpEngine,
        SlimSpacyNlpEngine,
        SpacyNlpEngine,
        StanzaNlpEngine,
        TransformersNlpEngine,
    )

    engines = (SpacyNlpEngine, StanzaNlpEngine, TransformersNlpEngine, SlimSpacyNlpEngine)
    return {e.engine_name: e for e in (*engines, NoOpNlpEngine)}


def check_nlp(conf: Any, *, path: str) -> tuple[list[Finding], RecognizerSet]:
    """Findings and the effective settings of one NLP configuration; raises what Presidio
    raises on a configuration it rejects (the caller maps it to CA202)."""
    from presidio_analyzer.input_validation import ConfigurationValidator
    from presidio_analyzer.nlp_engine import NerModelConfiguration

    ConfigurationValidator.validate_nlp_configuration(conf)
    findings: list[Finding] = []
    name = conf.get("nlp_engine_name")
    engines = _engine_classes()
    if name not in engines:
        raise ValueError(
            f"NLP engine '{name}' is not available. Valid names: {sorted(engines)} (case-sensitive)"
        )
    available = bool(engines[name].is_available)
    findings.append(
        Finding(
            CODE_NLP_ENGINE,
            Severity.INFO,
            f"NLP engine {name}: models are not loaded during validation (offline)"
            + ("" if available else f"; the '{name}' engine's packages are not installed here"),
            path=path,
            hint="validation checks the configuration, never downloads a model",
        )
    )
    settings = [(f"{PREFIX}.nlp_engine_name", repr(name))]
    settings += [
        (f"{PREFIX}.models.{m['lang_code']}", repr(m["model_name"])) for m in conf["models"]
    ]
    if "generic_tokenizer" in conf:
        settings.append((f"{PREFIX}.generic_tokenizer", repr(conf["generic_tokenizer"])))
    if name not in NO_NER_CONFIG:
        ner = NerModelConfiguration.from_dict(conf.get("ner_model_configuration") or {})
        settings += ner_settings(ner.model_dump(), f"{PREFIX}.ner_model_configuration")
    languages = tuple(sorted({str(m["lang_code"]) for m in conf["models"]}))
    effective = RecognizerSet(
        path=path,
        format=ConfigFormat.NLP,
        languages=languages,
        recognizers=(),
        settings=tuple(sorted(settings)),
    )
    return findings, effective
