"""The code evidence of one app in markdown: trackers, servers by owner, code use, native libs.

The same sections as the text report (``formatters/text/code.py``), every string through the
markdown family's escaper (``md_escape``/``md_code``).
"""

from __future__ import annotations

from permaudit.formatters.compare_rows import md_code, md_escape, md_table
from permaudit.model import Report
from permaudit.views.code import (
    code_column,
    code_legend,
    code_mark,
    country_name,
    cut,
    servers_by_owner,
    short_api,
    size_text,
    tracker_maker,
)

#: API references named per capability; the JSON report lists them all.
REFERENCES_SHOWN = 3
#: Domains named per owner; the JSON report lists them all.
DOMAINS_SHOWN = 12


def _trackers(report: Report) -> list[str]:
    evidence = report.code_evidence
    if evidence is None or not evidence.trackers:
        return ["**Built-in SDKs and trackers:** none of the known tracker signatures match.", ""]
    lines = [f"**Built-in SDKs and trackers** ({len(evidence.trackers)}, by class prefix "
             "and host):", ""]
    for t in evidence.trackers:
        maker = tracker_maker(t)
        name = f"**{md_escape(t.name)}**" + (f" ({md_escape(maker)})" if maker else "")
        shipped = "classes under" if t.strength == "defined" else "types referenced (not shipped):"
        packages = ", ".join(md_code(p) for p in t.packages)
        hosts = f"; host {', '.join(md_code(h) for h in t.hosts)}" if t.hosts else ""
        lines.append(f"- {name}: {md_escape(', '.join(t.categories) or 'uncategorised')}; "
                     f"{t.class_count} {shipped} {packages}{hosts}")
    return [*lines, ""]


def _servers(report: Report) -> list[str]:
    evidence = report.code_evidence
    if evidence is None or not evidence.hosts:
        return ["**Servers named in the code:** none.", ""]
    lines = ["**Servers named in the code** (by owner and country; named, not proof of "
             "traffic):", ""]
    for group in servers_by_owner(evidence):
        label = ("unknown owner" if group.owner is None
                 else f"{group.owner} ({country_name(group.country)})")
        shown = group.domains[:DOMAINS_SHOWN]
        domains = ", ".join(md_code(d.domain) for d in shown)
        if len(group.domains) > len(shown):
            domains += f" and {len(group.domains) - len(shown)} more (see `--format json`)"
        lines.append(f"- {md_escape(label)}: {domains}")
    return [*lines, ""]


def _uses(report: Report) -> list[str]:
    column = code_column(report)
    if not column.uses:
        return []
    rows = []
    for u in column.uses:
        refs = [md_code(cut(short_api(r))) for r in u.references[:REFERENCES_SHOWN]]
        more = len(u.references) - len(refs)
        text = ", ".join(refs) + (f" and {more} more" if more > 0 else "")
        rows.append([md_escape(u.title), md_escape(code_mark(u.verdict)), text or "-"])
    return ["**Does the code use what it asks for?** (API references somewhere in the app's "
            "DEX: which package calls them is not read; a reference is not proof the call "
            "runs; no reference found may still be reflection or native code)",
            "", *md_table(["capability", "manifest and code", "API references"], rows),
            "", *(f"- {md_escape(entry)}" for entry in code_legend()), ""]


def _native(report: Report) -> list[str]:
    column = code_column(report)
    if not column.native:
        return ["**Native libraries:** none.", ""]
    return ["**Native libraries** (listed, their code is not read):", "",
            *(f"- {md_code(cut(g.name, 80))} ({md_escape(', '.join(g.abis))}; "
              f"{size_text(g.size)})" for g in column.native), ""]


def code_section(report: Report) -> list[str]:
    """The code evidence of ``report``, or why there is none."""
    evidence = report.code_evidence
    if evidence is None:
        return ["The code was not searched (a manifest, or a run with `--no-code`)."]
    notes = [f"- _{md_escape(n)}_" for n in evidence.notes]
    if not code_column(report).read:
        return ["No code evidence could be read.", "", *notes]
    lines = [*_trackers(report), *_servers(report), *_uses(report), *_native(report)]
    if notes:
        lines.extend(["Notes:", "", *notes, ""])
    return lines[:-1] if lines and lines[-1] == "" else lines
