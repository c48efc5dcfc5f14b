"""What an app's code contains: the static evidence read from its DEX files and native libraries.

``inputs/code.py`` fills a ``CodeScan`` from the archive; ``knowledge/`` matches it against
tracker signatures, domain owners and sensitive-API tables; the engine turns matches into
capabilities and findings. Everything is a frozen record holding tuples, sorted, so two
scans of the same bytes compare equal.
"""

from __future__ import annotations

from typing import ClassVar

from permaudit._infra.records import record
from permaudit.model.evidence import TamperEvidence


@record
class DexSummary:
    """One DEX file that was read: where it came from and how big its id tables are."""

    #: Archive member, ``classes2.dex``; in a nested APK ``assets/x.apk!classes.dex``.
    path: str
    #: Format version from the header, ``035``..``041``.
    version: str
    size: int
    strings: int
    types: int
    methods: int
    class_defs: int
    #: ``False`` when the Adler-32 checksum does not match (tamper evidence, not a failure).
    checksum_ok: bool = True


@record
class MethodRef:
    """A method the code calls or declares: ``Landroid/media/AudioRecord;`` ``startRecording``."""

    #: Type descriptor of the defining class, ``Landroid/media/AudioRecord;``.
    class_descriptor: str
    name: str


@record
class NativeLibrary:
    """A ``lib/<abi>/*.so`` in the archive (name and size only: its code is not read)."""

    path: str
    abi: str
    size: int


@record
class CodeScan:
    """The code evidence of one app (all its DEX files, across splits and nested APKs)."""

    #: The bulk id tables, which no report prints (reports show ``Report.code_evidence``,
    #: derived from them): ``formatters.escape.sanitized`` empties them in the copy the text
    #: formatters get instead of escaping ~10^5 strings per render (2.6 of 7.2 s profiled on
    #: a 16 MB-DEX corpus APK), so no formatter can print one unescaped either.
    UNRENDERED: ClassVar[frozenset[str]] = frozenset(
        ("defined_classes", "referenced_classes", "external_methods", "strings")
    )
    dex: tuple[DexSummary, ...] = ()
    #: Java names (``com.example.Foo``) of classes the app defines (``class_defs``), sorted.
    defined_classes: tuple[str, ...] = ()
    #: Java names of classes referenced but not defined (framework and platform APIs), sorted.
    referenced_classes: tuple[str, ...] = ()
    #: Methods referenced whose class the app does not define, sorted.
    external_methods: tuple[MethodRef, ...] = ()
    #: The string constants of every DEX that hold a ``.`` or a ``:`` (deduplicated, sorted):
    #: a host name needs a dot, a URI a colon; hosts, URLs and content URIs come from here.
    #: The others are not decoded (``inputs/binary/dex_ids.py``); ``DexSummary.strings``
    #: counts them all.
    strings: tuple[str, ...] = ()
    native_libraries: tuple[NativeLibrary, ...] = ()
    tamper: tuple[TamperEvidence, ...] = ()
    #: Caveats a reader must know, e.g. a DEX that could not be read, a depth limit reached.
    notes: tuple[str, ...] = ()


@record
class TrackerHit:
    """A tracker SDK whose code signature matches classes of the app."""

    #: Exodus id as text (``"175"``) or a permaudit supplement id (``permaudit-ok-tracer``).
    tracker_id: str
    name: str
    #: Exodus categories: Analytics, Advertisement, Crash reporting, Location, Profiling,
    #: Identification.
    categories: tuple[str, ...]
    #: The signatures (package prefixes) that matched, sorted.
    packages: tuple[str, ...]
    #: How many classes matched.
    class_count: int
    #: ``defined`` (the app ships the classes: strong) or ``referenced`` (types it only names).
    strength: str
    #: ``exodus``, ``permaudit-supplement`` or ``exodus+permaudit-supplement``.
    source: str
    #: Hosts of the code's strings that this tracker's network signatures match, sorted.
    hosts: tuple[str, ...] = ()
    #: Who makes the SDK: the owner of its website's registrable domain in the domain-owner
    #: table (``None`` when the table does not know it), and that owner's country.
    owner: str | None = None
    country: str | None = None


@record
class HostHit:
    """One registrable domain the code's strings name, with its owner when known."""

    domain: str
    #: The host names seen under it, sorted.
    hosts: tuple[str, ...]
    #: How many distinct strings name one of those hosts.
    strings: int
    owner: str | None = None
    #: ISO 3166-1 alpha-2 of the owner's headquarters; ``None`` when the owner is unknown.
    country: str | None = None
    source: str | None = None


@record
class ApiEvidence:
    """A capability whose framework APIs or content URIs the code references."""

    capability: str
    #: ``Class.method`` or URI strings found, sorted.
    references: tuple[str, ...]
    #: ``False`` when no permission gates the API (e.g. reading the clipboard), so code use
    #: without a request is not a contradiction.
    needs_permission: bool = True


@record
class CodeEvidence:
    """What the knowledge matchers found in a ``CodeScan``: static evidence, not behaviour."""

    trackers: tuple[TrackerHit, ...] = ()
    hosts: tuple[HostHit, ...] = ()
    apis: tuple[ApiEvidence, ...] = ()
    notes: tuple[str, ...] = ()
    #: Every capability the API table can find code evidence for, sorted: for these, "no
    #: reference found" is a finding; for the others the code was not looked at.
    checked_capabilities: tuple[str, ...] = ()
