"""Finding codes for SARIF rules: what each means and where docs/findings.md explains it.

Copied from docs/findings.md (a test keeps each code in its section there); a code not
listed here still gets a rule, described by its first finding."""

from __future__ import annotations

FINDINGS_DOC = (
    "https://github.com/presidio-config-audit/presidio-config-audit/blob/main/docs/findings.md"
)

# code -> (anchor of its section in docs/findings.md, meaning)
CODES: dict[str, tuple[str, str]] = {
    "CA001": (
        "reading-the-file-ca0xx",
        "YAML syntax error (line given)",
    ),
    "CA002": (
        "reading-the-file-ca0xx",
        "not valid UTF-8 (byte offset and line given)",
    ),
    "CA003": (
        "reading-the-file-ca0xx",
        'hostile input: over the size limit, alias bomb ("billion laughs", rejected before expansion) or nesting too deep',
    ),
    "CA004": (
        "reading-the-file-ca0xx",
        "not a Presidio recognizer file (no `recognizers` list, no analyzer keys; or a top-level list)",
    ),
    "CA100": (
        "reading-the-file-ca0xx",
        "file missing or unreadable (Presidio silently falls back to its defaults when its config is missing)",
    ),
    "CA101": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        'unknown or ineffective key (`enable: false` leaves the recognizer on); "did you mean" hint',
    ),
    "CA102": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "duplicate recognizer (name + language): both load, changes cannot be attributed",
    ),
    "CA103": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        'a string where a list is expected (`deny_list: "Dr."` is iterated character by character)',
    ),
    "CA104": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        'backspace in a regex: `"\\b"` in double quotes is YAML\'s backspace escape',
    ),
    "CA105": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "score of 0, NaN, a boolean, or outside [0, 1] (0 is never reported)",
    ),
    "CA106": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "empty regex",
    ),
    "CA107": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "not a language code (`english`; YAML's `no` read as `false`)",
    ),
    "CA108": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "zero recognizers, empty or missing `supported_languages`",
    ),
    "CA109": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "every recognizer disabled: AnalyzerEngine then loads all predefined recognizers",
    ),
    "CA110": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "recognizer-level `context` discarded because `supported_languages` is set (Presidio #1696)",
    ),
    "CA111": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "bare string entry, silently dropped",
    ),
    "CA112": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "duplicate YAML key: the earlier value is silently lost",
    ),
    "CA113": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "`supported_language`, `country_code` or `deny_list_score` ignored on a predefined recognizer",
    ),
    "CA114": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "`global_regex_flags` not an integer, sets VERBOSE or ASCII (error), lacks IGNORECASE (warning)",
    ),
    "CA115": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "recognizer language not in the registry's languages: Presidio drops it",
    ),
    "CA116": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "missing entity, both entity keys, no patterns nor deny list, no name",
    ),
    "CA117": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "pattern is not exactly `name`, `regex`, `score`",
    ),
    "CA118": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "`supported_countries` (documented, but rejected by Presidio 2.2.366)",
    ),
    "CA119": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "`enabled` is not a boolean",
    ),
    "CA120": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        'regex starts with a Python raw-string prefix `r"`',
    ),
    "CA121": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "deny-list entry empty or not a string",
    ),
    "CA123": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "`score_thresholds` key is neither `default` nor an entity of the recognizer",
    ),
    "CA125": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "the analyzer's NLP engine is replaced by `no_op` for validation (NER is not checked)",
    ),
    "CA126": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "repeated pattern name inside one recognizer",
    ),
    "CA127": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "regex nests 12 or more repeated groups: Presidio's regex engine compiles it in exponential time and memory",
    ),
    "CA129": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "an entity key Presidio truncates (only the first of supported_entities is used) or drops",
    ),
    "CA130": (
        "raw-lint-what-presidio-accepts-silently-ca1xx",
        "a number written as a string that the registry schema converts",
    ),
    "CA201": (
        "loading-into-presidio-ca2xx",
        "Presidio could not read the file",
    ),
    "CA202": (
        "loading-into-presidio-ca2xx",
        "Presidio rejects the file (its pydantic errors, without input values)",
    ),
    "CA203": (
        "loading-into-presidio-ca2xx",
        "zero recognizers loaded: AnalyzerEngine would load all its defaults",
    ),
    "CA204": (
        "loading-into-presidio-ca2xx",
        "a spaCy-family recognizer needs a model; left out of the offline load",
    ),
    "CA205": (
        "loading-into-presidio-ca2xx",
        "fails at analyze time (e.g. incompatible regex flags), pattern named",
    ),
    "CA206": (
        "loading-into-presidio-ca2xx",
        "a supported language has no recognizer",
    ),
    "CA207": (
        "loading-into-presidio-ca2xx",
        "Presidio logged a warning while loading (e.g. a recognizer dropped for its language)",
    ),
    "CA208": (
        "loading-into-presidio-ca2xx",
        "an analyzer file's NLP engine is not loaded offline",
    ),
    "CA209": (
        "loading-into-presidio-ca2xx",
        "a recognizer needs an optional package that is not installed",
    ),
    "CA210": (
        "loading-into-presidio-ca2xx",
        "time bound hit: the worker was killed and replaced",
    ),
    "CA211": (
        "loading-into-presidio-ca2xx",
        "memory bound hit: the worker was replaced",
    ),
    "CA212": (
        "loading-into-presidio-ca2xx",
        "the worker died during the request (signal named)",
    ),
    "CA213": (
        "loading-into-presidio-ca2xx",
        "internal error in the worker",
    ),
    "CA220": (
        "loading-into-presidio-ca2xx",
        "validated with a Presidio release the checks were not verified on: release-specific findings carry a note",
    ),
    "CA301": (
        "regex-safety-ca3xx-and-detection-samples-ca4xx",
        "catastrophic backtracking confirmed by a bounded probe: Presidio would time the match out and report nothing (fail-open)",
    ),
    "CA302": (
        "regex-safety-ca3xx-and-detection-samples-ca4xx",
        "static ReDoS shape the probe did not confirm",
    ),
    "CA303": (
        "regex-safety-ca3xx-and-detection-samples-ca4xx",
        "backspace in a regex that Presidio loaded",
    ),
    "CA304": (
        "regex-safety-ca3xx-and-detection-samples-ca4xx",
        "empty regex that Presidio loaded",
    ),
    "CA305": (
        "regex-safety-ca3xx-and-detection-samples-ca4xx",
        "Presidio logged a regex timeout while analyzing",
    ),
    "CA401": (
        "regex-safety-ca3xx-and-detection-samples-ca4xx",
        "detection regression: a sample in `recognizers/samples.yaml` is no longer found (or now wrongly found)",
    ),
    "CA501": (
        "policy-ca5xx-and-attribution-ca6xx",
        "weakening change to a protected entity without the required owner (or owner signature)",
    ),
    "CA502": (
        "policy-ca5xx-and-attribution-ca6xx",
        "removing or disabling a recognizer of a protected entity is forbidden",
    ),
    "CA503": (
        "policy-ca5xx-and-attribution-ca6xx",
        "pattern score under the policy's floor",
    ),
    "CA504": (
        "policy-ca5xx-and-attribution-ca6xx",
        "the settings file (`.config-audit.yaml`) in a commit does not load: bad YAML, unknown key, unknown person",
    ),
    "CA601": (
        "policy-ca5xx-and-attribution-ca6xx",
        "commit signature bad, revoked or expired",
    ),
    "CA602": (
        "policy-ca5xx-and-attribution-ca6xx",
        "the commit's signer is not its claimed author",
    ),
    "CA603": (
        "policy-ca5xx-and-attribution-ca6xx",
        "a recognizer commit has no hook record (hooks not installed, or its note is forged, copied from another commit or signed by an unknown key); error with `ci --require-hook-record`",
    ),
    "CA604": (
        "policy-ca5xx-and-attribution-ca6xx",
        "a recognizer commit's hook record says pre-commit did not pass it (`git commit --no-verify` skips pre-commit, not post-commit); error with `ci --require-hook-record`",
    ),
}
