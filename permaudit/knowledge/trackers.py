"""Tracker SDKs in an app's code: Exodus signatures (plus permaudit's supplement) over class names.

How permaudit matches (docs/code-evidence.md): a code signature is a dotted package prefix
(``com.my.tracker.``) and matches a class whose Java name *starts with* it, dots literal. Exodus
(exodus-core) instead searches each signature as an unanchored regex in every slash-separated
class name dexdump prints, so ``.`` matches ``/`` or any character and ``com.my.tracker.`` also
matches ``xcom/my/tracker/...``; and it skips signatures of 3 characters or fewer. The two agree
on every real class list in the tests; the prefix rule cannot over-match inside another package.

Work is bounded: each signature is one ``bisect`` range count over the sorted class names
(O(signatures x log classes)); a signature that is not a plain package name is never compiled
as a regex but skipped with a note; a leading ``.`` (``.sizmek.``) means a package segment at
any depth and is a substring test. Network signatures (Exodus regexes over host names) are
compiled only when short and free of nested quantifiers, and run on host names of at most
253 characters.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from permaudit._infra.records import record
from permaudit.datafiles.compiled import ShippedData, load_shipped
from permaudit.knowledge.domains import hosts_in, owner_of, registrable_domain
from permaudit.model.code import CodeScan, TrackerHit

DATA = Path(__file__).with_name("data")
EXODUS_FILE = DATA / "exodus_trackers.json"
SUPPLEMENT_FILE = DATA / "trackers_supplement.yml"
_PACKAGE = re.compile(r"[A-Za-z0-9_$\-]+(?:\.[A-Za-z0-9_$\-]+)*\.?")
_MIN_SIGNATURE = 4  # Exodus skips code signatures of 3 characters or fewer
_MAX_PATTERN = 200
_NESTED_QUANTIFIER = re.compile(r"\([^)]*[*+][^)]*\)[*+{]")
MAX_HOST = 253


@record
class Tracker:
    """One tracker's signatures, merged from Exodus and the supplement."""

    id: str
    name: str
    categories: tuple[str, ...]
    code_signatures: tuple[str, ...]
    network_signatures: tuple[str, ...]
    source: str
    #: The SDK's web site, ``https://tracker.my.com/`` (its domain's owner is the SDK's owner).
    website: str | None = None


def safe_host_pattern(pattern: str) -> re.Pattern[str] | None:
    """``pattern`` compiled when it is short, valid and has no nested quantifier, else ``None``."""
    if len(pattern) > _MAX_PATTERN or _NESTED_QUANTIFIER.search(pattern):
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _exodus(path: Path) -> list[Tracker]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [
        Tracker(
            id=str(entry["id"]), name=entry["name"], categories=tuple(entry["categories"]),
            code_signatures=tuple(entry["code_signatures"]),
            network_signatures=tuple(entry["network_signatures"]), source="exodus",
            website=entry.get("website") or None,
        )
        for entry in document["trackers"]
    ]


def _supplemented(trackers: list[Tracker], path: Path) -> tuple[Tracker, ...]:
    import yaml  # only when code is matched: PyYAML costs ~11 ms to import

    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["trackers"]
    by_id = {tracker.id: tracker for tracker in trackers}
    for entry in entries:
        code = tuple(entry.get("code_signatures") or ())
        hosts = tuple(re.escape(host) for host in entry.get("network_signatures") or ())
        if "extends" in entry:
            base = by_id[str(entry["extends"])]
            extra = tuple(entry.get("categories") or ())
            categories = tuple(dict.fromkeys(base.categories + extra))
            by_id[base.id] = Tracker(
                id=base.id, name=base.name, categories=categories,
                code_signatures=base.code_signatures + code,
                network_signatures=base.network_signatures + hosts,
                source="exodus+permaudit-supplement", website=entry.get("website") or base.website,
            )
        else:
            by_id[str(entry["id"])] = Tracker(
                id=str(entry["id"]), name=entry["name"], categories=tuple(entry["categories"]),
                code_signatures=code, network_signatures=hosts, source="permaudit-supplement",
                website=entry.get("website"),
            )
    return tuple(by_id.values())


@record
class TrackerTable:
    """The merged tracker table, as its precompiled copy holds it."""

    trackers: tuple[Tracker, ...]


def shipped_data() -> ShippedData:
    """The Exodus snapshot plus supplement, and their precompiled copy (``make compiled``)."""
    return ShippedData(
        sources=(EXODUS_FILE, SUPPLEMENT_FILE), compiled=DATA / "trackers.compiled.json",
        types=(TrackerTable, Tracker),
    )


def read_table() -> TrackerTable:
    """The table merged from the JSON snapshot and the YAML supplement (no compiled copy)."""
    return TrackerTable(trackers=_supplemented(_exodus(EXODUS_FILE), SUPPLEMENT_FILE))


@lru_cache(maxsize=1)
def load_trackers() -> tuple[Tracker, ...]:
    """The shipped tracker table: Exodus snapshot with the supplement applied.

    Read from the precompiled copy while it matches both sources' bytes, so a scan does not
    import PyYAML; else merged from the sources.
    """
    return load_shipped(shipped_data(), read_table, TrackerTable).trackers


def count_prefix(sorted_names: Sequence[str], prefix: str) -> int:
    """How many of ``sorted_names`` start with ``prefix`` (two bisections)."""
    low = bisect.bisect_left(sorted_names, prefix)
    high = bisect.bisect_left(sorted_names, prefix + "\U0010ffff")
    return high - low


def count_signature(sorted_names: Sequence[str], signature: str) -> int:
    """Classes a signature matches: a prefix, or (leading ``.``) a name segment anywhere.

    Exodus writes ``.sizmek.`` for "a ``sizmek`` package at any depth"; such a signature is a
    substring test over every name (linear, and only 8 signatures of the snapshot are such).
    """
    if signature.startswith("."):
        return sum(1 for name in sorted_names if signature in name)
    return count_prefix(sorted_names, signature)


def host_matches(patterns: Iterable[re.Pattern[str]], hosts: Sequence[str]) -> tuple[str, ...]:
    """The hosts (at most ``MAX_HOST`` characters) some pattern finds, sorted."""
    found = {
        host for host in hosts if len(host) <= MAX_HOST
        for pattern in patterns if pattern.search(host)
    }
    return tuple(sorted(found))


def _maker(website: str | None) -> dict[str, str | None]:
    """``owner`` and ``country`` of the SDK: the owner of its web site's registrable domain."""
    hosts = hosts_in(website) if website else ()
    domain = registrable_domain(hosts[0]) if hosts else None
    owner = owner_of(domain) if domain else None
    return {"owner": owner.name if owner else None, "country": owner.country if owner else None}


def match_trackers(
    code: CodeScan, hosts: Sequence[str] = (), trackers: Sequence[Tracker] | None = None
) -> tuple[tuple[TrackerHit, ...], tuple[str, ...]]:
    """Trackers whose code signatures match the app's classes, and notes on skipped signatures.

    Defined classes are strong evidence; a signature matching only referenced classes gives a
    ``referenced`` hit. ``hosts`` (from ``domains.extract_hosts``) are matched against the
    network signatures of the trackers found.
    """
    table = load_trackers() if trackers is None else trackers
    defined = sorted(code.defined_classes)
    referenced = sorted(code.referenced_classes)
    hits: list[TrackerHit] = []
    notes: list[str] = []
    for tracker in table:
        packages: list[str] = []
        count = 0
        strength = "defined"
        for signature in tracker.code_signatures:
            if len(signature) < _MIN_SIGNATURE or not _PACKAGE.fullmatch(signature.lstrip(".")):
                notes.append(f"tracker {tracker.name}: signature {signature[:80]!r} skipped")
                continue
            n = count_signature(defined, signature)
            if n:
                packages.append(signature)
                count += n
        if not packages:
            for signature in tracker.code_signatures:
                if len(signature) >= _MIN_SIGNATURE and _PACKAGE.fullmatch(signature.lstrip(".")):
                    n = count_signature(referenced, signature)
                    if n:
                        packages.append(signature)
                        count += n
            strength = "referenced"
        if not packages:
            continue
        patterns = [p for p in map(safe_host_pattern, tracker.network_signatures) if p]
        hits.append(TrackerHit(
            tracker_id=tracker.id, name=tracker.name, categories=tracker.categories,
            packages=tuple(sorted(packages)), class_count=count, strength=strength,
            source=tracker.source, hosts=host_matches(patterns, hosts),
            **_maker(tracker.website),
        ))
    hits.sort(key=lambda hit: (hit.strength != "defined", hit.name.lower(), hit.tracker_id))
    return tuple(hits), tuple(notes)
