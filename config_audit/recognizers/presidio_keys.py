"""Which keys Presidio 2.2.366 reads where (PRESIDIO_NOTES section 1). Re-check on every upgrade
of the pinned presidio-analyzer; the conformance suite will show what moved."""

from __future__ import annotations

ADHOC_ENTRY_KEYS = frozenset(
    {
        "supported_entity",
        "supported_entities",
        "name",
        "supported_language",
        "patterns",
        "deny_list",
        "context",
        "deny_list_score",
        "global_regex_flags",
        "version",
        "country_code",
        "score_thresholds",
    }
)
REGISTRY_TOP_KEYS = frozenset({"supported_languages", "global_regex_flags", "recognizers"})
REGISTRY_ENTRY_KEYS = frozenset(
    {
        "name",
        "class_name",
        "type",
        "enabled",
        "supported_language",
        "supported_languages",
        "context",
        "supported_entity",
        "supported_entities",
        "score_thresholds",
        "patterns",
        "deny_list",
        "deny_list_score",
        "country_code",
    }
)
# These classes use pydantic models with extra="allow": their extra keys reach the constructor.
EXTRA_ALLOWED_CLASSES = frozenset(
    {
        "HuggingFaceNerRecognizer",
        "GLiNERRecognizer",
        "BasicLangExtractRecognizer",
        "AzureOpenAILangExtractRecognizer",
    }
)
ANALYZER_TOP_KEYS = frozenset(
    {
        "supported_languages",
        "default_score_threshold",
        "nlp_configuration",
        "recognizer_registry",
        "context_aware_enhancer",
    }
)
ENHANCER_KEYS = frozenset(
    {
        "context_similarity_factor",
        "min_score_with_context_similarity",
        "context_prefix_count",
        "context_suffix_count",
        "context_matching_mode",
    }
)
NER_CONFIG_KEYS = frozenset(
    {
        "labels_to_ignore",
        "aggregation_strategy",
        "stride",
        "alignment_mode",
        "default_score",
        "model_to_presidio_entity_mapping",
        "low_score_entity_names",
        "low_confidence_score_multiplier",
    }
)
