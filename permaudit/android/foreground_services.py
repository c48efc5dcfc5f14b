"""Foreground-service types: which permissions Android requires to start each type.

A ``<service android:foregroundServiceType="location">`` lets an app keep using location
while the user is in another app, but only when Android lets the service start: since
Android 14, for apps targeting API 34+, ``startForeground()`` throws unless the app holds
the type's ``FOREGROUND_SERVICE_*`` permission and one of its prerequisite permissions
(AOSP ``ForegroundServiceTypePolicy``). The table is data: ``data/foreground_service_types.yml``.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from pathlib import Path

from permaudit._infra.records import record
from permaudit.datafiles.compiled import ShippedData, load_shipped
from permaudit.errors import PermauditError

TYPES_FILE = Path(__file__).with_name("data") / "foreground_service_types.yml"
_TYPE_KEYS = frozenset({"type", "all_of", "any_of", "other_grants"})


@record
class ServiceTypePolicy:
    """What Android requires to start a foreground service of one type."""

    type: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    #: Grants a manifest cannot show that also satisfy ``any_of`` (a role, an app-op).
    other_grants: tuple[str, ...]


@record
class ServiceTypeTable:
    """The whole table and from which device and target SDK it is enforced."""

    device_min_sdk: int
    target_sdk_min: int
    types: tuple[ServiceTypePolicy, ...]

    def policy(self, service_type: str) -> ServiceTypePolicy | None:
        """The policy of ``service_type``; ``None`` for a type the table does not know."""
        return next((p for p in self.types if p.type == service_type), None)

    def missing(
        self, service_type: str, requested: Collection[str], *, target_sdk: int | None,
        device_sdk: int,
    ) -> tuple[str, ...]:
        """Why Android would refuse to start a ``service_type`` service; ``()`` when it would not.

        Each reason is one phrase (``"FOREGROUND_SERVICE_LOCATION not requested"``). An
        unknown target SDK (a source manifest without ``uses-sdk``) is not enforced: the
        caller says so.
        """
        policy = self.policy(service_type)
        if (
            policy is None
            or device_sdk < self.device_min_sdk
            or target_sdk is None
            or target_sdk < self.target_sdk_min
        ):
            return ()
        reasons = [f"{_short(p)} not requested" for p in policy.all_of if p not in requested]
        if policy.any_of and not policy.other_grants and not set(policy.any_of) & set(requested):
            reasons.append("none of " + ", ".join(_short(p) for p in policy.any_of) + " requested")
        return tuple(reasons)


#: The classes the compiled table is made of (``permaudit.datafiles.compiled``).
COMPILED_TYPES: tuple[type, ...] = (ServiceTypeTable, ServiceTypePolicy)


def _short(name: str) -> str:
    return name.removeprefix("android.permission.")


@cache
def service_type_table(path: Path = TYPES_FILE) -> ServiceTypeTable:
    """The table, from its precompiled copy while it matches the YAML, else from the YAML."""
    return load_shipped(shipped_data(path), lambda: read_table(path), ServiceTypeTable)


def shipped_data(path: Path = TYPES_FILE) -> ShippedData:
    """The foreground-service type table and its precompiled copy beside it."""
    return ShippedData(
        sources=(path,), compiled=path.with_suffix(".compiled.json"), types=COMPILED_TYPES
    )


def read_table(path: Path) -> ServiceTypeTable:
    """The table read and validated from its YAML."""
    from permaudit.datafiles.yaml_nodes import load_data_file  # PyYAML only when needed

    document = load_data_file(path, "foreground-service types")
    enforced = document.get("enforced_from")
    if not isinstance(enforced, dict) or not all(
        isinstance(enforced.get(k), int) for k in ("device_min_sdk", "target_sdk_min")
    ):
        raise PermauditError("enforced_from needs integer device_min_sdk and target_sdk_min",
                             path=str(path))
    types = tuple(_policy(item, path) for item in document.get("types") or ())
    names = [t.type for t in types]
    if len(set(names)) != len(names):
        raise PermauditError("duplicate foreground-service types", path=str(path))
    return ServiceTypeTable(device_min_sdk=enforced["device_min_sdk"],
                            target_sdk_min=enforced["target_sdk_min"], types=types)


def _policy(item: object, path: Path) -> ServiceTypePolicy:
    if not isinstance(item, dict) or set(item) != _TYPE_KEYS:
        raise PermauditError(f"a type must have exactly the keys {sorted(_TYPE_KEYS)}: {item!r}",
                             path=str(path))
    lists = {k: item[k] for k in ("all_of", "any_of", "other_grants")}
    if not isinstance(item["type"], str) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in lists.values()
    ):
        raise PermauditError(f"invalid foreground-service type {item!r}", path=str(path))
    return ServiceTypePolicy(type=item["type"], all_of=tuple(lists["all_of"]),
                             any_of=tuple(lists["any_of"]),
                             other_grants=tuple(lists["other_grants"]))
