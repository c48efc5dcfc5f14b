"""The terminal view of ``permaudit compare``: three blocks of tables for a wide terminal."""

from __future__ import annotations

from tabulate import tabulate

from permaudit.formatters.compare_rows import (
    capability_lines,
    column_header,
    count_headers,
    counts_row,
    groups,
    ruleset_text,
    short_list,
    wrap_lines,
)
from permaudit.formatters.labels import bold, paint, risk_severity, short_permission
from permaudit.model import sdk_text
from permaudit.views.code import CodeColumn
from permaudit.views.compare import Comparison

#: The terminal width the tables aim for; cells wrap to share it between the apps.
WIDTH = 160
FIRST_COLUMN = 24


def _cell_width(apps: int, first: int = FIRST_COLUMN) -> int:
    """Width of one app's cell so that the grid table stays within ``WIDTH``."""
    borders = 3 * (apps + 1) + 1
    return max(20, (WIDTH - first - borders) // apps)


def _headers(comparison: Comparison, first: list[str]) -> list[str]:
    return [*first, *("\n".join(filter(None, column_header(a))) for a in comparison.apps)]


def _apps_block(comparison: Comparison) -> list[str]:
    rows = []
    for index, (app, report) in enumerate(
        zip(comparison.apps, comparison.reports, strict=True), start=1
    ):
        manifest = report.app.manifest
        rows.append(
            [
                index,
                app.label,
                app.version,
                sdk_text(manifest.min_sdk),
                sdk_text(manifest.target_sdk),
                app.path,
                app.signer,
            ]
        )
    headers = ["#", "app", "version", "minSdk", "targetSdk", "input", "signer"]
    return tabulate(rows, headers=headers, tablefmt="simple").splitlines()


def _capability_block(comparison: Comparison, *, color: bool) -> list[str]:
    width = _cell_width(len(comparison.apps))
    rows = []
    for row in comparison.capability_rows:
        cells = []
        for cell in row.cells:
            texts = capability_lines(cell)
            if cell.code is not None:
                texts.append(f"code: {cell.code}")
            lines = wrap_lines(texts, width)
            lines[0] = paint(lines[0], cell.severity, color=color)
            cells.append("\n".join(lines))
        title = "\n".join(
            wrap_lines([row.title, f"({row.id}, {row.severity.label})"], FIRST_COLUMN, indent="")
        )
        rows.append([paint(title, row.severity, color=color), *cells])
    risk = [
        paint(f"{r.risk.score} ({r.risk.level})", risk_severity(r.risk.level), color=color)
        for r in comparison.reports
    ]
    rows.append([bold("risk score", color=color), *risk])
    return tabulate(
        rows, headers=_headers(comparison, ["capability"]), tablefmt="simple_grid"
    ).splitlines()


def _code_cell(column: CodeColumn, texts: tuple[str, ...], none: str) -> str:
    if not column.read:
        return "code not read"
    return "\n".join(texts) if texts else none


def _code_block(comparison: Comparison) -> list[str]:
    """Trackers and server owners per app; empty when no app's code was read."""
    if not comparison.code:
        return []
    width = _cell_width(len(comparison.apps))
    trackers = [
        _code_cell(c, tuple(t.text for t in c.trackers), "none found") for c in comparison.code
    ]
    servers = [_code_cell(c, c.owners_text, "none named") for c in comparison.code]
    rows = [
        ["trackers", *("\n".join(wrap_lines(t.split("\n"), width)) for t in trackers)],
        ["servers of", *("\n".join(wrap_lines(s.split("\n"), width)) for s in servers)],
    ]
    return tabulate(
        rows, headers=_headers(comparison, ["in the code"]), tablefmt="simple_grid"
    ).splitlines()


def _permission_block(comparison: Comparison, *, color: bool) -> list[str]:
    rows: list[list[str]] = []
    for _, title, indexes in groups(comparison):
        rows.append([bold(f"-- {title}", color=color), "", *("" for _ in comparison.apps)])
        for index in indexes:
            row = comparison.permission_rows[index]
            rows.append(
                [
                    short_permission(row.name),
                    row.protection_class,
                    *(cell.text for cell in row.cells),
                ]
            )
    return tabulate(
        rows, headers=_headers(comparison, ["capability / permission", "class"]), tablefmt="simple"
    ).splitlines()


def _exclusives_block(comparison: Comparison) -> list[str]:
    lines = []
    for app, only in zip(comparison.apps, comparison.exclusives, strict=True):
        lines.append(" ".join(filter(None, column_header(app))) + ":")
        caps = ", ".join(only.capabilities) or "none"
        perms = short_list(only.permissions) or "none"
        lines.extend(wrap_lines([f"  capabilities: {caps}"], WIDTH, indent=" " * 16))
        lines.extend(wrap_lines([f"  permissions:  {perms}"], WIDTH, indent=" " * 16))
    return lines


def _counts_block(comparison: Comparison) -> list[str]:
    rows = [
        [app.label, *counts_row(counts)]
        for app, counts in zip(comparison.apps, comparison.counts, strict=True)
    ]
    return tabulate(
        rows, headers=["app", *count_headers(comparison.device_sdk)], tablefmt="simple"
    ).splitlines()


def render(result: Comparison, *, color: bool = False) -> str:
    """Render ``result`` for a wide terminal; ANSI colour only when ``color`` is true."""
    title = (
        f"permaudit compare: {len(result.apps)} apps on a device with API level "
        f"{result.device_sdk}; ruleset {ruleset_text(result.ruleset)}"
    )
    lines = [bold(title, color=color), "", *_apps_block(result), ""]
    lines += [bold("What each app can reach (capability, how far, through what)", color=color)]
    lines += [*_capability_block(result, color=color), ""]
    code = _code_block(result)
    if code:
        lines += [
            bold(
                "Trackers and servers in the code (classes and strings in the DEX, not proof "
                "they run; servers by owner and country)",
                color=color,
            ),
            *code,
            "",
        ]
    lines += [
        bold("Permissions by capability", color=color),
        *wrap_lines(
            [
                "sdk-23: only through uses-permission-sdk-23 (API 23+); max API N: "
                "maxSdkVersion; implied: added by the platform for an old target SDK; "
                f"(inactive): not granted on API {result.device_sdk}; -: not requested",
            ],
            WIDTH,
            indent="",
        ),
    ]
    lines += [*_permission_block(result, color=color), ""]
    lines += [bold("Only in one app (capabilities, then requested permissions)", color=color)]
    lines += [*_exclusives_block(result), ""]
    lines += [bold("Permission counts", color=color), *_counts_block(result)]
    return "\n".join(lines) + "\n"
