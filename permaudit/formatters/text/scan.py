"""The terminal report of ``permaudit scan``: readable in 80 columns, colour optional."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence

from tabulate import tabulate

from permaudit.android.effective import describe_device
from permaudit.formatters.labels import LEVEL_SEVERITY, bold, paint, short_permission
from permaudit.model import (
    IMPLIED,
    SDK_FROM_GRADLE,
    SDK_FROM_OPTION,
    SDK_UNKNOWN,
    USES_PERMISSION_SDK_23,
    App,
    Report,
    ScanResult,
    SdkOrigin,
    Severity,
    UnresolvedReference,
    sdk_text,
)
from permaudit.model.code import CodeEvidence
from permaudit.views.code import capability_use, servers_by_owner, short_api, tracker_maker

WIDTH = 80
ELEMENT_SHORT = {USES_PERMISSION_SDK_23: "sdk-23", IMPLIED: "implied"}


class Painter:
    """Applies ANSI styles only when colour is on."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def severity(self, severity: Severity, text: str | None = None) -> str:
        """``text`` (default: the severity's label) in the severity's colour."""
        text = severity.label if text is None else text
        return paint(text, severity, color=self.color)

    def bold(self, text: str) -> str:
        """``text`` in bold."""
        return bold(text, color=self.color)


def wrap(text: str, *, indent: int, width: int = WIDTH) -> str:
    """``text`` wrapped to ``width`` columns, every line indented by ``indent`` spaces."""
    pad = " " * indent
    return textwrap.fill(
        text,
        width=width,
        initial_indent=pad,
        subsequent_indent=pad + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    )


def labelled(label: str, text: str, *, width_used: int = 12) -> str:
    """``label`` then ``text`` wrapped beside it; ``width_used`` is the label's printed width."""
    body = textwrap.wrap(
        text, width=WIDTH - width_used, break_long_words=False, break_on_hyphens=False
    ) or [""]
    pad = "\n" + " " * (width_used + 2)
    return f"  {label}  " + pad.join(body)


def table(rows: Iterable[Sequence[object]], headers: Sequence[str]) -> str:
    """A plain, unwrapped table."""
    return tabulate(list(rows), headers=list(headers), tablefmt="simple", disable_numparse=True)


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
        f"  input:  {info.path} ({info.kind}, {size_text(info.size)})",
        *([f"  sha256: {info.sha256}"] if info.sha256 else []),
        f"  sdk:    min {sdk_text(manifest.min_sdk)}, target {sdk_text(manifest.target_sdk)}"
        + (f", max {manifest.max_sdk}" if manifest.max_sdk else "")
        + sdk_origin_text(report.app.sdk_origin),
        device_line(manifest.min_sdk, device_sdk),
        f"  risk:   {risk.score}/100 ({level})",
        *signer_lines(report.app),
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


def signer_lines(app: App) -> list[str]:
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
        wrap(f"signer: {', '.join(schemes)}: sha256 {digest} ({subjects[digest]})", indent=2)
        for digest, schemes in seen.items()
    ]
    lines.extend(wrap(f"signing problem: {problem}", indent=2) for problem in signing.problems)
    return lines


def provenance_block(app: App, paint: Painter) -> list[str]:
    """Caveats about the input, its splits and any tamper evidence; empty when none."""
    lines: list[str] = []
    if app.tamper:
        lines.append(
            paint.severity(
                Severity.HIGH,
                "Tamper evidence: this file was built so "
                "that analysis tools see something else than Android",
            )
        )
        for item in app.tamper:
            where = f" (in {item.member})" if item.member else ""
            lines.append(wrap(f"- {item.id}{where}: {item.detail}", indent=2))
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
            lines.append(wrap(text + (f": {split.note}" if split.note else ""), indent=2))
        if quiet:
            lines.append(
                wrap(
                    f"- {len(quiet)} config splits declaring nothing: {', '.join(quiet)}", indent=2
                )
            )
    unresolved = unresolved_notes(app.manifest.unresolved)
    if app.notes or unresolved:
        lines.append("Notes on this input")
        lines.extend(wrap(f"- {note}", indent=2) for note in (*app.notes, *unresolved))
    return lines


#: Unresolved references listed one by one in the table; the JSON report lists them all.
UNRESOLVED_SHOWN = 5


def unresolved_notes(unresolved: Sequence[UnresolvedReference]) -> list[str]:
    """One note on attributes whose value Android reads from resources and permaudit did not."""
    if not unresolved:
        return []
    shown = [
        f"<{u.tag}{f' {u.component}' if u.component else ''}> android:{u.attribute}={u.reference}"
        for u in unresolved[:UNRESOLVED_SHOWN]
    ]
    more = len(unresolved) - len(shown)
    return [
        "resource references not resolved (Android reads their values from the app's "
        "resources on the phone; permaudit does not, and used each attribute's default): "
        + "; ".join(shown)
        + (f"; and {more} more (see --format json)" if more > 0 else "")
    ]


def capabilities_block(report: Report, paint: Painter) -> list[str]:
    """What the app can reach, most sensitive first: how far, then through what."""
    if not report.capabilities:
        return ["What it can reach: nothing the ruleset tracks."]
    lines = ["What it can reach"]
    for hit in report.capabilities:
        how = ", ".join(hit.access)
        text = f"{hit.title}: {how}" if how else hit.title
        lines.append(labelled(paint.severity(hit.severity, f"{hit.severity.label:<8}"), text))
        via = ", ".join(short_permission(v) for v in hit.via)
        lines.append(wrap(f"via {via}", indent=12))
        lines.extend(wrap(f"note: {note}", indent=12) for note in hit.notes)
    return lines


#: API references named per capability in the text report; the JSON report lists them all.
CODE_REFERENCES_SHOWN = 3


def code_use_block(report: Report) -> list[str]:
    """Per capability: does the code reference the APIs the manifest asks for?"""
    rows = capability_use(report)
    if not rows:
        return []
    lines = [
        "Does the code use what it asks for? (API references in the DEX: a reference is",
        "not proof the call runs; \"no code seen\" may still be reflection or native code)",
    ]
    for row in rows:
        refs = [short_api(r) for r in row.references[:CODE_REFERENCES_SHOWN]]
        more = len(row.references) - len(refs)
        text = f"{row.verdict}: {', '.join(refs)}" if refs else row.verdict
        if more > 0:
            text += f" and {more} more"
        lines.append(
            textwrap.fill(
                text,
                width=WIDTH,
                initial_indent=f"  {row.capability:<14}  ",
                subsequent_indent=" " * 20,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return lines


def trackers_block(evidence: CodeEvidence) -> list[str]:
    """Tracker SDKs in the code, with their maker and the evidence."""
    if not evidence.trackers:
        return ["Built-in SDKs and trackers: none of the known tracker signatures match"]
    lines = [f"Built-in SDKs and trackers ({len(evidence.trackers)}, by class prefix and host)"]
    for hit in evidence.trackers:
        maker = tracker_maker(hit)
        name = f"{hit.name} ({maker})" if maker else hit.name
        what = ", ".join(hit.categories) or "uncategorised"
        shipped = (
            "classes under" if hit.strength == "defined" else "types referenced (not shipped):"
        )
        text = f"- {name}: {what}; {hit.class_count} {shipped} {', '.join(hit.packages)}"
        if hit.hosts:
            text += f"; host {', '.join(hit.hosts)}"
        lines.append(wrap(text, indent=2))
    return lines


#: Domains named per owner in the text report; the JSON report lists them all.
DOMAINS_SHOWN = 12


def servers_block(evidence: CodeEvidence) -> list[str]:
    """Domains the code's strings name, grouped by owner and country."""
    groups = servers_by_owner(evidence)
    if not groups:
        return ["Servers named in the code: none"]
    lines = ["Servers named in the code (by owner and country; named, not proof of traffic)"]
    for group in groups:
        # NUL keeps "(3 hosts)" on one line while wrapping; an input string never holds NUL
        # here (hosts match a host-name pattern).
        shown = group.domains[:DOMAINS_SHOWN]
        domains = ", ".join(
            f"{d.domain} ({len(d.hosts)}\0hosts)" if len(d.hosts) > 1 else d.domain
            for d in shown
        )
        if len(group.domains) > len(shown):
            domains += f" and {len(group.domains) - len(shown)} more (see --format json)"
        lines.append(wrap(f"- {group.label}: {domains}", indent=2).replace("\0", " "))
    return lines


def code_blocks(report: Report) -> list[list[str]]:
    """The code-evidence blocks; none when code was not read (``--no-code``)."""
    evidence = report.code_evidence
    if evidence is None:
        return []
    if not (evidence.trackers or evidence.hosts or evidence.apis or evidence.checked_capabilities):
        why = "; ".join(evidence.notes) or "nothing found"
        return [[wrap(f"Code evidence: {why}", indent=0)]]
    return [code_use_block(report), trackers_block(evidence), servers_block(evidence)]


def permissions_block(report: Report) -> list[str]:
    """Every requested (and implied) permission and whether it applies on the device.

    The name comes last so a long vendor permission runs past the edge instead of
    being broken in the middle.
    """
    rows = [
        (
            "yes" if perm.applies else "no",
            perm.protection_class,
            ELEMENT_SHORT.get(perm.element, ""),
            perm.max_sdk if perm.max_sdk is not None else "",
            ", ".join(perm.capabilities),
            short_permission(perm.name),
        )
        for perm in report.permissions
    ]
    applying = sum(1 for p in report.permissions if p.applies)
    title = f"Permissions ({len(report.permissions)} listed, {applying} apply on this device)"
    if not rows:
        return [f"{title}: none"]
    headers = ("applies", "class", "element", "max", "capability", "permission")
    lines = [title, table(rows, headers)]
    notes = [p for p in report.permissions if p.reason or p.note]
    if notes:
        lines.append("")
        lines.extend(
            wrap(f"{short_permission(p.name)}: {p.reason or p.note}", indent=2) for p in notes
        )
    return lines


def findings_block(report: Report, paint: Painter) -> list[str]:
    """Findings, most severe first, with the points each added to the risk score."""
    if not report.findings:
        return ["Findings: none"]
    points = {(c.rule, c.subject): c.points for c in report.risk.contributions}
    lines = ["Findings (points added to the risk score in brackets)"]
    for finding in report.findings:
        added = points.get((finding.rule, finding.subject))
        score = f"[+{added}]" if added else ""
        label = paint.severity(finding.severity, f"{finding.severity.label:<8}") + f" {score:>6}"
        where = f" (line {finding.line})" if finding.line is not None else ""
        lines.append(labelled(label, f"{finding.title}: {finding.subject}{where}", width_used=19))
    return lines


def render_report(report: Report, device_sdk: int, color: bool) -> str:
    """One app's report."""
    paint = Painter(color)
    blocks = [
        header_block(report, device_sdk, paint),
        provenance_block(report.app, paint),
        capabilities_block(report, paint),
        *code_blocks(report),
        permissions_block(report),
        findings_block(report, paint),
    ]
    return "\n\n".join("\n".join(block) for block in blocks if block)


def render(result: ScanResult, *, color: bool = False) -> str:
    """Render every report of ``result``, separated by a rule line."""
    separator = "\n\n" + "=" * 78 + "\n\n"
    footer = (
        f"\n\nruleset {result.ruleset.id} (sha256 {result.ruleset.sha256[:12]}), "
        f"permaudit {result.tool_version}\n"
    )
    body = separator.join(render_report(r, result.device_sdk, color) for r in result.reports)
    return body + footer
