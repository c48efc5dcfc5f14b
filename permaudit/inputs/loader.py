"""Input readers: decide each input's kind by content and load it into a ``permaudit.model.App``.

Kinds (``InputInfo.kind``), decided by content, never by the file name alone:

* a zip with ``AndroidManifest.xml`` -> ``apk`` (``sources.apk``);
* a zip with ``base/manifest/AndroidManifest.xml`` -> ``aab`` (``sources.aab``);
* a zip of APKs -> ``xapk`` (with ``manifest.json``), ``apkm`` (with ``info.json``) or
  ``apks`` (bundletool ``toc.pb`` or SAI-style ``base.apk`` + splits) (``sources.bundle``);
* binary XML (a chunk header of size 8) -> ``axml``; text XML (``<`` after an optional BOM
  and whitespace) -> ``xml`` (``sources.textxml``);
* several APK files that are one app's base and splits -> one ``splits`` app;
* an encrypted APKMirror ``.apkm`` and anything else -> ``InputError``.

Heavy modules (zipfile, protobuf, expat) are imported only when their kind is seen.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from permaudit._infra.records import replace
from permaudit.errors import InputError, PermauditError
from permaudit.inputs.files import open_regular, reading, regular_size, stream_sha256
from permaudit.model import App, InputFailure, InputInfo, SdkLevels

if TYPE_CHECKING:
    from permaudit.inputs.binary.xmltree import Element
    from permaudit.inputs.splits import SplitApk
    from permaudit.model.code import CodeScan

__all__ = ["expand_inputs", "failure_of", "load", "load_inputs", "load_inputs_keep_going", "sniff"]

KIND_ZIP = "zip"
KIND_AXML = "axml"
KIND_XML = "xml"
_HEAD = 4096
_EOCD_SEARCH = 65557
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
    that grows with the size of the APK. ``code``: also read the DEX files of an APK
    (``App.code``, see ``permaudit.inputs.code``); split sets in one archive and bundles
    are not read for code yet (``App.code`` stays ``None``). ``sdk``: levels the user gives
    (``--min-sdk``/``--target-sdk``) for a source manifest that declares none; an input
    that declares its levels keeps them, with a note. ``locale``: resolve resource
    references (the label above all) for that locale (``ru``, ``ru-rRU``), with Android's
    fallback to the language and then the default configuration.
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
        stream.seek(max(0, size - _EOCD_SEARCH))
        if b"PK\x05\x06" in stream.read():
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
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
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
    return _load_bundle(path, kind, digest, locale)


def _bundle_kind(path: str) -> str | None:
    """``aab``/``apks``/``xapk``/``apkm`` for a zip of that shape without a root manifest."""
    from permaudit.inputs.aab import KIND_AAB, is_bundle
    from permaudit.inputs.splits import archive_kind

    names = _zip_names(path)
    if names is None or "AndroidManifest.xml" in names:
        return None
    return KIND_AAB if is_bundle(names) else archive_kind(names)


def _load_bundle(path: str, kind: str, digest: bool, locale: str | None) -> App:
    from permaudit.inputs.aab import KIND_AAB, read_aab
    from permaudit.inputs.splits import read_archive

    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        result = (
            read_aab(stream)
            if kind == KIND_AAB
            else read_archive(stream, size, kind, locale=locale)
        )
        sha256 = stream_sha256(stream) if digest else None
    return App(
        input=InputInfo(path=path, sha256=sha256, kind=kind, size=size),
        manifest=result.manifest,
        splits=result.splits,
        signing=result.signing,
        tamper=result.tamper,
        notes=result.notes,
    )


def _zip_names(path: str) -> list[str] | None:
    """Entry names by Python's zipfile (central directory only); ``None`` if not a zip."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _load_text(path: str, digest: bool, sdk: SdkLevels | None) -> App:
    from permaudit.inputs.gradle import source_sdk
    from permaudit.inputs.text_manifest import MAX_TEXT_SIZE, read_text_manifest

    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > MAX_TEXT_SIZE:
            raise InputError(f"text manifest is larger than {MAX_TEXT_SIZE} bytes")
        data = stream.read()
    result = read_text_manifest(data, sdk=lambda: source_sdk(path, sdk))
    sha256 = hashlib.sha256(data).hexdigest() if digest else None
    return App(
        input=InputInfo(path=path, sha256=sha256, kind="xml", size=size),
        manifest=result.manifest,
        notes=result.notes,
        sdk_origin=result.sdk_origin,
    )


# --- several inputs: directories and split sets -----------------------------------------


def expand_inputs(paths: Sequence[str], *, recursive: bool = False) -> list[str]:
    """Replace each directory in ``paths`` by the supported files in it, in sorted order.

    Files named directly are kept as given (``load`` judges them). A directory contributes
    every file whose content is an input kind (``--recursive`` descends into
    subdirectories); one with nothing to scan is an ``InputError``.
    """
    files: list[str] = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = [f for f in _walk(path, recursive) if _supported(f)]
        if not found:
            hint = "" if recursive else " (--recursive descends into subdirectories)"
            raise InputError(
                "nothing to scan: no APK, app bundle, split set or AndroidManifest.xml in "
                f"this directory{hint}",
                path=path,
            )
        files.extend(found)
    return files


def _walk(directory: str, recursive: bool) -> list[str]:
    """Files under ``directory``; a directory that cannot be listed is an error naming it."""
    if not recursive:
        with reading(directory):
            entries = sorted(os.listdir(directory))
        return [os.path.join(directory, e) for e in entries]

    def unreadable(exc: OSError) -> None:
        raise InputError(
            f"cannot list directory: {exc.strerror or exc}", path=exc.filename or directory
        )

    found: list[str] = []
    for root, dirs, names in os.walk(directory, onerror=unreadable):
        dirs.sort()
        found.extend(os.path.join(root, name) for name in names)
    return sorted(found, key=lambda p: os.path.relpath(p, directory).split(os.sep))


#: Files found in a directory under these names are always loaded, so a broken one is an
#: error that names it instead of silently dropping out of the report.
APP_SUFFIXES = (".apk", ".apks", ".xapk", ".apkm", ".aab")
MANIFEST_NAME = "androidmanifest.xml"


def _supported(path: str) -> bool:
    """Whether a file found in a directory is to be loaded: named as an app or a manifest,
    or (whatever its name) with the content of an input kind."""
    name = os.path.basename(path).lower()
    named = name.endswith(APP_SUFFIXES) or name == MANIFEST_NAME
    if not os.path.isfile(path):
        if not named or os.path.isdir(path):
            return False
        # A FIFO, device or dangling symlink named like an app: an error, never dropped.
        what = "a dangling symlink" if os.path.islink(path) and not os.path.exists(path) else (
            "not a regular file (a FIFO, socket or device)"
        )
        raise InputError(f"found in a scanned directory but is {what}", path=path)
    if named:
        return True
    try:
        kind = sniff(path)
        if kind == KIND_XML:
            with open_regular(path) as stream:
                return b"<manifest" in stream.read(64 * 1024)
        if kind == KIND_ZIP:
            from permaudit.inputs.aab import is_bundle
            from permaudit.inputs.splits import archive_kind

            names = _zip_names(path)
            return names is not None and (
                "AndroidManifest.xml" in names or is_bundle(names) or bool(archive_kind(names))
            )
    except (PermauditError, OSError):
        return False
    return True


def load_inputs(
    paths: Sequence[str],
    *,
    recursive: bool = False,
    digest: bool = False,
    code: bool = True,
    sdk: SdkLevels | None = None,
    locale: str | None = None,
) -> list[App]:
    """Expand directories, load every input, and merge split APKs with their base APK.

    Loose APKs with a ``split`` attribute join the base APK (no ``split``) of the same
    package among the inputs, as one ``splits`` app at the base's position: its
    ``InputInfo`` is the base file's, ``App.splits`` lists every member. A split whose
    package has no base among the inputs and no other split is scanned on its own with a
    note (Android would refuse to install it alone, "Missing base APK", but its manifest
    is still what the user asked about); several splits without a base are an
    ``InputError``. Everything is loaded before anything is reported, so one bad input
    fails the whole run (``load_inputs_keep_going`` does not). ``digest``, ``sdk``,
    ``locale``: see ``load``.
    """
    apps, _ = _load_all(
        paths, recursive=recursive, digest=digest, keep_going=False, code=code, sdk=sdk,
        locale=locale,
    )
    return apps


def load_inputs_keep_going(
    paths: Sequence[str],
    *,
    recursive: bool = False,
    digest: bool = False,
    code: bool = True,
    sdk: SdkLevels | None = None,
    locale: str | None = None,
) -> tuple[list[App], list[InputFailure]]:
    """Like ``load_inputs``, but an input that cannot be read becomes an ``InputFailure``
    (path, error class, one-line message) and the others are still loaded."""
    return _load_all(
        paths, recursive=recursive, digest=digest, keep_going=True, code=code, sdk=sdk,
        locale=locale,
    )


def failure_of(exc: PermauditError, path: str) -> InputFailure:
    """The failure entry for ``exc`` raised while reading ``path``."""
    return InputFailure(path=exc.path or path, error=type(exc).__name__, message=exc.detail)


def _load_all(
    paths: Sequence[str],
    *,
    recursive: bool,
    digest: bool,
    keep_going: bool,
    code: bool = True,
    sdk: SdkLevels | None = None,
    locale: str | None = None,
) -> tuple[list[App], list[InputFailure]]:
    if locale is not None:  # checked before any file is read: a usage error otherwise
        from permaudit.inputs.resources import normalise_locale

        locale = normalise_locale(locale)
    failures: list[InputFailure] = []
    if keep_going:
        files: list[str] = []
        for path in paths:
            try:
                files.extend(expand_inputs([path], recursive=recursive))
            except PermauditError as exc:
                failures.append(failure_of(exc, path))
    else:
        files = expand_inputs(paths, recursive=recursive)
    if len(files) == 1 and len(paths) == 1 and not os.path.isdir(paths[0]):
        try:
            return [load(files[0], digest=digest, code=code, sdk=sdk, locale=locale)], failures
        except PermauditError as exc:
            if not keep_going:
                raise
            return [], [*failures, failure_of(exc, files[0])]
    loaded: dict[str, App] = {}
    for path in files:
        try:
            loaded[path] = load(path, digest=digest, code=code, sdk=sdk, locale=locale)
        except PermauditError as exc:
            if not keep_going:
                raise
            failures.append(failure_of(exc, path))
    identities = {
        path: (app.manifest.package, app.manifest.split)
        for path, app in loaded.items()
        if app.input.kind == "apk"
    }
    groups, lone, broken = _split_groups(identities, keep_going=keep_going)
    failures.extend(broken)
    consumed = {split for members in groups.values() for split in members}
    consumed.update(f.path for f in broken)
    apps = []
    for path in files:
        if path in consumed or path not in loaded:
            continue
        app = loaded[path]
        if path in groups:
            try:
                app = _merge_loose_splits(app, path, groups[path])
            except PermauditError as exc:
                if not keep_going:
                    raise
                failures.append(failure_of(exc, path))
                continue
        elif path in lone:
            app = replace(app, notes=(*app.notes, lone_split_note(app)))
        apps.append(app)
    return apps, failures


def lone_split_note(app: App) -> str:
    """The note of a split APK scanned without its base."""
    return (
        f"split APK {app.manifest.split!r} of {app.manifest.package} without its base APK "
        "among the inputs: scanned on its own; Android installs a split only together with "
        'its base ("Missing base APK"), where its <uses-permission> would be ignored'
    )


def _apk_tree(path: str) -> Element | None:
    """The manifest tree of a plain APK (zip) file; ``None`` for other kinds."""
    from permaudit.inputs.apk import read_tree

    if sniff(path) != KIND_ZIP:
        return None
    with open_regular(path) as stream:
        return read_tree(stream, os.fstat(stream.fileno()).st_size)


def _required_tree(path: str) -> Element:
    root = _apk_tree(path)
    if root is None:
        raise InputError("not an APK", path=path)
    return root


def _split_groups(
    identities: dict[str, tuple[str, str | None]], *, keep_going: bool = False
) -> tuple[dict[str, list[str]], set[str], list[InputFailure]]:
    """Base path -> its split paths, for every package that has splits among the inputs;
    the lone splits (no base, no other split: scanned alone); with ``keep_going``, the
    failures of the groups that cannot be merged (otherwise the first is raised)."""
    by_package: dict[str, list[tuple[str, str | None]]] = {}
    for path, (package, split) in identities.items():
        by_package.setdefault(package, []).append((path, split))
    groups: dict[str, list[str]] = {}
    lone: set[str] = set()
    failures: list[InputFailure] = []
    for package, members in by_package.items():
        splits = [path for path, split in members if split is not None]
        if not splits:
            continue
        bases = [path for path, split in members if split is None]
        error: InputError | None = None
        if not bases and len(splits) == 1:
            lone.add(splits[0])
            continue
        if not bases:
            error = InputError(
                f"{len(splits)} split APKs of {package} without its base APK among the "
                "inputs: Android installs splits only together with their base "
                '("Missing base APK")',
                path=splits[0],
            )
        elif len(bases) > 1:
            error = InputError(
                f"several base APKs of {package} among inputs that also hold its splits: "
                + ", ".join(bases),
                path=splits[0],
            )
        if error is None:
            groups[bases[0]] = splits
            continue
        if not keep_going:
            raise error
        failures.extend(
            InputFailure(path=path, error="InputError", message=error.detail)
            for path, _ in members
        )
    return groups, lone, failures


def _merge_loose_splits(app: App, base_path: str, split_paths: list[str]) -> App:
    from permaudit.inputs.splits import KIND_SPLITS, SplitApk, merge_splits, with_integrity

    try:
        base_root = _required_tree(base_path)
        splits = [_loose_split(p) for p in split_paths]
        result = merge_splits(
            base_root=base_root,
            base_manifest=app.manifest,
            base_path=base_path,
            splits=splits,
            container="set of split APKs",
        )
    except PermauditError as exc:
        if exc.path is None:
            raise type(exc)(exc.detail, path=base_path) from None
        raise
    # The base's own evidence is already in app.tamper (it was loaded as an APK).
    base = SplitApk(path=base_path, root=base_root, signing=app.signing)
    result = with_integrity(result, base, splits)
    return replace(
        app,
        input=replace(app.input, kind=KIND_SPLITS),
        manifest=result.manifest,
        splits=result.splits,
        signing=result.signing,
        tamper=(*app.tamper, *result.tamper),
        notes=(*app.notes, *result.notes),
        code=_split_set_code(base_path, split_paths) if app.code is not None else None,
    )


def _split_set_code(base_path: str, split_paths: list[str]) -> CodeScan:
    """The code of a base APK and its loose splits, read one file (and one DEX) at a time."""
    from permaudit.inputs.code import scan_code

    def apks() -> Iterator[tuple[str, BinaryIO, int]]:
        for path in (base_path, *split_paths):
            with reading(path), open(path, "rb") as stream:
                yield ("" if path == base_path else os.path.basename(path), stream,
                       regular_size(stream))

    return scan_code(apks())


def _loose_split(path: str) -> SplitApk:
    """A split APK given as a file: tree, signers and tamper evidence."""
    from permaudit.inputs.apk import read_apk
    from permaudit.inputs.splits import split_apk

    with reading(path), open_regular(path) as stream:
        contents = read_apk(stream, regular_size(stream))
    return split_apk(contents, path)
