"""The terminal report of ``permaudit scan``: readable in 80 columns, colour optional."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tabulate import tabulate

from permaudit.android.effective import describe_device
from permaudit.model import (
    IMPLIED,
    USES_PERMISSION_SDK_23,
    Report,
    ScanResult,
    Severity,
)

ANSI = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
BOLD = "\033[1m"
RESET = "\033[0m"
LEVEL_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}
ELEMENT_SHORT = {USES_PERMISSION_SDK_23: "sdk-23", IMPLIED: "implied"}
PREFIXES = ("android.permission.", "android.permission-group.")


def short_permission(name: str) -> str:
    """Drop the ``android.permission.`` prefix; other names stay whole."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


class Painter:
    """Applies ANSI styles only when colour is on."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def severity(self, severity: Severity, text: str | None = None) -> str:
        """``text`` (default: the severity's label) in the severity's colour."""
        text = severity.label if text is None else text
        return f"{ANSI[severity]}{text}{RESET}" if self.color else text

    def bold(self, text: str) -> str:
        """``text`` in bold."""
        return f"{BOLD}{text}{RESET}" if self.color else text


def table(rows: Iterable[Sequence[object]], headers: Sequence[str], widths: Sequence[int | None]) -> str:
    """A plain table, wrapping the columns that have a maximum width."""
    return tabulate(
        list(rows), headers=list(headers), tablefmt="simple", maxcolwidths=list(widths)
    )


def header_block(report: Report, device_sdk: int, paint: Painter) -> list[str]:
    """Identity, SDK levels and the risk score."""
    manifest = report.app.manifest
    info = report.app.input
    version = manifest.version_name or "?"
    title = f"{manifest.package} {version}"
    if manifest.version_code is not None:
        title += f" (versionCode {manifest.version_code})"
    risk = report.risk
    level = paint.severity(LEVEL_SEVERITY.get(risk.level, Severity.INFO), risk.level)
    return [
        paint.bold(title),
        f"  input:  {info.path} ({info.kind}, sha256 {info.sha256[:16]}...)",
        f"  sdk:    min {manifest.min_sdk}, target {manifest.target_sdk}"
        + (f", max {manifest.max_sdk}" if manifest.max_sdk else ""),
        f"  device: {describe_device(device_sdk)} -- what the app gets on such a phone",
        f"  risk:   {risk.score}/100 ({level})",
    ]


def capabilities_block(report: Report, paint: Painter) -> list[str]:
    """What the app can reach, most sensitive first."""
    if not report.capabilities:
        return ["What it can reach: nothing the ruleset tracks."]
    rows = []
    for hit in report.capabilities:
        how = ", ".join(hit.access) if hit.access else ""
        via = ", ".join(short_permission(v) for v in hit.via)
        detail = f"{how}: {via}" if how else via
        if hit.notes:
            detail += " (" + "; ".join(hit.notes) + ")"
        rows.append((paint.severity(hit.severity), hit.title, detail))
    return ["What it can reach", table(rows, ("severity", "capability", "access and via"), (None, 22, 44))]


def permissions_block(report: Report) -> list[str]:
    """Every requested (and implied) permission and whether it applies on the device."""
    rows = []
    for perm in report.permissions:
        rows.append(
            (
                short_permission(perm.name),
                ELEMENT_SHORT.get(perm.element, ""),
                perm.max_sdk if perm.max_sdk is not None else "",
                perm.protection_class,
                ", ".join(perm.capabilities),
                "yes" if perm.applies else "no",
            )
        )
    applying = sum(1 for p in report.permissions if p.applies)
    title = f"Permissions ({len(report.permissions)} listed, {applying} apply on this device)"
    if not rows:
        return [f"{title}: none"]
    headers = ("permission", "element", "max", "class", "capability", "applies")
    return [title, table(rows, headers, (34, None, None, None, 14, None))]


def findings_block(report: Report, paint: Painter) -> list[str]:
    """Findings, most severe first, each with the points it added to the score."""
    if not report.findings:
        return ["Findings: none"]
    points = {(c.rule, c.subject): c.points for c in report.risk.contributions}
    rows = [
        (
            paint.severity(f.severity),
            f.title,
            f.subject,
            f"+{points[(f.rule, f.subject)]}" if points.get((f.rule, f.subject)) else "",
        )
        for f in report.findings
    ]
    return ["Findings", table(rows, ("severity", "finding", "subject", "score"), (None, 38, 26, None))]


def render_report(report: Report, device_sdk: int, color: bool) -> str:
    """One app's report."""
    paint = Painter(color)
    blocks = [
        header_block(report, device_sdk, paint),
        capabilities_block(report, paint),
        permissions_block(report),
        findings_block(report, paint),
    ]
    return "\n\n".join("\n".join(block) for block in blocks)


def render(result: ScanResult, *, color: bool = False) -> str:
    """Render every report of ``result``, separated by a rule line."""
    separator = "\n\n" + "=" * 78 + "\n\n"
    footer = f"\n\nruleset {result.ruleset.id} (sha256 {result.ruleset.sha256[:12]}), permaudit {result.tool_version}\n"
    return separator.join(render_report(r, result.device_sdk, color) for r in result.reports) + footer
