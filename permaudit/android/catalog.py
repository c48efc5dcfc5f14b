"""Platform permission catalog: protection level of each AOSP permission per API level."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from permaudit._infra.records import record
from permaudit.datafiles.compiled import ShippedData, load_shipped
from permaudit.errors import PermauditError
from permaudit.model import (
    CLASS_INSTALL,
    CLASS_RUNTIME,
    CLASS_SIGNATURE,
    CLASS_SPECIAL,
    CLASS_UNKNOWN,
    PROTECTION_CLASSES,
)

#: Newest API level androguard 4.1's ``aosp_permissions/permissions_<N>.json`` covers.
#: A test checks this against the files actually installed.
NEWEST_API_LEVEL = 36

#: Where androguard keeps its AOSP permission dumps, relative to the package directory.
_DATA_SUBDIR = ("core", "api_specific_resources", "aosp_permissions")
_FILE_RE = re.compile(r"^permissions_(\d+)\.json$")
KNOWN_FILE = Path(__file__).with_name("data") / "benign_permissions.yml"
#: Generated from androguard's files by :func:`write_first_levels` (``make android-data``):
#: the first API level whose data defines each platform permission. A test checks it.
LEVELS_FILE = Path(__file__).with_name("data") / "permission_levels.json"

_SIGNATURE_BASES = frozenset({"signature", "signatureOrSystem", "internal"})


@record
class PermissionInfo:
    """One platform permission as defined on one API level."""

    name: str
    #: Base level first, then flags, as AOSP writes them: ``("signature", "privileged", "appop")``.
    protection: tuple[str, ...]
    group: str | None = None
    label: str | None = None
    description: str | None = None


@record
class KnownPermission:
    """A well-known non-platform permission (library, launcher badge, tracking)."""

    note: str
    kind: str
    source: str
    name: str | None = None
    suffix: str | None = None


@record
class ClassOverride:
    """A platform permission whose class androguard's protection flags get wrong."""

    name: str
    protection_class: str
    from_api: int
    note: str
    source: str


@record
class KnownPermissions:
    """The contents of ``data/benign_permissions.yml``."""

    permissions: tuple[KnownPermission, ...] = ()
    overrides: tuple[ClassOverride, ...] = ()

    def lookup(self, name: str) -> KnownPermission | None:
        """The entry matching ``name`` exactly, else the first whose suffix matches."""
        for entry in self.permissions:
            if entry.name == name:
                return entry
        for entry in self.permissions:
            if entry.suffix is not None and name.endswith(entry.suffix):
                return entry
        return None

    def override(self, name: str, api_level: int | None) -> ClassOverride | None:
        """The override for ``name`` on ``api_level`` (any level when ``None``)."""
        for entry in self.overrides:
            if entry.name == name and (api_level is None or api_level >= entry.from_api):
                return entry
        return None


#: The classes the compiled table is made of (``permaudit.datafiles.compiled``).
COMPILED_TYPES: tuple[type, ...] = (KnownPermissions, KnownPermission, ClassOverride)


def androguard_data_dir() -> Path:
    """androguard's ``aosp_permissions`` directory, found without importing androguard."""
    spec = importlib.util.find_spec("androguard")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location).joinpath(*_DATA_SUBDIR)
        if candidate.is_dir():
            return candidate
    raise PermauditError(
        "androguard's AOSP permission data (androguard/core/api_specific_resources/"
        "aosp_permissions) was not found; install androguard>=4.1"
    )


def available_levels(data_dir: Path) -> tuple[int, ...]:
    """API levels that have a ``permissions_<N>.json`` file in ``data_dir``, ascending."""
    levels = (_FILE_RE.match(p.name) for p in data_dir.iterdir())
    return tuple(sorted(int(m.group(1)) for m in levels if m))


def data_level_for(api_level: int, levels: tuple[int, ...]) -> int:
    """The file level to use for ``api_level``: the nearest lower level that exists.

    androguard has no file for 11, 12 and 20 (they use 10, 10 and 19); levels 1..3
    predate the data and use the oldest file (4).
    """
    lower = [level for level in levels if level <= api_level]
    return lower[-1] if lower else levels[0]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_protection(raw: str) -> tuple[str, ...]:
    """Split ``"signature|privileged"``; an empty level is Android's default, ``normal``."""
    parts = tuple(part for part in raw.split("|") if part)
    return parts or ("normal",)


class Catalog:
    """The platform permissions of one API level, read from androguard's AOSP data.

    Build one with :meth:`for_api_level` and keep it: it is the per-process cache.
    """

    __slots__ = ("_api_level", "_data_level", "_first_levels", "_known", "_permissions")

    def __init__(
        self,
        *,
        api_level: int,
        data_level: int,
        permissions: Mapping[str, Mapping[str, Any]],
        known: KnownPermissions,
        first_levels: Mapping[str, int] | None = None,
    ) -> None:
        self._first_levels = MappingProxyType(dict(first_levels or {}))
        self._api_level = api_level
        self._data_level = data_level
        self._permissions = MappingProxyType(dict(permissions))
        self._known = known

    @classmethod
    def for_api_level(cls, level: int, *, data_dir: Path | None = None) -> Catalog:
        """Load the catalog for a device of API ``level`` (1..``NEWEST_API_LEVEL``)."""
        if isinstance(level, bool) or not isinstance(level, int):
            raise PermauditError(f"API level must be an integer, not {level!r}")
        if not 1 <= level <= NEWEST_API_LEVEL:
            raise PermauditError(
                f"API level {level} is outside the supported range 1..{NEWEST_API_LEVEL}"
            )
        directory = data_dir if data_dir is not None else androguard_data_dir()
        levels = available_levels(directory)
        if not levels:
            raise PermauditError(f"no permissions_<N>.json files in {directory}")
        data_level = data_level_for(level, levels)
        path = directory / f"permissions_{data_level}.json"
        try:
            with path.open(encoding="utf-8") as handle:
                document = json.load(handle)
            permissions = document["permissions"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise PermauditError(
                f"cannot read androguard permission data: {error}", path=str(path)
            ) from None
        return cls(
            api_level=level,
            data_level=data_level,
            permissions=permissions,
            known=load_known_permissions(),
            first_levels=load_first_levels(),
        )

    @property
    def api_level(self) -> int:
        """The device API level this catalog describes."""
        return self._api_level

    @property
    def data_level(self) -> int:
        """The level of the androguard file actually used (see :func:`data_level_for`)."""
        return self._data_level

    @property
    def known(self) -> KnownPermissions:
        """Library permissions and class overrides (``data/benign_permissions.yml``)."""
        return self._known

    def __contains__(self, name: object) -> bool:
        return name in self._permissions

    def names(self) -> tuple[str, ...]:
        """Every permission name defined on this level, sorted."""
        return tuple(sorted(self._permissions))

    def get(self, name: str) -> PermissionInfo | None:
        """The platform definition of ``name`` on this level, or ``None``."""
        entry = self._permissions.get(name)
        if entry is None:
            return None
        return PermissionInfo(
            name=name,
            protection=parse_protection(str(entry.get("protectionLevel") or "")),
            group=_text(entry.get("permissionGroup")),
            label=_text(entry.get("label")),
            description=_text(entry.get("description")),
        )

    def first_level(self, name: str) -> int | None:
        """The first API level that defines platform permission ``name`` (``None``: never)."""
        return self._first_levels.get(name)

    def is_newer_than_device(self, name: str) -> bool:
        """``name`` is a platform permission added after this level: the device lacks it."""
        first = self.first_level(name)
        return name not in self._permissions and first is not None and first > self._api_level

    def classify(self, name: str) -> tuple[str, str | None]:
        """Protection class and note of ``name`` on this catalog's level."""
        if self.is_newer_than_device(name):
            return CLASS_UNKNOWN, (
                f"added in API {self.first_level(name)}: a device of API {self._api_level} "
                "does not have this permission, so it grants nothing there"
            )
        return classify(self.get(name), name, known=self._known, api_level=self._api_level)


def classify(
    info: PermissionInfo | None,
    name: str,
    *,
    known: KnownPermissions | None = None,
    api_level: int | None = None,
) -> tuple[str, str | None]:
    """Map a permission to ``(protection class, note)``.

    ``info`` is the catalog entry on the device level (``None``: not a platform
    permission there). An app-op flag wins over signature: the user can grant such a
    permission as special app access. ``known`` defaults to the packaged table (read
    from disk on each call: pass ``catalog.known`` in loops); ``api_level`` enables the
    level-dependent notes and overrides.
    """
    table = known if known is not None else load_known_permissions()
    if info is None:
        entry = table.lookup(name)
        if entry is not None:
            return CLASS_UNKNOWN, entry.note
        if name.startswith("android.permission."):
            return CLASS_UNKNOWN, (
                "android.* name the platform does not define on this API level "
                "(newer permission, typo or vendor permission)"
            )
        return CLASS_UNKNOWN, None
    override = table.override(name, api_level)
    if override is not None:
        return override.protection_class, override.note
    flags = set(info.protection)
    base = info.protection[0]
    if "appop" in flags:
        note = "special app access: the user grants it in Settings (app-op)"
        if "pre23" in flags:
            note += "; granted automatically to apps targeting API < 23"
        return CLASS_SPECIAL, note
    if base == "dangerous":
        if api_level is not None and api_level < 23:
            return CLASS_RUNTIME, "dangerous, but granted at install on API < 23"
        return CLASS_RUNTIME, None
    if base in _SIGNATURE_BASES:
        note = "not grantable to an ordinary app (signature/privileged)"
        if "development" in flags:
            note += "; development flag: grantable with adb shell pm grant"
        return CLASS_SIGNATURE, note
    return CLASS_INSTALL, None


def load_first_levels(path: Path = LEVELS_FILE) -> dict[str, int]:
    """The packaged first-level table; raises ``PermauditError`` when it cannot be read."""
    try:
        with path.open(encoding="utf-8") as handle:
            table = json.load(handle)
    except (OSError, ValueError) as error:
        raise PermauditError(f"cannot read the permission level table: {error}") from None
    return {str(name): int(level) for name, level in table.items()}


def load_known_permissions(path: Path = KNOWN_FILE, *, compiled: bool = True) -> KnownPermissions:
    """Read and validate ``benign_permissions.yml``; raises ``PermauditError`` when invalid.

    With ``compiled``, the table compiled from the same bytes is used when there is one.
    """
    data = shipped_known_data(path)
    return load_shipped(data, lambda: read_known_permissions(path), KnownPermissions,
                        compiled=compiled)


def shipped_known_data(path: Path = KNOWN_FILE) -> ShippedData:
    """The known-permission table and its precompiled copy beside it."""
    return ShippedData(
        sources=(path,), compiled=path.with_suffix(".compiled.json"), types=COMPILED_TYPES
    )


def read_known_permissions(path: Path) -> KnownPermissions:
    """The table read and validated from its YAML (the compiled copy is not looked at)."""
    from permaudit.datafiles.yaml_nodes import (
        load_data_file,  # only here: PyYAML costs a scan ~11 ms
    )

    document = load_data_file(path, "permission table")
    _check_keys(document, {"version", "permissions", "overrides"}, {"version"}, path, "top level")
    permissions = []
    for item in document.get("permissions") or ():
        _check_keys(
            item,
            {"name", "suffix", "kind", "note", "source"},
            {"kind", "note", "source"},
            path,
            "permissions",
        )
        if ("name" in item) == ("suffix" in item):
            raise PermauditError(f"entry needs exactly one of name/suffix: {item}", path=str(path))
        permissions.append(
            KnownPermission(
                name=item.get("name"),
                suffix=item.get("suffix"),
                kind=str(item["kind"]),
                note=str(item["note"]),
                source=str(item["source"]),
            )
        )
    overrides = []
    for item in document.get("overrides") or ():
        fields = {"name", "class", "from_api", "note", "source"}
        _check_keys(item, fields, fields, path, "overrides")
        if item["class"] not in PROTECTION_CLASSES or not isinstance(item["from_api"], int):
            raise PermauditError(f"bad override: {item}", path=str(path))
        overrides.append(
            ClassOverride(
                name=str(item["name"]),
                protection_class=item["class"],
                from_api=item["from_api"],
                note=str(item["note"]),
                source=str(item["source"]),
            )
        )
    return KnownPermissions(permissions=tuple(permissions), overrides=tuple(overrides))


def _check_keys(
    item: object, allowed: set[str], required: set[str], path: Path, where: str
) -> None:
    if not isinstance(item, dict):
        raise PermauditError(f"{where}: expected a mapping, got {item!r}", path=str(path))
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise PermauditError(f"{where}: unknown keys {unknown}", path=str(path))
    missing = sorted(required - set(item))
    if missing:
        raise PermauditError(f"{where}: missing keys {missing}", path=str(path))
