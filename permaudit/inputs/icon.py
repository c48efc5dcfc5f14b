"""Find the launcher icon file Android would show and read it, bounded, for the HTML reports.

Which reference: ``<application android:icon>``, else the ``android:icon`` of the first
launcher activity (``MAIN`` + ``LAUNCHER``) or activity-alias; ``roundIcon`` is not used.

Which file: the configuration Android picks for one documented device, ``TARGET_DENSITY``
(xxhdpi, 480 dpi, a current phone) on a current Android version, by the density rule of
``ResTable_config::isBetterThan`` (frameworks/base libs/androidfw/ResourceTypes.cpp):
``anydpi`` beats any bucket; otherwise the nearest bucket at or above the target, else the
nearest below ("scaling down is 2x better than up"); among equal densities the higher
``-vN`` qualifier. Only configurations with nothing but density and version qualifiers
count (a device in the default locale, orientation, night mode, ...). Reference chains
are followed (at most ``MAX_CHAIN`` steps, a loop ends with a note). This is the rule
``aapt dump badging`` applies for its ``application-icon-480`` line (its oracle test).

When the chosen file is an XML drawable (an ``adaptive-icon`` in ``mipmap-anydpi-v26``, a
vector), the next best *raster* configuration of the same resource is shown instead: the
PNG Android itself uses on devices older than the XML's ``-vN``. Without one there is no
image and a note says why.

Bounds: at most ``MAX_TRIES`` files are read, each at most ``MAX_ICON_BYTES`` compressed
and inflated (the zip reader's own checks: the declared sizes are not trusted); the
bytes must be a PNG (signature, ``IHDR`` with a valid CRC, chunk walk to ``IEND``) or a
WebP (``RIFF``/``WEBP``, a ``VP8``/``VP8L``/``VP8X`` header) whose width and height are
at most ``MAX_ICON_SIDE``, so a "decompression bomb" image never reaches a browser.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Callable, Sequence

from permaudit._infra.records import record
from permaudit.android.attributes import ATTRIBUTE_IDS
from permaudit.inputs.binary.arsc import (
    DENSITY_ANY,
    TYPE_DYNAMIC_REFERENCE,
    TYPE_REFERENCE,
    TYPE_STRING,
    Candidate,
    Config,
)
from permaudit.inputs.binary.xmltree import Element
from permaudit.inputs.resources import Table
from permaudit.model.evidence import TamperEvidence
from permaudit.model.icon import MEDIA_PNG, MEDIA_WEBP, AppIcon, IconImage

#: The device the icon is picked for: xxhdpi (480 dpi), the density of most current phones.
TARGET_DENSITY = 480
DENSITY_MEDIUM = 160
MAX_CHAIN = 16
#: Files of one resource tried in order of preference (an XML drawable makes us go on).
MAX_TRIES = 8
MAX_ICON_BYTES = 256 * 1024
#: A launcher icon is 192 px at xxxhdpi; 1024 px leaves room and bounds what a browser decodes.
MAX_ICON_SIDE = 1024
#: Configurations of one entry compared (a hostile table may claim many).
MAX_CANDIDATES = 4096

#: A dynamic reference (package 0x00: a shared library such as WebView) names the table's
#: own package 0x00, as ``DynamicRefTable`` maps it at run time.
_REFERENCES = (TYPE_REFERENCE, TYPE_DYNAMIC_REFERENCE)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_MAIN = "android.intent.action.MAIN"
_LAUNCHER = ("android.intent.category.LAUNCHER", "android.intent.category.LEANBACK_LAUNCHER")

#: Reads archive members: given every name that may be read, a function returning one
#: member's bytes (at most ``MAX_ICON_BYTES``), or a sentence saying why it cannot.
OpenMembers = Callable[[Sequence[str]], Callable[[str], "bytes | str"]]


@record
class MemberFiles:
    """Files read again from an APK (a split set's icon): each name it holds, read (bytes)
    or why not (a sentence), and the tamper evidence of the members read."""

    files: dict[str, bytes | str]
    evidence: tuple[TamperEvidence, ...] = ()


def _icon_attr(element: Element) -> int | None:
    attribute = element.android(ATTRIBUTE_IDS["icon"])
    if attribute is None or attribute.value.type not in _REFERENCES or not attribute.value.data:
        return None
    return attribute.value.data


def _is_launcher(element: Element) -> bool:
    name_id = ATTRIBUTE_IDS["name"]
    for intent in element.children:
        if intent.tag != "intent-filter":
            continue
        actions: set[str] = set()
        categories: set[str] = set()
        for child in intent.children:
            attribute = child.android(name_id)
            value = attribute.coerce_to_string() if attribute is not None else None
            if value is not None and child.tag == "action":
                actions.add(value)
            elif value is not None and child.tag == "category":
                categories.add(value)
        if _MAIN in actions and categories.intersection(_LAUNCHER):
            return True
    return False


def icon_reference(root: Element) -> int | None:
    """The icon's resource id: the application's, else the first launcher activity's."""
    app = next((c for c in root.children if c.tag == "application"), None)
    if app is None:
        return None
    own = _icon_attr(app)
    if own is not None:
        return own
    for child in app.children:
        if child.tag in ("activity", "activity-alias") and _is_launcher(child):
            found = _icon_attr(child)
            if found is not None:
                return found
    return None


def better(a: Config, b: Config, density: int = TARGET_DENSITY) -> bool:
    """Whether ``a`` beats ``b`` for a device of ``density`` (``isBetterThan``'s density and
    version steps; both configs carry only those qualifiers)."""
    if a.density != b.density:
        da = a.density or DENSITY_MEDIUM
        db = b.density or DENSITY_MEDIUM
        if da == DENSITY_ANY:
            return True
        if db == DENSITY_ANY:
            return False
        high, low, a_bigger = (da, db, True) if da >= db else (db, da, False)
        if density >= high:
            return a_bigger
        if low >= density:
            return not a_bigger
        if (2 * low - density) * high > density * density:
            return not a_bigger
        return a_bigger
    return a.sdk > b.sdk


def _generic(table: Table, res_id: int) -> list[Candidate]:
    found = table.candidates(res_id)[:MAX_CANDIDATES]
    return [c for c in found if c.config.is_generic and c.value is not None]


def _best(candidates: list[Candidate]) -> Candidate:
    """The candidate ``ResTable::getEntry`` keeps: a later one replaces it only if better."""
    best = candidates[0]
    for candidate in candidates[1:]:
        if better(candidate.config, best.config):
            best = candidate
    return best


def ranked(candidates: list[Candidate], limit: int = MAX_TRIES) -> list[Candidate]:
    """The ``limit`` best candidates, best first (repeated selection: ``limit`` passes)."""
    left = list(candidates)
    order: list[Candidate] = []
    while left and len(order) < limit:
        best = _best(left)
        order.append(best)
        left = [c for c in left if c is not best]
    return order


def density_name(density: int) -> str:
    """``480`` -> ``xxhdpi``; an unnamed value as ``NNNdpi``."""
    names = {0: "default", 120: "ldpi", 160: "mdpi", 213: "tvdpi", 240: "hdpi", 320: "xhdpi",
             480: "xxhdpi", 640: "xxxhdpi", DENSITY_ANY: "anydpi", 0xFFFF: "nodpi"}
    return names.get(density, f"{density}dpi")


def icon_files(table: Table, res_id: int) -> tuple[list[tuple[str, int]], str | None]:
    """The icon's files, best first, as ``(path, density)``; or why there are none."""
    current = res_id
    seen: set[int] = set()
    for _ in range(MAX_CHAIN):
        if current >> 24 == 0x01:
            return [], f"the icon is a framework drawable @0x{current:08x}, not in the package"
        if current in seen:
            return [], f"the icon reference @0x{res_id:08x} loops"
        seen.add(current)
        candidates = _generic(table, current)
        if not candidates:
            return [], (f"@0x{current:08x} has no entry for a default device configuration "
                        "in resources.arsc")
        best = _best(candidates)
        assert best.value is not None  # noqa: S101 (filtered in _generic)
        if best.value.data_type in _REFERENCES:
            current = best.value.data
            continue
        files = []
        for candidate in ranked(candidates):
            value = candidate.value
            if value is None or value.data_type != TYPE_STRING:
                continue
            path = table.string(value.data)
            if path is not None:
                files.append((path, candidate.config.density))
        if not files:
            return [], f"@0x{current:08x} is not a file (value type {best.value.data_type:#x})"
        return files, None
    return [], f"the icon reference chain from @0x{res_id:08x} is longer than {MAX_CHAIN}"


def _png_size(data: bytes) -> tuple[int, int] | str:
    if len(data) < 33 or data[8:16] != b"\x00\x00\x00\x0dIHDR":
        return "a PNG without an IHDR header first"
    if zlib.crc32(data[12:29]) != struct.unpack_from(">I", data, 29)[0]:
        return "a PNG whose IHDR checksum is wrong"
    width, height = struct.unpack_from(">II", data, 16)
    pos, idat = 33, False
    while True:  # each step advances by at least 12 bytes: bounded by the file size
        if pos + 12 > len(data):
            return "a truncated PNG (no IEND chunk)"
        length = struct.unpack_from(">I", data, pos)[0]
        kind = data[pos + 4 : pos + 8]
        if pos + 12 + length > len(data):
            return f"a PNG whose {kind!r} chunk runs past the end"
        idat = idat or kind == b"IDAT"
        if kind == b"IEND":
            break
        pos += 12 + length
    if not idat:
        return "a PNG without image data"
    return int(width), int(height)


def _webp_size(data: bytes) -> tuple[int, int] | str:
    if len(data) < 30 or struct.unpack_from("<I", data, 4)[0] + 8 > len(data):
        return "a truncated WebP"
    kind = data[12:16]
    body = data[20:30]
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack_from("<HH", body, 6)
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L" and body[0] == 0x2F:
        bits = struct.unpack_from("<I", body, 1)[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        w = int.from_bytes(body[4:7], "little") + 1
        h = int.from_bytes(body[7:10], "little") + 1
        return w, h
    return "a WebP without a VP8, VP8L or VP8X header"


def check_image(path: str, density: int, data: bytes) -> IconImage | str:
    """``data`` as a checked ``IconImage``, or what is wrong with it (a sentence)."""
    if len(data) > MAX_ICON_BYTES:
        return f"{path} is larger than {MAX_ICON_BYTES} bytes"
    if data.startswith(PNG_MAGIC):
        media, size = MEDIA_PNG, _png_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        media, size = MEDIA_WEBP, _webp_size(data)
    else:
        return f"{path} is not a PNG or WebP image"
    if isinstance(size, str):
        return f"{path} is {size}"
    width, height = size
    if not (0 < width <= MAX_ICON_SIDE and 0 < height <= MAX_ICON_SIDE):
        return f"{path} claims {width}x{height} pixels, beyond {MAX_ICON_SIDE}x{MAX_ICON_SIDE}"
    return IconImage(path=path, density=density, media_type=media, width=width, height=height,
                     size=len(data), sha256=hashlib.sha256(data).hexdigest(), data=data)


def _is_xml(path: str, data: bytes | None) -> bool:
    return path.endswith(".xml") or (data is not None and data[:4] == b"\x03\x00\x08\x00")


def _safe(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and ".." not in parts and "\x00" not in path


def read_icon(root: Element, table: Table | None, open_members: OpenMembers
              ) -> AppIcon | None:
    """The manifest's launcher icon and, when a raster file of it reads, its image."""
    res_id = icon_reference(root)
    if res_id is None:
        return None
    reference = f"@0x{res_id:08x}"
    if table is None:
        return AppIcon(reference=reference, note="no resources.arsc to resolve the icon")
    files, why = icon_files(table, res_id)
    if not files:
        return AppIcon(reference=reference, note=why)
    unsafe = [p for p, _ in files if not _safe(p)]
    if unsafe:
        return AppIcon(reference=reference, note=f"the icon path {unsafe[0]!r} is not a "
                                                 "plain archive path")
    read = open_members([p for p, _ in files])
    skipped: list[str] = []
    for path, density in files:
        data = None if path.endswith(".xml") else read(path)
        if isinstance(data, str):
            return AppIcon(reference=reference, note=data)
        if _is_xml(path, data):
            skipped.append(path)
            continue
        assert data is not None  # noqa: S101 (not XML by name: read above)
        image = check_image(path, density, data)
        if isinstance(image, str):
            return AppIcon(reference=reference, note=image)
        note = None
        if skipped:
            note = (f"{skipped[0]} (the best match for an {density_name(TARGET_DENSITY)} "
                    "device) is an XML drawable (adaptive or vector icon), not drawn here; "
                    f"shown: {path}, the raster version Android uses where the XML does "
                    "not apply")
        return AppIcon(reference=reference, image=image, note=note)
    return AppIcon(reference=reference, note=(
        f"the icon is an XML drawable (adaptive or vector icon, {skipped[0]}) with no PNG "
        "or WebP version; such icons are not drawn here"))
