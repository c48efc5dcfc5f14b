"""``permaudit diff`` as one self-contained HTML page: old vs new, and every change marked.

Same page rules as the compare page (inline CSS, no scripts, no network, every value
escaped): the stylesheet, escaper and widgets come from ``html.common``. A change is
shown by a sign and words (``+ gained``, ``- dropped``, ``~ changed``) and a tint, never by
colour alone; capabilities are named by their titles, not their ids.
"""

from __future__ import annotations

from permaudit.formatters.compare_rows import (
    change_counts,
    change_label,
    change_subject,
    column_header,
    no_changes_text,
    ruleset_text,
    value_text,
)
from permaudit.formatters.html.code import code_legend_html, code_table, with_code_mark
from permaudit.formatters.html.common import (
    app_header,
    app_title,
    breakable,
    esc,
    header_icons,
    page,
    reach_cell,
    reach_legend,
    risk_badge,
    row_header,
    section,
    severity_badge,
    table,
    th_col,
    toc,
)
from permaudit.model import AppIcon, Report, sdk_text
from permaudit.views.changes import CAPABILITY_KINDS, CAPABILITY_SUBJECT_KINDS, direction
from permaudit.views.code import cell_verdicts, code_column
from permaudit.views.compare import NOT_REACHED, capability_cell, capability_sort_key
from permaudit.views.diff import Change, Diff
from permaudit.views.summary import summary_sentences

#: The sign and words of each direction of a change.
SIGNS = {"gained": ("+", "gained"), "dropped": ("-", "dropped"), "changed": ("~", "changed")}


def _sign(kind: str) -> str:
    mark, words = SIGNS[kind]
    return f'<span class="chg" aria-hidden="true">{mark}</span> {words}'


def _summary(diff: Diff) -> list[str]:
    counts = {key: 0 for key in SIGNS}
    for change in diff.changes:
        counts[direction(change.kind)] += 1
    total = len(diff.changes)
    lines = [
        f"<p>{total} change{'' if total == 1 else 's'}: {counts['gained']} gained, "
        f"{counts['dropped']} dropped, {counts['changed']} changed. Risk "
        f"{risk_badge(diff.old_report)} → {risk_badge(diff.new_report)}.</p>",
        '<div class="summary">',
    ]
    for name, app, report in (("old", diff.old, diff.old_report),
                              ("new", diff.new, diff.new_report)):
        label, version = app_title(app)
        lines.append(f'<div class="card"><h3>{esc(name)}: {breakable(label)} '
                     f'<span class="meta">{esc(version)}</span></h3>')
        lines.extend(f"<p>{esc(s)}</p>" for s in summary_sentences(report, app.label))
        lines.append("</div>")
    lines.append("</div>")
    return lines


def _sides(diff: Diff) -> list[str]:
    rows = []
    for name, app, report in (
        ("old", diff.old, diff.old_report),
        ("new", diff.new, diff.new_report),
    ):
        manifest = report.app.manifest
        rows.append(
            f'<tr><th scope="row">{name}</th>'
            f"<td data-label=\"app\">{esc(' '.join(filter(None, column_header(app))))}</td>"
            f'<td data-label="minSdk">{sdk_text(manifest.min_sdk)}</td>'
            f'<td data-label="targetSdk">{sdk_text(manifest.target_sdk)}</td>'
            f'<td data-label="risk">{risk_badge(report)}</td>'
            f'<td data-label="input"><code>{breakable(app.path)}</code></td></tr>'
        )
    headers = [th_col(h) for h in ("build", "app", "minSdk", "targetSdk", "risk", "input")]
    return table(headers, rows, css="full stack")


def _matrix(diff: Diff) -> list[str]:
    old = {hit.id: hit for hit in diff.old_report.capabilities}
    new = {hit.id: hit for hit in diff.new_report.capabilities}
    # Code marks only when the code was compared: one side's "not read" is no change.
    old_code = cell_verdicts(diff.old_report) if diff.code_compared else {}
    new_code = cell_verdicts(diff.new_report) if diff.code_compared else {}
    rows = []
    for cap in sorted(old.keys() | new.keys(), key=capability_sort_key):
        title = (new.get(cap) or old[cap]).title
        was = capability_cell(diff.old_report, old.get(cap), old_code.get(cap))
        now = capability_cell(diff.new_report, new.get(cap), new_code.get(cap))
        if was.level == NOT_REACHED:
            kind = "gained"
        elif now.level == NOT_REACHED:
            kind = "dropped"
        elif (was.reach, set(was.access), was.code) != (now.reach, set(now.access), now.code):
            kind = "changed"
        else:
            kind = ""
        if kind:
            mark = f'<td class="chg-{kind}">{_sign(kind)}</td>'
        else:
            mark = '<td class="same">same</td>'
        css = ' class="changed"' if kind else ""
        rows.append(
            f'<tr{css} data-capability="{esc(cap)}">{row_header(title)}'
            f"{with_code_mark(reach_cell(was.reach, ', '.join(was.access)), was.code)}"
            f"{with_code_mark(reach_cell(now.reach, ', '.join(now.access)), now.code)}{mark}</tr>"
        )
    headers = [
        th_col("capability"),
        app_header(diff.old, "old: "),
        app_header(diff.new, "new: "),
        th_col("change"),
    ]
    return table(headers, rows, css="matrix", cols=("c-cap", "c-side", "c-side", "c-chg"))


def _subject(change: Change, titles: dict[str, str]) -> str:
    if (change.kind in CAPABILITY_KINDS or change.kind in CAPABILITY_SUBJECT_KINDS) and (
        change.subject in titles
    ):
        return esc(titles[change.subject])
    return f"<code>{breakable(change_subject(change))}</code>"


def _changes(diff: Diff) -> list[str]:
    titles = {
        hit.id: hit.title
        for report in (diff.old_report, diff.new_report)
        for hit in report.capabilities
    }
    rows = []
    for change in diff.changes:
        kind = direction(change.kind)
        rows.append(
            f'<tr class="chg-{kind}">'
            f'<td data-label="change" class="chg-{kind}">{_sign(kind)}'
            f'<span class="sub">{esc(change_label(change.kind))}</span></td>'
            f'<td data-label="severity">{severity_badge(change.severity)}</td>'
            f'<th scope="row" data-label="subject">{_subject(change, titles)}</th>'
            f'<td data-label="old">{esc(value_text(change.old))}</td>'
            f'<td data-label="new">{esc(value_text(change.new))}</td>'
            "</tr>"
        )
    headers = [th_col(h) for h in ("change", "severity", "what", "old", "new")]
    return table(headers, rows, css="changes stack",
                 cols=("c-what", "c-sev", "c-subject", "c-old", "c-new"))


def _icons(diff: Diff) -> list[tuple[AppIcon | None, str, str]]:
    """The old build's icon and, when it differs, the new one's."""
    old, new = diff.old_report.app.icon, diff.new_report.app.icon
    old_label = diff.old_report.app.manifest.label or diff.old.title
    new_label = diff.new_report.app.manifest.label or diff.new.title
    same = (old.image.sha256 if old and old.image else None) == (
        new.image.sha256 if new and new.image else None)
    if same:
        return [(new, new_label, diff.new.title)]
    return [(old, old_label, f"{diff.old.title} {diff.old.version}"),
            (new, new_label, f"{diff.new.title} {diff.new.version}")]


def _code(diff: Diff) -> list[str]:
    """The two builds' code side by side, rows that differ marked; or why it was not compared."""
    if not diff.code_compared:
        return [f'<p class="hint"><strong>Not compared.</strong> {esc(diff.code_note or "")}</p>']
    columns = (code_column(diff.old_report), code_column(diff.new_report))
    return code_table((diff.old, diff.new), columns, ("old: ", "new: "), mark_changes=True)


def _report_risk(report: Report) -> str:
    return f"{report.risk.score} ({report.risk.level})"


def render(result: Diff, *, color: bool = False) -> str:
    """Render ``result`` as a standalone HTML page (``color`` is ignored: always coloured)."""
    del color
    title = f"{result.old.title} {result.old.version} → {result.new.version}"
    meta = (
        f"Device API level {result.device_sdk} · ruleset {ruleset_text(result.ruleset)} · "
        f"permaudit {result.tool_version} · risk {_report_risk(result.old_report)} → "
        f"{_report_risk(result.new_report)}"
    )
    builds = _sides(result)
    if not result.same_package:
        builds.append(
            '<p class="hint"><strong>Note:</strong> the two inputs are different packages.</p>'
        )
    if result.changes:
        changes = _changes(result)
        heading = f"{len(result.changes)} changes ({change_counts(result)})"
    else:
        changes = [f"<p>{esc(no_changes_text(result))}</p>"]
        heading = "No changes"
    sections = [
        ("summary", "In short", _summary(result), ""),
        ("builds", "The two builds", builds, ""),
        ("matrix", "Capabilities before and after",
         [*reach_legend(), *(code_legend_html() if result.code_compared else []),
          *_matrix(result)],
         "Rows that differ are marked in the last column and by a bar on the left."),
        ("code", "Trackers, servers and code before and after", _code(result),
         "Static evidence from each build's code: tracker SDKs, the owners and countries of "
         "the servers its strings name, APIs used without the manifest asking, native "
         "libraries. Rows that differ are marked."),
        ("changes", heading, changes,
         "+ gained: the new build has more; - dropped: it has less; ~ changed: neither."),
    ]
    body = ["<header>", *header_icons(_icons(result)), f"<h1>What changed: {esc(title)}</h1>",
            f'<p class="meta">{esc(meta)}</p>', *toc([(s[0], s[1]) for s in sections]),
            "</header>", "<main>"]
    for section_id, head, lines, hint in sections:
        body.extend(section(section_id, head, lines, hint))
    body.append("</main>")
    return page(f"permaudit diff: {title}", body)
