"""Code evidence next to the manifest: trackers with their makers, servers by owner, API use.

Pure: reads a ``Report`` (its capabilities and ``code_evidence``) and never does I/O. The
verdict per capability puts the manifest (what the app asks for: the capabilities it reaches)
next to the code (which framework APIs it references). A reference is static evidence, not
proof the call runs; "no code seen" may still be reflection or native code
(docs/code-evidence.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from permaudit._infra.records import record
from permaudit.model import Report
from permaudit.model.code import CodeEvidence, HostHit, NativeLibrary, TrackerHit

#: The app reaches the capability and its code references an API for it.
ASKS_AND_USES = "asks, code uses"
#: The app reaches the capability, but no API reference for it was found.
ASKS_NO_CODE = "asks, no code seen"
#: The code references an API for it, but the manifest does not ask.
USES_WITHOUT_ASKING = "code uses without asking"
#: The code references an API no permission gates (e.g. the clipboard).
USES_NO_PERMISSION = "code uses (no permission needed)"

#: The code looks at the capability (the API table covers it), but the app neither reaches it
#: nor references its APIs (compare and diff cells only; ``capability_use`` leaves it out).
NEITHER = "neither asks nor code uses"

#: Each verdict's mark and short words in a matrix cell, in legend order.
CODE_MARKS: dict[str, tuple[str, str]] = {
    ASKS_AND_USES: ("✓", "requested and referenced"),
    ASKS_NO_CODE: ("?", "requested, no reference found"),
    USES_WITHOUT_ASKING: ("!", "referenced, not requested"),
    USES_NO_PERMISSION: ("*", "referenced, no permission needed"),
    NEITHER: ("·", "neither"),
}
#: What each mark means, in plain words, for the legend under a matrix.
CODE_MARK_MEANINGS: dict[str, str] = {
    ASKS_AND_USES: "the manifest asks for it and the code references its APIs",
    ASKS_NO_CODE: "the manifest asks for it, but no API reference was found (reflection or "
                  "native code may still use it)",
    USES_WITHOUT_ASKING: "the code references its APIs, but the manifest does not ask (the "
                         "call fails, or the access comes from elsewhere)",
    USES_NO_PERMISSION: "the code references an API no permission guards (e.g. the clipboard)",
    NEITHER: "neither asked for nor referenced",
}


def code_mark(verdict: str | None) -> str:
    """``✓ requested and referenced`` for a verdict; empty for ``None`` (code not read)."""
    if verdict is None:
        return ""
    mark, words = CODE_MARKS.get(verdict, ("", verdict))
    return f"{mark} {words}".strip()


def code_legend() -> tuple[str, ...]:
    """``✓ requested and referenced: the manifest asks ...`` per mark, in legend order."""
    return tuple(
        f"{CODE_MARKS[v][0]} {CODE_MARKS[v][1]}: {meaning}"
        for v, meaning in CODE_MARK_MEANINGS.items()
    )


def read_code(report: Report) -> bool:
    """Whether ``report``'s code was read and matched (not ``--no-code``, some DEX read)."""
    evidence = report.code_evidence
    return evidence is not None and bool(
        evidence.trackers or evidence.hosts or evidence.checked_capabilities
    )


def cell_verdicts(report: Report) -> dict[str, str]:
    """Capability -> verdict for a matrix: ``capability_use`` plus ``NEITHER`` for the
    capabilities the API table checks that the app neither reaches nor references; empty
    when the code was not read."""
    if not read_code(report) or report.code_evidence is None:
        return {}
    verdicts = dict.fromkeys(report.code_evidence.checked_capabilities, NEITHER)
    verdicts.update({u.capability: u.verdict for u in capability_use(report)})
    return verdicts


#: Owner text for domains and SDKs the owner table does not know.
UNKNOWN_OWNER = "unknown owner"

#: Countries of the owner table (ISO 3166-1 alpha-2) by name, for reports people read.
COUNTRY_NAMES = {
    "AE": "United Arab Emirates", "CN": "China", "CZ": "Czechia", "DE": "Germany",
    "FR": "France", "GB": "United Kingdom", "IL": "Israel", "IN": "India", "JP": "Japan",
    "KR": "South Korea", "NL": "Netherlands", "RU": "Russia", "SE": "Sweden",
    "SG": "Singapore", "US": "United States",
}


def country_name(code: str | None) -> str:
    """``RU`` -> ``Russia``; an unlisted code as given; ``None`` -> ``unknown country``."""
    if code is None:
        return "unknown country"
    return COUNTRY_NAMES.get(code, code)


@record
class CapabilityUse:
    """One capability with what the manifest asks and what the code references."""

    capability: str
    #: The ruleset's title when the app reaches it, else the id made readable.
    title: str
    asks: bool
    #: ``Class.method`` / type / URI references found, sorted (empty: none seen).
    references: tuple[str, ...]
    #: One of the verdict texts above.
    verdict: str


@record
class OwnerServers:
    """The domains of one owner (``None``: unknown) the code names."""

    owner: str | None
    country: str | None
    domains: tuple[HostHit, ...]

    @property
    def label(self) -> str:
        """``VK (Russia)``, or ``unknown owner``."""
        if self.owner is None:
            return UNKNOWN_OWNER
        return f"{self.owner} ({country_name(self.country)})"


def capability_use(report: Report) -> tuple[CapabilityUse, ...]:
    """Per capability the API table checks or the code references: asks vs uses.

    Empty when no code was read. Ordered: contradictions first (code uses without asking),
    then asks and uses, then asks without code, each by capability id.
    """
    evidence = report.code_evidence
    if evidence is None:
        return ()
    reached = {hit.id: hit.title for hit in report.capabilities}
    apis = {api.capability: api for api in evidence.apis}
    ids = (set(evidence.checked_capabilities) & set(reached)) | set(apis)
    rows = []
    for cap in ids:
        api = apis.get(cap)
        asks = cap in reached
        if api is None:
            verdict = ASKS_NO_CODE
        elif asks:
            verdict = ASKS_AND_USES
        else:
            verdict = USES_WITHOUT_ASKING if api.needs_permission else USES_NO_PERMISSION
        rows.append(
            CapabilityUse(
                capability=cap,
                title=reached.get(cap) or cap.replace("_", " ").capitalize(),
                asks=asks,
                references=api.references if api else (),
                verdict=verdict,
            )
        )
    order = {USES_WITHOUT_ASKING: 0, ASKS_AND_USES: 1, USES_NO_PERMISSION: 2, ASKS_NO_CODE: 3}
    return tuple(sorted(rows, key=lambda r: (order[r.verdict], r.capability)))


def servers_by_owner(evidence: CodeEvidence) -> tuple[OwnerServers, ...]:
    """The code's domains grouped by owner: known owners first, the owner named by the most
    strings first (ties by name), unknown owners last."""
    groups: dict[tuple[str | None, str | None], list[HostHit]] = {}
    for hit in evidence.hosts:
        groups.setdefault((hit.owner, hit.country), []).append(hit)
    return tuple(
        OwnerServers(owner=owner, country=country, domains=tuple(hits))
        for (owner, country), hits in sorted(
            groups.items(),
            key=lambda item: (
                item[0][0] is None, -sum(h.strings for h in item[1]), item[0][0] or ""
            ),
        )
    )


def tracker_maker(hit: TrackerHit) -> str | None:
    """``VK, RU`` when the SDK's maker is known, else ``None``."""
    if hit.owner is None:
        return None
    return f"{hit.owner}, {hit.country}" if hit.country else hit.owner


def short_api(reference: str) -> str:
    """``android.media.AudioRecord.startRecording`` -> ``AudioRecord.startRecording``.

    A class or URI reference stays readable: ``android.provider.ContactsContract`` ->
    ``ContactsContract``, ``content://sms`` unchanged.
    """
    if "://" in reference:
        return reference
    parts = reference.split(".")
    for index, part in enumerate(parts):
        if part[:1].isupper():
            return ".".join(parts[index:])
    return reference


@record
class TrackerEntry:
    """One tracker SDK in an app's code, as a compare row shows it."""

    name: str
    #: ``VK, RU`` when the SDK's maker is known.
    maker: str | None
    categories: tuple[str, ...]
    #: ``defined`` (shipped) or ``referenced``.
    strength: str

    @property
    def text(self) -> str:
        """``myTracker (VK, RU)``; ``(referenced only)`` when not shipped."""
        text = f"{self.name} ({self.maker})" if self.maker else self.name
        return text if self.strength == "defined" else f"{text} (referenced only)"


@record
class NativeGroup:
    """One native library (``libfoo.so``) with the ABIs it ships for."""

    name: str
    abis: tuple[str, ...]
    #: Bytes of the largest copy.
    size: int
    #: Archive paths of every copy, sorted.
    paths: tuple[str, ...]


def native_groups(libraries: Sequence[NativeLibrary]) -> tuple[NativeGroup, ...]:
    """``lib/<abi>/libfoo.so`` entries grouped by file name, sorted by name."""
    names: dict[str, list[NativeLibrary]] = {}
    for lib in libraries:
        names.setdefault(lib.path.rsplit("/", 1)[-1], []).append(lib)
    return tuple(
        NativeGroup(
            name=name, abis=tuple(sorted({lib.abi for lib in copies})),
            size=max(lib.size for lib in copies), paths=tuple(sorted(lib.path for lib in copies)),
        )
        for name, copies in sorted(names.items())
    )


def size_text(size: int) -> str:
    """``812 B``, ``4.0 KiB``, ``1.2 MiB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


#: Longest reference (a URI from the string pool can be 4 KiB) a human format shows.
REFERENCE_CHARS = 120


def cut(text: str, limit: int = REFERENCE_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (long URIs from the strings)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@record
class CodeColumn:
    """One app's code evidence in a compare: trackers, server owners, capability use."""

    #: ``False`` when code was not read (``--no-code``) or the app has no DEX.
    read: bool
    trackers: tuple[TrackerEntry, ...] = ()
    servers: tuple[OwnerServers, ...] = ()
    uses: tuple[CapabilityUse, ...] = ()
    notes: tuple[str, ...] = ()
    #: Native libraries by file name, with their ABIs.
    native: tuple[NativeGroup, ...] = ()

    @property
    def unrequested(self) -> tuple[str, ...]:
        """Capabilities the code references without the manifest asking (their titles)."""
        return tuple(u.title for u in self.uses if u.verdict == USES_WITHOUT_ASKING)

    @property
    def countries(self) -> tuple[str, ...]:
        """Countries of the known server owners, by name, sorted."""
        return tuple(sorted({country_name(g.country) for g in self.servers
                             if g.owner is not None and g.country is not None}))

    @property
    def owners_text(self) -> tuple[str, ...]:
        """``VK (Russia)`` per known owner, in the owners' order; unknown ones counted."""
        known = [g.label for g in self.servers if g.owner is not None]
        unknown = sum(len(g.domains) for g in self.servers if g.owner is None)
        if unknown:
            known.append(f"{unknown} domain{'s' if unknown > 1 else ''} of unknown owner")
        return tuple(known)


def code_column(report: Report) -> CodeColumn:
    """One app's trackers, servers by owner and capability use."""
    evidence = report.code_evidence
    if evidence is None:
        return CodeColumn(read=False)
    code = report.app.code
    return CodeColumn(
        read=read_code(report),
        trackers=tuple(
            TrackerEntry(
                name=t.name, maker=tracker_maker(t), categories=t.categories, strength=t.strength
            )
            for t in evidence.trackers
        ),
        servers=servers_by_owner(evidence),
        uses=capability_use(report),
        notes=evidence.notes,
        native=native_groups(code.native_libraries) if code is not None else (),
    )


def code_columns(reports: Sequence[Report]) -> tuple[CodeColumn, ...]:
    """Code columns in input order; empty when no report carries code evidence."""
    if all(r.code_evidence is None for r in reports):
        return ()
    return tuple(code_column(r) for r in reports)
