"""Read ``fullBackupContent`` / ``dataExtractionRules`` files into ``BackupRules``.

Semantics (frameworks/base core/java/android/app/backup/FullBackup.java, ``BackupScheme``):
``<full-backup-content>`` (API 23+) or ``<data-extraction-rules>`` (API 31+, targetSdk 31+)
with ``<cloud-backup>`` and ``<device-transfer>`` sections. Each holds ``<include>`` and
``<exclude>`` elements with ``domain`` (``root``, ``file``, ``database``, ``sharedpref``,
``external`` and their ``device_`` variants) and ``path``; when a section has includes, only
those are copied, and excludes are then taken out. A section that is missing, or has neither,
copies all the app's data. Elements with an unknown domain or a path with ``..`` are ignored
as Android ignores them. Bounded by the decoded tree (one pass, no recursion).
"""

from __future__ import annotations

from permaudit.inputs.binary.xmltree import Element
from permaudit.model.netsec import (
    BACKUP_DATA_EXTRACTION,
    BACKUP_FULL_CONTENT,
    BackupPath,
    BackupRules,
    BackupSection,
)

DOMAINS = frozenset({
    "root", "file", "database", "sharedpref", "external",
    "device_root", "device_file", "device_database", "device_sharedpref",
})
ROOTS = {
    BACKUP_FULL_CONTENT: "full-backup-content",
    BACKUP_DATA_EXTRACTION: "data-extraction-rules",
}
SECTIONS = ("cloud-backup", "device-transfer")
#: Entries kept per section (what a report can show); the rest are counted in a problem.
MAX_PATHS = 1000


def _text(element: Element, name: str) -> str | None:
    attribute = element.by_name(name, None)
    return attribute.coerce_to_string() if attribute is not None else None


def _section(name: str, element: Element, problems: list[str]) -> BackupSection:
    includes: list[BackupPath] = []
    excludes: list[BackupPath] = []
    dropped = 0
    for child in element.children:
        if child.tag not in ("include", "exclude"):
            continue
        domain = _text(child, "domain")
        path = _text(child, "path") or "."
        if domain not in DOMAINS or ".." in path.split("/"):
            problems.append(f"<{child.tag} domain={domain!r} path={path[:80]!r}> in <{name}> "
                            "is ignored by Android")
            continue
        flags = _text(child, "requireFlags") if child.tag == "include" else None
        entry = BackupPath(domain=domain, path=path,
                           require_flags=tuple(sorted(set((flags or "").split("|")) - {""})))
        target = includes if child.tag == "include" else excludes
        if len(target) >= MAX_PATHS:
            dropped += 1
            continue
        if entry not in target:
            target.append(entry)
    if dropped:
        problems.append(f"<{name}> lists {dropped} more entries than the {MAX_PATHS} shown")
    disable = element.by_name("disableIfNoEncryptionCapabilities", None)
    return BackupSection(
        name=name, includes=tuple(includes), excludes=tuple(excludes),
        disable_if_no_encryption=disable is not None and disable.coerce_to_string() == "true",
    )


def read_backup_rules(root: Element, kind: str, path: str | None = None) -> BackupRules:
    """The rules of one decoded file of ``kind`` (``fullBackupContent`` or
    ``dataExtractionRules``); a wrong root element is a problem and no sections."""
    problems: list[str] = []
    expected = ROOTS[kind]
    if root.tag != expected:
        problems.append(f"root element is <{root.tag}>, expected <{expected}>; Android "
                        "backs up everything")
        return BackupRules(kind=kind, path=path, problems=tuple(problems))
    sections = []
    if kind == BACKUP_FULL_CONTENT:
        sections.append(_section(expected, root, problems))
    else:
        seen = set()
        for child in root.children:
            if child.tag in SECTIONS and child.tag not in seen:
                seen.add(child.tag)
                sections.append(_section(child.tag, child, problems))
    return BackupRules(kind=kind, path=path, sections=tuple(sections),
                       problems=tuple(problems[:20]))
