"""Coverage by language: which entities each supported language detects (issue 12).

The real risk next to Presidio's multi-language template is a language added to the registry
while the recognizers keep the template's language lists: the new language then has no
credit-card (or other) detection at all, silently. Country-specific recognizers (a US SSN) are
left out: a language without them is a choice, not a gap. Pure: works on a `RecognizerSet`.
"""

from __future__ import annotations

from config_audit.model import Change, Finding, Impact, RecognizerSet, Severity

CODE_COVERAGE = "CA215"


def coverage(rs: RecognizerSet, *, travelling: bool = False) -> dict[str, dict[str, list[str]]]:
    """language -> entity -> names of the enabled recognizers detecting it there. `travelling`:
    only recognizers meant for any language: generic predefined classes, and custom ones the file
    already runs in two languages or more (a custom recognizer written for one language, or a
    country-specific one, is a choice, not a gap)."""
    out: dict[str, dict[str, list[str]]] = {lang: {} for lang in rs.languages}
    languages_of: dict[str, set[str]] = {}
    for rec in rs.recognizers:
        languages_of.setdefault(rec.name, set()).add(rec.language)
    for rec in rs.recognizers:
        if not rec.enabled or rec.country_code or rec.language not in out:
            continue
        if travelling and rec.kind != "predefined" and len(languages_of[rec.name]) < 2:
            continue
        for entity in rec.entities:
            out[rec.language].setdefault(entity, []).append(rec.name)
    return out


def coverage_findings(rs: RecognizerSet, *, path: str) -> list[Finding]:
    """CA215: a language lacks an entity other languages detect; names the recognizer to extend."""
    everything = coverage(rs)
    served = {lang: ents for lang, ents in everything.items() if ents}  # none at all: CA206
    travelling = coverage(rs, travelling=True)
    findings: list[Finding] = []
    for lang, entities in sorted(served.items()):
        for other, theirs in sorted(travelling.items()):
            if other == lang or other not in served:
                continue
            for entity in sorted(set(theirs) - set(entities)):
                # Report once per (language, entity), naming the first language that has it.
                if any(
                    f.message.startswith(f"language '{lang}' has no {entity} ") for f in findings
                ):
                    continue
                names = sorted(set(theirs[entity]))
                findings.append(
                    Finding(
                        CODE_COVERAGE,
                        Severity.WARNING,
                        f"language '{lang}' has no {entity} detection ({other} has it: "
                        f"{', '.join(names)})",
                        path=path,
                        recognizer=names[0],
                        hint=f"add '{lang}' to {names[0]}'s supported_languages, or accept this "
                        "finding if the gap is intended",
                    )
                )
    return findings


def coverage_changes(old: RecognizerSet, new: RecognizerSet) -> list[Change]:
    """A language that keeps being supported but loses an entity: weakens."""
    before, after = coverage(old), coverage(new)
    out = []
    for lang in sorted(before.keys() & after.keys()):
        for entity in sorted(set(before[lang]) - set(after[lang])):
            out.append(
                Change(
                    "coverage.entity_lost",
                    Impact.WEAKENS,
                    None,
                    f"language '{lang}' no longer detects {entity}",
                    (entity,),
                    lang,
                )
            )
    return out
