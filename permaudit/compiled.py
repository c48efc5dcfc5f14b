"""Precompiled forms of the shipped YAML data, used when the source bytes still match.

The YAML files stay the single source of truth. ``data/compiled.jsonl`` holds what their
loaders return (the default ruleset, the implied-permission table, the known-permission
table) with the sha256 of each source file's raw bytes. A loader reads the source bytes
and, when every digest matches, rebuilds its value with one ``json.loads``: no PyYAML
import, no parse, no validation (that ran when the file was compiled, ``make compiled``).
On any mismatch (an edited rule file, an edited installed copy) ``load`` returns ``None``
and the caller reads the YAML as before: the same value, only slower.

The file has two JSON lines per entry: a header ``{"entry", "schema", "sources"}`` and the
content, so a lookup decodes only the entry it needs. ``schema`` is a digest of the record
classes' field names: a changed class makes the entry stale instead of undecodable. The
content encodes a tuple as a list, a record as ``{"$": class name, field: value, ...}``,
an enum member as ``{"$": class name, "value": v}``, a frozenset as ``{"$": "frozenset",
"items": [...]}`` and a path under the source directory as ``{"$": "path", "rel": ...}``,
rebuilt with the directory the loader found (source tree or installed wheel).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from permaudit._infra.records import Record, fields

COMPILED_FILE = Path(__file__).with_name("data") / "compiled.jsonl"

#: Entry names, one per YAML loader.
RULESET = "ruleset"
IMPLIED_PERMISSIONS = "implied_permissions"
KNOWN_PERMISSIONS = "known_permissions"

_TAG = "$"
_PATH = "path"
_FROZENSET = "frozenset"


def load(
    entry: str,
    sources: Sequence[Path],
    types: Iterable[type],
    *,
    root: Path | None = None,
    compiled_file: Path = COMPILED_FILE,
) -> object | None:
    """The compiled value of ``entry`` when it was compiled from exactly ``sources``.

    ``types`` are the record and enum classes the value is made of; ``root`` the
    directory whose paths the value holds relative to it. ``None`` when a source or the
    compiled file cannot be read, or anything differs: the caller then reads the YAML.
    """
    try:
        digests = {path.name: _digest(path.read_bytes()) for path in sources}
        lines = compiled_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    types = tuple(types)
    for header, content in zip(lines[::2], lines[1::2], strict=True):
        found = json.loads(header)
        if found["entry"] != entry:
            continue
        if found["sources"] != digests or found["schema"] != schema(types):
            return None
        return decode(content, types, root)
    return None


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


# --- writing the compiled file (``make compiled``) ------------------------------------------


def entry_lines(
    entry: str,
    sources: Sequence[Path],
    value: object,
    types: Iterable[type],
    root: Path | None = None,
) -> tuple[str, str]:
    """The header and content lines of one entry."""
    types = tuple(types)
    header = {
        "entry": entry,
        "schema": schema(types),
        "sources": {path.name: _digest(path.read_bytes()) for path in sources},
    }
    return _dumps(header), _dumps(encode(value, types, root))


def render() -> str:
    """The compiled file's text, from the shipped YAML read, validated and compiled now.

    Raises what the YAML loaders raise when a shipped file is invalid.
    """
    from permaudit import ruleset
    from permaudit.android import catalog, implied

    rule_files = ruleset.default_ruleset_paths()
    lines = [
        *entry_lines(
            RULESET, rule_files, ruleset.load_ruleset(compiled=False),
            ruleset.COMPILED_TYPES, rule_files[0].parent,
        ),
        *entry_lines(
            IMPLIED_PERMISSIONS, (implied.RULES_FILE,),
            implied.load_rules(compiled=False), implied.COMPILED_TYPES,
        ),
        *entry_lines(
            KNOWN_PERMISSIONS, (catalog.KNOWN_FILE,),
            catalog.load_known_permissions(compiled=False), catalog.COMPILED_TYPES,
        ),
    ]
    return "\n".join(lines) + "\n"


def write_compiled(path: Path = COMPILED_FILE) -> None:
    """Regenerate the compiled file (``make compiled``) after a shipped YAML file changed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(), encoding="utf-8")
