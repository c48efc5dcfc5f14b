"""``permaudit rules list --format json``: the listing for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from permaudit.rules.model import ListedRule


def render(rules: Sequence[ListedRule], *, color: bool = False) -> str:
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
