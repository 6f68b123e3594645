"""Render a `Report` as Markdown or as one self-contained HTML file (inline CSS and SVG)."""

from __future__ import annotations

from html import escape

from config_audit.siem.report import Report, Row

SECTIONS = (
    ("weakening", "Weakening changes"),
    ("bypassed", "Hooks bypassed"),
    ("blocked", "Blocked attempts"),
    ("landed", "Invalid or violating changes that landed"),
    ("unverified", "Unverified commits"),
    ("out_of_band", "Out-of-band edits"),
    ("gaps", "Coverage gaps"),
)
ROW_HEAD = ("seq", "recorded", "committed", "source", "path", "who", "assurance", "detail")
LEGEND = (
    "Legend: recorded = when the record was written (a CI record: the CI run); committed = the "
    "commit's author time. Hooks bypassed = committed without its pre-commit check "
    "(--no-verify). Blocked attempts = refused by pre-commit, never committed. Unverified = no "
    "verified commit signature. Out-of-band = edited outside git (watcher), the watcher's first "
    "scan (baseline) excepted. Timeline: blue all records, amber weakening, red blocked."
)


def _md_cell(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(head: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    if not rows:
        return ["_none_", ""]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return [*out, ""]


def _cells(row: Row) -> tuple[object, ...]:
    return (
        row.seq,
        row.time,
        row.committed or "-",
        row.source,
        row.path,
        row.who,
        row.assurance,
        row.detail,
    )


def render_markdown(report: Report) -> str:
    lines = [
        "# Recognizer configuration review",
        "",
        f"- Log: `{report.log}`",
        f"- Period: {report.since} to {report.until}",
        f"- Records in period: {report.total}",
        f"- Log verification: {report.verification}",
        "",
        LEGEND,
        "",
        "## Changes by author",
        "",
        *_md_table(("author", "records"), list(report.by_author)),
        "## Changes by recognizer",
        "",
        *_md_table(("recognizer", "changes"), list(report.by_recognizer)),
        "## Changes by entity",
        "",
        *_md_table(("entity", "changes"), list(report.by_entity)),
    ]
    for attr, title in SECTIONS:
        rows: list[Row] = getattr(report, attr)
        lines += [f"## {title} ({len(rows)})", "", *_md_table(ROW_HEAD, [_cells(r) for r in rows])]
    return "\n".join(lines)


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border:1px solid #dde;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f2f4f8}
.ok{color:#116b2f;font-weight:600}.bad{color:#b3261e;font-weight:600}.warn{color:#8a5a00}
.meta td:first-child{width:180px;font-weight:600}.none{color:#777;font-style:italic}
svg text{font:11px system-ui,sans-serif;fill:#444}
"""


def _html_table(head: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    if not rows:
        return '<p class="none">none</p>'
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def timeline_svg(per_day: list[tuple[str, int, int, int]], width: int = 1000) -> str:
    """Bars per day: all records (blue), weakening (amber) and blocked (red) overlaid."""
    height, pad = 180, 30
    if not per_day:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40"><text x="8" y="24">no records in period</text></svg>'
    top = max(d[1] for d in per_day) or 1
    step = (width - 2 * pad) / len(per_day)
    bar = min(max(step * 0.7, 1.0), 40.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>Records per day</title>',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#999"/>',
        f'<text x="4" y="{pad - 10}">{top}</text>',
    ]
    scale = (height - 2 * pad) / top
    for i, (day, total, weak, blocked) in enumerate(per_day):
        x = pad + i * step
        for value, colour in ((total, "#4a78c2"), (weak, "#e0a020"), (blocked, "#c8372d")):
            if value:
                h = value * scale
                parts.append(
                    f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{bar:.1f}" '
                    f'height="{h:.1f}" fill="{colour}"><title>{escape(day)}: {value}</title></rect>'
                )
        if len(per_day) <= 31 or i % max(len(per_day) // 15, 1) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 10}">{escape(day[5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: Report) -> str:
    status = {True: "ok", False: "bad", None: "warn"}[report.verified_ok]
    meta = [
        ("Log", escape(report.log)),
        ("Period", f"{escape(report.since)} to {escape(report.until)}"),
        ("Records in period", str(report.total)),
        ("Log verification", f'<span class="{status}">{escape(report.verification)}</span>'),
    ]
    out = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        "<title>Recognizer configuration review</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Recognizer configuration review</h1>",
        '<table class="meta">' + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in meta),
        f"</table><p>{escape(LEGEND)}</p><h2>Timeline</h2>",
        timeline_svg(report.per_day),
        "<h2>Changes by author</h2>",
        _html_table(("author", "records"), list(report.by_author)),
        "<h2>Changes by recognizer</h2>",
        _html_table(("recognizer", "changes"), list(report.by_recognizer)),
        "<h2>Changes by entity</h2>",
        _html_table(("entity", "changes"), list(report.by_entity)),
    ]
    for attr, title in SECTIONS:
        rows: list[Row] = getattr(report, attr)
        out.append(f"<h2>{escape(title)} ({len(rows)})</h2>")
        out.append(_html_table(ROW_HEAD, [_cells(r) for r in rows]))
    out.append("</body></html>")
    return "\n".join(out)
