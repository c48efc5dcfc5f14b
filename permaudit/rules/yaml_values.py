"""Small typed values of a ruleset file (severity, names, URLs, message templates)."""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from yaml.nodes import Node

from permaudit.datafiles.origin import Origin
from permaudit.datafiles.yaml_nodes import (
    NodeReader,
    did_you_mean,
)
from permaudit.model import Severity
from permaudit.rules.vocabulary import (
    MESSAGE_FIELDS,
    QUALIFIED_NAME,
    SEVERITIES,
)


class ValueParser:
    """Reads the small typed values of one file, recording every problem."""

    def __init__(self, reader: NodeReader) -> None:
        self.r = reader
        #: Every well-formed id seen in this file, valid item or not: (kind, id) -> origin.
        self.seen: dict[tuple[str, str], Origin] = {}

    def claim(self, kind: str, item_id: str, node: Node) -> bool:
        """Record ``item_id``; a second definition in the same file is an error."""
        first = self.seen.get((kind, item_id))
        if first is not None:
            self.r.error(node, f"duplicate {kind} id '{item_id}' (first defined at line "
                               f"{first.line}); use one definition")
            return False
        self.seen[(kind, item_id)] = self.r.origin(node)
        return True

    # -- small typed values --

    def severity(self, node: Node) -> Severity | None:
        """``info|low|medium|high|critical``."""
        text = self.r.string(node, "'severity'")
        if text is None:
            return None
        if text not in SEVERITIES:
            self.r.error(
                node,
                f"unknown severity '{text}'{did_you_mean(text, SEVERITIES)}; "
                f"use one of {', '.join(SEVERITIES)}",
            )
            return None
        return Severity.parse(text)

    def qualified(self, node: Node, what: str) -> str | None:
        """A package-qualified name such as ``android.permission.CAMERA``."""
        text = self.r.string(node, what)
        if text is None:
            return None
        if not QUALIFIED_NAME.match(text):
            hint = f" such as android.permission.{text}" if re.match(r"^[A-Z_]+$", text) else ""
            self.r.error(
                node,
                f"malformed {what.strip(chr(39))} '{text}' (expected a package-qualified "
                f"name{hint or ' such as android.permission.CAMERA'})",
            )
            return None
        return text

    def qualified_list(self, node: Node, what: str) -> tuple[str, ...]:
        """A list of package-qualified names (duplicates are errors)."""
        names: list[str] = []
        for text, item in self.r.strings(node, what):
            if not QUALIFIED_NAME.match(text):
                self.r.error(item, f"malformed name '{text}' in {what} (expected a "
                                   "package-qualified name such as android.permission.CAMERA)")
            elif text in names:
                self.r.error(item, f"'{text}' is listed twice in {what}")
            else:
                names.append(text)
        return tuple(names)

    def choices(
        self, node: Node, what: str, allowed: Sequence[str], *, allow_single: bool = False
    ) -> tuple[str, ...]:
        """A list of words from a closed set."""
        values: list[str] = []
        for text, item in self.r.strings(node, what, allow_single=allow_single):
            if text not in allowed:
                self.r.error(item, f"unknown value '{text}' in {what}{did_you_mean(text, allowed)}"
                                   f"; use one of {', '.join(allowed)}")
            elif text not in values:
                values.append(text)
        return tuple(values)

    def references(self, node: Node) -> tuple[str, ...]:
        """A list of https URLs."""
        urls = []
        for text, item in self.r.strings(node, "'references'"):
            if not text.startswith("https://") or " " in text:
                self.r.error(item, f"reference '{text}' must be an https:// URL")
            else:
                urls.append(text)
        return tuple(urls)

    def message(self, node: Node) -> str | None:
        """A ``str.format`` template over ``MESSAGE_FIELDS``."""
        text = self.r.string(node, "'message'")
        if text is None:
            return None
        try:
            fields = [
                (name, spec, conversion)
                for _, name, spec, conversion in string.Formatter().parse(text)
                if name is not None
            ]
        except ValueError as exc:
            self.r.error(node, f"malformed message template ({exc}); write {{{{ for a brace")
            return None
        ok = True
        for name, spec, conversion in fields:
            if spec or conversion:
                # A spec or conversion can crash a scan ("{subject:d}") or allocate without
                # bound ("{subject:>1500000000}"): placeholders are plain names only.
                suffix = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                self.r.error(node, f"placeholder '{{{name}{suffix}}}' in 'message' has a "
                                   f"format spec or conversion; write '{{{name}}}'")
                ok = False
                continue
            if name not in MESSAGE_FIELDS:
                self.r.error(node, f"unknown placeholder '{{{name}}}' in 'message'"
                                   f"{did_you_mean(name, MESSAGE_FIELDS)}; use "
                                   + ", ".join(f"{{{n}}}" for n in MESSAGE_FIELDS))
                ok = False
        return text if ok else None

    def text(self, node: Node, what: str) -> str | None:
        """A string with runs of whitespace folded."""
        value = self.r.string(node, what)
        return " ".join(value.split()) if value is not None else None

