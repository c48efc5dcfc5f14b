"""``permaudit scan --format html``: the one-app page, with the compare page's look.

The page shows the overview of the scanned reports (``views.compare.overview``: one app,
or several side by side), and the inputs that could not be read; every section and all
escaping come from ``html.overview`` and ``html.common``.
"""

from __future__ import annotations

from permaudit.formatters.html.common import esc, page, section
from permaudit.formatters.html.overview import overview_page
from permaudit.model import ScanResult
from permaudit.views.compare import overview


def _failures(result: ScanResult) -> list[str]:
    items = "".join(
        f"<li><code>{esc(f.path)}</code>: {esc(f.error)}: {esc(f.message)}</li>"
        for f in result.failures
    )
    return [f"<ul>{items}</ul>"]


def render(result: ScanResult, *, color: bool = False) -> str:
    """Render ``result`` as a standalone HTML page; ``color`` is ignored."""
    del color
    extra = (
        [("failures", "Inputs that could not be read", _failures(result), "")]
        if result.failures else []
    )
    if not result.reports:
        body = ["<header><h1>No app could be read</h1></header>", "<main>"]
        for section_id, head, lines, hint in extra:
            body.extend(section(section_id, head, lines, hint))
        return page("permaudit scan", [*body, "</main>"])
    view = overview(result.reports, ruleset=result.ruleset, tool_version=result.tool_version)
    names = ", ".join(app.label for app in view.apps)
    if len(view.apps) == 1:
        heading = f"What {view.apps[0].label} can reach on a phone"
    else:
        heading = f"What {len(view.apps)} apps can reach on a phone"
    return overview_page(view, title=f"permaudit scan: {names}", heading=heading, extra=extra)
