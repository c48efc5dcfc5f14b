"""JSON Lines: one compact JSON object per line, for streaming (``--format jsonl``, ``batch``).

A line is either the per-app object of the JSON contract (``apps[]`` of
``permaudit.formatters.json.scan``: it has a ``package`` key) or an error entry for an
input that could not be read (``path``, ``error``: the error class, ``message``). Pure:
the caller writes the lines.
"""

from __future__ import annotations

import json
from typing import Any

from permaudit.formatters.json.report import failure_json, report_json
from permaudit.model import InputFailure, Report, ScanResult


def line(data: dict[str, Any]) -> str:
    """One JSON object as one line (keys sorted, UTF-8 kept), newline included."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def report_line(report: Report) -> str:
    """The line of one app."""
    return line(report_json(report))


def failure_line(failure: InputFailure) -> str:
    """The line of one input that could not be read."""
    return line(failure_json(failure))


def render(result: ScanResult, *, color: bool = False) -> str:
    """A whole scan as JSON Lines (``scan --format jsonl`` streams the same lines instead)."""
    del color
    return "".join(
        [*(report_line(r) for r in result.reports), *(failure_line(f) for f in result.failures)]
    )
