"""SDK levels written as literals in a module's build.gradle / build.gradle.kts, read as text.

A source manifest has no ``<uses-sdk>``: the Android Gradle plugin injects ``minSdk`` and
``targetSdk`` from the module's build script when it merges the manifest. We look for that
script beside the manifest (``<module>/build.gradle[.kts]`` for ``<module>/src/<set>/
AndroidManifest.xml``, or in the manifest's own directory for the old layout), read at most
``MAX_GRADLE_SIZE`` bytes of it as text and recognise only assignments whose value is an
integer literal: ``targetSdk = 34``, ``targetSdkVersion 34``, ``minSdk 21``,
``targetSdk(34)``, ``minSdkVersion(21)``, ``targetSdkVersion "34"``. The script is never
executed, so anything else (``libs.versions.targetSdk.get().toInt()``, ``rootProject.ext
.targetSdkVersion``) is *unknown*, with where it was seen; so are levels that differ between
occurrences (flavours, build types), because which one the build used is not knowable here.
"""

from __future__ import annotations

import os
import re

from permaudit._infra.records import record
from permaudit.errors import PermauditError
from permaudit.inputs.files import open_regular
from permaudit.model import (
    SDK_FROM_GRADLE,
    SDK_FROM_OPTION,
    SDK_UNKNOWN,
    SdkLevels,
    SdkOrigin,
)

#: Build scripts are a few KB; a bigger file is not read (and a note says so).
MAX_GRADLE_SIZE = 256 * 1024
#: In the order the plugin prefers them when both exist in one directory.
SCRIPT_NAMES = ("build.gradle.kts", "build.gradle")
#: A level above this is not an API level (literal typo or something else).
MAX_LEVEL = 10_000

_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
#: ``name`` then ``=``, ``(`` or blanks, then the value up to the end of the statement.
_ASSIGNMENT = re.compile(
    r"(?<![\w.$])(?:android\.)?(?:defaultConfig\.)?"
    r"(?P<name>minSdkVersion|minSdk|targetSdkVersion|targetSdk)"
    r"(?:[ \t]*=[ \t]*|(?P<call>[ \t]*\([ \t]*)|[ \t]+)(?P<value>[^\n;]*)"
)
_LITERAL = re.compile(r"""(?P<q>["']?)(?P<level>[0-9]{1,5})(?P=q)""")
_KIND = {"minSdkVersion": "min", "minSdk": "min", "targetSdkVersion": "target",
         "targetSdk": "target"}  # fmt: skip


@record
class GradleLevel:
    """What the build script says about one level (``min`` or ``target``)."""

    #: The literal, when every occurrence is the same integer literal.
    level: int | None
    #: ``path:line`` of each occurrence.
    where: tuple[str, ...]
    #: Why it is unknown although the script mentions it; ``None`` when ``level`` is set.
    problem: str | None = None


@record
class GradleLevels:
    """The build script found beside a manifest and what it says about minSdk/targetSdk."""

    path: str
    min_sdk: GradleLevel | None = None
    target_sdk: GradleLevel | None = None
    #: Set when the script could not be read (too large, unreadable): nothing was taken.
    problem: str | None = None


def build_script_for(manifest_path: str) -> str | None:
    """The module build script for ``manifest_path``, or ``None`` when there is none.

    Relative to the working directory when ``manifest_path`` is relative, so notes show
    a path the user recognises.
    """
    directory = os.path.dirname(os.path.abspath(manifest_path))
    candidates = [directory]
    source_set_parent = os.path.dirname(directory)
    if os.path.basename(source_set_parent) == "src":
        candidates.insert(0, os.path.dirname(source_set_parent))
    for folder in candidates:
        for name in SCRIPT_NAMES:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path if os.path.isabs(manifest_path) else os.path.relpath(path)
    return None


def read_build_script(path: str, *, shown: str | None = None) -> GradleLevels:
    """Read the SDK literals of the build script at ``path`` (``shown``: its name in notes)."""
    label = shown or path
    try:
        with open_regular(path) as stream:
            data = stream.read(MAX_GRADLE_SIZE + 1)
    except (OSError, PermauditError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc.detail
        return GradleLevels(path=label, problem=f"cannot be read ({reason})")
    if len(data) > MAX_GRADLE_SIZE:
        return GradleLevels(path=label, problem=f"is larger than {MAX_GRADLE_SIZE} bytes: not read")
    return parse_build_script(data.decode("utf-8", errors="replace"), label)


def parse_build_script(text: str, label: str) -> GradleLevels:
    """The min/target levels ``text`` (a build script named ``label``) states as literals."""
    # Comments out, newlines kept, so line numbers stay those of the file.
    code = _COMMENTS.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    seen: dict[str, list[tuple[int, str]]] = {"min": [], "target": []}
    for match in _ASSIGNMENT.finditer(code):
        line = code.count("\n", 0, match.start()) + 1
        value = match.group("value").rstrip("} \t")  # closing braces of one-line blocks
        if match.group("call") is not None and value.endswith(")"):
            value = value[:-1].rstrip()  # targetSdk(34): the call's closing parenthesis
        seen[_KIND[match.group("name")]].append((line, value.strip()))
    return GradleLevels(
        path=label,
        min_sdk=_level(seen["min"], label),
        target_sdk=_level(seen["target"], label),
    )


def _level(occurrences: list[tuple[int, str]], label: str) -> GradleLevel | None:
    if not occurrences:
        return None
    where = tuple(f"{label}:{line}" for line, _ in occurrences)
    values: set[int] = set()
    for line, value in occurrences:
        literal = _LITERAL.fullmatch(value)
        if literal is None or not 1 <= int(literal.group("level")) <= MAX_LEVEL:
            shown = value if len(value) <= 60 else value[:60] + "..."
            return GradleLevel(
                level=None, where=where,
                problem=f"{label}:{line} sets it to {shown!r}, not an integer literal",
            )  # fmt: skip
        values.add(int(literal.group("level")))
    if len(values) > 1:
        listed = ", ".join(f"{value} ({place})" for (_, value), place in
                           zip(occurrences, where, strict=True))  # fmt: skip
        return GradleLevel(
            level=None, where=where,
            problem=f"differs between occurrences ({listed}): which one the build uses "
                    "depends on the variant",
        )  # fmt: skip
    return GradleLevel(level=values.pop(), where=where)


@record
class SourceSdk:
    """The levels to use for a source manifest without ``<uses-sdk>``, and why."""

    min_sdk: int | None
    target_sdk: int | None
    origin: SdkOrigin
    notes: tuple[str, ...]


def source_sdk(manifest_path: str, given: SdkLevels | None) -> SourceSdk:
    """Levels for a source manifest: ``given`` (options) first, then build-script literals.

    A level neither given nor stated as a literal is ``None`` (unknown). As the Android
    Gradle plugin does, a script that sets ``minSdk`` and never mentions ``targetSdk``
    targets its ``minSdk``.
    """
    given = given or SdkLevels()
    notes: list[str] = []
    where: dict[str, tuple[str, ...]] = {}
    script = None
    if given.min_sdk is None or given.target_sdk is None:
        path = build_script_for(manifest_path)
        script = read_build_script(path) if path is not None else None
    if script is not None and script.problem is not None:
        notes.append(f"Build script {script.path} {script.problem}.")
        script = None

    def pick(kind: str, option: int | None, found: GradleLevel | None) -> tuple[int | None, str]:
        if option is not None:
            return option, SDK_FROM_OPTION
        if found is None:
            return None, SDK_UNKNOWN
        if found.level is None:
            notes.append(f"{kind} unknown: {found.problem} (the build script is not run).")
            return None, SDK_UNKNOWN
        where[kind] = found.where
        return found.level, SDK_FROM_GRADLE

    min_sdk, min_from = pick("minSdk", given.min_sdk,
                             script.min_sdk if script is not None else None)
    target_sdk, target_from = pick("targetSdk", given.target_sdk,
                                   script.target_sdk if script is not None else None)
    if (target_sdk is None and script is not None and script.target_sdk is None
            and min_from == SDK_FROM_GRADLE):
        target_sdk, target_from = min_sdk, SDK_FROM_GRADLE
        where["targetSdk"] = where["minSdk"]
        notes.append(f"{script.path} sets no targetSdk: it defaults to minSdk {min_sdk}, "
                     "as the Android Gradle plugin does.")
    return SourceSdk(
        min_sdk=min_sdk,
        target_sdk=target_sdk,
        origin=SdkOrigin(
            min_sdk=min_from, target_sdk=target_from,
            min_where=where.get("minSdk", ()), target_where=where.get("targetSdk", ()),
        ),
        notes=tuple(notes),
    )


def unknown_sdk() -> SourceSdk:
    """Both levels unknown, with nothing found (the default for a text manifest alone)."""
    return SourceSdk(
        min_sdk=None, target_sdk=None,
        origin=SdkOrigin(min_sdk=SDK_UNKNOWN, target_sdk=SDK_UNKNOWN), notes=(),
    )  # fmt: skip


def sdk_note(levels: SourceSdk) -> str:
    """What a report must say about levels a source manifest does not declare."""
    origin = levels.origin
    known = [
        f"{name} {value} from {_from(name, source, where)}"
        for name, value, source, where in (
            ("minSdk", levels.min_sdk, origin.min_sdk, origin.min_where),
            ("targetSdk", levels.target_sdk, origin.target_sdk, origin.target_where),
        )
        if value is not None
    ]  # fmt: skip
    text = ("No minSdkVersion/targetSdkVersion in this manifest (Gradle injects them from "
            "build.gradle)")
    if known:
        text += ": " + "; ".join(known)
    unknown = [name for name, value in (("targetSdk", levels.target_sdk),
                                        ("minSdk", levels.min_sdk)) if value is None]  # fmt: skip
    if unknown:
        effects = []
        if levels.target_sdk is None:
            effects.append("no permission implied by an old target SDK is added and no "
                           "rule that depends on the target SDK is evaluated")
        if levels.min_sdk is None:
            effects.append("whether it installs on the device is not judged")
        text += (f". {' and '.join(unknown)} unknown: " + "; ".join(effects)
                 + " (give --target-sdk/--min-sdk to set them)")
    return text + "."


def _from(name: str, source: str, where: tuple[str, ...]) -> str:
    if source == SDK_FROM_OPTION:
        return f"--{name[:-3].lower()}-sdk (given)"
    if source == SDK_FROM_GRADLE:
        return "a literal in " + ", ".join(where)
    return source

