"""The escapers, one per format family, in one module so every formatter of a family uses it.

Strings in a report come from untrusted APKs (permission, component and package names,
versionName, file names). Before a text-like format sees them, ``sanitized`` rebuilds the
whole result with every string passed through the family's escaper, so no formatter can
forget one. Families:

- text (table, github, markdown, junit, stderr lines): ``terminal`` shows every control
  character (C0 incl. newline and tab, DEL, C1), every format character (bidi overrides
  such as U+202E, zero-width characters, BOM) and line/paragraph separators as a visible
  ``\\xNN`` / ``\\uNNNN`` escape, and doubles nothing else. The result is inert on a
  terminal and is also valid XML 1.0 character data (the characters XML forbids are all
  control characters). Colour codes are added by the formatters afterwards.
- markdown: ``markdown`` on top of ``terminal``: backslash-escapes every character with a
  Markdown or HTML meaning, so no raw HTML, link, image or table cell break survives.
- html: ``html.escape`` (used by the HTML formatters on top of ``terminal``).
- github: ``github_data`` / ``github_property`` (workflow-command escaping) in github.py.
- json, sarif: no escaper: ``json.dumps`` escapes control characters; file names with
  undecodable bytes are handled by ``permaudit.output``.

Lone surrogates (undecodable bytes of a file name) are left for ``permaudit.output``,
which shows them as ``\\udcXX``.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from permaudit._infra.records import fields

_UNSAFE_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp"))


def _visible(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str) -> str:
    """``text`` with every control, format and separator character visibly escaped."""
    if text.isprintable():  # the common case: no control, format or separator character
        return text
    return "".join(_visible(char) for char in text)


#: Every character with a meaning in GitHub-flavoured Markdown inline text or table cells:
#: emphasis, code, links and images (``[``, ``]``), raw HTML and entities (``<``, ``>``, ``&``),
#: cell breaks. With ``[`` escaped no link or image syntax can form, with ``<`` no HTML.
_MARKDOWN_SPECIAL = frozenset("\\`*_[]<>|~&")


def markdown(text: str) -> str:
    """``text`` inert in a Markdown paragraph or table cell: no HTML, links, images or pipes."""
    escaped = "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIAL else ch for ch in terminal(text))
    return escaped


def markdown_code(text: str) -> str:
    """``text`` as a code span, or escaped when it holds what a code span cannot carry."""
    if any(ch in text for ch in "`|\r\n") or not text.strip():
        return markdown(text)
    return f"`{terminal(text)}`"


def sanitized(value: Any) -> Any:
    """``value`` (a result record tree) with every plain ``str`` passed through ``terminal``.

    Records, tuples, lists, sets and dicts are rebuilt; enums (``TextEnum`` members are
    ``str`` subclasses) and other objects are kept as they are. A record's ``UNRENDERED``
    fields (bulk data no report prints) are emptied, not escaped.
    """
    kind = type(value)
    if kind is str:
        return terminal(value)
    if kind is tuple or kind is list:
        return kind(sanitized(item) for item in value)
    if kind is frozenset or kind is set:
        return kind(sanitized(item) for item in value)
    if kind is dict:
        return {sanitized(k): sanitized(v) for k, v in value.items()}
    if hasattr(kind, "_record_fields"):
        unrendered: frozenset[str] = getattr(kind, "UNRENDERED", frozenset())
        return kind(**{
            name: type(getattr(value, name))() if name in unrendered
            else sanitized(getattr(value, name))
            for name in fields(value)
        })
    return value
