"""Worker side: which keys Presidio reads at every level of its four formats, read from
Presidio itself (its pydantic models, its constructors' signatures, the source of the two
hand-written readers), so a new Presidio release is covered without a hand list.

Runs inside the validation worker, which may be a foreign interpreter running a bundle: only
the standard library, Presidio and its dependencies (pydantic) are imported here. The result
is plain JSON (`derive()`); the parent turns it into a `KeySchema` (recognizers/presidio_keys)
and caches it per Presidio version and interpreter.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# What the parent's snapshot and cache entries say they hold; bump when the shape changes.
SCHEMA_FORMAT = 2


def derive() -> dict[str, Any]:
    """Every level's keys, as JSON-ready lists (sorted, so equal knowledge is equal JSON)."""
    from importlib.metadata import version

    from presidio_analyzer import EntityRecognizer, PatternRecognizer
    from presidio_analyzer.input_validation import yaml_recognizer_models as models
    from presidio_analyzer.input_validation.schemas import ConfigurationValidator
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpEngineProvider
    from presidio_analyzer.pattern import Pattern
    from presidio_analyzer.recognizer_registry import RecognizerRegistry

    adhoc = _params(PatternRecognizer.__init__) | _popped(
        PatternRecognizer.from_dict, RecognizerRegistry.add_pattern_recognizer_from_dict
    )
    return {
        "format": SCHEMA_FORMAT,
        "presidio_version": version("presidio-analyzer"),
        "adhoc_entry": sorted(adhoc),
        "pattern": sorted(_params(Pattern.__init__)),
        "registry_top": sorted(models.RecognizerRegistryConfig.model_fields),
        "registry_top_extra": _extra(models.RecognizerRegistryConfig),
        "predefined_entry": sorted(models.PredefinedRecognizerConfig.model_fields),
        "custom_entry": sorted(models.CustomRecognizerConfig.model_fields),
        "language_item": sorted(models.LanguageContextConfig.model_fields),
        "extra_allowed_classes": sorted(
            name for name, model in models.CONFIG_MODEL_MAP.items() if _extra(model) == "allow"
        ),
        "analyzer_top": sorted(_analyzer_keys(ConfigurationValidator)),
        "enhancer": sorted(models.ContextAwareEnhancerConfig.model_fields),
        "nlp_top": sorted(_read_keys([NlpEngineProvider.create_engine], {"nlp_configuration"})),
        "nlp_model": sorted(_model_keys()),
        "ner_config": sorted(NerModelConfiguration.model_fields),
        "predefined_classes": _classes(EntityRecognizer),
    }


def _params(function: Callable[..., Any]) -> set[str]:
    """Named parameters a constructor takes (not self, not *args/**kwargs)."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.kind in kinds and name != "self"
    }


def _extra(model: Any) -> str:
    """pydantic's policy for undeclared keys: ignore (dropped), forbid (rejected), allow."""
    return str(model.model_config.get("extra") or "ignore")


def _classes(base: type) -> dict[str, dict[str, Any]]:
    """Each recognizer class by name (what `class_name`/`name` resolve to): its constructor's
    parameters, whether it takes **kwargs, and its country."""
    out: dict[str, dict[str, Any]] = {}
    stack: list[type] = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        init = getattr(cls, "__init__")  # noqa: B009 - mypy calls cls.__init__ unsound
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            continue
        out[cls.__name__] = {
            "params": sorted(_params(init)),
            "var_kw": any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters),
            "country": _country(cls),
            "entities": _entities(cls, inspect.signature(init).parameters),
        }
    return dict(sorted(out.items()))


def _entities(cls: type, parameters: Mapping[str, inspect.Parameter]) -> list[str] | None:
    """The entities an instance detects when the YAML names none: the default of its
    `supported_entity` / `supported_entities` argument, else its `ENTITIES`; None if unknown."""
    single = parameters.get("supported_entity")
    if single is not None and isinstance(single.default, str):
        return [single.default]
    plural = parameters.get("supported_entities")
    if plural is None:
        return None
    for value in (plural.default, getattr(cls, "ENTITIES", None)):
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            return sorted(value)
    return None


def _country(cls: type) -> str | None:
    code = getattr(cls, "COUNTRY_CODE", None)
    return code.lower() if isinstance(code, str) else None


def _analyzer_keys(validator: Any) -> set[str]:
    """The analyzer reader's valid top-level keys: a local set in a hand-written function, so
    read from its source (the set literal assigned to `valid_keys`)."""
    tree = _tree(validator.validate_analyzer_configuration)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "valid_keys" for t in node.targets)
            and isinstance(node.value, ast.Set | ast.List | ast.Tuple)
        ):
            return {
                e.value
                for e in node.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
    raise LookupError("analyzer configuration keys not found in Presidio's source")


def _model_keys() -> set[str]:
    """Keys the NLP engines read from each `models` entry (`model["lang_code"]` ...)."""
    from presidio_analyzer import nlp_engine

    classes = [
        getattr(nlp_engine, name)
        for name in getattr(nlp_engine, "__all__", dir(nlp_engine))
        if isinstance(getattr(nlp_engine, name, None), type)
        and name.endswith("NlpEngine")
        and not inspect.isabstract(getattr(nlp_engine, name))
    ]
    functions = [f for cls in classes for _n, f in inspect.getmembers(cls, inspect.isfunction)]
    return _read_keys(functions, {"model", "validated_model"})


def _read_keys(functions: Iterable[Callable[..., Any]], names: set[str]) -> set[str]:
    """String keys read from the mappings called `names` in these functions' source:
    `x["key"]`, `x.get("key")`, `x.pop("key")`, `"key" in x` (x a name or an attribute)."""
    keys: set[str] = set()
    for function in functions:
        try:
            tree = _tree(function)
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and _named(node.value, names):
                keys |= _constant(node.slice)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "pop")
                and _named(node.func.value, names)
                and node.args
            ):
                keys |= _constant(node.args[0])
            elif (
                isinstance(node, ast.Compare)
                and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
                and any(_named(c, names) for c in node.comparators)
            ):
                keys |= _constant(node.left)
    return keys


def _popped(*functions: Callable[..., Any]) -> set[str]:
    """Keys a from-dict reader takes out before calling the constructor (`d.pop("key")`)."""
    keys: set[str] = set()
    for function in functions:
        for node in ast.walk(_tree(function)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "pop"
                and node.args
            ):
                keys |= _constant(node.args[0])
    return keys


def _named(node: ast.AST, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    if isinstance(node, ast.Attribute):
        return node.attr in names
    return False


def _constant(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    return set()


def _tree(function: Callable[..., Any]) -> ast.AST:
    return ast.parse(textwrap.dedent(inspect.getsource(function)))
