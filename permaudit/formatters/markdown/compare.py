"""``permaudit compare`` as GitHub-flavoured markdown, ready to paste into a pull request."""

from __future__ import annotations

from permaudit.formatters.compare_rows import (
    column_header,
    count_headers,
    counts_row,
    finding_text,
    groups,
    md_code,
    md_escape,
    md_table,
    ruleset_text,
)
from permaudit.formatters.labels import short_permission
from permaudit.model import sdk_text
from permaudit.views.code import CodeColumn, code_legend, code_mark, cut, size_text
from permaudit.views.compare import CapabilityCell, Comparison


def _app_headers(comparison: Comparison) -> list[str]:
    return [
        "<br>".join(md_escape(part) for part in column_header(app) if part)
        for app in comparison.apps
    ]


def _apps(comparison: Comparison) -> list[str]:
    rows = [
        [
            str(index),
            md_escape(app.label),
            md_escape(app.version),
            sdk_text(report.app.manifest.min_sdk),
            sdk_text(report.app.manifest.target_sdk),
            md_code(app.path),
            md_escape(app.signer),
        ]
        for index, (app, report) in enumerate(
            zip(comparison.apps, comparison.reports, strict=True), start=1
        )
    ]
    return md_table(["#", "app", "version", "minSdk", "targetSdk", "input", "signer"], rows)


def _capability_cell(cell: CapabilityCell) -> str:
    if not cell.reached:
        return _code_cell_only(cell)
    lines = [f"**{md_escape(cell.level)}**"]
    if cell.via:
        lines.append("via " + ", ".join(md_code(short_permission(v)) for v in cell.via))
    lines.extend(f"_{md_escape(note)}_" for note in cell.notes)
    if cell.code is not None:
        lines.append(f"code {md_escape(code_mark(cell.code))}")
    return "<br>".join(lines)


def _code_cell_only(cell: CapabilityCell) -> str:
    """An unreached cell: ``-``, with the code mark when the code was read."""
    if cell.code is None:
        return md_escape(cell.level)
    return f"{md_escape(cell.level)}<br>code {md_escape(code_mark(cell.code))}"


def _legend(comparison: Comparison) -> list[str]:
    """The code marks' meanings, when any app's code was read."""
    if not comparison.code:
        return []
    return ["Code marks (API references in the DEX; a reference is not proof the call runs):",
            "", *(f"- {md_escape(entry)}" for entry in code_legend()), ""]


def _code_cell(column: CodeColumn, texts: tuple[str, ...], none: str) -> str:
    if not column.read:
        return "code not read"
    return "<br>".join(md_escape(t) for t in texts) if texts else none


def _code(comparison: Comparison) -> list[str]:
    """Trackers and server owners per app; empty when no app's code was read."""
    if not comparison.code:
        return []
    trackers = [
        _code_cell(c, tuple(t.text for t in c.trackers), "none found") for c in comparison.code
    ]
    servers = [_code_cell(c, c.owners_text, "none named") for c in comparison.code]
    countries = [_code_cell(c, c.countries, "none known") for c in comparison.code]
    unasked = [_code_cell(c, c.unrequested, "none") for c in comparison.code]
    native = [
        _code_cell(c, tuple(f"{cut(g.name, 60)} ({', '.join(g.abis)}; {size_text(g.size)})"
                            for g in c.native), "none")
        for c in comparison.code
    ]
    return [
        "### Trackers and servers in the code",
        "",
        "Tracker SDKs by class prefix (maker and country in brackets), and the owners of the "
        "servers the code's strings name: static evidence, not proof they run.",
        "",
        *md_table(
            ["in the code", *_app_headers(comparison)],
            [["trackers", *trackers], ["servers of", *servers],
             ["server countries", *countries], ["code uses, not requested", *unasked],
             ["native libraries", *native]],
        ),
        "",
    ]


def _capabilities(comparison: Comparison) -> list[str]:
    rows = []
    for row in comparison.capability_rows:
        cells = [_capability_cell(cell) for cell in row.cells]
        rows.append([f"{md_escape(row.title)} ({row.severity.label})", *cells])
    risk = [f"**{r.risk.score}** ({md_escape(r.risk.level)})" for r in comparison.reports]
    rows.append(["**risk score**", *risk])
    rows.append(["network security",
                 *("<br>".join(md_escape(line) for line in a.network) for a in comparison.apps)])
    return md_table(["capability", *_app_headers(comparison)], rows)


def _findings(comparison: Comparison) -> list[str]:
    if not comparison.finding_rows:
        return ["No hardening, exported-component or signing findings."]
    rows = []
    for row in comparison.finding_rows:
        cells = [
            "<br>".join(md_escape(finding_text(f)) for f in cell.findings) or "-"
            for cell in row.cells
        ]
        title = f"{md_escape(row.title)} ({md_code(row.rule)}, {row.severity.label})"
        rows.append([title, *cells])
    return md_table(["finding", *_app_headers(comparison)], rows)


def _permissions(comparison: Comparison) -> list[str]:
    rows = []
    for _, title, indexes in groups(comparison):
        for position, index in enumerate(indexes):
            row = comparison.permission_rows[index]
            rows.append(
                [
                    md_escape(title) if position == 0 else "",
                    md_code(short_permission(row.name)),
                    md_escape(row.protection_class),
                    *(md_escape(cell.text) for cell in row.cells),
                ]
            )
    return md_table(["capability", "permission", "class", *_app_headers(comparison)], rows)


def _exclusives(comparison: Comparison) -> list[str]:
    rows = [
        [
            md_escape(" ".join(filter(None, column_header(app)))),
            ", ".join(md_code(c) for c in only.capabilities) or "none",
            ", ".join(md_code(short_permission(p)) for p in only.permissions) or "none",
        ]
        for app, only in zip(comparison.apps, comparison.exclusives, strict=True)
    ]
    return md_table(
        ["app", "capabilities only this app reaches", "permissions only it requests"], rows
    )


def _counts(comparison: Comparison) -> list[str]:
    rows = [
        [md_escape(app.label), *(str(n) for n in counts_row(counts))]
        for app, counts in zip(comparison.apps, comparison.counts, strict=True)
    ]
    return md_table(["app", *count_headers(comparison.device_sdk)], rows)


def render(result: Comparison, *, color: bool = False) -> str:
    """Render ``result`` as markdown (``color`` is ignored)."""
    del color
    lines = [
        f"## permaudit compare: {len(result.apps)} apps",
        "",
        f"Device API level {result.device_sdk}; ruleset {md_escape(ruleset_text(result.ruleset))}; "
        f"permaudit {md_escape(result.tool_version)}.",
        "",
        *_apps(result),
        "",
        "### What each app can reach",
        "",
        "How far each app reaches each capability, and through which permissions or manifest "
        "features; `-` means it does not.",
        "",
        *_legend(result),
        *_capabilities(result),
        "",
        "### Findings: hardening, exported components, signing",
        "",
        *_findings(result),
        "",
        *_code(result),
        "### Permissions by capability",
        "",
        "`sdk-23`: requested only through `uses-permission-sdk-23`; `max API N`: only up to "
        "API N (`maxSdkVersion`); `implied`: added by the platform for an old target SDK.",
        "",
        *_permissions(result),
        "",
        "### Only in one app",
        "",
        *_exclusives(result),
        "",
        "### Permission counts",
        "",
        *_counts(result),
    ]
    return "\n".join(lines) + "\n"
