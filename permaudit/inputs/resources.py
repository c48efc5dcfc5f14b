"""Resolve ``@0x7f...`` references against a ``ResourceTable`` the way Android picks values.

Configuration choice (a subset of ``ResTable::getEntry``/``ResTable_config::isBetterThan``):
with a locale ``ll`` or ``ll-RR``, the first entry whose config is exactly that language
and region, then that language with no region, then the default configuration; without
a locale, the default configuration; failing that, a configuration with only density or
platform-version qualifiers (every device matches those, as aapt's badging does). When
only other configurations define the entry and none matches, the value is
configuration-dependent and stays unresolved.
Reference chains are followed at most ``MAX_CHAIN`` steps (loops end there).
``@android:`` (package 0x01) references are left unresolved: no framework table ships.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from permaudit._infra.records import record, replace
from permaudit.android.attributes import ATTRIBUTE_IDS
from permaudit.errors import UsageError
from permaudit.inputs.binary.arsc import (
    TYPE_INT_BOOLEAN,
    TYPE_INT_DEC,
    TYPE_INT_HEX,
    TYPE_REFERENCE,
    TYPE_STRING,
    Candidate,
)
from permaudit.inputs.binary.xmltree import Attribute, Element, TypedValue
from permaudit.inputs.manifest import resolved_attributes

MAX_CHAIN = 16
#: ``--locale``: a language (2-3 letters) and an optional region, Android-style
#: (``ru-rRU``) or BCP-47-style (``ru-RU``, ``ru_RU``).
_LOCALE = re.compile(r"([a-zA-Z]{2,3})(?:[-_]r?([a-zA-Z]{2}))?")


def normalise_locale(text: str) -> str:
    """``ru``, ``ru-rRU`` from what a user typed; ``UsageError`` for anything else."""
    match = _LOCALE.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"--locale {text!r}: expected a language, optionally with a region, "
            "as Android writes it (ru, ru-rRU, pt-rBR)"
        )
    language, region = match.group(1).lower(), match.group(2)
    return f"{language}-r{region.upper()}" if region else language


class Table(Protocol):
    """A resource table: ``arsc.ResourceTable`` (APKs) or ``respb.ProtoResourceTable``
    (App Bundles), or a ``table_set.TableSet`` of several; they decode entries and strings
    only when asked."""

    @property
    def NAME(self) -> str:
        """What reasons call the table (``resources.arsc``)."""
        ...

    def candidates(self, res_id: int) -> list[Candidate]:
        """Every configuration's value of ``res_id``, in table order."""
        ...

    def string(self, index: int) -> str | None:
        """The string of a ``TYPE_STRING`` value (None: a bad string)."""
        ...


@record
class Resolved:
    """A resolved value (str, bool or int) or, when ``value`` is None, the reason why not."""

    value: str | bool | int | None
    reason: str | None


def _pick(candidates: list[Candidate], locale: str | None) -> Candidate | None:
    if locale:
        lang, _, region = locale.replace("_", "-").partition("-")
        region = region.removeprefix("r")
        for c in candidates:
            if c.config.language == lang and region and c.config.country == region:
                return c
        for c in candidates:
            if c.config.language == lang and not c.config.country:
                return c
    for c in candidates:
        if c.config.is_default:
            return c
    for c in candidates:
        if c.config.is_generic:
            return c
    return None


#: Configurations named one by one in a "configuration-dependent" reason.
CONFIGS_NAMED = 4


def _configs(candidates: list[Candidate]) -> str:
    """The configurations an entry is defined for, in a few words (``ru, uk-rUA, ...``)."""
    names: list[str] = []
    for c in candidates:
        if c.config.language:
            name = c.config.language + (f"-r{c.config.country}" if c.config.country else "")
        else:
            name = "a non-locale qualifier (screen, night mode, ...)"
        if name not in names:
            names.append(name)
    shown = ", ".join(names[:CONFIGS_NAMED])
    more = len(names) - CONFIGS_NAMED
    return shown + (f" and {more} more" if more > 0 else "")


def resolve(table: Table | None, res_id: int, locale: str | None = None) -> Resolved:
    """Resolve ``res_id`` to a string, bool, int or (xml/file) path, bounded."""
    if table is None:
        return Resolved(value=None, reason="no resources.arsc in the package")
    current = res_id
    for _ in range(MAX_CHAIN):
        if current >> 24 == 0x01:
            return Resolved(
                value=None, reason=f"framework reference @0x{current:08x} (no framework table)"
            )
        candidates = table.candidates(current)
        if not candidates:
            return Resolved(value=None, reason=f"no entry @0x{current:08x} in {table.NAME}")
        chosen = _pick(candidates, locale)
        if chosen is None:
            return Resolved(
                value=None,
                reason=f"@0x{current:08x} is configuration-dependent: no default value"
                + (f" nor one for {locale}" if locale else "")
                + f", defined only for {_configs(candidates)}",
            )
        value = chosen.value
        if value is None:
            return Resolved(value=None, reason=f"@0x{current:08x} is a complex (bag) resource")
        if value.data_type == TYPE_REFERENCE:
            current = value.data
            continue
        if value.data_type == TYPE_STRING:
            text = table.string(value.data)
            if text is None:
                return Resolved(value=None, reason=f"@0x{current:08x} points to a bad string")
            return Resolved(value=text, reason=None)
        if value.data_type == TYPE_INT_BOOLEAN:
            return Resolved(value=value.data != 0, reason=None)
        if value.data_type in (TYPE_INT_DEC, TYPE_INT_HEX):
            data = value.data - (1 << 32) if value.data & 0x80000000 else value.data
            return Resolved(value=data, reason=None)
        return Resolved(value=None, reason=f"@0x{current:08x} has value type {value.data_type:#x}")
    return Resolved(
        value=None, reason=f"reference chain from @0x{res_id:08x} longer than {MAX_CHAIN}"
    )


def _typed(value: str | bool | int) -> TypedValue:
    if isinstance(value, bool):
        return TypedValue(type=TYPE_INT_BOOLEAN, data=0xFFFFFFFF if value else 0)
    if isinstance(value, int):
        return TypedValue(type=TYPE_INT_DEC, data=value & 0xFFFFFFFF)
    return TypedValue(type=TYPE_STRING, string=value)


def _map_attributes(
    root: Element, change: Callable[[Element], tuple[Attribute, ...] | None]
) -> Element:
    """``root`` with each element's attributes replaced by ``change(element)`` (``None``:
    unchanged). Iterative (a tree may nest ``MAX_DEPTH`` deep, past Python's recursion
    limit); unchanged subtrees are kept as they are."""
    done: dict[int, Element] = {}
    stack: list[tuple[Element, bool]] = [(root, False)]
    while stack:
        element, expanded = stack.pop()
        if not expanded:
            stack.append((element, True))
            stack.extend((child, False) for child in element.children)
            continue
        children = tuple(done.pop(id(child), child) for child in element.children)
        attributes = change(element)
        same_children = all(a is b for a, b in zip(children, element.children, strict=True))
        if attributes is None and same_children:
            continue
        done[id(element)] = replace(
            element,
            attributes=element.attributes if attributes is None else attributes,
            children=children,
        )
    return done.get(id(root), root)


def _wanted(tag: str) -> set[int]:
    return {ATTRIBUTE_IDS[n] for n in resolved_attributes(tag) if n in ATTRIBUTE_IDS}


def resolve_manifest_tree(
    root: Element, table: Table | None, locale: str | None = None
) -> Element:
    """``root`` with the references Android resolves (``resolved_attributes``) replaced by
    their values; what cannot be resolved stays a reference carrying the reason
    (``Attribute.unresolved``), and is reported unresolved.

    Bounded: one ``resolve`` per attribute of the tree, each at most ``MAX_CHAIN`` steps.
    """

    def change(element: Element) -> tuple[Attribute, ...] | None:
        wanted = _wanted(element.tag)
        if not any(
            a.resource_id in wanted and a.value.type == TYPE_REFERENCE for a in element.attributes
        ):
            return None
        attributes = []
        for attribute in element.attributes:
            if attribute.resource_id in wanted and attribute.value.type == TYPE_REFERENCE:
                resolved = resolve(table, attribute.value.data, locale)
                if resolved.value is not None:
                    attribute = replace(attribute, value=_typed(resolved.value), raw=None)
                else:
                    attribute = replace(attribute, unresolved=resolved.reason)
            attributes.append(attribute)
        return tuple(attributes)

    return _map_attributes(root, change)


def mark_unresolved(root: Element, reason: str) -> Element:
    """``root`` with every reference ``resolved_attributes`` names marked with ``reason``:
    for inputs whose resource table is not read (text manifests, app bundles)."""

    def change(element: Element) -> tuple[Attribute, ...] | None:
        wanted = _wanted(element.tag)
        if not any(
            a.resource_id in wanted and a.value.type == TYPE_REFERENCE for a in element.attributes
        ):
            return None
        return tuple(
            replace(a, unresolved=reason)
            if a.resource_id in wanted and a.value.type == TYPE_REFERENCE
            else a
            for a in element.attributes
        )

    return _map_attributes(root, change)
