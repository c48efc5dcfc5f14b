"""Renderers for ``permaudit rules list``: a table or JSON of every capability and rule."""

from __future__ import annotations

import json
from collections.abc import Sequence

from permaudit.ruleset import ListedRule


def render_table(rules: Sequence[ListedRule], *, color: bool = False) -> str:
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
    return (
        tabulate(rows, headers=headers, tablefmt="simple", maxcolwidths=[34, None, None, 40, None])
        + "\n"
    )


def render_json(rules: Sequence[ListedRule], *, color: bool = False) -> str:
    """The same listing as JSON, for scripts."""
    del color
    data = [
        {
            "id": item.id,
            "kind": item.kind,
            "severity": item.severity.label,
            "category": item.category,
            "title": item.title,
            "origin": item.origin,
            "enabled": item.enabled,
            "overridden_at": list(item.overridden_at),
        }
        for item in rules
    ]
    return json.dumps({"schema_version": 1, "rules": data}, indent=2, sort_keys=True) + "\n"
