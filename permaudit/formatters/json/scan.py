"""The JSON document of ``permaudit scan``: the contract's header and one object per app."""

from __future__ import annotations

import json

from permaudit.formatters.json.report import scan_document
from permaudit.model import ScanResult


def render(result: ScanResult, *, color: bool = False) -> str:
    """Render ``result`` as the JSON contract (``color`` is ignored)."""
    del color
    return json.dumps(scan_document(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
