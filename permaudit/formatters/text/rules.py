"""``permaudit rules list`` as a table: every capability and rule, where it is defined."""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.formatters.text.layout import DEFAULT_WIDTH, table
from permaudit.rules.model import ListedRule


def render(rules: Sequence[ListedRule], *, color: bool = False, width: int = DEFAULT_WIDTH) -> str:
    """One row per capability or rule, fitted to ``width``; disabled ones are marked.

    Rule ids and positions are never wrapped (a wrapped id cannot be copied into a
    policy): the title wraps, and where even that does not fit each rule becomes a block.
    """
    del color
    rows = [
        (
            item.id,
            item.severity.label,
            item.category,
            item.title + ("" if item.enabled else " (disabled)"),
            item.origin
            + (" (changed at " + ", ".join(item.overridden_at) + ")" if item.overridden_at else ""),
        )
        for item in rules
    ]
    headers = ("id", "severity", "category", "title", "defined at")
    return "\n".join(table(headers, rows, width, keys=(0, 1, 3)) or []) + "\n"
