"""Input readers: the files a command names (directories expanded), each loaded into an ``App``.

One file's kind and loading are in ``kinds`` (``load`` and ``sniff`` are re-exported here);
this module expands directories, loads every input (or keeps going past failures), and
joins loose split APKs to their base APK as one ``splits`` app.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from permaudit._infra.records import replace
from permaudit.errors import InputError, PermauditError
from permaudit.inputs.files import open_regular, reading, regular_size
from permaudit.inputs.kinds import KIND_XML, KIND_ZIP, load, sniff, zip_names
from permaudit.model import App, InputFailure, SdkLevels

if TYPE_CHECKING:
    from permaudit.inputs.icon import MemberFiles
    from permaudit.inputs.splits import SplitApk
    from permaudit.model.code import CodeScan

__all__ = ["expand_inputs", "failure_of", "load", "load_inputs", "load_inputs_keep_going", "sniff"]


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

            names = zip_names(path)
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
    from permaudit.inputs.manifest import parse_manifest
    from permaudit.inputs.split_rules import resolve_across, set_icon
    from permaudit.inputs.splits import KIND_SPLITS, SplitApk, merge_splits, with_integrity

    try:
        # Every APK's references looked up in the tables Android loads with it
        # (table_set); the base was loaded alone, with its own table, so its manifest is
        # read again from the set's answer (a config split may hold its label's locale).
        loose_base = _loose_split(base_path, signing=False, locale=app.locale)
        loose = [_loose_split(p, locale=app.locale) for p in split_paths]
        resolved_base, splits = resolve_across(loose_base, loose, app.locale)
        icon, icon_evidence = set_icon(app.icon, loose_base, loose)
        base_root = resolved_base.root
        result = merge_splits(
            base_root=base_root,
            base_manifest=parse_manifest(resolved_base.root, with_lines=False),
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
    code = _split_set_code(base_path, split_paths) if app.code is not None else None
    # The base's code evidence is re-read with its splits': keep one copy of it.
    base_code = frozenset(app.code.tamper) if app.code is not None else frozenset()
    own = tuple(t for t in app.tamper if t not in base_code)
    base_notes = set(app.code.notes) if app.code is not None else set()
    own_notes = tuple(n for n in app.notes if n not in base_notes)
    return replace(
        app,
        input=replace(app.input, kind=KIND_SPLITS),
        manifest=result.manifest,
        splits=result.splits,
        signing=result.signing,
        icon=icon,
        tamper=(*own, *result.tamper, *icon_evidence,
                *(code.tamper if code is not None else ())),
        notes=(*own_notes, *result.notes, *(code.notes if code is not None else ())),
        code=code,
    )


def _split_set_code(base_path: str, split_paths: list[str]) -> CodeScan:
    """The code of a base APK and its loose splits, read one file (and one DEX) at a time."""
    from permaudit.inputs.code import CodeReader

    reader = CodeReader("set of split APKs")
    for path in (base_path, *split_paths):
        with reading(path), open_regular(path) as stream:
            name = os.path.basename(path)
            reader.add_apk(stream, regular_size(stream),
                           member=None if path == base_path else name, source=name)
    return reader.result()


def _loose_split(path: str, *, signing: bool = True, locale: str | None = None) -> SplitApk:
    """A split APK given as a file: tree, table, signers and tamper evidence."""
    from permaudit.inputs.apk import read_apk
    from permaudit.inputs.splits import split_apk

    with reading(path), open_regular(path) as stream:
        contents = read_apk(stream, regular_size(stream), signing=signing, locale=locale)
    return replace(split_apk(contents, path), read_files=partial(_files_of, path))


def _files_of(path: str, names: Sequence[str]) -> MemberFiles:
    """Named files of the APK at ``path``, read again (a split set's icon)."""
    from permaudit.inputs.apk import read_icon_files

    with reading(path), open_regular(path) as stream:
        return read_icon_files(stream, regular_size(stream), names)
