"""``permaudit scan --format markdown``: each app's page as GitHub-flavoured markdown.

The same content as the HTML page, in the order a reader wants it: the summary in
sentences, how far the app reaches each capability (mark and words), what each capability
means and what Android asks, the other findings, the signer, trackers and servers. Every
value goes through the markdown escaper (``md_escape``/``md_code``).
"""

from __future__ import annotations

from permaudit.formatters.compare_rows import column_header, md_code, md_escape, md_table
from permaudit.formatters.labels import short_permission
from permaudit.formatters.markdown.code import code_section
from permaudit.model import COMPONENT_KINDS, Report, ScanResult, sdk_text
from permaudit.views.compare import AppColumn, Comparison, overview
from permaudit.views.reach import REACH_LEVELS, reach_level


def _via(via: str) -> str:
    kind, sep, name = via.partition(":")
    if sep and kind in COMPONENT_KINDS:
        return f"{md_escape(kind)} {md_code(name)}"
    return md_code(short_permission(via))


def _legend() -> list[str]:
    return [
        f"- {md_escape(level.mark)} **{md_escape(level.label)}**: {md_escape(level.meaning)}"
        for level in REACH_LEVELS
    ]


def _capabilities(view: Comparison, index: int) -> list[str]:
    rows = []
    for row in view.capability_rows:
        cell = row.cells[index]
        level = reach_level(cell.reach)
        rows.append([
            md_escape(row.title),
            md_escape(row.severity.label),
            f"{md_escape(level.mark)} {md_escape(level.label)}",
            md_escape(", ".join(cell.access)) or "-",
            "<br>".join(_via(v) for v in cell.via) or "-",
        ])
    if not rows:
        return ["It reaches no capability of the ruleset."]
    return md_table(["capability", "severity", "reach", "access", "through"], rows)


def _meanings(view: Comparison, index: int) -> list[str]:
    lines = []
    for row in view.capability_rows:
        if not row.cells[index].reached:
            continue
        lines.append(f"#### {md_escape(row.title)}")
        lines.append("")
        if row.rationale:
            lines.extend([md_escape(row.rationale), ""])
        if row.asks:
            lines.append("What Android asks the user:")
            lines.append("")
            lines.extend(f"- {_via(a.subject)}: {md_escape(a.text)}" for a in row.asks)
            lines.append("")
        lines.extend(f"- _note: {md_escape(n)}_" for n in row.cells[index].notes)
        if row.cells[index].notes:
            lines.append("")
    return lines


def _findings(report: Report) -> list[str]:
    others = [f for f in report.findings if not f.rule.startswith("capability.")]
    if not others:
        return ["No other findings."]
    rows = [
        [md_escape(f.severity.label), md_escape(f.title), md_code(f.rule), md_escape(f.message)]
        for f in others
    ]
    return md_table(["severity", "finding", "rule", "what permaudit saw"], rows)


def _signer(report: Report) -> list[str]:
    signing = report.app.signing
    if signing is None:
        return ["No signature (a manifest, not an installable file)."]
    if not signing.signers:
        return ["Unsigned: Android refuses to install it."]
    lines = []
    for signer in signing.signers:
        for cert in signer.certificates[:1]:
            debug = " **(debug key)**" if cert.debug else ""
            lines.append(
                f"- {md_escape(signer.scheme)}: {md_escape(cert.subject)}{debug}, issuer "
                f"{md_escape(cert.issuer)}, SHA-256 {md_code(cert.sha256)}, valid "
                f"{md_escape(cert.not_before)} to {md_escape(cert.not_after)}"
            )
    lines.extend(f"- **ambiguous:** {md_escape(p)}" for p in signing.problems)
    return lines


def _app(view: Comparison, index: int, app: AppColumn, report: Report) -> list[str]:
    label, version = column_header(app)
    lines = [f"## {md_escape(label)} {md_escape(version)}".rstrip(), ""]
    lines.extend([" ".join(md_escape(s) for s in view.summaries[index]), ""])
    manifest = report.app.manifest
    lines.extend([
        f"Input {md_code(app.path)} · minSdk {sdk_text(manifest.min_sdk)} · targetSdk "
        f"{sdk_text(manifest.target_sdk)} · device API level {view.device_sdk}",
        "",
        "### How far it reaches",
        "",
        *_capabilities(view, index),
        "",
        "### What each capability means",
        "",
        *_meanings(view, index),
        "### Other findings",
        "",
        *_findings(report),
        "",
        "### Who signed it",
        "",
        *_signer(report),
        "",
        "### Trackers, servers and code",
        "",
        *code_section(report),
        "",
    ])
    return lines


def render(result: ScanResult, *, color: bool = False) -> str:
    """Render ``result`` as markdown, one ``##`` section per app; ``color`` is ignored."""
    del color
    lines = ["# permaudit scan", ""]
    lines.extend(
        f"- **{md_escape(f.path)}**: {md_escape(f.error)}: {md_escape(f.message)}"
        for f in result.failures
    )
    if result.failures:
        lines.append("")
    if result.reports:
        view = overview(result.reports, ruleset=result.ruleset, tool_version=result.tool_version)
        lines.extend(["Reach levels:", "", *_legend(), ""])
        for index, (app, report) in enumerate(zip(view.apps, view.reports, strict=True)):
            lines.extend(_app(view, index, app, report))
    return "\n".join(lines).rstrip("\n") + "\n"
