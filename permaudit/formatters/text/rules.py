"""``permaudit rules list`` as a table: every capability and rule, where it is defined."""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.rules.model import ListedRule


def render(rules: Sequence[ListedRule], *, color: bool = False) -> str:
    """One row per capability or rule; disabled ones are marked."""
    from tabulate import tabulate

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
    # Rule ids are never wrapped: a wrapped id cannot be copied into a policy.
    widths = [None, None, None, 40, None]
    return tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=widths) + "\n"
