"""Load one file with the loader Presidio itself uses for its format (worker side).

Offline and model-free: the no_op NLP engine; spaCy-family recognizers are dropped (noted), and an
analyzer file's NLP section is validated by Presidio but never loaded. After loading: a zero
recognizer check (Presidio would load all defaults), one analyze per language (compiles every
regex with the real flags), regex safety for custom patterns, and the detection samples.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from config_audit.model import ConfigFormat, Finding, RecognizerSet, SampleResult, Severity
from config_audit.validate import (
    calibrate,
    effective,
    errors_map,
    nlp_check,
    regex_safety,
    samples,
)

logger = logging.getLogger(__name__)
_FastLoader = getattr(yaml, "CSafeLoader", None)  # libyaml, when PyYAML was built with it

CODE_YAML = "CA201"
CODE_ZERO = "CA203"
CODE_NLP_DROPPED = "CA204"
CODE_ANALYZE = "CA205"
CODE_NO_RECOGNIZER_FOR_LANGUAGE = "CA206"
CODE_PRESIDIO_WARNING = calibrate.CODE_PRESIDIO_WARNING
CODE_NLP_ENGINE = "CA208"
CODE_REGEX_TIMEOUT = "CA305"

PROBE_TEXT = (
    "Contact John Smith at john.smith@example.co.uk or +1 212-555-0100, card 4111 1111 1111 "
    "1111, IBAN DE89 3704 0044 0532 0130 00, IP 192.168.0.1, date 2024-01-31, SSN 078-05-1120, "
    "https://example.org/a?b=1, NW-EMP-123456, ACCT-1234-5678."
)


@dataclass
class Outcome:
    path: str
    findings: list[Finding] = field(default_factory=list)
    effective: RecognizerSet | None = None
    recognizer_count: int = 0
    samples: list[SampleResult] = field(default_factory=list)

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        recognizer: str | None = None,
        hint: str = "",
    ) -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                message=message[:800],
                path=self.path,
                recognizer=recognizer,
                hint=hint,
            )
        )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Presidio prints to stdout on some errors; keep it off every channel we own."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield


def _no_op_engine(languages: Sequence[str]) -> Any:
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    models = [{"lang_code": lang, "model_name": "no_op"} for lang in dict.fromkeys(languages)]
    return NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "no_op",
            "models": models or [{"lang_code": "en", "model_name": "no_op"}],
        }
    ).create_engine()


@dataclass
class _Loaded:
    registry: Any
    languages: list[str]
    threshold: float = 0.0
    enhancer: Any = None
    settings: tuple[tuple[str, str], ...] = ()


def _load_adhoc(tmp: str) -> _Loaded:
    from presidio_analyzer import RecognizerRegistry

    registry: Any = RecognizerRegistry()
    try:
        registry.add_recognizers_from_yaml(tmp)
    except Exception as exc:
        exc.add_note(f"config-audit: entry index {len(registry.recognizers)}")
        raise
    languages = sorted({r.supported_language for r in registry.recognizers}) or ["en"]
    registry.supported_languages = languages
    return _Loaded(registry, languages)


def _load_registry(tmp: str) -> _Loaded:
    from presidio_analyzer.recognizer_registry import RecognizerRegistryProvider

    # No nlp_engine: the engine is chosen at deployment; with one, Presidio would add or check
    # the NLP recognizer for it (see PRESIDIO_NOTES 1.b).
    registry = RecognizerRegistryProvider(conf_file=tmp).create_recognizer_registry()
    return _Loaded(registry, list(registry.supported_languages))


def _load_analyzer(tmp: str, out: Outcome) -> _Loaded:
    from presidio_analyzer import AnalyzerEngineProvider
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpEngineProvider

    provider = AnalyzerEngineProvider(analyzer_engine_conf_file=tmp)
    conf = provider.configuration
    nlp_conf = conf.get("nlp_configuration")
    declared = nlp_conf.get("nlp_engine_name") if isinstance(nlp_conf, dict) else None
    if nlp_conf is not None:
        # Presidio's own checks of the section, without loading any model (no download).
        nlp_provider = NlpEngineProvider(nlp_configuration=nlp_conf)
        if declared not in nlp_provider.nlp_engines:
            raise ValueError(
                f"NLP engine '{declared}' is not available. "
                "Make sure you have all required packages installed"
            )
        if nlp_conf.get("ner_model_configuration"):
            NerModelConfiguration.from_dict(nlp_conf["ner_model_configuration"])
    if declared != "no_op":
        out.add(
            CODE_NLP_ENGINE,
            Severity.INFO,
            f"NLP engine {declared or '(default: spacy)'} is not loaded during validation "
            "(offline, model-free no_op engine instead); NER recognizers are not exercised",
        )
    languages = list(conf.get("supported_languages", ["en"]))
    noop: Any = _no_op_engine(languages) if declared == "no_op" else None
    registry = provider._load_recognizer_registry(supported_languages=languages, nlp_engine=noop)
    enhancer = provider._load_context_aware_enhancer()
    threshold = conf.get("default_score_threshold", 0)
    settings = [("default_score_threshold", repr(threshold)), ("nlp_engine", str(declared))]
    if enhancer is not None:
        settings += [
            (f"context_aware_enhancer.{k}", repr(v))
            for k, v in sorted(vars(enhancer).items())
            if isinstance(v, (int, float, str, bool))
        ]
    return _Loaded(registry, languages, threshold, enhancer, tuple(settings))


def load_file(
    tmp: str,
    data: bytes,
    *,
    fmt: ConfigFormat,
    path: str,
    capture: Any,
    probe_timeout_s: float,
    sample_list: Sequence[samples.Sample],
) -> Outcome:
    """Load, analyze, check regexes and run samples; every problem becomes a finding."""
    out = Outcome(path)
    parsed = _pre_parse(data, out, fast=fmt is not ConfigFormat.ANALYZER)
    if out.findings:
        return out
    if fmt is ConfigFormat.NLP:
        return _load_nlp(parsed, out, fmt=fmt, path=path, tmp=tmp)
    try:
        with _quiet():
            if fmt is ConfigFormat.ADHOC:
                loaded = _load_adhoc(tmp)
            elif fmt is ConfigFormat.REGISTRY:
                loaded = _load_registry(tmp)
            else:
                loaded = _load_analyzer(tmp, out)
    except MemoryError:
        raise
    except Exception as exc:
        out.findings.append(errors_map.describe(exc, fmt=fmt, path=path, parsed=parsed, tmp=tmp))
        return out
    _presidio_warnings(capture, out, fmt)
    out.findings.extend(calibrate.country_codes(parsed, fmt, path=path))
    _check_and_analyze(loaded, fmt, out, capture, probe_timeout_s, sample_list)
    return out


def _load_nlp(parsed: Any, out: Outcome, *, fmt: ConfigFormat, path: str, tmp: str) -> Outcome:
    try:
        with _quiet():
            findings, out.effective = nlp_check.check_nlp(parsed, path=path)
    except MemoryError:
        raise
    except Exception as exc:
        out.findings.append(errors_map.describe(exc, fmt=fmt, path=path, parsed=parsed, tmp=tmp))
        return out
    out.findings.extend(findings)
    return out


def _pre_parse(data: bytes, out: Outcome, *, fast: bool) -> Any:
    # Presidio reads with the locale encoding and, for analyzer files, falls back to its defaults
    # when the YAML does not parse: check first, so a broken file is never judged by the defaults.
    # Recognizer and registry files fail loudly in Presidio's own (pure-Python) parse, so libyaml
    # may vouch for them here; only its rejections are re-checked with Presidio's parser.
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out.add(
            CODE_YAML,
            Severity.ERROR,
            f"file is not valid UTF-8 (byte {exc.start})",
            hint="save the file as UTF-8",
        )
        return None
    if fast and _FastLoader is not None:
        try:
            return yaml.load(text, Loader=_FastLoader)  # a safe loader (libyaml's)
        except yaml.YAMLError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        out.add(
            CODE_YAML,
            Severity.ERROR,
            f"YAML does not parse{where}: {problem}",
            hint="Presidio would fail to load this file (or, for an analyzer file, silently "
            "use its defaults)",
        )
        return None


def _presidio_warnings(capture: Any, out: Outcome, fmt: ConfigFormat) -> None:
    out.findings.extend(calibrate.fold_warnings(capture.take(), path=out.path, fmt=fmt))


def _check_and_analyze(
    loaded: _Loaded,
    fmt: ConfigFormat,
    out: Outcome,
    capture: Any,
    probe_timeout_s: float,
    sample_list: Sequence[samples.Sample],
) -> None:
    from presidio_analyzer import AnalyzerEngine, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    registry = loaded.registry
    out.effective = effective.from_registry(
        registry.recognizers,
        path=out.path,
        fmt=fmt,
        languages=loaded.languages,
        global_regex_flags=registry.global_regex_flags,
        pattern_class=PatternRecognizer,
        settings=loaded.settings,
    )
    out.recognizer_count = len(registry.recognizers)
    if not registry.recognizers:
        out.add(
            CODE_ZERO,
            Severity.ERROR,
            "no recognizers are loaded: AnalyzerEngine would then load ALL predefined "
            "recognizers instead (the file does not do what it says)",
            hint="enable at least one recognizer and check supported_languages",
        )
        return
    nlp = [r for r in registry.recognizers if isinstance(r, SpacyRecognizer)]
    for name in sorted({f"{type(r).__name__} [{r.supported_language}]" for r in nlp}):
        out.add(
            CODE_NLP_DROPPED,
            Severity.INFO,
            f"{name} needs an NLP model and is not exercised by offline validation",
            recognizer=name.split(" ")[0],
        )
    registry.recognizers = [r for r in registry.recognizers if not isinstance(r, SpacyRecognizer)]
    _regex_safety(registry.recognizers, PatternRecognizer, out, probe_timeout_s)
    if not registry.recognizers:
        return  # only NLP recognizers: nothing to analyze offline
    with _quiet():
        engine = AnalyzerEngine(
            registry=registry,
            nlp_engine=_no_op_engine(loaded.languages),
            supported_languages=loaded.languages,
            default_score_threshold=loaded.threshold,
            context_aware_enhancer=loaded.enhancer,
        )
    healthy: list[str] = []
    for lang in loaded.languages:
        if not any(r.supported_language == lang for r in registry.recognizers):
            out.add(
                CODE_NO_RECOGNIZER_FOR_LANGUAGE,
                Severity.WARNING,
                f"language {lang!r} is supported but has no recognizer: every request in "
                "that language raises 'No matching recognizers'",
                hint="add recognizers for the language or remove it from supported_languages",
            )
            continue
        try:
            with _quiet():
                engine.analyze(text=PROBE_TEXT, language=lang)
            healthy.append(lang)
        except MemoryError:
            raise
        except Exception as exc:
            _locate_analyze_failure(registry.recognizers, lang, exc, out)
    _timeouts(capture, out)
    if sample_list and healthy:
        runnable = [s for s in sample_list if s.language in healthy]
        with _quiet():
            results, findings = samples.run_samples(engine, runnable, path=out.path)
        out.samples.extend(results)
        out.findings.extend(findings)
        _timeouts(capture, out)


def _locate_analyze_failure(
    recognizers: Sequence[Any], lang: str, exc: Exception, out: Outcome
) -> None:
    import regex

    culprits: list[tuple[str | None, str | None, BaseException]] = []
    for rec in recognizers:
        if rec.supported_language != lang:
            continue
        flags = getattr(rec, "global_regex_flags", None) or 0
        for pattern in getattr(rec, "patterns", None) or []:
            try:
                regex.compile(pattern.regex, flags)
            except Exception as compile_error:
                culprits.append((rec.name, pattern.name, compile_error))
    for rec_name, pattern_name, err in culprits or [(None, None, exc)]:
        where = f"pattern {pattern_name!r}: " if pattern_name else ""
        out.add(
            CODE_ANALYZE,
            Severity.ERROR,
            f"Presidio fails at analyze time ({lang}): {where}{errors_map.clean(err)}",
            recognizer=rec_name,
            hint="check global_regex_flags (ASCII 256, LOCALE 4 and UNICODE 32 exclude each "
            "other) and the regex syntax",
        )


def _timeouts(capture: Any, out: Outcome) -> None:
    for message in dict.fromkeys(capture.take()):
        if "timed out" in message:
            out.add(
                CODE_REGEX_TIMEOUT,
                Severity.ERROR,
                f"{message} (Presidio skips the pattern: fail-open)",
                hint="the pattern backtracks catastrophically on this input",
            )


def _regex_safety(
    recognizers: Sequence[Any], pattern_class: Any, out: Outcome, probe_timeout_s: float
) -> None:
    seen: set[tuple[str, str, int]] = set()
    for rec in recognizers:
        if type(rec) is not pattern_class:
            continue  # predefined patterns are Presidio's own
        flags = int(rec.global_regex_flags or 0)
        patterns = list(rec.patterns or [])
        if rec.deny_list and patterns and patterns[-1].name == "deny_list":
            patterns = patterns[:-1]
        for pattern in patterns:
            key = (rec.name, pattern.regex, flags)
            if key in seen:
                continue  # one entry, several languages: check once
            seen.add(key)
            for issue in regex_safety.check_pattern_once(pattern.regex, flags, probe_timeout_s):
                out.add(
                    issue.code,
                    issue.severity,
                    f"pattern {pattern.name!r}: {issue.message}",
                    recognizer=rec.name,
                    hint=issue.hint,
                )
