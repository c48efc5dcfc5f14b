"""Registry of output formats: one explicit dict per command, format name -> renderer.

A renderer is a pure function ``render(result, *, color: bool) -> str``; it never does
I/O and never filters. Modules are imported only when their format is used, so a JSON
run does not pay for tabulate or the HTML templates.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: ``permaudit scan``: result is a ``model.ScanResult``.
SCAN_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.scan_table:render",
    "json": "permaudit.formatters.scan_json:render",
}
#: ``permaudit compare``: result is a ``compare.Comparison``.
COMPARE_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.compare_table:render",
    "markdown": "permaudit.formatters.compare_markdown:render",
    "json": "permaudit.formatters.compare_json:render",
    "html": "permaudit.formatters.compare_html:render",
}
#: ``permaudit diff``: result is a ``diff.Diff``.
DIFF_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.diff_table:render",
    "markdown": "permaudit.formatters.diff_markdown:render",
    "json": "permaudit.formatters.diff_json:render",
    "html": "permaudit.formatters.diff_html:render",
}
#: ``permaudit check``: result is a ``gate.CheckResult``.
CHECK_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.check_table:render",
    "json": "permaudit.formatters.check_json:render",
    "markdown": "permaudit.formatters.check_markdown:render",
    "sarif": "permaudit.formatters.check_sarif:render",
    "junit": "permaudit.formatters.check_junit:render",
    "github": "permaudit.formatters.check_github:render",
}

Renderer = Callable[..., str]


def renderer(registry: dict[str, str], name: str) -> Renderer:
    """Import and return the renderer registered as ``name`` in ``registry``."""
    module_name, _, function = registry[name].partition(":")
    func: Renderer = getattr(importlib.import_module(module_name), function)
    return func


def render_scan(name: str, result: Any, *, color: bool = False) -> str:
    """Render a scan result in format ``name``."""
    return renderer(SCAN_FORMATS, name)(result, color=color)
