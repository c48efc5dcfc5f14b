"""``permaudit diff`` as one self-contained HTML page: old vs new heat map, then every change.

Same page rules as the compare page (inline CSS, no scripts, no network, every value
escaped); the stylesheet and table helpers are shared with ``compare_html``.
"""

from __future__ import annotations

from html import escape

from permaudit.formatters.compare_rows import (
    change_counts,
    change_label,
    change_subject,
    column_header,
    ruleset_text,
    value_text,
)
from permaudit.formatters.html.compare import breakable, legend, page, sev_class, table
from permaudit.formatters.labels import risk_severity
from permaudit.model import Report, sdk_text
from permaudit.views.compare import capability_sort_key, level_text
from permaudit.views.diff import Diff


def _app_header(name: str, diff: Diff) -> str:
    app = diff.old if name == "old" else diff.new
    label, version = column_header(app)
    sub = f'<span class="sub">{escape(version)}</span>' if version else ""
    return f'<th scope="col" class="app">{escape(name)}: {escape(label)}{sub}</th>'


def _sides(diff: Diff) -> list[str]:
    rows = []
    for name, app, report in (
        ("old", diff.old, diff.old_report),
        ("new", diff.new, diff.new_report),
    ):
        manifest = report.app.manifest
        rows.append(
            f'<tr><th scope="row">{name}</th>'
            f"<td>{escape(' '.join(filter(None, column_header(app))))}</td>"
            f"<td>{sdk_text(manifest.min_sdk)}</td><td>{sdk_text(manifest.target_sdk)}</td>"
            f'<td class="{sev_class(risk_severity(report.risk.level))}">'
            f"{report.risk.score} ({escape(report.risk.level)})</td>"
            f"<td><code>{escape(app.path)}</code></td></tr>"
        )
    headers = [
        f'<th scope="col">{h}</th>'
        for h in ("build", "app", "minSdk", "targetSdk", "risk", "input")
    ]
    return table(headers, rows)


def _heatmap(diff: Diff) -> list[str]:
    old = {hit.id: hit for hit in diff.old_report.capabilities}
    new = {hit.id: hit for hit in diff.new_report.capabilities}
    rows = []
    for cap in sorted(old.keys() | new.keys(), key=capability_sort_key):
        title = (new.get(cap) or old[cap]).title
        cells = []
        for side in (old, new):
            hit = side.get(cap)
            severity = None if hit is None else hit.severity
            text = "-" if hit is None else level_text(hit)
            cells.append(f'<td class="{sev_class(severity)}">{escape(text)}</td>')
        rows.append(
            f'<tr data-capability="{escape(cap)}"><th scope="row">{escape(title)}</th>'
            f"{''.join(cells)}</tr>"
        )
    headers = [
        '<th scope="col">capability</th>',
        _app_header("old", diff),
        _app_header("new", diff),
    ]
    return table(headers, rows, css="heatmap")


def _report_risk(report: Report) -> str:
    return f"{report.risk.score} ({report.risk.level})"


def _changes(diff: Diff) -> list[str]:
    rows = [
        "<tr>"
        f'<td class="{sev_class(change.severity)}" data-label="severity">'
        f"{change.severity.label}</td>"
        f'<td data-label="change">{escape(change_label(change.kind))}</td>'
        f'<th scope="row" data-label="subject"><code>{breakable(change_subject(change))}'
        "</code></th>"
        f'<td data-label="old">{escape(value_text(change.old))}</td>'
        f'<td data-label="new">{escape(value_text(change.new))}</td>'
        "</tr>"
        for change in diff.changes
    ]
    headers = [f'<th scope="col">{h}</th>' for h in ("severity", "change", "subject", "old", "new")]
    return table(headers, rows, css="changes")


def render(result: Diff, *, color: bool = False) -> str:
    """Render ``result`` as a standalone HTML page (``color`` is ignored: always coloured)."""
    del color
    title = f"{result.old.title} {result.old.version} → {result.new.version}"
    meta = (
        f"Device API level {result.device_sdk} · ruleset {ruleset_text(result.ruleset)} · "
        f"permaudit {result.tool_version} · risk {_report_risk(result.old_report)} → "
        f"{_report_risk(result.new_report)}"
    )
    body = [
        "<header>",
        f"<h1>What changed: {escape(title)}</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        "</header>",
        '<section id="builds">',
        *_sides(result),
    ]
    if not result.same_package:
        body.append(
            '<p class="hint"><strong>Note:</strong> the two inputs are different packages.</p>'
        )
    body += [
        "</section>",
        '<section id="heatmap">',
        "<h2>Capabilities before and after</h2>",
        *legend(),
        *_heatmap(result),
        "</section>",
        '<section id="changes">',
    ]
    if result.changes:
        body += [
            f"<h2>{len(result.changes)} changes ({escape(change_counts(result))})</h2>",
            *_changes(result),
        ]
    else:
        body += [
            "<h2>No changes</h2>",
            "<p>No changes in permissions, capabilities, components, flags or SDK levels.</p>",
        ]
    body.append("</section>")
    return page(f"permaudit diff: {title}", body)
