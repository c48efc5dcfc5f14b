"""The sections of an overview page, shared by ``compare`` and ``scan``'s one-app page.

Summary, reach matrix, what each capability means, other findings, signers, trackers and
servers, inputs, permission tables; built from the widgets and escaper of
``html.common`` (the diff page uses those too, never this module).
"""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.formatters.compare_rows import (
    count_headers,
    counts_row,
    groups,
    ruleset_text,
)
from permaudit.formatters.html.code import (
    code_evidence,
    code_legend_html,
    code_table,
    with_code_mark,
)
from permaudit.formatters.html.common import (
    app_header,
    app_title,
    breakable,
    esc,
    findings_table,
    header_icons,
    other_findings,
    page,
    reach_cell,
    reach_legend,
    risk_badge,
    row_header,
    section,
    severity_badge,
    signer_table,
    table,
    th_col,
    toc,
    via_text,
)
from permaudit.formatters.labels import short_permission
from permaudit.model import sdk_text
from permaudit.views.compare import Comparison, PermissionCell


def summary_cards(comparison: Comparison) -> list[str]:
    """Per app, a card with its label, version, score and the view's summary sentences."""
    lines = ['<div class="summary">']
    for app, report, sentences in zip(
        comparison.apps, comparison.reports, comparison.summaries, strict=True
    ):
        label, version = app_title(app)
        lines.append(f'<div class="card"><h3>{breakable(label)} '
                     f'<span class="meta">{esc(version)}</span></h3>')
        lines.append(f"<p>{risk_badge(report)}</p>")
        lines.extend(f"<p>{esc(s)}</p>" for s in sentences)
        lines.append("</div>")
    lines.append("</div>")
    return lines


def apps_table(comparison: Comparison) -> list[str]:
    """Which inputs: package, version, SDK levels, file and score."""
    rows = []
    for app, report in zip(comparison.apps, comparison.reports, strict=True):
        manifest = report.app.manifest
        version = app.version if app.version != "?" else app_title(app)[1]
        rows.append(
            "<tr>"
            + row_header(app.label)
            + f'<td data-label="version">{esc(version)}</td>'
            + f'<td data-label="minSdk">{sdk_text(manifest.min_sdk)}</td>'
            + f'<td data-label="targetSdk">{sdk_text(manifest.target_sdk)}</td>'
            + f'<td data-label="input"><code>{breakable(app.path)}</code></td>'
            + f'<td data-label="risk">{risk_badge(report)}</td>'
            + "</tr>"
        )
    headers = [th_col(h) for h in ("app", "version", "minSdk", "targetSdk", "input", "risk")]
    return table(headers, rows, css="full stack")


def matrix(comparison: Comparison) -> list[str]:
    """Capabilities by apps: how far each app reaches each one (mark, words, colour)."""
    rows = []
    for row in comparison.capability_rows:
        cells = "".join(
            with_code_mark(reach_cell(cell.reach, ", ".join(cell.access)), cell.code)
            for cell in row.cells
        )
        rows.append(
            f'<tr data-capability="{esc(row.id)}">'
            f'{row_header(row.title, row.severity.label)}{cells}</tr>'
        )
    risk = "".join(f"<td>{risk_badge(r)}</td>" for r in comparison.reports)
    network = "".join(
        "<td>" + "<br>".join(esc(line) for line in app.network) + "</td>"
        for app in comparison.apps
    )
    foot = [f"<tr>{row_header('risk score')}{risk}</tr>",
            f"<tr>{row_header('network security')}{network}</tr>"]
    headers = [th_col("capability"), *(app_header(a) for a in comparison.apps)]
    css = "matrix one" if len(comparison.apps) == 1 else "matrix"
    return table(headers, rows, css=css, foot=foot)


def capability_details(comparison: Comparison) -> list[str]:
    """Per capability: what it means, what Android asks, and how each app reaches it."""
    lines = []
    for row in comparison.capability_rows:
        lines.append(f'<article class="capability" id="cap-{esc(row.id)}">')
        lines.append(f"<h3>{esc(row.title)} {severity_badge(row.severity)}</h3>")
        if row.rationale:
            lines.append(f"<p>{esc(row.rationale)}</p>")
        if row.asks:
            items = "".join(f"<li>{via_text(a.subject)}: {esc(a.text)}</li>" for a in row.asks)
            lines.append(f'<p>What Android asks the user:</p><ul class="asks">{items}</ul>')
        trs = []
        for app, cell in zip(comparison.apps, row.cells, strict=True):
            via = ", ".join(via_text(v) for v in cell.via) or "-"
            notes = "".join(f'<span class="note">{esc(n)}</span>' for n in cell.notes)
            access = esc(", ".join(cell.access)) or "-"
            trs.append(
                "<tr>"
                + row_header(app.label)
                + reach_cell(cell.reach, attrs=' data-label="reach"')
                + f'<td data-label="access">{access}</td>'
                + f'<td data-label="through">{via}{notes}</td>'
                + "</tr>"
            )
        headers = [th_col(h) for h in ("app", "reach", "access", "through")]
        lines.extend(table(headers, trs, css="full stack percap",
                           cols=("c-app", "c-reach", "c-access", "c-through")))
        lines.append("</article>")
    if not comparison.capability_rows:
        lines.append("<p>No app reaches any capability of the ruleset.</p>")
    return lines


def findings_by_app(comparison: Comparison) -> list[str]:
    """Each app's findings that are not capabilities."""
    lines = []
    for app, report in zip(comparison.apps, comparison.reports, strict=True):
        lines.append(f"<h3>{breakable(app.label)}</h3>")
        lines.extend(findings_table(other_findings(report)))
    return lines


def code_by_app(comparison: Comparison) -> list[str]:
    """Side by side (several apps), then each app's trackers, servers, code use, libraries."""
    lines = []
    if len(comparison.apps) > 1 and comparison.code:
        lines.extend(code_table(comparison.apps, comparison.code))
    for app, report in zip(comparison.apps, comparison.reports, strict=True):
        lines.append(f"<h3>{breakable(app.label)}</h3>")
        lines.extend(code_evidence(report))
    return lines


def _permission_class(cell: PermissionCell) -> str:
    if not cell.requested:
        return "no"
    return "yes" if cell.applies else "inactive"


def permissions_table(comparison: Comparison) -> list[str]:
    """Every permission requested by any app, grouped by capability, one column per app."""
    rows = []
    for _, title, indexes in groups(comparison):
        for position, index in enumerate(indexes):
            row = comparison.permission_rows[index]
            css = ' class="group-start"' if position == 0 else ""
            group = esc(title) if position == 0 else ""
            cells = "".join(
                f'<td class="{_permission_class(cell)}">{esc(cell.text)}</td>'
                for cell in row.cells
            )
            rows.append(
                f"<tr{css}><td>{group}</td>"
                f'<th scope="row"><code>{breakable(short_permission(row.name))}</code></th>'
                f"<td>{esc(row.protection_class)}</td>{cells}</tr>"
            )
    headers = [
        th_col("capability"), th_col("permission"), th_col("class"),
        *(app_header(a) for a in comparison.apps),
    ]
    return table(headers, rows)


def counts_table(comparison: Comparison) -> list[str]:
    """How many permission elements each app has, by kind."""
    rows = [
        "<tr>"
        + row_header(app.label)
        + "".join(f"<td>{n}</td>" for n in counts_row(counts))
        + "</tr>"
        for app, counts in zip(comparison.apps, comparison.counts, strict=True)
    ]
    headers = [th_col(h) for h in ["app", *count_headers(comparison.device_sdk)]]
    return table(headers, rows)


#: The hint under the permission table.
PERMISSIONS_HINT = (
    "sdk-23: requested only on API 23+; max API N: only up to API N; implied: added by the "
    "platform for an old target SDK; (inactive): not granted on the device level; -: not "
    "requested. class: runtime (a prompt), special (a switch in Settings), install (granted "
    "silently), signature (never granted to an ordinary app), unknown (not a platform "
    "permission)."
)


def overview_sections(comparison: Comparison) -> list[tuple[str, str, list[str], str]]:
    """The sections both overview pages show, as ``(id, heading, body, hint)``."""
    return [
        ("summary", "In short", summary_cards(comparison),
         "Generated from the report: what each app reaches, by how far, then its code, its "
         "other findings, its signer and its score."),
        ("matrix", "How far it reaches" if len(comparison.apps) == 1
         else "How far each app reaches",
         [*reach_legend(), *(code_legend_html() if comparison.code else []), *matrix(comparison)],
         "One row per capability, one column per app. Each cell shows a mark and words; "
         "the colour only repeats them."),
        ("capabilities", "What each capability means", capability_details(comparison),
         "The ruleset's explanation, what Android asks the user before the app gets it "
         "(from each permission's protection level in the platform catalog), and how each "
         "app reaches it."),
        ("findings", "Other findings", findings_by_app(comparison),
         "Hardening, exported components, signing and the rest: everything that is not a "
         "capability."),
        ("signers", "Who signed it", signer_table(comparison.reports,
                                                  [a.label for a in comparison.apps]),
         "The signing certificate of each app; apps from one developer share it."),
        ("code", "Trackers, servers and code", code_by_app(comparison),
         "Static evidence from the app's code: built-in tracker SDKs (classes it ships or "
         "names), the servers its strings name with their owners and countries where known, "
         "whether the code references the APIs of what the manifest asks for, and its "
         "native libraries. Found in the code is not proof it runs."),
        ("permissions", "Permissions by capability", permissions_table(comparison),
         PERMISSIONS_HINT),
        ("counts", "Permission counts", counts_table(comparison), ""),
    ]


def overview_page(comparison: Comparison, *, title: str, heading: str,
                  extra: Sequence[tuple[str, str, list[str], str]] = ()) -> str:
    """A whole overview page: header, contents, the shared sections, then ``extra``."""
    meta = (
        f"Device API level {comparison.device_sdk} · ruleset "
        f"{ruleset_text(comparison.ruleset)} · permaudit {comparison.tool_version}"
    )
    sections = [*overview_sections(comparison)]
    sections.insert(6, ("apps", "The inputs", apps_table(comparison), ""))
    sections.extend(extra)
    icons = header_icons([(r.app.icon, a.app_label or a.label, a.label) for a, r in zip(
        comparison.apps, comparison.reports, strict=True)])
    body = ["<header>", *icons, f"<h1>{esc(heading)}</h1>", f'<p class="meta">{esc(meta)}</p>',
            *toc([(s[0], s[1]) for s in sections]), "</header>", "<main>"]
    for section_id, head, lines, hint in sections:
        body.extend(section(section_id, head, lines, hint))
    body.append("</main>")
    return page(title, body)
