"""Registry of output formats: one explicit dict per command, format name -> renderer.

A renderer is a pure function ``render(result, *, color: bool) -> str``; it never does
I/O and never filters. Modules are imported only when their format is used, so a JSON
run does not pay for tabulate or the HTML templates.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

#: ``permaudit scan``: result is a ``model.ScanResult``.
SCAN_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.text.scan:render",
    "json": "permaudit.formatters.json.scan:render",
    "jsonl": "permaudit.formatters.json.jsonl:render",
}
#: ``permaudit compare``: result is a ``compare.Comparison``.
COMPARE_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.text.compare:render",
    "markdown": "permaudit.formatters.markdown.compare:render",
    "json": "permaudit.formatters.json.compare:render",
    "html": "permaudit.formatters.html.compare:render",
}
#: ``permaudit diff``: result is a ``diff.Diff``.
DIFF_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.text.diff:render",
    "markdown": "permaudit.formatters.markdown.diff:render",
    "json": "permaudit.formatters.json.diff:render",
    "html": "permaudit.formatters.html.diff:render",
}
#: ``permaudit check``: result is a ``gate.CheckResult``.
CHECK_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.text.check:render",
    "json": "permaudit.formatters.json.check:render",
    "markdown": "permaudit.formatters.markdown.check:render",
    "sarif": "permaudit.formatters.sarif:render",
    "junit": "permaudit.formatters.junit:render",
    "github": "permaudit.formatters.github:render",
}

#: ``permaudit rules list``: result is a tuple of ``ruleset.ListedRule``.
RULES_FORMATS: dict[str, str] = {
    "table": "permaudit.formatters.text.rules:render",
    "json": "permaudit.formatters.json.rules:render",
}

Renderer = Callable[..., str]


#: Formats whose serializer escapes every string itself (``json.dumps``): they get the
#: result as it is. Every other format gets it through ``escape.sanitized``.
RAW_MODULES = ("permaudit.formatters.json.", "permaudit.formatters.sarif")
#: Formats laid out for a terminal: they take ``width`` (columns; see ``output.text_width``).
#: Every other renderer is called without it.
WIDTH_MODULES = ("permaudit.formatters.text.",)


def renderer(registry: dict[str, str], name: str) -> Renderer:
    """Import and return the renderer registered as ``name`` in ``registry``.

    For every text-like format (all but JSON and SARIF) the renderer is wrapped so that
    the result it sees has every string neutralised by ``escape.terminal``: the one place
    where untrusted names are made inert on a terminal, in a log or in XML. A ``width``
    option reaches only the terminal formats (``WIDTH_MODULES``).
    """
    module_name, _, function = registry[name].partition(":")
    func: Renderer = getattr(importlib.import_module(module_name), function)
    takes_width = module_name.startswith(WIDTH_MODULES)
    raw = module_name.startswith(RAW_MODULES)
    if not raw:
        from permaudit.formatters.escape import sanitized

    def render(result: object, **options: object) -> str:
        if not takes_width:
            options.pop("width", None)
        return func(result if raw else sanitized(result), **options)

    return render
