"""The app's launcher icon as Android would show it: which file, and its checked image bytes."""

from __future__ import annotations

from permaudit._infra.records import record

#: ``IconImage.media_type`` values: the raster formats browsers and Android both show.
MEDIA_PNG = "image/png"
MEDIA_WEBP = "image/webp"


@record
class IconImage:
    """One raster icon file read from the package, its signature and dimensions checked."""

    #: Archive member path as the resource table names it (``res/mipmap-xxhdpi-v4/ic.png``).
    path: str
    #: The configuration's density in dpi (480 for xxhdpi); 0: none given (mdpi is assumed).
    density: int
    media_type: str
    width: int
    height: int
    #: Length of ``data`` in bytes, and its hex SHA-256.
    size: int
    sha256: str
    data: bytes


@record
class AppIcon:
    """``android:icon`` (the application's, else the launcher activity's) and its image."""

    #: The reference as written in the manifest (``@0x7f0d0000``).
    reference: str
    #: ``None`` when there is no raster file to show; ``note`` then says why.
    image: IconImage | None = None
    #: Why there is no image, or which fallback was taken (e.g. an adaptive icon's raster).
    note: str | None = None
