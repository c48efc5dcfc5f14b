"""The terminal view of ``permaudit compare``: blocks of tables fitted to the terminal width.

Each block is a table when it fits ``width``; otherwise (a narrow terminal, many apps) one
block per row lists which apps share each value (``layout.matrix``), so a comparison of
hundreds of apps never prints a line wider than the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.formatters.compare_rows import (
    capability_lines,
    column_header,
    count_headers,
    counts_row,
    finding_lines,
    finding_row_title,
    groups,
    ruleset_text,
    short_list,
)
from permaudit.formatters.labels import bold, paint, risk_severity, short_permission
from permaudit.formatters.text.layout import (
    DEFAULT_WIDTH,
    Cell,
    CellLike,
    Style,
    matrix,
    table,
    wrap,
)
from permaudit.model import Severity, sdk_text
from permaudit.views.code import CodeColumn, code_legend, code_mark, cut, size_text
from permaudit.views.compare import Comparison

Row = tuple[Sequence[CellLike], Sequence[CellLike]]


def _painter(severity: Severity | None, color: bool) -> Style | None:
    """A style painting text in ``severity``'s colour, or none without colour."""
    if not color or severity is None:
        return None
    return lambda text: paint(text, severity, color=True)


def _bold(color: bool) -> Style | None:
    """A style making text bold, or none without colour."""
    return (lambda text: bold(text, color=True)) if color else None


def _columns(comparison: Comparison) -> list[str]:
    return ["\n".join(filter(None, column_header(a))) for a in comparison.apps]


def _names(comparison: Comparison) -> list[str]:
    """How the one-block-per-row layout names the apps: their unique labels."""
    return [a.label for a in comparison.apps]


def _apps_block(comparison: Comparison, width: int) -> list[str]:
    rows: list[list[CellLike]] = []
    for index, (app, report) in enumerate(
        zip(comparison.apps, comparison.reports, strict=True), start=1
    ):
        manifest = report.app.manifest
        rows.append(
            [index, app.label, app.version, sdk_text(manifest.min_sdk),
             sdk_text(manifest.target_sdk), app.signer, app.path]
        )
    headers = ["#", "app", "version", "minSdk", "targetSdk", "signer", "input"]
    return table(headers, rows, width, right=(0, 3, 4), keys=(0, 1, 2)) or []


def _capability_block(comparison: Comparison, width: int, *, color: bool) -> list[str]:
    rows: list[Row] = []
    for row in comparison.capability_rows:
        title = Cell(
            f"{row.title}\n({row.id}, {row.severity.label})", _painter(row.severity, color)
        )
        cells = [
            Cell("\n".join([*capability_lines(c), *([f"code {code_mark(c.code)}"] * bool(c.code))]),
                 _painter(c.severity, color))
            for c in row.cells
        ]
        rows.append(([title], cells))
    risk = [
        Cell(f"{r.risk.score} ({r.risk.level})", _painter(risk_severity(r.risk.level), color))
        for r in comparison.reports
    ]
    rows.append(([Cell("risk score", _bold(color))], risk))
    rows.append(([Cell("network security")], [Cell("\n".join(a.network)) for a in comparison.apps]))
    return matrix(["capability"], _columns(comparison), rows, width, grid=True,
                  names=_names(comparison))


def _findings_block(comparison: Comparison, width: int, *, color: bool) -> list[str]:
    if not comparison.finding_rows:
        return ["none"]
    rows: list[Row] = []
    for row in comparison.finding_rows:
        title = Cell("\n".join(finding_row_title(row)), _painter(row.severity, color))
        cells = [
            Cell(
                "\n".join(finding_lines(c)),
                _painter(max(f.severity for f in c.findings), color) if c.found else None,
            )
            for c in row.cells
        ]
        rows.append(([title], cells))
    return matrix(["finding"], _columns(comparison), rows, width, grid=True,
                  names=_names(comparison))


def _code_cell(column: CodeColumn, texts: tuple[str, ...], none: str) -> str:
    if not column.read:
        return "code not read"
    return "\n".join(texts) if texts else none


def _code_block(comparison: Comparison, width: int) -> list[str]:
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
    rows: list[Row] = [
        ([Cell("trackers")], [Cell(t) for t in trackers]),
        ([Cell("servers of")], [Cell(s) for s in servers]),
        ([Cell("server countries")], [Cell(s) for s in countries]),
        ([Cell("code uses, not requested")], [Cell(s) for s in unasked]),
        ([Cell("native libraries")], [Cell(s) for s in native]),
    ]
    return matrix(["in the code"], _columns(comparison), rows, width, grid=True,
                  names=_names(comparison))


def _code_legend(comparison: Comparison, width: int) -> list[str]:
    """The code marks' meanings, when any app's code was read."""
    if not comparison.code:
        return []
    lines = wrap("code marks (API references in the DEX; a reference is not proof the call "
                 "runs):", width, subsequent="")
    for entry in code_legend():
        lines.extend(wrap(entry, width, indent="  ", subsequent="    "))
    return lines


def _permission_block(comparison: Comparison, width: int, *, color: bool) -> list[str]:
    rows: list[Row] = []
    for _, title, indexes in groups(comparison):
        rows.append(([Cell(f"-- {title}", _bold(color)), ""], ["" for _ in comparison.apps]))
        for index in indexes:
            row = comparison.permission_rows[index]
            rows.append(
                ([short_permission(row.name), row.protection_class],
                 [cell.text for cell in row.cells])
            )
    return matrix(["capability / permission", "class"], _columns(comparison), rows, width,
                  names=_names(comparison))


def _exclusives_block(comparison: Comparison, width: int) -> list[str]:
    lines = []
    for app, only in zip(comparison.apps, comparison.exclusives, strict=True):
        lines.extend(wrap(" ".join(filter(None, column_header(app))) + ":", width))
        caps = ", ".join(only.capabilities) or "none"
        perms = short_list(only.permissions) or "none"
        lines.extend(wrap(f"capabilities: {caps}", width, indent="  ", subsequent=" " * 16))
        lines.extend(wrap(f"permissions:  {perms}", width, indent="  ", subsequent=" " * 16))
    return lines


def _counts_block(comparison: Comparison, width: int) -> list[str]:
    rows: list[list[CellLike]] = [
        [app.label, *counts_row(counts)]
        for app, counts in zip(comparison.apps, comparison.counts, strict=True)
    ]
    headers = ["app", *count_headers(comparison.device_sdk)]
    return table(headers, rows, width, right=range(1, len(headers))) or []


def render(result: Comparison, *, color: bool = False, width: int = DEFAULT_WIDTH) -> str:
    """Render ``result`` for a terminal ``width`` columns wide; ANSI colour when ``color``."""
    title = (
        f"permaudit compare: {len(result.apps)} apps on a device with API level "
        f"{result.device_sdk}; ruleset {ruleset_text(result.ruleset)}"
    )
    legend = (
        "sdk-23: only through uses-permission-sdk-23 (API 23+); max API N: "
        "maxSdkVersion; implied: added by the platform for an old target SDK; "
        f"(inactive): not granted on API {result.device_sdk}; -: not requested"
    )
    sections = [
        ([bold(line, color=color) for line in wrap(title, width)], _apps_block(result, width)),
        (
            [bold("What each app can reach (capability, how far, through what)", color=color),
             *_code_legend(result, width)],
            _capability_block(result, width, color=color),
        ),
        (
            [bold(line, color=color) for line in wrap(
                "Trackers and servers in the code (classes and strings in the DEX, not proof "
                "they run; servers by owner and country)", width, subsequent="")],
            _code_block(result, width),
        ),
        (
            [bold("Findings: hardening, exported components, signing", color=color)],
            _findings_block(result, width, color=color),
        ),
        (
            [bold("Permissions by capability", color=color), *wrap(legend, width, subsequent="")],
            _permission_block(result, width, color=color),
        ),
        (
            [bold("Only in one app (capabilities, then requested permissions)", color=color)],
            _exclusives_block(result, width),
        ),
        ([bold("Permission counts", color=color)], _counts_block(result, width)),
    ]
    blocks = []
    for heading, body in sections:
        if not body:  # e.g. no app's code was read
            continue
        blocks.append("\n".join([*heading, *body]))
    return "\n\n".join(blocks) + "\n"
