"""SDK levels that a source manifest does not declare: given levels and where levels came from."""

from __future__ import annotations

from permaudit._infra.records import record

#: Where an SDK level came from (``SdkOrigin``).
SDK_FROM_MANIFEST = "manifest"
SDK_FROM_OPTION = "option"
SDK_FROM_GRADLE = "build.gradle"
SDK_UNKNOWN = "unknown"


@record
class SdkOrigin:
    """Where ``Manifest.min_sdk`` and ``target_sdk`` came from, for inputs that may lack them.

    ``manifest``: the manifest's ``<uses-sdk>`` (or Android's defaults for a built one);
    ``option``: ``--min-sdk``/``--target-sdk`` (or the policy/request field); ``build.gradle``:
    a literal in the module's Gradle file (``where`` says file and line); ``unknown``.
    """

    min_sdk: str = SDK_FROM_MANIFEST
    target_sdk: str = SDK_FROM_MANIFEST
    #: ``path:line`` of each Gradle literal used for the level.
    min_where: tuple[str, ...] = ()
    target_where: tuple[str, ...] = ()


@record
class SdkLevels:
    """SDK levels given by the user (``--min-sdk``/``--target-sdk``), for source manifests."""

    min_sdk: int | None = None
    target_sdk: int | None = None


def sdk_text(level: int | None) -> str:
    """An SDK level as reports write it: the number, or ``unknown`` (``Manifest`` levels)."""
    return "unknown" if level is None else str(level)


def sdk_levels(min_sdk: int | None, target_sdk: int | None) -> SdkLevels | None:
    """The levels given for source manifests, or ``None`` when neither is given."""
    if min_sdk is None and target_sdk is None:
        return None
    return SdkLevels(min_sdk=min_sdk, target_sdk=target_sdk)
