"""The code-evidence sections of the one-app text report: API use, trackers, servers."""

from __future__ import annotations

from permaudit.formatters.text.layout import DEFAULT_WIDTH as WIDTH
from permaudit.formatters.text.layout import indented as wrap
from permaudit.formatters.text.layout import wrap as wrap_lines
from permaudit.model import Report
from permaudit.model.code import CodeEvidence
from permaudit.views.code import (
    capability_use,
    code_column,
    cut,
    servers_by_owner,
    short_api,
    size_text,
    tracker_maker,
)

#: API references named per capability in the text report; the JSON report lists them all.
CODE_REFERENCES_SHOWN = 3


def code_use_block(report: Report, width: int = WIDTH) -> list[str]:
    """Per capability: does the code reference the APIs the manifest asks for?"""
    rows = capability_use(report)
    if not rows:
        return []
    lines = [
        "Does the code use what it asks for? (API references somewhere in the app's DEX:",
        "which package calls them is not read; a reference is not proof the call runs;",
        "\"no code seen\" may still be reflection or native code)",
    ]
    for row in rows:
        refs = [cut(short_api(r)) for r in row.references[:CODE_REFERENCES_SHOWN]]
        more = len(row.references) - len(refs)
        text = f"{row.verdict}: {', '.join(refs)}" if refs else row.verdict
        if more > 0:
            text += f" and {more} more"
        lines.extend(
            wrap_lines(text, width, indent=f"  {row.capability:<14}  ", subsequent=" " * 20)
        )
    return lines


def trackers_block(evidence: CodeEvidence, width: int = WIDTH) -> list[str]:
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
        lines.append(wrap(text, indent=2, width=width))
    return lines


#: Domains named per owner in the text report; the JSON report lists them all.
DOMAINS_SHOWN = 12


def servers_block(evidence: CodeEvidence, width: int = WIDTH) -> list[str]:
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
        lines.append(
            wrap(f"- {group.label}: {domains}", indent=2, width=width).replace("\0", " ")
        )
    return lines


def native_block(report: Report, width: int = WIDTH) -> list[str]:
    """The ``lib/<abi>/*.so`` libraries by name, with ABIs and size; none: one line."""
    groups = code_column(report).native
    if not groups:
        return ["Native libraries: none"]
    lines = [f"Native libraries ({len(groups)}; listed, their code is not read)"]
    lines.extend(
        wrap(f"- {cut(g.name, 80)}: {', '.join(g.abis)}; {size_text(g.size)}", indent=2,
             width=width)
        for g in groups
    )
    return lines


def code_blocks(report: Report, width: int = WIDTH) -> list[list[str]]:
    """The code-evidence blocks; none when code was not read (``--no-code``)."""
    evidence = report.code_evidence
    if evidence is None:
        return []
    if not (evidence.trackers or evidence.hosts or evidence.apis or evidence.checked_capabilities):
        why = "; ".join(evidence.notes) or "nothing found"
        return [[wrap(f"Code evidence: {why}", indent=0, width=width)]]
    return [
        code_use_block(report, width), trackers_block(evidence, width),
        servers_block(evidence, width), native_block(report, width),
    ]
