"""``permaudit compare`` as one self-contained HTML page: heat map first, then the details.

No scripts, no fonts or images from the network: inline CSS only, readable on a phone
(tables scroll sideways with the first column pinned) and on paper (colours kept, no
scroll boxes). Every value from an app passes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from permaudit.formatters.compare_rows import (
    column_header,
    count_headers,
    counts_row,
    groups,
    ruleset_text,
)
from permaudit.formatters.labels import risk_severity, short_permission
from permaudit.model import Severity, sdk_text
from permaudit.views.compare import CapabilityCell, Comparison, PermissionCell

#: CSS class of a heat-map cell that does not reach the capability.
NONE_CLASS = "sev-none"

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1280px; padding: 24px; color: var(--fg); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
p { margin: 6px 0; }
.meta, .hint { color: var(--muted); }
.hint { font-size: .9em; }
code { font: .88em/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  overflow-wrap: break-word; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 8px 0; }
table { border-collapse: collapse; font-size: .92em; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--head); position: sticky; top: 0; }
th[scope=row] { background: var(--head); font-weight: 600; position: sticky; left: 0; z-index: 1; }
th .sub, td .sub { display: block; font-weight: 400; color: var(--muted); font-size: .85em; }
thead th.app { min-width: 9em; overflow-wrap: anywhere; }
td .via { display: block; margin-top: 2px; }
td[class^="sev-"] .sub { color: inherit; opacity: .9; }
td .note { display: block; margin-top: 2px; font-style: italic; color: var(--muted); }
table.heatmap { width: 100%; table-layout: fixed; }
table.heatmap thead th:first-child { width: 12em; }
table.heatmap td { text-align: center; vertical-align: middle; font-weight: 600; min-width: 7em; }
table.heatmap tfoot td, table.heatmap tfoot th { border-top: 2px solid var(--fg); }
.sev-critical { background: #7f1d1d; color: #fff; }
.sev-high { background: #d1242f; color: #fff; }
.sev-medium { background: #f0883e; color: #1f2328; }
.sev-low { background: #f9e27d; color: #1f2328; }
.sev-info { background: #ddf4ff; color: #0a3069; }
.sev-none { background: #fff; color: #8c959f; font-weight: 400; }
td.sev-none {
  background-image: repeating-linear-gradient(45deg, transparent 0 6px, #f6f8fa 6px 12px); }
.legend { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 0; padding: 0; list-style: none;
  font-size: .85em; }
.legend li { padding: 2px 8px; border: 1px solid var(--line); border-radius: 3px; }
td.yes { color: #0a3069; font-weight: 600; }
td.no { color: #8c959f; }
td.inactive { color: var(--muted); font-style: italic; }
tr.group-start > * { border-top: 2px solid #8c959f; }
@media (max-width: 640px) {
  body { padding: 10px; font-size: 14px; }
  h1 { font-size: 1.3em; }
  th, td { padding: 4px 5px; }
  thead th.app { min-width: 0; }
  th[scope=row] { min-width: 6.5em; max-width: 9em; }
  table.heatmap { font-size: .8em; }
  table.heatmap thead th:first-child { width: 7.5em; }
  table.changes thead { display: none; }
  table.changes, table.changes tbody, table.changes tr, table.changes td,
  table.changes th { display: block; width: 100%; }
  table.changes tr { border: 1px solid var(--line); margin: 0 0 8px; }
  table.changes td, table.changes th[scope=row] { border: 0; padding: 3px 8px;
    position: static; max-width: none; }
  table.changes th[scope=row] { background: none; }
  table.changes [data-label]::before { content: attr(data-label) ": "; color: var(--muted);
    font-weight: 400; font-style: normal; }
  table.changes td[class^="sev-"]::before { color: inherit; }
  table.heatmap td { min-width: 0; padding: 4px 3px; hyphens: auto; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  .scroll { overflow: visible; }
  thead th, th[scope=row] { position: static; }
  table { page-break-inside: auto; }
  tr, td, th { page-break-inside: avoid; break-inside: avoid; }
  thead { display: table-header-group; }
  h2 { break-after: avoid; page-break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def sev_class(severity: Severity | None) -> str:
    """The CSS class of a severity; ``sev-none`` when nothing is reached."""
    return NONE_CLASS if severity is None else f"sev-{severity.label}"


def breakable(name: str) -> str:
    """``name`` escaped, with a line-break opportunity after each dot and colon."""
    return escape(name).replace(".", ".<wbr>").replace(":", ":<wbr>")


def page(title: str, body: Iterable[str]) -> str:
    """A whole HTML document with the inline stylesheet; ``title`` is escaped here."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"


def table(
    headers: Sequence[str],
    rows: Iterable[str],
    *,
    css: str = "",
    foot: Iterable[str] = (),
) -> list[str]:
    """A scrollable table from already-escaped header cells and ``<tr>`` rows."""
    attr = f' class="{css}"' if css else ""
    lines = ['<div class="scroll">', f"<table{attr}>", "<thead><tr>"]
    lines.extend(headers)
    lines.append("</tr></thead>")
    lines.append("<tbody>")
    lines.extend(rows)
    lines.append("</tbody>")
    foot = list(foot)
    if foot:
        lines.extend(["<tfoot>", *foot, "</tfoot>"])
    lines.extend(["</table>", "</div>"])
    return lines


def legend() -> list[str]:
    """The colour key of the heat map."""
    items = [f'<li class="{sev_class(s)}">{s.label}</li>' for s in sorted(Severity, reverse=True)]
    items.append(f'<li class="{NONE_CLASS}">not reached</li>')
    return ['<ul class="legend" aria-label="severity colours">', *items, "</ul>"]


def _app_headers(comparison: Comparison) -> list[str]:
    cells = []
    for app in comparison.apps:
        label, version = column_header(app)
        sub = f'<span class="sub">{escape(version)}</span>' if version else ""
        cells.append(f'<th scope="col" class="app">{breakable(label)}{sub}</th>')
    return cells


def _row_header(title: str, sub: str = "") -> str:
    extra = f'<span class="sub">{escape(sub)}</span>' if sub else ""
    return f'<th scope="row">{breakable(title)}{extra}</th>'


def _apps(comparison: Comparison) -> list[str]:
    rows = []
    for app, report in zip(comparison.apps, comparison.reports, strict=True):
        manifest = report.app.manifest
        rows.append(
            "<tr>"
            + _row_header(app.label)
            + f"<td>{escape(app.version)}</td>"
            + f"<td>{sdk_text(manifest.min_sdk)}</td><td>{sdk_text(manifest.target_sdk)}</td>"
            + f"<td><code>{escape(app.path)}</code></td>"
            + f"<td><code>{escape(app.signer)}</code></td>"
            + f'<td class="{sev_class(risk_severity(report.risk.level))}">'
            + f"{report.risk.score} ({escape(report.risk.level)})</td>"
            + "</tr>"
        )
    headers = [
        f'<th scope="col">{h}</th>'
        for h in ("app", "version", "minSdk", "targetSdk", "input", "signer", "risk")
    ]
    return table(headers, rows)


def _heatmap(comparison: Comparison) -> list[str]:
    rows = []
    for row in comparison.capability_rows:
        cells = "".join(
            f'<td class="{sev_class(cell.severity)}">{escape(cell.level)}</td>'
            for cell in row.cells
        )
        rows.append(f'<tr data-capability="{escape(row.id)}">{_row_header(row.title)}{cells}</tr>')
    risk = "".join(
        f'<td class="{sev_class(risk_severity(r.risk.level))}">'
        f'{r.risk.score}<span class="sub">{escape(r.risk.level)}</span></td>'
        for r in comparison.reports
    )
    foot = [f"<tr>{_row_header('risk score')}{risk}</tr>"]
    headers = ['<th scope="col">capability</th>', *_app_headers(comparison)]
    return table(headers, rows, css="heatmap", foot=foot)


def _detail_cell(cell: CapabilityCell) -> str:
    if not cell.reached:
        return f'<td class="no">{escape(cell.level)}</td>'
    parts = [f'<strong class="level">{escape(cell.level)}</strong>']
    if cell.via:
        via = ", ".join(f"<code>{breakable(short_permission(v))}</code>" for v in cell.via)
        parts.append(f'<span class="via">via {via}</span>')
    parts.extend(f'<span class="note">{escape(note)}</span>' for note in cell.notes)
    return f"<td>{''.join(parts)}</td>"


def _capabilities(comparison: Comparison) -> list[str]:
    rows = [
        "<tr>"
        + _row_header(row.title, f"{row.id} · {row.severity.label}")
        + "".join(_detail_cell(cell) for cell in row.cells)
        + "</tr>"
        for row in comparison.capability_rows
    ]
    return table(['<th scope="col">capability</th>', *_app_headers(comparison)], rows)


def _permission_class(cell: PermissionCell) -> str:
    if not cell.requested:
        return "no"
    return "yes" if cell.applies else "inactive"


def _permissions(comparison: Comparison) -> list[str]:
    rows = []
    for _, title, indexes in groups(comparison):
        for position, index in enumerate(indexes):
            row = comparison.permission_rows[index]
            css = ' class="group-start"' if position == 0 else ""
            group = escape(title) if position == 0 else ""
            cells = "".join(
                f'<td class="{_permission_class(cell)}">{escape(cell.text)}</td>'
                for cell in row.cells
            )
            rows.append(
                f"<tr{css}><td>{group}</td>"
                f'<th scope="row"><code>{breakable(short_permission(row.name))}</code></th>'
                f"<td>{escape(row.protection_class)}</td>{cells}</tr>"
            )
    headers = [
        '<th scope="col">capability</th>',
        '<th scope="col">permission</th>',
        '<th scope="col">class</th>',
        *_app_headers(comparison),
    ]
    return table(headers, rows)


def _code_list(names: Sequence[str]) -> str:
    if not names:
        return '<span class="meta">none</span>'
    return ", ".join(f"<code>{breakable(short_permission(n))}</code>" for n in names)


def _exclusives(comparison: Comparison) -> list[str]:
    rows = [
        "<tr>"
        + _row_header(*column_header(app))
        + f"<td>{_code_list(only.capabilities)}</td>"
        + f"<td>{_code_list(only.permissions)}</td>"
        + "</tr>"
        for app, only in zip(comparison.apps, comparison.exclusives, strict=True)
    ]
    headers = [
        '<th scope="col">app</th>',
        '<th scope="col">capabilities only this app reaches</th>',
        '<th scope="col">permissions only it requests</th>',
    ]
    return table(headers, rows)


def _counts(comparison: Comparison) -> list[str]:
    rows = [
        "<tr>"
        + _row_header(app.label)
        + "".join(f"<td>{n}</td>" for n in counts_row(counts))
        + "</tr>"
        for app, counts in zip(comparison.apps, comparison.counts, strict=True)
    ]
    headers = [
        f'<th scope="col">{escape(h)}</th>' for h in ["app", *count_headers(comparison.device_sdk)]
    ]
    return table(headers, rows)


def render(result: Comparison, *, color: bool = False) -> str:
    """Render ``result`` as a standalone HTML page (``color`` is ignored: always coloured)."""
    del color
    names = ", ".join(app.label for app in result.apps)
    meta = (
        f"Device API level {result.device_sdk} · ruleset {ruleset_text(result.ruleset)} · "
        f"permaudit {result.tool_version}"
    )
    body = [
        "<header>",
        f"<h1>What {len(result.apps)} apps can reach on a phone</h1>",
        f'<p class="meta">{escape(meta)}</p>',
        "</header>",
        '<section id="apps">',
        *_apps(result),
        "</section>",
        '<section id="heatmap">',
        "<h2>Capability heat map</h2>",
        '<p class="hint">How far each app reaches each capability, coloured by the '
        "ruleset's severity of that capability.</p>",
        *legend(),
        *_heatmap(result),
        "</section>",
        '<section id="capabilities">',
        "<h2>Capabilities in detail</h2>",
        '<p class="hint">Through which permissions or manifest features, with caveats: '
        "only on API 23+ (<code>uses-permission-sdk-23</code>), only up to an API level "
        "(<code>maxSdkVersion</code>), or implied by an old target SDK.</p>",
        *_capabilities(result),
        "</section>",
        '<section id="permissions">',
        "<h2>Permissions by capability</h2>",
        '<p class="hint"><code>sdk-23</code>: requested only on API 23+; <code>max API N</code>: '
        "only up to API N; <code>implied</code>: added by the platform; "
        f"<code>(inactive)</code>: not granted on API {result.device_sdk}; "
        "<code>-</code>: not requested.</p>",
        *_permissions(result),
        "</section>",
        '<section id="exclusives">',
        "<h2>Only in one app</h2>",
        *_exclusives(result),
        "</section>",
        '<section id="counts">',
        "<h2>Permission counts</h2>",
        *_counts(result),
        "</section>",
    ]
    return page(f"permaudit compare: {names}", body)
