"""``permaudit compare`` as one self-contained HTML page: who reaches what, and how far.

The summary in sentences comes first, then the matrix of reach levels (so the
differences between apps stand out), then what each capability means and what Android
asks, the other findings, signers, trackers and servers, and the permission tables. The
sections come from ``html.overview`` (shared with the scan page), the stylesheet and
every escaping step from ``html.common``.
"""

from __future__ import annotations

from permaudit.formatters.html.common import breakable, table, th_col
from permaudit.formatters.html.overview import overview_page
from permaudit.formatters.labels import short_permission
from permaudit.views.compare import Comparison


def _code_list(names: tuple[str, ...]) -> str:
    if not names:
        return '<span class="meta">none</span>'
    return ", ".join(f"<code>{breakable(short_permission(n))}</code>" for n in names)


def _exclusives(comparison: Comparison) -> list[str]:
    rows = [
        "<tr>"
        f'<th scope="row">{breakable(app.label)}</th>'
        f'<td data-label="capabilities">{_code_list(only.capabilities)}</td>'
        f'<td data-label="permissions">{_code_list(only.permissions)}</td>'
        "</tr>"
        for app, only in zip(comparison.apps, comparison.exclusives, strict=True)
    ]
    headers = [
        th_col("app"),
        th_col("capabilities only this app reaches"),
        th_col("permissions only it requests"),
    ]
    return table(headers, rows, css="full stack")


def render(result: Comparison, *, color: bool = False) -> str:
    """Render ``result`` as a standalone HTML page (``color`` is ignored: always coloured)."""
    del color
    names = ", ".join(app.label for app in result.apps)
    extra = [("exclusives", "Only in one app", _exclusives(result), "")]
    return overview_page(
        result,
        title=f"permaudit compare: {names}",
        heading=f"What {len(result.apps)} apps can reach on a phone",
        extra=extra,
    )


