"""The code evidence on the HTML pages: per app (scan, compare), side by side (compare, diff).

What the code holds, in the order a reader asks: which tracker SDKs are built in, which
servers the code names (by owner and country), whether the code uses what the manifest asks
for (per capability, with a mark as in the matrix), and the native libraries. Static evidence:
a class or a string in the DEX is not proof it runs, and "no reference found" may still be
reflection or native code. Every value is escaped here (``esc``/``breakable``).
"""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.formatters.html.common import app_header, breakable, esc, row_header, table, th_col
from permaudit.model import Report
from permaudit.views.code import (
    ASKS_NO_CODE,
    CODE_MARKS,
    NEITHER,
    USES_WITHOUT_ASKING,
    CodeColumn,
    code_column,
    code_legend,
    country_name,
    cut,
    servers_by_owner,
    short_api,
    size_text,
    tracker_maker,
)
from permaudit.views.columns import AppColumn

#: Domains without a known owner listed on a page (an app's strings can name thousands).
UNKNOWN_DOMAINS_SHOWN = 200
#: API references named per capability on a page; the JSON report lists them all.
REFERENCES_SHOWN = 6

#: The text an app's code cell shows when its code was not read.
NOT_READ = "code not read"


def code_mark(verdict: str | None) -> str:
    """A matrix cell's code mark as HTML (the mark hidden from screen readers), or ``""``."""
    if verdict is None:
        return ""
    mark, words = CODE_MARKS.get(verdict, ("", verdict))
    css = {USES_WITHOUT_ASKING: " warn", ASKS_NO_CODE: " unsure", NEITHER: " neither"}
    return (f'<span class="codemark{css.get(verdict, "")}"><span aria-hidden="true">'
            f"{esc(mark)}</span> code: {esc(words)}</span>")


def with_code_mark(cell: str, verdict: str | None) -> str:
    """A ``<td>...</td>`` cell with the code mark added at its end."""
    mark = code_mark(verdict)
    if not mark or not cell.endswith("</td>"):
        return cell
    return cell[: -len("</td>")] + mark + "</td>"


def code_legend_html() -> list[str]:
    """What each code mark means, under the reach legend."""
    items = "".join(f"<li>{esc(entry)}</li>" for entry in code_legend())
    return ['<p class="hint">Code marks (API references in the app\'s DEX files; a reference '
            f"is not proof the call runs):</p><ul class=\"hint codelegend\">{items}</ul>"]


# --- one app ------------------------------------------------------------------------------


def _trackers(report: Report) -> list[str]:
    evidence = report.code_evidence
    if evidence is None or not evidence.trackers:
        return ["<h4>Built-in SDKs and trackers</h4>",
                "<p>None of the known tracker signatures match the code.</p>"]
    items = []
    for t in evidence.trackers:
        maker = tracker_maker(t)
        by = f" by {esc(maker)}" if maker else ""
        shipped = ("classes under" if t.strength == "defined"
                   else "types referenced, classes not shipped:")
        hosts = f"; host {', '.join(f'<code>{breakable(h)}</code>' for h in t.hosts)}" \
            if t.hosts else ""
        items.append(
            f"<li><strong>{esc(t.name)}</strong>{by}: "
            f"{esc(', '.join(t.categories) or 'uncategorised')}"
            f'<span class="sub">{t.class_count} {esc(shipped)} '
            f"{', '.join(f'<code>{breakable(p)}</code>' for p in t.packages)}{hosts}"
            f" (signature: {esc(t.source)})</span></li>"
        )
    return [f"<h4>Built-in SDKs and trackers ({len(evidence.trackers)})</h4>",
            f'<ul class="trackers">{"".join(items)}</ul>']


def _servers(report: Report) -> list[str]:
    evidence = report.code_evidence
    head = "<h4>Servers named in the code, by owner and country</h4>"
    if evidence is None or not evidence.hosts:
        return [head, "<p>No server names in the code.</p>"]
    groups = servers_by_owner(evidence)
    rows = []
    unknown: list[str] = []
    for group in groups:
        if group.owner is None:
            unknown.extend(d.domain for d in group.domains)
            continue
        domains = ", ".join(
            f"<code>{breakable(d.domain)}</code>"
            + (f' <span class="meta">({len(d.hosts)} hosts)</span>' if len(d.hosts) > 1 else "")
            for d in group.domains
        )
        rows.append(
            "<tr>" + row_header(group.owner)
            + f'<td data-label="country">{esc(country_name(group.country))}</td>'
            + f'<td data-label="domains">{domains}</td></tr>'
        )
    lines = [head, '<p class="hint">Named in the code\'s strings: not proof of traffic.</p>']
    if rows:
        headers = [th_col(h) for h in ("owner", "country", "domains")]
        lines.extend(table(headers, rows, css="full stack"))
    if unknown:
        shown = unknown[:UNKNOWN_DOMAINS_SHOWN]
        more = len(unknown) - len(shown)
        tail = f" … and {more} more (the JSON report lists every one)" if more else ""
        lines.append(
            f"<details><summary>{len(unknown)} domain{'s' if len(unknown) > 1 else ''} "
            f"of an unknown owner</summary><p>"
            f"{', '.join(f'<code>{breakable(d)}</code>' for d in shown)}{esc(tail)}</p></details>"
        )
    return lines


def _references(refs: Sequence[str]) -> str:
    shown = [f"<code>{breakable(cut(short_api(r)))}</code>" for r in refs[:REFERENCES_SHOWN]]
    more = len(refs) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "") or "-"


def _uses(column: CodeColumn) -> list[str]:
    head = "<h4>Does the code use what the manifest asks for?</h4>"
    if not column.uses:
        return [head, "<p>The API table finds nothing for this app.</p>"]
    rows = [
        "<tr>" + row_header(u.title, u.capability)
        + f'<td data-label="code">{code_mark(u.verdict)}</td>'
        + f'<td data-label="references">{_references(u.references)}</td></tr>'
        for u in column.uses
    ]
    headers = [th_col(h) for h in ("capability", "manifest and code", "API references")]
    return [head, '<p class="hint">References in the DEX files: a reference is not proof the '
            "call runs; \"no reference found\" may still be reflection or native code.</p>",
            *table(headers, rows, css="full stack codeuse")]


def _native(column: CodeColumn) -> list[str]:
    head = "<h4>Native libraries</h4>"
    if not column.native:
        return [head, "<p>No native libraries (<code>lib/&lt;abi&gt;/*.so</code>).</p>"]
    rows = [
        "<tr>" + f'<th scope="row"><code>{breakable(cut(g.name, 80))}</code></th>'
        + f'<td data-label="ABIs">{esc(", ".join(g.abis))}</td>'
        + f'<td data-label="size">{esc(size_text(g.size))}</td></tr>'
        for g in column.native
    ]
    headers = [th_col(h) for h in ("library", "ABIs", "size (largest copy)")]
    return [head, '<p class="hint">Listed by name and size; their code is not read.</p>',
            *table(headers, rows, css="full stack")]


def code_evidence(report: Report) -> list[str]:
    """One app's trackers, servers, code use per capability and native libraries."""
    evidence = report.code_evidence
    if evidence is None:
        return ['<p class="meta">The code was not searched (a manifest, or a run with '
                "<code>--no-code</code>).</p>"]
    column = code_column(report)
    notes = [f'<p class="note">{esc(n)}</p>' for n in evidence.notes]
    if not column.read:
        return ['<p class="meta">No code evidence could be read.</p>', *notes]
    return [*_trackers(report), *_servers(report), *_uses(column), *_native(column), *notes]


# --- side by side ---------------------------------------------------------------------------


def _cell(column: CodeColumn, texts: Sequence[str], none: str) -> str:
    if not column.read:
        body = f'<span class="meta">{NOT_READ}</span>'
    elif texts:
        body = "".join(f'<span class="item">{esc(t)}</span>' for t in texts)
    else:
        body = f'<span class="meta">{esc(none)}</span>'
    return f"<td>{body}</td>"


def code_rows(columns: Sequence[CodeColumn]) -> list[tuple[str, list[tuple[str, ...]], str]]:
    """The rows of a side-by-side code table: ``(title, texts per app, text for none)``."""
    return [
        ("trackers", [tuple(t.text for t in c.trackers) for c in columns], "none found"),
        ("servers of", [c.owners_text for c in columns], "none named"),
        ("server countries", [c.countries for c in columns], "none known"),
        ("code uses, not requested", [c.unrequested for c in columns], "none"),
        ("native libraries", [tuple(f"{cut(g.name, 60)} ({', '.join(g.abis)}; "
                                    f"{size_text(g.size)})" for g in c.native)
                              for c in columns], "none"),
    ]


def _change_cell(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    """What the new build adds (+) and drops (-) in one row, in words; ``same`` otherwise."""
    added = [t for t in new if t not in old]
    dropped = [t for t in old if t not in new]
    if not added and not dropped:
        return '<td class="same">same</td>'
    items = [f'<span class="item"><span class="chg" aria-hidden="true">+</span> '
             f"added: {esc(t)}</span>" for t in added]
    items += [f'<span class="item"><span class="chg" aria-hidden="true">-</span> '
              f"removed: {esc(t)}</span>" for t in dropped]
    css = "chg-gained" if added else "chg-dropped"
    return f'<td class="{css}">{"".join(items)}</td>'


def code_table(apps: Sequence[AppColumn], columns: Sequence[CodeColumn],
               prefixes: Sequence[str] = (), *, mark_changes: bool = False) -> list[str]:
    """Trackers, server owners and countries, unrequested use and native libraries per app.

    ``mark_changes`` (the diff page, two columns): rows that differ are marked like the
    matrix's, and the last column says what the new build added and removed.
    """
    rows = []
    for title, texts, none in code_rows(columns):
        cells = "".join(_cell(c, t, none) for c, t in zip(columns, texts, strict=True))
        mark = _change_cell(texts[0], texts[-1]) if mark_changes else ""
        css = ' class="changed"' if mark_changes and texts[0] != texts[-1] else ""
        rows.append(f"<tr{css}>{row_header(title)}{cells}{mark}</tr>")
    names = prefixes or [""] * len(apps)
    headers = [th_col("in the code"),
               *(app_header(a, p) for a, p in zip(apps, names, strict=True))]
    if mark_changes:
        headers.append(th_col("what changed"))
    cols = ("c-cap", *("c-side" for _ in apps), "c-codechg") if mark_changes else ()
    return table(headers, rows, css="matrix codes", cols=cols)
