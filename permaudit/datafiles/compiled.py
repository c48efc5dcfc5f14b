"""Precompiled copies of shipped YAML data, used while the source bytes still match.

The YAML files stay the single source of truth. Each data owner (the ruleset, the
platform tables) declares a ``ShippedData``: its source files and a compiled copy beside
them holding what its loader returns, with the sha256 of each source file's raw bytes.
``load_shipped`` reads the source bytes and, when every digest matches, rebuilds the value
with one ``json.loads``: no PyYAML import, no parse, no validation (that ran when the copy
was made, ``make compiled``). On any mismatch (an edited rule file, an edited installed
copy) the owner's YAML reader runs instead: the same value, only slower.

Why it exists (measured in session 7, editable install, 2-core VM): loading the default
ruleset and the tables from YAML costs ~35 ms of a ~100 ms scan (PyYAML's import ~11 ms,
composing and validating the rest); from the compiled copies 8.5 ms.

A copy has two JSON lines: a header ``{"schema", "sources"}`` and the content.
``schema`` is a digest of the record classes' field names: a changed class makes the copy
stale instead of undecodable. The content encodes a tuple as a list, a record as
``{"$": class name, field: value, ...}``, an enum member as ``{"$": class name, "value": v}``,
a frozenset as ``{"$": "frozenset", "items": [...]}`` and a path under the source directory
as ``{"$": "path", "rel": ...}``, rebuilt with the directory the loader found (source tree
or installed wheel). This module knows none of its callers; ``tools/compile_data.py``
writes the copies.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from permaudit._infra.records import Record, fields, record

_TAG = "$"
_PATH = "path"
_FROZENSET = "frozenset"

T = TypeVar("T")


@record
class ShippedData:
    """One shipped data set: its YAML source files and where their precompiled copy lives.

    Each data owner (the ruleset, the platform tables) declares one; this module knows none
    of them. ``types`` are the record and enum classes the value is made of; ``root`` the
    directory whose paths the value holds relative to it.
    """

    sources: tuple[Path, ...]
    compiled: Path
    types: tuple[type, ...]
    root: Path | None = None


def load_shipped(
    data: ShippedData, read: Callable[[], object], kind: type[T], *, compiled: bool = True
) -> T:
    """The value of ``data``: from its precompiled copy while that matches, else ``read()``.

    ``read`` parses and validates the YAML (and raises what that raises); without
    ``compiled`` it is always used. Either way the result is an instance of ``kind``.
    """
    value = load(data) if compiled else None
    if not isinstance(value, kind):
        value = read()
    if not isinstance(value, kind):
        raise TypeError(f"{data.sources[0].name} did not load as a {kind.__name__}")
    return value


def load(data: ShippedData) -> object | None:
    """The precompiled value of ``data`` when it was compiled from exactly its sources' bytes.

    ``None`` when a source or the compiled file cannot be read, or anything differs: the
    caller then reads the YAML.
    """
    try:
        digests = {path.name: _digest(path.read_bytes()) for path in data.sources}
        header, content = data.compiled.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return None
    found = json.loads(header)
    if found.get("sources") != digests or found.get("schema") != schema(data.types):
        return None
    return decode(content, data.types, data.root)


def schema(types: Iterable[type]) -> str:
    """A digest of the classes' names and fields (of the members' values for an enum)."""
    parts = []
    for cls in types:
        if issubclass(cls, Enum):
            names = [repr(member.value) for member in cls]
        else:
            names = list(fields(cls))
        parts.append(f"{cls.__name__}({','.join(names)})")
    return _digest(";".join(sorted(parts)).encode("utf-8"))


def encode(value: object, types: Iterable[type], root: Path | None = None) -> Any:
    """``value`` as JSON data (see the module docstring); ``TypeError`` for anything else."""
    known = {cls.__name__: cls for cls in types}
    prefix = None if root is None else str(root) + os.sep

    def walk(item: object) -> Any:
        if isinstance(item, Enum | Record):
            cls = type(item)
            if known.get(cls.__name__) is not cls:
                raise TypeError(f"{cls.__qualname__} is not among the compiled types")
            if isinstance(item, Enum):
                return {_TAG: cls.__name__, "value": item.value}
            return {_TAG: cls.__name__, **{n: walk(getattr(item, n)) for n in fields(item)}}
        if isinstance(item, str):
            if prefix is not None and item.startswith(prefix):
                relative = Path(item[len(prefix):]).as_posix()
                return {_TAG: _PATH, "rel": relative}
            return item
        if item is None or isinstance(item, bool | int | float):
            return item
        if isinstance(item, tuple):
            return [walk(x) for x in item]
        if isinstance(item, frozenset):
            items = sorted((walk(x) for x in item), key=_dumps)
            return {_TAG: _FROZENSET, "items": items}
        raise TypeError(f"cannot compile a {type(item).__qualname__}: {item!r}")

    return walk(value)


def decode(text: str, types: Iterable[type], root: Path | None = None) -> object:
    """The value ``encode`` gave as JSON ``text``, rebuilt by ``json.loads`` object by object."""
    makers: dict[str, Callable[[dict[str, Any]], object]] = {}
    for cls in types:
        makers[cls.__name__] = _enum_maker(cls) if issubclass(cls, Enum) else _record_maker(cls)
    makers[_FROZENSET] = lambda obj: frozenset(_tuples(obj["items"]))
    if root is not None:
        makers[_PATH] = lambda obj: str(root.joinpath(*obj["rel"].split("/")))

    def hook(obj: dict[str, Any]) -> object:
        return makers[obj.pop(_TAG)](obj)

    value = json.loads(text, object_hook=hook)
    return _tuples(value) if isinstance(value, list) else value


def _record_maker(cls: type) -> Callable[[dict[str, Any]], object]:
    def make(obj: dict[str, Any]) -> object:
        for key, item in obj.items():
            if item.__class__ is list:
                obj[key] = _tuples(item)
        return cls(**obj)

    return make


def _enum_maker(cls: type[Enum]) -> Callable[[dict[str, Any]], object]:
    return lambda obj: cls(obj["value"])


def _tuples(items: list[Any]) -> tuple[Any, ...]:
    """A JSON list as a tuple, nested lists too."""
    return tuple(_tuples(x) if x.__class__ is list else x for x in items)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


# --- writing a compiled copy (``make compiled``, tools/compile_data.py) ----------------------


def compiled_text(data: ShippedData, value: object) -> str:
    """The text of ``data``'s compiled copy holding ``value``: a header line and a content line."""
    header = {
        "schema": schema(data.types),
        "sources": {path.name: _digest(path.read_bytes()) for path in data.sources},
    }
    return f"{_dumps(header)}\n{_dumps(encode(value, data.types, data.root))}\n"
