"""One app's terminal report (identity, reach, code, permissions, findings), shared by
``scan`` and ``check``: readable in 80 columns, colour optional."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from permaudit.android.effective import describe_device
from permaudit.formatters.labels import LEVEL_SEVERITY, bold, paint, short_permission
from permaudit.formatters.text.code import code_blocks
from permaudit.formatters.text.layout import DEFAULT_WIDTH
from permaudit.formatters.text.layout import indented as wrap
from permaudit.formatters.text.layout import table as fitted_table
from permaudit.formatters.text.layout import wrap as wrap_lines
from permaudit.model import (
    IMPLIED,
    SDK_FROM_GRADLE,
    SDK_FROM_OPTION,
    SDK_UNKNOWN,
    USES_PERMISSION_SDK_23,
    App,
    Finding,
    Report,
    SdkOrigin,
    Severity,
    UnresolvedReference,
    sdk_text,
)
from permaudit.views.score import finding_groups

WIDTH = DEFAULT_WIDTH
ELEMENT_SHORT = {USES_PERMISSION_SDK_23: "sdk-23", IMPLIED: "implied"}


class Painter:
    """Applies ANSI styles only when colour is on; carries the width the text is laid out for."""

    def __init__(self, color: bool, width: int = WIDTH) -> None:
        self.color = color
        self.width = width

    def severity(self, severity: Severity, text: str | None = None) -> str:
        """``text`` (default: the severity's label) in the severity's colour."""
        text = severity.label if text is None else text
        return paint(text, severity, color=self.color)

    def bold(self, text: str) -> str:
        """``text`` in bold."""
        return bold(text, color=self.color)


def labelled(label: str, text: str, *, width_used: int = 12, width: int = WIDTH) -> str:
    """``label`` then ``text`` wrapped beside it; ``width_used`` is the label's printed width."""
    body = wrap_lines(text, width - width_used, subsequent="  ") if text else [""]
    pad = "\n" + " " * width_used
    return f"  {label}  " + pad.join(body)


def table(
    rows: Iterable[Sequence[object]], headers: Sequence[str], width: int = WIDTH,
    right: Sequence[int] = (),
) -> str:
    """A table fitted to ``width``; the first column's long names stand on their own line."""
    cells = [[None if v == "" else str(v) for v in row] for row in rows]
    return "\n".join(fitted_table(list(headers), cells, width, hang=0, right=right) or [])


def header_block(report: Report, device_sdk: int, paint: Painter) -> list[str]:
    """Identity, SDK levels and the risk score."""
    manifest = report.app.manifest
    info = report.app.input
    version = manifest.version_name or "?"
    title = f"{manifest.title} {version}"
    if manifest.version_code is not None:
        title += f" (versionCode {manifest.version_code})"
    risk = report.risk
    level = paint.severity(LEVEL_SEVERITY.get(risk.level, Severity.INFO), risk.level)
    lines = [
        f"input:  {info.path} ({info.kind}, {size_text(info.size)})",
        *([f"sha256: {info.sha256}"] if info.sha256 else []),
        *([f"locale: {report.app.locale} (label and resource values)"]
          if report.app.locale else []),
        f"sdk:    min {sdk_text(manifest.min_sdk)}, target {sdk_text(manifest.target_sdk)}"
        + (f", max {manifest.max_sdk}" if manifest.max_sdk else "")
        + sdk_origin_text(report.app.sdk_origin),
        device_line(manifest.min_sdk, device_sdk).removeprefix("  "),
    ]
    return [
        *(paint.bold(part) for part in wrap_lines(title, paint.width)),
        *(part for line in lines
          for part in wrap_lines(line, paint.width, indent="  ", subsequent=" " * 10)),
        f"  risk:   {risk.score}/100 ({level})",
        *signer_lines(report.app, paint.width),
    ]


def size_text(size: int) -> str:
    """A file size for people: bytes, KiB or MiB."""
    if size < 2**10:
        return f"{size} bytes"
    if size < 2**20:
        return f"{size / 2**10:.1f} KiB"
    return f"{size / 2**20:.1f} MiB"


def sdk_origin_text(origin: SdkOrigin | None) -> str:
    """`` (from ...)`` after the levels of a source manifest: where each came from."""
    if origin is None:
        return ""
    if origin.min_sdk == origin.target_sdk == SDK_UNKNOWN:
        return " (not in this source manifest)"
    parts = []
    for name, source, where in (("min", origin.min_sdk, origin.min_where),
                                ("target", origin.target_sdk, origin.target_where)):
        if source == SDK_FROM_GRADLE:
            parts.append(f"{name} from {', '.join(where)}")
        elif source == SDK_FROM_OPTION:
            parts.append(f"{name} from --{name}-sdk")
        else:
            parts.append(f"{name} unknown")
    return f" ({'; '.join(parts)})"


def device_line(min_sdk: int | None, device_sdk: int) -> str:
    """Which phone the report describes, and whether the app can be installed on it."""
    if min_sdk is None:
        return (f"  device: {describe_device(device_sdk)} -- what the app gets on such a "
                "phone (minSdk unknown)")
    if min_sdk > device_sdk:
        return (
            f"  device: {describe_device(device_sdk)} -- the app cannot be installed there "
            f"(it needs API {min_sdk}); shown as if it could"
        )
    return f"  device: {describe_device(device_sdk)} -- what the app gets on such a phone"


def signer_lines(app: App, width: int = WIDTH) -> list[str]:
    """Who signed the APK, under which schemes; one line per distinct certificate."""
    signing = app.signing
    if signing is None:
        return []
    if not signing.signers:
        return ["  signer: unsigned (Android refuses to install an unsigned APK)"]
    seen: dict[str, list[str]] = {}
    subjects: dict[str, str] = {}
    for signer in signing.signers:
        if not signer.certificates:
            continue
        cert = signer.certificates[0]
        seen.setdefault(cert.sha256, []).append(signer.scheme)
        debug = " [DEBUG KEY]" if cert.debug else ""
        subjects[cert.sha256] = (
            f"{cert.subject}, valid {cert.not_before[:10]} to {cert.not_after[:10]}{debug}"
        )
    lines = [
        wrap(
            f"signer: {', '.join(schemes)}: sha256 {digest} ({subjects[digest]})",
            indent=2, width=width,
        )
        for digest, schemes in seen.items()
    ]
    lines.extend(
        wrap(f"signing problem: {problem}", indent=2, width=width) for problem in signing.problems
    )
    return lines


def provenance_block(app: App, paint: Painter) -> list[str]:
    """Caveats about the input, its splits and any tamper evidence; empty when none."""
    lines: list[str] = []
    if app.tamper:
        heading = ("Tamper evidence: this file was built so that analysis tools see "
                   "something other than what Android sees")
        lines.extend(paint.severity(Severity.HIGH, line)
                     for line in wrap_lines(heading, paint.width, subsequent="  "))
        for item in app.tamper:
            where = f" (in {item.member})" if item.member else ""
            lines.append(wrap(f"- {item.id}{where}: {item.detail}", indent=2, width=paint.width))
    if app.splits:
        lines.append(f"Splits and modules ({len(app.splits)})")
        quiet = [
            split.name
            for split in app.splits
            if split.kind == "config" and not split.uses_permissions and not split.components
        ]
        for split in app.splits:
            if split.name in quiet:
                continue
            declared = (
                [f"{len(split.uses_permissions)} uses-permission"] if split.uses_permissions else []
            )
            if split.components:
                declared.append(f"{split.components} components")
            text = f"- {split.kind} {split.name}" + (
                f" ({', '.join(declared)})" if declared else ""
            )
            text += f": {split.note}" if split.note else ""
            lines.append(wrap(text, indent=2, width=paint.width))
        if quiet:
            lines.append(
                wrap(
                    f"- {len(quiet)} config splits declaring nothing: {', '.join(quiet)}",
                    indent=2, width=paint.width,
                )
            )
    unresolved = unresolved_notes(app.manifest.unresolved)
    if app.notes or unresolved:
        lines.append("Notes on this input")
        lines.extend(
            wrap(f"- {note}", indent=2, width=paint.width) for note in (*app.notes, *unresolved)
        )
    return lines


#: Unresolved references listed one by one in the table; the JSON report lists them all.
UNRESOLVED_SHOWN = 5


def unresolved_notes(unresolved: Sequence[UnresolvedReference]) -> list[str]:
    """One note on attributes whose value Android reads from resources and permaudit did not."""
    if not unresolved:
        return []
    shown = [
        f"<{u.tag}{f' {u.component}' if u.component else ''}> android:{u.attribute}={u.reference}"
        + (f" ({u.reason})" if u.reason else "")
        for u in unresolved[:UNRESOLVED_SHOWN]
    ]
    more = len(unresolved) - len(shown)
    return [
        "resource references not resolved (Android reads their values from the app's "
        "resources on the phone; permaudit could not, and used each attribute's default): "
        + "; ".join(shown)
        + (f"; and {more} more (see --format json)" if more > 0 else "")
    ]


def short_rationale(rationale: str) -> str:
    """The rationale's first sentence (the short form; HTML and SARIF give it whole)."""
    text = " ".join(rationale.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def capabilities_block(report: Report, paint: Painter) -> list[str]:
    """What the app can reach, most sensitive first: how far, then through what."""
    if not report.capabilities:
        return ["What it can reach: nothing the ruleset tracks."]
    lines = ["What it can reach"]
    for hit in report.capabilities:
        how = ", ".join(hit.access)
        text = f"{hit.title}: {how}" if how else hit.title
        lines.append(
            labelled(
                paint.severity(hit.severity, f"{hit.severity.label:<8}"), text, width=paint.width
            )
        )
        if hit.rationale:
            lines.append(wrap(short_rationale(hit.rationale), indent=12, width=paint.width))
        via = ", ".join(short_permission(v) for v in hit.via)
        lines.append(wrap(f"via {via}", indent=12, width=paint.width))
        lines.extend(wrap(f"note: {note}", indent=12, width=paint.width) for note in hit.notes)
    return lines


def permissions_block(report: Report, width: int = WIDTH) -> list[str]:
    """Every requested (and implied) permission and whether it applies on the device.

    The name comes first; one too long for the column stands on its own line, the rest of
    its row under it, so a long vendor permission is never broken in the middle.
    """
    rows = [
        (
            short_permission(perm.name),
            "yes" if perm.applies else "no",
            perm.protection_class,
            ELEMENT_SHORT.get(perm.element, ""),
            perm.max_sdk if perm.max_sdk is not None else "",
            ", ".join(perm.capabilities),
        )
        for perm in report.permissions
    ]
    applying = sum(1 for p in report.permissions if p.applies)
    title = f"Permissions ({len(report.permissions)} listed, {applying} apply on this device)"
    if not rows:
        return [f"{title}: none"]
    headers = ("permission", "applies", "class", "element", "max", "capability")
    lines = [title, table(rows, headers, width, right=(4,))]
    notes = [p for p in report.permissions if p.reason or p.note]
    if notes:
        lines.append("")
        lines.extend(
            wrap(f"{short_permission(p.name)}: {p.reason or p.note}", indent=2, width=width)
            for p in notes
        )
    return lines


def finding_text(finding: Finding) -> str:
    """What a finding says: its message (as in SARIF and GitHub), after its title unless the
    message already starts with it (capability findings)."""
    message = short_permission(finding.message or finding.subject)
    if message.startswith(finding.title):
        return message
    return f"{finding.title}: {message}"


def findings_block(report: Report, paint: Painter) -> list[str]:
    """Findings, most severe first, in groups of alike findings with the points each group
    adds to the risk score (the groups add up to it; alike findings count alike)."""
    if not report.findings:
        return ["Findings: none"]
    reached = {hit.id: hit for hit in report.capabilities}
    lines = [f"Findings, and the points each group adds to the risk score {report.risk.score}"]
    for entry in finding_groups(report):
        count = f"{len(entry.findings)} finding" + ("s" if len(entry.findings) != 1 else "")
        if entry.points is None:
            points = "no points"
        else:
            points = f"+{entry.points}" if entry.points else "less than a point"
        lines.append(wrap(f"{entry.title}: {count}, {points}", indent=2, width=paint.width)
                     .replace(entry.title, paint.severity(entry.severity, entry.title), 1))
        for finding in entry.findings:
            where = f" (line {finding.line})" if finding.line is not None else ""
            hit = reached.get(finding.subject) if finding.category == "capability" else None
            # A capability's message repeats "What it can reach" above: how far is enough.
            text = finding_text(finding) if hit is None else (
                f"{hit.title} ({', '.join(hit.access)})" if hit.access else hit.title
            )
            lines.append(wrap(text + where, indent=4, width=paint.width))
    return lines


def network_block(report: Report, width: int = WIDTH) -> list[str]:
    """A short network security config and backup rules section (when a file was read)."""
    ns = report.app.network_security
    if ns is None or (ns.source == "default" and not report.app.backup and not ns.problems):
        return []
    def line(label: str, text: str) -> str:
        return labelled(f"{label:<6}", text, width_used=10, width=width)

    lines = ["Network security and backup"]
    if ns.source != "default":
        lines.append(line("config", f"{ns.path} ({ns.source})" if ns.path else "not read"))
    if ns.base is not None:
        base = ns.base
        allowed = "allowed" if base.cleartext_permitted else "refused"
        trusted = ", ".join(a.src for a in base.trust_anchors) or "nothing"
        lines.append(line("base", f"cleartext {allowed}; trusts {trusted}"))
    for config in ns.domains[:20]:
        names = ", ".join(("*." if d.include_subdomains else "") + d.name
                          for d in config.domains[:5])
        c = config.config
        pins = f"; {len(c.pins.pins)} pins" if c.pins and c.pins.pins else ""
        if c.pins and c.pins.expiration:
            pins += f" until {c.pins.expiration}"
        lines.append(line("domain", f"{names}: cleartext "
                              f"{'allowed' if c.cleartext_permitted else 'refused'}; trusts "
                              f"{', '.join(a.src for a in c.trust_anchors) or 'nothing'}{pins}"))
    if len(ns.domains) > 20:
        lines.append(f"  ... and {len(ns.domains) - 20} more domain-configs")
    if ns.has_debug_overrides:
        state = "active (debuggable)" if ns.debug_overrides_active else "inactive (release)"
        lines.append(line("debug", f"debug-overrides {state}"))
    for problem in ns.problems:
        lines.append(line("note", problem))
    for rules in report.app.backup:
        for section in rules.sections:
            excluded = ", ".join(f"{p.domain}/{p.path}" for p in section.excludes[:10]) or "nothing"
            only = ", ".join(f"{p.domain}/{p.path}" for p in section.includes[:10])
            text = f"{rules.kind} {section.name}: excludes {excluded}"
            if only:
                text += f"; only includes {only}"
            lines.append(line("backup", text))
        for problem in rules.problems[:3]:
            lines.append(line("backup", problem))
    return lines


def render_report(report: Report, device_sdk: int, color: bool, width: int = WIDTH) -> str:
    """One app's report, laid out for ``width`` columns."""
    paint = Painter(color, width)
    blocks = [
        header_block(report, device_sdk, paint),
        provenance_block(report.app, paint),
        capabilities_block(report, paint),
        *code_blocks(report, width),
        permissions_block(report, width),
        network_block(report, width),
        findings_block(report, paint),
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block)
