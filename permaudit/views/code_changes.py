"""What a release changes in its code: trackers, server owners and countries, API use, native libs.

Pure: ``code_changes(old, new)`` reads the two reports' ``code_evidence`` (and the native
libraries of ``app.code``) and returns ``Change`` records of the diff vocabulary
(``views.changes``). Code is compared only when both builds' code was read: a side read with
``--no-code``, a source manifest, or an APK whose DEX files could not be read would otherwise
show every tracker and server as removed (or added), so ``code_comparison`` says why the code
was not compared instead (docs/code-evidence.md, "In a diff").

Severities (the same table is in docs/code-evidence.md):

- tracker added: ``high`` for an advertising or location tracker, ``medium`` for any other
  tracker the app ships, ``low`` for one it only references (types named, classes not shipped);
- server country added (the code now names a server of an owner based in a new country):
  ``medium``; server owner added: ``low``;
- capability referenced in the code but not requested appearing (the code now calls an API
  whose permission the manifest does not ask for): ``medium``; a capability newly referenced
  in code that the app asks for: ``low`` (its permission change, if any, carries its own
  severity);
- native library added: ``low`` (its code is not read);
- everything removed: ``info``.
"""

from __future__ import annotations

from collections.abc import Iterable

from permaudit._infra.records import record
from permaudit.model import Report, Severity
from permaudit.model.code import CodeEvidence, TrackerHit
from permaudit.views.changes import Change, ChangeKind
from permaudit.views.code import (
    CODE_MARKS,
    USES_WITHOUT_ASKING,
    NativeGroup,
    capability_use,
    country_name,
    cut,
    native_groups,
    short_api,
    size_text,
    tracker_maker,
)
from permaudit.views.code import (
    REFERENCE_CHARS as REFERENCE_CHARS,
)

#: Tracker categories (Exodus's) whose addition is ``high``.
HIGH_TRACKER_CATEGORIES = frozenset(("advertisement", "location"))
#: API references named in one change value; the JSON ``old``/``new`` report lists them too.
REFERENCES_SHOWN = 3
#: Domains named in one server-owner change value.
DOMAINS_SHOWN = 4


@record
class CodeComparison:
    """Whether the two builds' code was compared, and why not when it was not."""

    compared: bool
    #: ``None`` when compared; else one sentence a reader understands.
    note: str | None = None


def _unread_reason(report: Report) -> str | None:
    """Why ``report``'s code cannot be compared, or ``None`` when it was read."""
    evidence = report.code_evidence
    if evidence is None:
        return "was not read (--no-code, or an input without code such as a manifest)"
    if evidence.checked_capabilities or evidence.trackers or evidence.hosts:
        return None
    why = "; ".join(evidence.notes) or "no DEX file was read"
    return f"could not be read ({why})"


def code_comparison(old: Report, new: Report, *, read: bool = True) -> CodeComparison:
    """Compared when both builds' code was read (``read``: ``False`` for ``--no-code``)."""
    if not read:
        return CodeComparison(
            compared=False, note="Code not compared: the diff was run with --no-code."
        )
    reasons = [(side, _unread_reason(r)) for side, r in (("old", old), ("new", new))]
    missing = [(side, why) for side, why in reasons if why is not None]
    if not missing:
        return CodeComparison(compared=True)
    said = "; ".join(f"the {side} build's code {why}" for side, why in missing)
    return CodeComparison(
        compared=False,
        note=f"Code not compared (trackers, servers, API use, native libraries): {said}.",
    )


def code_changes(old: Report, new: Report) -> tuple[Change, ...]:
    """Every code change from ``old`` to ``new``; empty unless both sides' code was read."""
    was, now = old.code_evidence, new.code_evidence
    if was is None or now is None or not code_comparison(old, new).compared:
        return ()
    return (
        *_tracker_changes(was, now),
        *_server_changes(was, now),
        *_reference_changes(old, new),
        *_native_changes(old, new),
    )


# --- trackers ----------------------------------------------------------------------------


def tracker_text(hit: TrackerHit) -> str:
    """``Analytics, Profiling; by VK, RU; ships com.my.tracker`` (or ``only referenced``)."""
    parts = [", ".join(hit.categories) or "uncategorised"]
    maker = tracker_maker(hit)
    if maker:
        parts.append(f"by {maker}")
    packages = ", ".join(hit.packages)
    shipped = hit.strength == "defined"
    parts.append(f"ships {packages}" if shipped else f"only references {packages}")
    return "; ".join(parts)


def tracker_severity(hit: TrackerHit) -> Severity:
    """``high`` for advertising and location trackers, ``medium`` for others, ``low`` when
    the app only references the SDK's types."""
    if hit.strength != "defined":
        return Severity.LOW
    if any(c.lower() in HIGH_TRACKER_CATEGORIES for c in hit.categories):
        return Severity.HIGH
    return Severity.MEDIUM


def _tracker_changes(old: CodeEvidence, new: CodeEvidence) -> Iterable[Change]:
    before = {t.tracker_id: t for t in old.trackers}
    after = {t.tracker_id: t for t in new.trackers}
    for key in sorted(after.keys() - before.keys(), key=lambda k: after[k].name):
        hit = after[key]
        yield Change(kind=ChangeKind.TRACKER_ADDED, subject=hit.name, new=tracker_text(hit),
                     severity=tracker_severity(hit))
    for key in sorted(before.keys() - after.keys(), key=lambda k: before[k].name):
        hit = before[key]
        yield Change(kind=ChangeKind.TRACKER_REMOVED, subject=hit.name, old=tracker_text(hit))


# --- servers -----------------------------------------------------------------------------


def _owners(evidence: CodeEvidence) -> dict[str, tuple[str | None, list[str]]]:
    """Known owner -> (country, its domains in the code)."""
    owners: dict[str, tuple[str | None, list[str]]] = {}
    for host in evidence.hosts:
        if host.owner is not None:
            owners.setdefault(host.owner, (host.country, []))[1].append(host.domain)
    return owners


def _owner_text(country: str | None, domains: list[str]) -> str:
    shown = ", ".join(domains[:DOMAINS_SHOWN])
    more = len(domains) - DOMAINS_SHOWN
    tail = f" and {more} more" if more > 0 else ""
    return f"{country_name(country)}: {shown}{tail}"


def _countries(owners: dict[str, tuple[str | None, list[str]]]) -> dict[str, list[str]]:
    countries: dict[str, list[str]] = {}
    for owner, (country, _) in sorted(owners.items()):
        if country is not None:
            countries.setdefault(country, []).append(owner)
    return countries


def server_countries(evidence: CodeEvidence) -> dict[str, list[str]]:
    """Country code -> the known owners based there whose servers the code names (sorted)."""
    return _countries(_owners(evidence))


def _server_changes(old: CodeEvidence, new: CodeEvidence) -> Iterable[Change]:
    before, after = _owners(old), _owners(new)
    for owner in sorted(after.keys() - before.keys()):
        yield Change(kind=ChangeKind.SERVER_OWNER_ADDED, subject=owner,
                     new=_owner_text(*after[owner]), severity=Severity.LOW)
    for owner in sorted(before.keys() - after.keys()):
        yield Change(kind=ChangeKind.SERVER_OWNER_REMOVED, subject=owner,
                     old=_owner_text(*before[owner]))
    was, now = _countries(before), _countries(after)
    for country in sorted(now.keys() - was.keys(), key=country_name):
        yield Change(kind=ChangeKind.SERVER_COUNTRY_ADDED, subject=country_name(country),
                     new="servers of " + ", ".join(now[country]), severity=Severity.MEDIUM)
    for country in sorted(was.keys() - now.keys(), key=country_name):
        yield Change(kind=ChangeKind.SERVER_COUNTRY_REMOVED, subject=country_name(country),
                     old="servers of " + ", ".join(was[country]))


# --- capabilities referenced in the code -------------------------------------------------


def references_text(references: tuple[str, ...]) -> str:
    """The first few references, short and cut: ``AudioRecord.startRecording and 2 more``."""
    shown = [cut(short_api(r)) for r in references[:REFERENCES_SHOWN]]
    more = len(references) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _reference_changes(old: Report, new: Report) -> Iterable[Change]:
    before = {u.capability: u for u in capability_use(old) if u.references}
    after = {u.capability: u for u in capability_use(new) if u.references}
    for cap in sorted(after):
        now, was = after[cap], before.get(cap)
        if now.verdict == USES_WITHOUT_ASKING and (was is None or was.verdict != now.verdict):
            yield Change(
                kind=ChangeKind.CODE_UNREQUESTED_ADDED, subject=cap,
                old=f"{CODE_MARKS[was.verdict][1]}: {references_text(was.references)}"
                if was else None,
                new=references_text(now.references), severity=Severity.MEDIUM,
            )
        elif was is None:
            yield Change(kind=ChangeKind.CODE_REFERENCE_ADDED, subject=cap,
                         new=references_text(now.references), severity=Severity.LOW)
    for cap in sorted(before.keys() - after.keys()):
        yield Change(kind=ChangeKind.CODE_REFERENCE_REMOVED, subject=cap,
                     old=references_text(before[cap].references))


# --- native libraries --------------------------------------------------------------------


def native_text(group: NativeGroup) -> str:
    """``arm64-v8a, armeabi-v7a; 1.2 MiB`` (the largest copy)."""
    return f"{', '.join(group.abis)}; {size_text(group.size)}"


def _native(report: Report) -> dict[str, NativeGroup]:
    code = report.app.code
    if code is None:
        return {}
    return {group.name: group for group in native_groups(code.native_libraries)}


def _native_changes(old: Report, new: Report) -> Iterable[Change]:
    before, after = _native(old), _native(new)
    for name in sorted(after.keys() - before.keys()):
        yield Change(kind=ChangeKind.NATIVE_LIBRARY_ADDED, subject=name,
                     new=native_text(after[name]), severity=Severity.LOW)
    for name in sorted(before.keys() - after.keys()):
        yield Change(kind=ChangeKind.NATIVE_LIBRARY_REMOVED, subject=name,
                     old=native_text(before[name]))
