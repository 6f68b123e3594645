"""Render a `Review` as Markdown or one self-contained HTML file (the report's stylesheet)."""

from __future__ import annotations

from html import escape

from config_audit.siem.access.model import Item, Review
from config_audit.siem.report_render import CSS

ITEM_SECTIONS = (
    ("orphaned", "Orphaned"),
    ("over_permissive", "Over-permissive"),
    ("unusual", "Unusual activity"),
    ("alerts", "Alerts"),
)
TITLE = "Access review"


def _tables(review: Review) -> list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]]:
    grants: list[tuple[str, ...]] = [
        (g.holder, g.kind, g.status or "-", "; ".join(g.roles)) for g in review.grants
    ]
    keys: list[tuple[str, ...]] = [
        (k.key_id, k.owner, k.valid_from, k.valid_until, k.status, k.last_used) for k in review.keys
    ]
    signers: list[tuple[str, ...]] = [
        (s.principal, s.key, s.person or "(nobody)") for s in review.signers
    ]
    previous: list[tuple[str, ...]] = [
        (d.item, d.decision, d.note, d.reviewer, d.signed_at, d.outcome) for d in review.previous
    ]
    retention: list[tuple[str, ...]] = [
        (s.segment, s.records, s.sealed, s.uploaded) for s in review.retention
    ]
    if review.pruned:
        retention.append(("(pruned)", review.pruned, "", "removed from local disk"))
    out: list[tuple[str, tuple[str, ...], list[tuple[str, ...]]]] = [
        ("Grants", ("holder", "kind", "directory", "roles and ownership"), grants),
        ("Trusted signing keys", ("key", "owner", "from", "until", "status", "last use"), keys),
        ("Allowed signers", ("principal", "key", "person"), signers),
        (
            "Last review's decisions",
            ("item", "decision", "note", "reviewer", "signed", "now"),
            previous,
        ),
        (
            "Retention: sealed segments",
            ("segment", "records", "sealed", "object storage"),
            retention,
        ),
    ]
    for name, title in ITEM_SECTIONS:
        items = review.section(name)
        out.append(
            (f"{title} ({len(items)})", ("item", "finding"), [(i.id, i.detail) for i in items])
        )
    return out


def _checklist(items: list[Item]) -> list[tuple[str, str]]:
    return [(i.id, i.action) for i in items]


def _md(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_markdown(review: Review) -> str:
    lines = [
        f"# {TITLE}",
        "",
        f"- Period: {review.since} to {review.until}",
        f"- Records in period: {review.records}",
        f"- Last signed review: {review.previous_review or 'none'}",
        "",
    ]
    for title, head, rows in _tables(review):
        lines += [f"## {title}", ""]
        if not rows:
            lines += ["_none_", ""]
            continue
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
        lines.append("")
    lines += ["## Checklist", ""]
    checklist = _checklist(review.items)
    lines += [f"- [ ] `{_md(i)}`: {_md(a)} (keep / remove / follow-up)" for i, a in checklist]
    if not checklist:
        lines.append("_nothing to decide_")
    return "\n".join(lines)


def render_html(review: Review) -> str:
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>{TITLE}</title><style>{CSS}</style></head><body>",
        f"<h1>{TITLE}</h1>",
        '<table class="meta">',
        f"<tr><td>Period</td><td>{escape(review.since)} to {escape(review.until)}</td></tr>",
        f"<tr><td>Records in period</td><td>{review.records}</td></tr>",
        f"<tr><td>Last signed review</td><td>{escape(review.previous_review or 'none')}</td></tr>",
        "</table>",
    ]
    for title, head, rows in _tables(review):
        out.append(f"<h2>{escape(title)}</h2>")
        if not rows:
            out.append('<p class="none">none</p>')
            continue
        th = "".join(f"<th>{escape(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
        )
        out.append(f"<table><tr>{th}</tr>{body}</table>")
    out.append('<h2>Checklist</h2><ul class="checklist">')
    for item, action in _checklist(review.items):
        out.append(
            f'<li><label><input type="checkbox" data-item="{escape(item)}"> '
            f"<code>{escape(item)}</code>: {escape(action)}</label></li>"
        )
    out.append("</ul></body></html>")
    return "\n".join(out)
