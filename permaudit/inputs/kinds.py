"""One input file: decide its kind by content and load it into a ``permaudit.model.App``.

Kinds (``InputInfo.kind``), decided by content, never by the file name alone:

* a zip with ``AndroidManifest.xml`` -> ``apk`` (``inputs.apk``);
* a zip with ``base/manifest/AndroidManifest.xml`` -> ``aab`` (``inputs.aab``);
* a zip of APKs -> ``xapk`` (with ``manifest.json``), ``apkm`` (with ``info.json``) or
  ``apks`` (bundletool ``toc.pb`` or SAI-style ``base.apk`` + splits) (``inputs.splits``);
* binary XML (a chunk header of size 8) -> ``axml``; text XML (``<`` after an optional BOM
  and whitespace) -> ``xml`` (``inputs.text_manifest``);
* an encrypted APKMirror ``.apkm`` and anything else -> ``InputError``.

Heavy modules (protobuf, expat) are imported only when their kind is seen; every zip
(APK, bundle, split set, nested APK) goes through ``inputs.binary.ziparchive``.
"""

from __future__ import annotations

import hashlib
import os
import struct

from permaudit._infra.records import replace
from permaudit.errors import InputError
from permaudit.inputs.binary.ziparchive import ZIP_MAGICS, has_end_record, read_names
from permaudit.inputs.files import open_regular, reading, regular_size, stream_sha256
from permaudit.model import App, InputInfo, SdkLevels

KIND_ZIP = "zip"


KIND_AXML = "axml"
KIND_XML = "xml"
_HEAD = 4096




#: Encrypted APKM header (unapkm ``processHeader``): version byte, libsodium pwhash
#: algorithm (1 or 2), opslimit, memlimit and chunk size as little-endian 64-bit values.
_APKM_HEADER = struct.Struct("<BBQQQ")


def load(
    path: str,
    *,
    digest: bool = False,
    code: bool = True,
    sdk: SdkLevels | None = None,
    locale: str | None = None,
) -> App:
    """Load one input file, whatever its kind, into an ``App``; ``InputError`` otherwise.

    ``digest``: also compute the SHA-256 of the whole file (``InputInfo.sha256``). It is
    off by default because it reads every byte, while the report needs only the central
    directory, the manifest and the signing block: ~0.7 ms per MB, the only cost of a scan
    that grows with the size of the APK. ``code``: also read the DEX files of an APK, of
    every member of a split set and of every module of an App Bundle (``App.code``, see
    ``permaudit.inputs.code``); the code reader's notes and tamper records join the app's.
    ``sdk``: levels the user gives (``--min-sdk``/``--target-sdk``) for a source manifest
    that declares none; an input that declares its levels keeps them, with a note.
    ``locale``: resolve resource references (the label above all) for that locale (``ru``,
    ``ru-rRU``), with Android's fallback to the language and then the default configuration.
    """
    with reading(path):
        kind = sniff(path)
        if kind == KIND_XML:
            app = _load_text(path, digest, sdk)
        elif kind == KIND_AXML:
            app = _load_apk(path, digest, code=False, locale=locale)
        else:
            app = _load_zip(path, digest, code, locale)
    if sdk is not None and app.sdk_origin is None:
        unused = _unused_levels(app, sdk)
        if unused:
            app = replace(app, notes=(*app.notes, unused))
    return replace(app, locale=locale) if locale else app


def _unused_levels(app: App, sdk: SdkLevels) -> str | None:
    """The note for ``--min-sdk``/``--target-sdk`` given for an input that declares its levels."""
    manifest = app.manifest
    given = [
        f"--{name} {value}"
        for name, value, actual in (("min-sdk", sdk.min_sdk, manifest.min_sdk),
                                    ("target-sdk", sdk.target_sdk, manifest.target_sdk))
        if value is not None and value != actual
    ]  # fmt: skip
    if not given:
        return None
    return (f"{' and '.join(given)} not used: the manifest declares minSdk "
            f"{manifest.min_sdk} and targetSdk {manifest.target_sdk}, which Android uses.")


def sniff(path: str) -> str:
    """``zip``, ``axml`` or ``xml`` by content; ``InputError`` for empty, encrypted or unknown."""
    with open_regular(path) as stream:
        size = regular_size(stream)
        head = stream.read(_HEAD)
        kind = _kind_of_head(head)
        if kind is not None:
            return kind
        if has_end_record(stream, size):
            return KIND_ZIP  # zip with data in front: the APK reader says why Android refuses
    if _encrypted_apkm(head, path):
        raise InputError(
            "encrypted APKMirror .apkm file: its contents cannot be read without decrypting "
            "it first (APKMirror Installer can export the APKs)"
        )
    raise InputError(
        "unknown input kind: not an APK (zip) or binary AndroidManifest.xml, nor an app "
        "bundle, split set or text manifest"
    )


def _kind_of_head(head: bytes) -> str | None:
    if head.startswith(ZIP_MAGICS):
        return KIND_ZIP
    if len(head) >= 8 and head[2:4] == b"\x08\x00":
        return KIND_AXML  # ResXMLTree checks only the header size, not the chunk type
    if _looks_like_text_xml(head):
        return KIND_XML
    return None


def _looks_like_text_xml(head: bytes) -> bool:
    """``<`` first, after an optional UTF-8/UTF-16 byte-order mark and whitespace."""
    boms = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
    for bom, encoding in boms:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="ignore").lstrip().startswith("<")
    return head.lstrip().startswith(b"<")


def _encrypted_apkm(head: bytes, path: str) -> bool:
    if len(head) < _APKM_HEADER.size + 40:
        return path.lower().endswith(".apkm")
    _version, algorithm, _ops, memory, chunk = _APKM_HEADER.unpack_from(head)
    plausible = algorithm in (1, 2) and 0 < memory <= 1 << 32 and 0 < chunk <= 1 << 26
    return plausible or path.lower().endswith(".apkm")


def _load_apk(path: str, digest: bool, code: bool, locale: str | None = None) -> App:
    from permaudit.inputs import apk

    return apk.load(path, digest=digest, code=code, locale=locale)


def _load_zip(path: str, digest: bool, code: bool, locale: str | None) -> App:
    """An APK first (the fast path); a zip without a root manifest may be a bundle."""
    try:
        return _load_apk(path, digest, code, locale)
    except InputError:
        kind = _bundle_kind(path)
        if kind is None:
            raise
    return _load_bundle(path, kind, digest, locale, code)


def _bundle_kind(path: str) -> str | None:
    """``aab``/``apks``/``xapk``/``apkm`` for a zip of that shape without a root manifest."""
    from permaudit.inputs.aab import KIND_AAB, is_bundle
    from permaudit.inputs.splits import archive_kind

    names = zip_names(path)
    if names is None or "AndroidManifest.xml" in names:
        return None
    return KIND_AAB if is_bundle(names) else archive_kind(names)


def _load_bundle(
    path: str, kind: str, digest: bool, locale: str | None, code: bool = True
) -> App:
    """A split-set archive or an App Bundle; ``code``: with the code of every member or
    module (``App.code``), its tamper records and notes joining the app's as an APK's do."""
    from permaudit.inputs.aab import KIND_AAB, read_aab
    from permaudit.inputs.splits import read_archive

    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        result = (
            read_aab(stream, size, locale=locale, code=code)
            if kind == KIND_AAB
            else read_archive(stream, size, kind, locale=locale, code=code)
        )
        sha256 = stream_sha256(stream) if digest else None
    scan = result.code
    return App(
        input=InputInfo(path=path, sha256=sha256, kind=kind, size=size),
        manifest=result.manifest,
        splits=result.splits,
        signing=result.signing,
        tamper=(*result.tamper, *(scan.tamper if scan is not None else ())),
        notes=(*result.notes, *(scan.notes if scan is not None else ())),
        code=scan,
        network_security=result.network_security,
        backup=result.backup,
        icon=result.icon,
    )


def zip_names(path: str) -> tuple[str, ...] | None:
    """Entry names by the zip reader (central directory only); ``None`` if Android's zip
    reader refuses the file (the APK reader's error then says why)."""
    try:
        with open_regular(path) as stream:
            return read_names(stream, regular_size(stream))
    except InputError:
        return None


def _load_text(path: str, digest: bool, sdk: SdkLevels | None) -> App:
    from permaudit.inputs.gradle import source_sdk
    from permaudit.inputs.resource_xml import model as model_resource_xml
    from permaudit.inputs.resource_xml import source_files
    from permaudit.inputs.text_manifest import MAX_TEXT_SIZE, read_text_manifest

    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_TEXT_SIZE:
            raise InputError(f"text manifest is larger than {MAX_TEXT_SIZE} bytes")
        data = stream.read()
    result = read_text_manifest(data, sdk=lambda: source_sdk(path, sdk))
    sha256 = hashlib.sha256(data).hexdigest() if digest else None
    files = source_files(path, result.root) if result.root is not None else ()
    network, backup = model_resource_xml(result.manifest, files) if files else (None, ())
    return App(
        input=InputInfo(path=path, sha256=sha256, kind="xml", size=size),
        manifest=result.manifest,
        notes=result.notes,
        network_security=network,
        backup=backup,
        sdk_origin=result.sdk_origin,
    )
