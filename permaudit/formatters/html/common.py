"""What every HTML page shares: the stylesheet, the escaper, the page shell and table helpers.

The one place of the HTML family's escaping: every value from an app goes through
``esc`` (``html.escape`` with quotes) or ``breakable``, on top of the ``terminal``
escaping every text-like format receives (``formatters.escape.sanitized``). Pages have
no scripts and nothing from the network: inline CSS only, readable on a phone (wide
tables scroll inside their box, the page itself never sideways) and on paper (colours
kept, no scroll boxes). Colour never carries meaning alone: every coloured cell also
has a mark and words.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

from permaudit.formatters.compare_rows import (
    column_header,
)
from permaudit.formatters.labels import risk_severity, short_permission
from permaudit.model import COMPONENT_KINDS, AppIcon, Finding, Report, Severity
from permaudit.views.compare import AppColumn
from permaudit.views.reach import REACH_LEVELS, reach_level

CSS = """
:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d1d9e0;
  --head: #f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 1280px; padding: 24px; color: var(--fg); background: #fff;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  overflow-wrap: break-word; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 36px 0 8px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.08em; margin: 20px 0 4px; }
p { margin: 6px 0; }
.meta, .hint { color: var(--muted); }
.hint { font-size: .92em; }
code { font: .88em/1.3 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  overflow-wrap: anywhere; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 8px 0; max-width: 100%; }
table { border-collapse: collapse; font-size: .92em; }
table.full { width: 100%; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--head); }
th[scope=row] { background: var(--head); font-weight: 600; }
th .sub, td .sub { display: block; font-weight: 400; color: var(--muted); font-size: .85em; }
td .via { display: block; margin-top: 2px; }
td .note { display: block; margin-top: 2px; font-style: italic; color: var(--muted); }
nav.toc ul { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0; margin: 8px 0;
  list-style: none; font-size: .92em; }
a { color: #0550ae; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 22em), 1fr));
  gap: 12px; margin: 8px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
.card h3 { margin: 0 0 4px; }
.card p { margin: 4px 0; }
/* reach levels: a mark, words and a colour (plus a pattern for the two ends) */
.mark { display: inline-block; min-width: 1.1em; font-weight: 700; }
.reach-none { background: #fff; color: var(--muted); font-weight: 400;
  background-image: repeating-linear-gradient(45deg, transparent 0 6px, #eef1f4 6px 8px); }
.reach-install { background: #e8ecf0; color: #1f2328; }
.reach-asks { background: #fff1c2; color: #1f2328; }
.reach-background { background: #ffb77a; color: #1f2328; }
.reach-special { background: #6e2594; color: #fff;
  background-image: repeating-linear-gradient(135deg, transparent 0 10px, #5d1f7e 10px 13px); }
td.reach-special .sub { color: #f3e8fb; }
td[class^="reach-"] .sub { color: inherit; }
table.matrix { width: 100%; table-layout: fixed; }
table.matrix thead th:first-child { width: 11em; }
table.matrix td { vertical-align: middle; font-weight: 600; }
table.matrix td .sub { font-weight: 400; }
table.matrix tfoot th, table.matrix tfoot td { border-top: 2px solid var(--fg); }
table.matrix col.c-chg { width: 8.5em; }
table.matrix col.c-codechg { width: 28%; }
table.matrix.one { max-width: 48em; }
td.same { color: var(--muted); font-weight: 400; }
td .codemark { display: block; margin-top: 3px; font-weight: 400; font-size: .85em; }
td .codemark.warn { font-weight: 700; }
td .item { display: block; }
ul.codelegend { margin: 0 0 12px; padding-left: 1.2em; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: 4px 10px;
  margin: 8px 0 12px; font-size: .92em; }
dl.legend dt { padding: 2px 8px; border: 1px solid var(--line); border-radius: 3px;
  font-weight: 600; }
dl.legend dd { margin: 0; align-self: center; }
details { margin: 6px 0; }
details summary { cursor: pointer; color: #0550ae; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; font-weight: 600;
  font-size: .85em; border: 1px solid currentColor; white-space: nowrap; }
.sev-critical { background: #7f1d1d; color: #fff; }
.sev-high { background: #a40e26; color: #fff; }
.sev-medium { background: #ffd8b5; color: #5c2a00; }
.sev-low { background: #fff8c5; color: #3b2e00; }
.sev-info { background: #ddf4ff; color: #0a3069; }
ul.asks { margin: 4px 0; padding-left: 1.2em; }
article.capability { border-top: 1px solid var(--line); padding-top: 4px; }
td.yes { color: #0a3069; font-weight: 600; }
td.no { color: var(--muted); }
td.inactive { color: var(--muted); font-style: italic; }
tr.group-start > * { border-top: 2px solid #8c959f; }
/* diff: a change is marked by a sign and words, and tinted */
tr.changed > th[scope=row] { box-shadow: inset 4px 0 0 #9a6700; }
.chg { display: inline-block; font-weight: 700; white-space: nowrap; }
.chg-gained { background: #ffebe9; color: #82071e; }
.chg-dropped { background: #dafbe1; color: #0f5323; }
.chg-changed { background: #fff8c5; color: #3b2e00; }
table.changes { width: 100%; table-layout: fixed; }
table.changes col.c-what { width: 9em; }
table.changes col.c-sev { width: 6.5em; }
table.changes col.c-subject { width: 30%; }
table.changes td, table.changes th { overflow-wrap: anywhere; }
table.percap { table-layout: fixed; }
table.percap col.c-app { width: 20%; }
table.percap col.c-reach { width: 15%; }
table.percap col.c-access { width: 22%; }
table.percap td, table.percap th { overflow-wrap: anywhere; }
@media (max-width: 640px) {
  body { padding: 10px; font-size: 14px; }
  h1 { font-size: 1.3em; }
  th, td { padding: 4px 5px; }
  table.matrix { font-size: .78em; }
  table.matrix thead th:first-child { width: 6.5em; }
  table.matrix col.c-chg { width: 5.5em; }
  table.matrix td .sub { display: none; }
  table.matrix .sev { white-space: normal; padding: 0 2px; }
  table.matrix td, table.matrix th { overflow-wrap: anywhere; hyphens: auto; }
  table.stack thead, table.stack colgroup { display: none; }
  table.stack, table.stack tbody, table.stack tr, table.stack td,
  table.stack th { display: block; width: 100%; }
  table.stack tr { border: 1px solid var(--line); margin: 0 0 8px; }
  table.stack td, table.stack th[scope=row] { border: 0; padding: 3px 8px; }
  table.stack [data-label]::before { content: attr(data-label) ": "; color: var(--muted);
    font-weight: 400; font-style: normal; }
  table.stack td[class*="chg-"]::before, table.stack td[class^="sev-"]::before {
    color: inherit; }
  dl.legend { grid-template-columns: 1fr; }
  dl.legend dd { margin-bottom: 6px; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  nav.toc { display: none; }
  .scroll { overflow: visible; }
  table { page-break-inside: auto; }
  tr, td, th, .card { page-break-inside: avoid; break-inside: avoid; }
  thead { display: table-header-group; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

#: The header's app icons: a fixed size whatever the file's pixels (a launcher icon's size).
ICON_PX = 48
HEADER_CSS = f"""
ul.app-icons {{ display: flex; flex-wrap: wrap; gap: 8px 18px; list-style: none; padding: 0;
  margin: 10px 0 4px; }}
ul.app-icons li {{ display: flex; align-items: center; gap: 8px; font-weight: 600;
  max-width: 100%; }}
.app-icon {{ width: {ICON_PX}px; height: {ICON_PX}px; flex: none; object-fit: contain;
  border-radius: 10px; }}
span.app-icon {{ display: inline-flex; align-items: center; justify-content: center;
  border: 1px dashed var(--line); color: var(--muted); font-size: 1.3em; }}
"""


def esc(text: object) -> str:
    """``text`` (any value, shown as ``str``) escaped for HTML text and attribute values."""
    return escape(str(text), quote=True)


def breakable(name: str) -> str:
    """``name`` escaped, with a line-break opportunity after each dot, colon and slash."""
    return (
        escape(name, quote=True)
        .replace(".", ".<wbr>")
        .replace(":", ":<wbr>")
        .replace("/", "/<wbr>")
    )


def page(title: str, body: Iterable[str]) -> str:
    """A whole HTML document with the inline stylesheet; ``title`` is escaped here."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}{HEADER_CSS}</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"


def section(section_id: str, heading: str, body: Iterable[str], hint: str = "") -> list[str]:
    """``<section id=...>`` with an ``<h2>`` (``heading`` and ``hint`` are escaped here)."""
    lines = [f'<section id="{esc(section_id)}">', f"<h2>{esc(heading)}</h2>"]
    if hint:
        lines.append(f'<p class="hint">{esc(hint)}</p>')
    return [*lines, *body, "</section>"]


def toc(entries: Sequence[tuple[str, str]]) -> list[str]:
    """Links to the page's sections: ``(id, title)`` pairs."""
    items = "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t in entries)
    return [f'<nav class="toc" aria-label="sections"><ul>{items}</ul></nav>']


def table(
    headers: Sequence[str],
    rows: Iterable[str],
    *,
    css: str = "",
    foot: Iterable[str] = (),
    cols: Sequence[str] = (),
    caption: str = "",
) -> list[str]:
    """A table in a box that scrolls on its own, from escaped header cells and ``<tr>`` rows.

    ``cols`` are ``<col>`` classes (a ``<colgroup>`` that fixes column widths).
    """
    attr = f' class="{css}"' if css else ""
    lines = ['<div class="scroll">', f"<table{attr}>"]
    if caption:
        lines.append(f'<caption class="hint">{esc(caption)}</caption>')
    if cols:
        lines.append("<colgroup>" + "".join(f'<col class="{c}">' for c in cols) + "</colgroup>")
    lines.extend(["<thead><tr>", *headers, "</tr></thead>", "<tbody>", *rows, "</tbody>"])
    foot = list(foot)
    if foot:
        lines.extend(["<tfoot>", *foot, "</tfoot>"])
    lines.extend(["</table>", "</div>"])
    return lines


def th_col(text: str, css: str = "") -> str:
    """A column header cell; ``text`` is escaped here."""
    attr = f' class="{css}"' if css else ""
    return f'<th scope="col"{attr}>{esc(text)}</th>'


def row_header(title: str, sub: str = "") -> str:
    """A row header cell with an optional second, muted line."""
    extra = f'<span class="sub">{esc(sub)}</span>' if sub else ""
    return f'<th scope="row">{breakable(title)}{extra}</th>'


#: What a page says for an app whose manifest has neither versionName nor versionCode.
NO_VERSION = "no version in the manifest"


def app_title(app: AppColumn) -> tuple[str, str]:
    """An app's label and version for a heading (``column_header``, no bare ``?``)."""
    label, version = column_header(app)
    if app.version_name is None and app.version_code is None:
        version = NO_VERSION
    return label, version


def app_header(app: AppColumn, prefix: str = "") -> str:
    """An app's column header: its label (after ``prefix``) and its version."""
    label, version = app_title(app)
    sub = f'<span class="sub">{esc(version)}</span>' if version else ""
    return f'<th scope="col" class="app">{esc(prefix)}{breakable(label)}{sub}</th>'


def app_icon(icon: AppIcon | None, label: str) -> str:
    """The app's launcher icon as an ``<img>`` with a ``data:`` URI (``alt``: its label);
    without an image, a dashed box with the label's first letter and, as its title, why."""
    image = icon.image if icon is not None else None
    if image is None:
        why = icon.note if icon is not None and icon.note else "no launcher icon read"
        initial = label.strip()[:1].upper() or "?"
        return (f'<span class="app-icon" role="img" aria-label="{esc(label)}: no icon" '
                f'title="{esc(why)}">{esc(initial)}</span>')
    data = base64.b64encode(image.data).decode("ascii")
    return (f'<img class="app-icon" src="data:{esc(image.media_type)};base64,{data}" '
            f'alt="{esc(label)}" width="{ICON_PX}" height="{ICON_PX}">')


def header_icons(apps: Sequence[tuple[AppIcon | None, str, str]]) -> list[str]:
    """The header's row of apps, ``(icon, label, caption)`` each: the icon (its ``alt`` the
    app's label) beside the caption; nothing when no app has an icon to show."""
    if not any(icon is not None and icon.image is not None for icon, _, _ in apps):
        return []
    items = "".join(f"<li>{app_icon(icon, label)}<span>{breakable(caption)}</span></li>"
                    for icon, label, caption in apps)
    return [f'<ul class="app-icons" aria-label="apps">{items}</ul>']


def severity_badge(severity: Severity) -> str:
    """A severity as a badge: its word in a coloured, outlined box."""
    return f'<span class="sev sev-{severity.label}">{severity.label}</span>'


def risk_badge(report: Report) -> str:
    """The report's score and level as a badge."""
    severity = risk_severity(report.risk.level)
    return (
        f'<span class="sev sev-{severity.label}">'
        f"{report.risk.score}/100 {esc(report.risk.level)}</span>"
    )


def reach_cell(key: str, detail: str = "", *, attrs: str = "") -> str:
    """A matrix cell of reach level ``key``: mark, words and colour; ``detail`` is escaped."""
    level = reach_level(key)
    sub = f'<span class="sub">{esc(detail)}</span>' if detail else ""
    return (
        f'<td class="reach-{level.key}"{attrs}><span class="mark" aria-hidden="true">'
        f"{esc(level.mark)}</span> {esc(level.label)}{sub}</td>"
    )


def reach_legend() -> list[str]:
    """The key of the matrix: each level's mark and label, and what it means in plain words."""
    lines = ['<dl class="legend">']
    for level in REACH_LEVELS:
        lines.append(
            f'<dt class="reach-{level.key}"><span class="mark" aria-hidden="true">'
            f"{esc(level.mark)}</span> {esc(level.label)}</dt><dd>{esc(level.meaning)}</dd>"
        )
    lines.append("</dl>")
    return lines


def via_text(via: str) -> str:
    """A ``via`` entry, escaped: ``service:a.b.C`` as ``service C`` with the full name kept."""
    kind, sep, name = via.partition(":")
    if sep and kind in COMPONENT_KINDS:
        return f"{esc(kind)} <code>{breakable(name)}</code>"
    return f"<code>{breakable(short_permission(via))}</code>"


def findings_table(findings: Sequence[Finding]) -> list[str]:
    """Findings as a table (severity, what, message), or a sentence when there are none."""
    if not findings:
        return ['<p class="meta">No findings of this kind.</p>']
    rows = [
        "<tr>"
        f'<td data-label="severity">{severity_badge(f.severity)}</td>'
        f'<th scope="row" data-label="finding">{esc(f.title)}'
        f'<span class="sub"><code>{breakable(f.rule)}</code></span></th>'
        f'<td data-label="detail">{esc(f.message)}</td>'
        "</tr>"
        for f in findings
    ]
    headers = [th_col("severity"), th_col("finding"), th_col("what permaudit saw")]
    return table(headers, rows, css="full stack", cols=("c-sev", "c-subject", "c-detail"))


def other_findings(report: Report) -> tuple[Finding, ...]:
    """The report's findings that are not capabilities: hardening, exported, signing, ..."""
    return tuple(f for f in report.findings if not f.rule.startswith("capability."))


def signer_rows(report: Report, label: str) -> list[str]:
    """Rows of the signer table for one app: one per signer certificate, or one saying why not."""
    signing = report.app.signing
    head = row_header(label)
    if signing is None:
        return [f'<tr>{head}<td colspan="4">no signature (a manifest, not an installable file)'
                "</td></tr>"]
    if not signing.signers:
        return [f'<tr>{head}<td colspan="4">unsigned: Android refuses to install it</td></tr>']
    rows = []
    for signer in signing.signers:
        for cert in signer.certificates[:1]:
            debug = " <strong>(debug key)</strong>" if cert.debug else ""
            rows.append(
                f"<tr>{head}"
                f'<td data-label="scheme">{esc(signer.scheme)}</td>'
                f'<td data-label="subject">{esc(cert.subject)}{debug}'
                f'<span class="sub">issuer: {esc(cert.issuer)}</span></td>'
                f'<td data-label="SHA-256"><code>{breakable(cert.sha256)}</code></td>'
                f'<td data-label="valid">{esc(cert.not_before)} to {esc(cert.not_after)}</td>'
                "</tr>"
            )
    if signing.problems:
        problems = "; ".join(signing.problems)
        rows.append(f'<tr>{head}<td colspan="4"><strong>ambiguous:</strong> '
                    f"{esc(problems)}</td></tr>")
    return rows


def signer_table(reports: Sequence[Report], labels: Sequence[str]) -> list[str]:
    """Who signed each app: scheme, certificate subject and issuer, SHA-256, validity."""
    rows = [r for report, label in zip(reports, labels, strict=True)
            for r in signer_rows(report, label)]
    headers = [th_col(h) for h in ("app", "scheme", "certificate", "SHA-256", "valid")]
    return table(headers, rows, css="full stack")
