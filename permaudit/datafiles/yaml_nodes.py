"""Read YAML: composed nodes that keep their line and column (with diagnostics), and data tables."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Re-exported: Origin lived here before it moved to a yaml-free module.
from permaudit.datafiles.config_file import CONFIG_MAX_BYTES, read_config_text
from permaudit.datafiles.origin import Origin as Origin
from permaudit.errors import PermauditError

#: libyaml's parser when PyYAML was built with it: ~20x faster than the pure-Python one and
#: it keeps the same node marks (line, column), so diagnostics do not change.
FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"

#: How a plain scalar PyYAML would silently retype is described in an error.
TAG_NAMES = {
    STR_TAG: "a string",
    INT_TAG: "an integer",
    BOOL_TAG: "a boolean",
    "tag:yaml.org,2002:float": "a float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "binary data",
    "tag:yaml.org,2002:map": "a mapping",
    "tag:yaml.org,2002:seq": "a list",
}


#: Most diagnostics printed for one load: a 4 MiB file could otherwise print a million lines.
MAX_SHOWN = 200
#: Deepest nesting of lists and mappings a config file may have (the shipped rules need 6).
MAX_DEPTH = 64
#: Longest plain scalar YAML would read as an integer (int64 needs 20 characters).
MAX_INT_CHARS = 40
#: Explicit tags a config file may carry: YAML's core types, nothing that constructs objects.
SAFE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)
_RESOLVER = yaml.resolver.Resolver()


def bounds_problem(text: str) -> tuple[int, int, str] | None:
    """The first reason ``text`` is refused before composing: ``(line, column, message)``.

    Checked on the event stream (linear, no recursion, nothing expanded): aliases (an alias
    bomb or a recursive anchor would make the data tree exponential or cyclic), tags outside
    ``SAFE_TAGS`` (``!!python/...``), non-scalar mapping keys, nesting deeper than
    ``MAX_DEPTH`` and integers longer than ``MAX_INT_CHARS``. ``None`` when the events are
    acceptable or cannot be parsed (the composer then reports the syntax error).
    """
    #: Per open collection: [is a mapping, children seen so far].
    stack: list[list[int]] = []
    try:
        for event in yaml.parse(text, Loader=FAST_LOADER):
            mark = event.start_mark
            where = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            if isinstance(event, yaml.AliasEvent):
                return (*where, f"aliases are not allowed ('*{event.anchor}'); repeat the value")
            if isinstance(event, (yaml.CollectionEndEvent,)):
                stack.pop()
                continue
            if not isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                continue
            tag = event.tag
            shown = (tag or "").replace("tag:yaml.org,2002:", "!!")
            if tag is not None and tag != "!" and tag not in SAFE_TAGS:
                return (*where, f"tag '{shown}' is not allowed; remove it")
            if tag is not None and tag not in ("!", STR_TAG) and not _tag_fits(event, tag):
                return (*where, f"tag '{shown}' does not fit this value; remove it")
            if stack:
                parent = stack[-1]
                if parent[0] and parent[1] % 2 == 0 and isinstance(
                    event, yaml.CollectionStartEvent
                ):
                    return (*where, "mapping keys must be plain values, not lists or mappings")
                parent[1] += 1
            if isinstance(event, yaml.CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    return (*where, f"nested deeper than {MAX_DEPTH} levels")
                stack.append([int(isinstance(event, yaml.MappingStartEvent)), 0])
            elif len(event.value) > MAX_INT_CHARS and (
                tag == INT_TAG
                or (tag is None and _RESOLVER.resolve(  # type: ignore[no-untyped-call]
                    ScalarNode, event.value, event.implicit) == INT_TAG)
            ):
                return (*where, f"integer of {len(event.value)} characters (at most "
                                f"{MAX_INT_CHARS})")
    except yaml.MarkedYAMLError as exc:
        # libyaml stops at 1,000 levels, before the events reach MAX_DEPTH; other syntax
        # errors are left to the composer, which explains them better.
        mark = exc.problem_mark
        if mark is not None and "nesting depth" in (exc.problem or ""):
            return (mark.line + 1, mark.column + 1, f"nested deeper than {MAX_DEPTH} levels")
        return None
    except yaml.YAMLError:
        return None
    return None


def _tag_fits(event: yaml.ScalarEvent | yaml.CollectionStartEvent, tag: str) -> bool:
    """Whether an explicit core tag matches what the value is (``!!int abc`` does not)."""
    if isinstance(event, yaml.SequenceStartEvent):
        return tag == SEQ_TAG
    if isinstance(event, yaml.MappingStartEvent):
        return tag == MAP_TAG
    if not isinstance(event, yaml.ScalarEvent) or tag in (SEQ_TAG, MAP_TAG):
        return False
    resolved: str = _RESOLVER.resolve(  # type: ignore[no-untyped-call]
        ScalarNode, event.value, (True, False))
    return resolved == tag


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def describe(node: Node) -> str:
    """What a node is, for messages: ``a list``, ``a boolean``, ..."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return TAG_NAMES.get(node.tag, f"a value tagged {node.tag}")


class Diagnostics:
    """Collects ``file:line:col: error: message`` lines for one load; never stops at the first."""

    def __init__(self) -> None:
        self._entries: list[tuple[int, int, int, str]] = []
        self._files: dict[str, int] = {}

    def origin(self, path: str, node: Node) -> Origin:
        """The 1-based position of ``node`` in ``path``."""
        mark = node.start_mark
        return Origin(path=path, line=mark.line + 1, column=mark.column + 1)

    def error_at(self, origin: Origin, message: str) -> None:
        """Record one error at ``origin``."""
        index = self._files.setdefault(origin.path, len(self._files))
        self._entries.append(
            (index, origin.line, origin.column, f"{origin}: error: {message}")
        )

    def lines(self) -> list[str]:
        """The diagnostics by file (in the order first seen) then position, at most
        ``MAX_SHOWN`` of them and a line counting the rest."""
        ordered = sorted(self._entries, key=lambda e: e[:3])
        shown = [entry[3] for entry in ordered[:MAX_SHOWN]]
        if len(ordered) > MAX_SHOWN:
            shown.append(f"{ordered[MAX_SHOWN][3].split(': error: ')[0]}: error: "
                         f"{len(ordered) - MAX_SHOWN} more errors not shown")
        return shown

    def __bool__(self) -> bool:
        return bool(self._entries)


class NodeReader:
    """Typed access to the nodes of one file, recording every problem in ``diagnostics``."""

    def __init__(self, path: str, diagnostics: Diagnostics) -> None:
        self.path = path
        self.diagnostics = diagnostics

    def origin(self, node: Node) -> Origin:
        """Where ``node`` starts."""
        return self.diagnostics.origin(self.path, node)

    def error(self, node: Node, message: str) -> None:
        """Record an error at ``node``."""
        self.diagnostics.error_at(self.origin(node), message)

    def compose(self, text: str) -> Node | None:
        """Compose ``text`` into one node tree; syntax errors and ``bounds_problem`` too."""
        refused = bounds_problem(text)
        if refused is not None:
            line, column, message = refused
            self.diagnostics.error_at(Origin(path=self.path, line=line, column=column), message)
            return None
        try:
            try:
                node = yaml.compose(text, Loader=FAST_LOADER)
            except yaml.YAMLError:
                # libyaml's messages are terser; the pure parser explains the same error better.
                node = yaml.compose(text, Loader=yaml.SafeLoader)
        except RecursionError:
            self.diagnostics.error_at(
                Origin(path=self.path, line=1, column=1), f"nested deeper than {MAX_DEPTH} levels"
            )
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            problem = exc.problem or exc.context or "invalid YAML"
            context = ""
            if exc.context and exc.problem:
                where = exc.context_mark
                at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
                context = f" ({exc.context}{at})"
            origin = Origin(path=self.path, line=line, column=column)
            self.diagnostics.error_at(origin, f"YAML syntax error: {problem}{context}")
            return None
        except yaml.YAMLError as exc:
            self.diagnostics.error_at(
                Origin(path=self.path, line=1, column=1), f"YAML error: {exc}"
            )
            return None
        if node is None:
            origin = Origin(path=self.path, line=1, column=1)
            self.diagnostics.error_at(origin, "the file is empty")
        return node

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
    ) -> dict[str, tuple[ScalarNode, Node]] | None:
        """A mapping's entries by key; reports duplicates, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping, not {describe(node)}")
            return None
        allowed = tuple(allowed)
        entries: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != STR_TAG:
                self.error(key_node, f"keys of {what} must be words, not {describe(key_node)}")
                continue
            key = key_node.value
            if key in entries:
                first = self.origin(entries[key][0])
                self.error(
                    key_node,
                    f"duplicate key '{key}' in {what} (first at line {first.line}, "
                    f"column {first.column})",
                )
                continue
            if key not in allowed:
                self.error(key_node, f"unknown key '{key}' in {what}{did_you_mean(key, allowed)}")
                continue
            entries[key] = (key_node, value_node)
        for key in required:
            if key not in entries:
                self.error(node, f"{what} is missing the required key '{key}'")
        return entries

    def sequence(self, node: Node, what: str) -> list[Node] | None:
        """A list's items, or ``None`` (with an error) when ``node`` is not a list."""
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list, not {describe(node)}")
            return None
        return list(node.value)

    def string(self, node: Node, what: str) -> str | None:
        """A string scalar; a plain scalar YAML reads as another type is an error."""
        if isinstance(node, ScalarNode) and node.tag == STR_TAG:
            if not node.value.strip():
                self.error(node, f"{what} must not be empty")
                return None
            return str(node.value)
        if isinstance(node, ScalarNode):
            self.error(
                node,
                f"{what} must be a string, but YAML reads {node.value!r} as "
                f"{describe(node)}; quote it: \"{node.value}\"",
            )
        else:
            self.error(node, f"{what} must be a string, not {describe(node)}")
        return None

    def integer(self, node: Node, what: str, minimum: int = 0) -> int | None:
        """A non-negative integer scalar (no floats, no quoted numbers)."""
        if isinstance(node, ScalarNode) and node.tag == INT_TAG:
            value = int(SafeConstructor().construct_yaml_int(node))
            if value < minimum:
                self.error(node, f"{what} must be at least {minimum}, not {value}")
                return None
            return value
        shown = f" ({node.value!r})" if isinstance(node, ScalarNode) else ""
        self.error(node, f"{what} must be an integer, not {describe(node)}{shown}")
        return None

    def boolean(self, node: Node, what: str) -> bool | None:
        """``true`` or ``false`` (YAML's other spellings of a boolean are accepted)."""
        if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
            return bool(SafeConstructor().construct_yaml_bool(node))
        shown = f" ({node.value!r})" if isinstance(node, ScalarNode) else ""
        self.error(node, f"{what} must be true or false, not {describe(node)}{shown}")
        return None

    def strings(
        self, node: Node, what: str, *, allow_single: bool = False
    ) -> list[tuple[str, Node]]:
        """A list of strings (or one string when ``allow_single``), each with its node."""
        if allow_single and isinstance(node, ScalarNode):
            value = self.string(node, what)
            return [] if value is None else [(value, node)]
        items = self.sequence(node, what)
        if items is None:
            return []
        result = []
        for item in items:
            value = self.string(item, f"each entry of {what}")
            if value is not None:
                result.append((value, item))
        return result


def read_text(path: Path, diagnostics: Diagnostics) -> str | None:
    """The file's text, or ``None`` with a diagnostic when it cannot be read."""
    try:
        return read_config_text(path, CONFIG_MAX_BYTES)
    except PermauditError as exc:
        diagnostics.error_at(Origin(path=str(path), line=1, column=1), f"cannot read: {exc.detail}")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        diagnostics.error_at(Origin(path=str(path), line=1, column=1), f"cannot read: {reason}")
    except UnicodeDecodeError as exc:
        diagnostics.error_at(
            Origin(path=str(path), line=1, column=1), f"not UTF-8 text ({exc.reason})"
        )
    return None


def load_data_file(path: Path, what: str) -> dict[str, Any]:
    """A shipped YAML data table (``version: 1`` mapping); ``PermauditError`` otherwise.

    ``what`` names the table in the error message, e.g. "implied-permission rules".
    """
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PermauditError(f"cannot read {what}: {error}", path=str(path)) from None
    if not isinstance(document, dict) or document.get("version") != 1:
        raise PermauditError("expected a mapping with version: 1", path=str(path))
    return document
