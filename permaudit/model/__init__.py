"""Immutable data model: what a manifest says, and what permaudit concludes from it.

Data flows one way: input file -> ``App`` -> (ruleset, platform) -> ``Report``.
Everything here is a frozen record (``permaudit._infra.records``) holding tuples, so a value
can be shared, hashed and compared without surprises.
"""

from __future__ import annotations

from enum import Enum, IntEnum

from permaudit._infra.records import field, record
from permaudit.model.code import CodeEvidence, CodeScan
from permaudit.model.evidence import TamperEvidence as TamperEvidence
from permaudit.model.icon import AppIcon as AppIcon
from permaudit.model.netsec import BackupRules, NetworkSecurity
from permaudit.model.sdk import SDK_FROM_GRADLE as SDK_FROM_GRADLE
from permaudit.model.sdk import SDK_FROM_MANIFEST as SDK_FROM_MANIFEST
from permaudit.model.sdk import SDK_FROM_OPTION as SDK_FROM_OPTION
from permaudit.model.sdk import SDK_UNKNOWN as SDK_UNKNOWN
from permaudit.model.sdk import SdkLevels as SdkLevels
from permaudit.model.sdk import SdkOrigin as SdkOrigin
from permaudit.model.sdk import sdk_levels as sdk_levels
from permaudit.model.sdk import sdk_text as sdk_text
from permaudit.model.signing import Certificate as Certificate
from permaudit.model.signing import Signer as Signer
from permaudit.model.signing import SigningInfo as SigningInfo


class TextEnum(str, Enum):
    """An enum whose members are their string values (JSON, f-strings and ``==`` see the text).

    Statuses and kinds in reports are closed sets: a member, not a bare string checked at
    run time. ``str(member)`` and ``format(member)`` give the value on every Python version.
    """

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# --- what the reader produces -------------------------------------------------------------

#: ``<uses-permission>``: requested on every API level up to ``maxSdkVersion``.
USES_PERMISSION = "uses-permission"
#: ``<uses-permission-sdk-23>`` (also spelled ``uses-permission-sdk-m``): requested only on API 23+.
USES_PERMISSION_SDK_23 = "uses-permission-sdk-23"
#: Not in the manifest: added by the platform because of an old target SDK (split permissions).
IMPLIED = "implied"

COMPONENT_KINDS = ("activity", "activity-alias", "service", "receiver", "provider")


@record
class UsesPermission:
    """One ``<uses-permission>`` or ``<uses-permission-sdk-23>`` element Android honours."""

    name: str
    element: str = USES_PERMISSION
    max_sdk: int | None = None
    required_feature: str | None = None
    required_not_feature: str | None = None
    #: ``usesPermissionFlags="neverForLocation"`` (API 31+, Bluetooth/Wi-Fi scanning).
    never_for_location: bool = False
    #: Line in a text manifest; ``None`` for binary manifests.
    line: int | None = None


@record
class DeclaredPermission:
    """A ``<permission>`` the app defines for others to request."""

    name: str
    #: Raw ``protectionLevel`` integer (base level in the low 4 bits, flags above).
    protection_level: int = 0
    #: Decoded names, base first: e.g. ``("signature", "privileged")``.
    protection: tuple[str, ...] = ("normal",)
    group: str | None = None
    line: int | None = None


@record
class UsesFeature:
    """A ``<uses-feature>``: a hardware or software feature, required or optional."""

    name: str | None
    required: bool = True
    gl_es_version: int | None = None
    line: int | None = None


@record
class IntentFilter:
    """An ``<intent-filter>``'s actions, categories and data schemes."""

    actions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    priority: int = 0


@record
class Component:
    """An activity, activity-alias, service, receiver or provider."""

    kind: str
    name: str
    #: What Android decides: explicit ``android:exported``, else implied by intent filters
    #: (target SDK < 31; from 31 an intent filter without ``exported`` is an install error).
    exported: bool
    #: The raw attribute; ``None`` when absent (``exported`` is then implied).
    exported_explicit: bool | None = None
    #: ``android:enabled``. A disabled component is still declared (and, if exported,
    #: exported): nothing can reach it until the app enables it at run time, which it can
    #: at any moment (``PackageManager.setComponentEnabledSetting``), so reports keep it.
    enabled: bool = True
    permission: str | None = None
    read_permission: str | None = None
    write_permission: str | None = None
    #: Providers only.
    authorities: tuple[str, ...] = ()
    grant_uri_permissions: bool = False
    #: Services only: decoded ``foregroundServiceType`` flags, e.g. ``("camera", "microphone")``.
    foreground_service_types: tuple[str, ...] = ()
    #: Services only: ``android:isolatedProcess``: runs under its own isolated UID, without
    #: any of the app's permissions or access to its data (``ServiceInfo.FLAG_ISOLATED_PROCESS``).
    isolated_process: bool = False
    #: Services only: ``android:externalService``: an isolated service that runs in the
    #: calling app's package (``ServiceInfo.FLAG_EXTERNAL_SERVICE``, ``BIND_EXTERNAL_SERVICE``).
    external_service: bool = False
    #: Activity-alias only.
    target_activity: str | None = None
    intent_filters: tuple[IntentFilter, ...] = ()
    line: int | None = None


@record
class Application:
    """Flags of ``<application>`` that matter for security, with Android's defaults."""

    name: str | None = None
    debuggable: bool = False
    allow_backup: bool = True
    full_backup_content: bool = False
    data_extraction_rules: bool = False
    #: ``None`` when the attribute is absent: the default then depends on the target SDK.
    uses_cleartext_traffic: bool | None = None
    network_security_config: bool = False
    request_legacy_external_storage: bool = False
    test_only: bool = False
    has_code: bool = True
    line: int | None = None


@record
class Queries:
    """``<queries>``: which other apps this app asks to see (package visibility, API 30+)."""

    packages: tuple[str, ...] = ()
    intents: tuple[IntentFilter, ...] = ()
    providers: tuple[str, ...] = ()


@record
class IgnoredElement:
    """An element the app wrote where Android's package parser does not read it."""

    tag: str
    #: Slash-joined path of the parent, e.g. ``manifest/application``.
    parent: str
    #: The ``android:name`` it carried, if any.
    name: str | None = None
    line: int | None = None


@record
class UnresolvedReference:
    """An attribute whose value is a resource reference (``@bool/...``, ``@0x7f030000``).

    Android reads such a value from the app's resources (resources.arsc) on the phone;
    permaudit resolves it the same way where it can. This record is a reference it could
    not resolve, with the reason; the attribute's default was used instead.
    """

    tag: str
    #: ``android:`` attribute name, e.g. ``debuggable``.
    attribute: str
    #: As written: ``@bool/debug`` in a text manifest, ``@0x7f030000`` in a binary one.
    reference: str
    #: The component's ``android:name``, for attributes of components.
    component: str | None = None
    line: int | None = None
    #: Why: no resource table (read), no such entry, a configuration-dependent value.
    reason: str | None = None


@record
class Manifest:
    """What Android's package parser takes from an ``AndroidManifest.xml``.

    Sequences are deduplicated and sorted, so two equal manifests compare equal
    regardless of element order in the file.
    """

    package: str
    #: The ``split`` attribute (read by name, like ``package``): set on a split APK's
    #: manifest, ``None`` on a base APK.
    split: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    #: ``<application android:label>`` as the launcher shows it (resolved through the
    #: resource table for the chosen locale); ``None`` when absent or not resolvable.
    label: str | None = None
    #: Android's defaults for a built manifest: minSdk 1 when absent; targetSdk = minSdk
    #: when absent. ``None``: unknown (a source manifest without ``<uses-sdk>``, whose
    #: levels Gradle injects, and none given by an option or a literal in build.gradle);
    #: then no implied permission and no target-dependent rule applies.
    min_sdk: int | None = 1
    target_sdk: int | None = 1
    max_sdk: int | None = None
    compile_sdk: int | None = None
    shared_user_id: str | None = None
    uses_permissions: tuple[UsesPermission, ...] = ()
    permissions: tuple[DeclaredPermission, ...] = ()
    features: tuple[UsesFeature, ...] = ()
    queries: Queries = field(default_factory=Queries)
    application: Application = field(default_factory=Application)
    components: tuple[Component, ...] = ()
    ignored: tuple[IgnoredElement, ...] = ()
    #: Attributes that change the report but are resource references (see the class).
    unresolved: tuple[UnresolvedReference, ...] = ()

    @property
    def title(self) -> str:
        """What headers call the app: ``Label (package)``, or the package name alone."""
        return f"{self.label} ({self.package})" if self.label else self.package


@record
class InputInfo:
    """Where a manifest came from: the path as given, its kind, size and (on request) digest."""

    path: str
    #: SHA-256 of the whole file; ``None`` unless asked for (``scan --hash``), because it
    #: is the only part of a scan that reads every byte.
    sha256: str | None
    #: ``apk``, ``axml`` (binary manifest), ``xml`` (text manifest), ``apks``, ``xapk``,
    #: ``apkm``, ``splits`` (a directory or list of split APKs), ``aab``.
    kind: str
    size: int


@record
class SplitInfo:
    """One split APK or module of a bundle, and what it declares."""

    #: ``base``, the split name (``config.arm64_v8a``) or the feature module name.
    name: str
    #: Member path inside the bundle, or the file path for a directory of splits.
    path: str
    #: ``base``, ``config`` or ``feature``.
    kind: str
    package: str | None = None
    uses_permissions: tuple[UsesPermission, ...] = ()
    components: int = 0
    #: What Android does with what this split declares, e.g. that a config split's
    #: permissions are ignored.
    note: str | None = None


@record
class App:
    """One loaded input: provenance plus the manifest read from it."""

    input: InputInfo
    manifest: Manifest
    #: Splits or modules of a bundle (empty for a single APK or manifest).
    splits: tuple[SplitInfo, ...] = ()
    #: ``None`` when the input kind has no signature (text manifest, app bundle module).
    signing: SigningInfo | None = None
    tamper: tuple[TamperEvidence, ...] = ()
    #: Caveats about the input a reader must know, e.g. that a source manifest was not
    #: merged with its libraries' manifests.
    notes: tuple[str, ...] = ()
    #: What the code contains; ``None`` when not read (text manifests, ``--no-code``).
    code: CodeScan | None = None
    #: The network security configuration Android applies (``None``: input kind not read).
    network_security: NetworkSecurity | None = None
    #: The ``fullBackupContent`` / ``dataExtractionRules`` files the manifest points to.
    backup: tuple[BackupRules, ...] = ()
    #: Where the SDK levels came from; ``None`` for built inputs (always the manifest).
    sdk_origin: SdkOrigin | None = None
    #: The locale asked for (``--locale ru``, ``ru-rRU``): resource references, the label
    #: first, were resolved for it with Android's fallback; ``None``: default configuration.
    locale: str | None = None
    #: The launcher icon (``None``: no ``android:icon``, or the input kind has no resources).
    icon: AppIcon | None = None


# --- what the engine concludes ------------------------------------------------------------


class Severity(IntEnum):
    """How much a finding matters; ordered so ``--fail-on`` is a comparison."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """Lower-case name as written in rules and reports."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse ``info|low|medium|high|critical``; raises ``ValueError`` otherwise."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r}") from None


#: Protection classes of a requested permission, as the report names them.
CLASS_RUNTIME = "runtime"  # dangerous: the user is asked at run time
CLASS_INSTALL = "install"  # normal: granted silently at install
CLASS_SPECIAL = "special"  # appop: the user must enable it in Settings (special app access)
CLASS_SIGNATURE = "signature"  # signature/privileged: not grantable to an ordinary app
CLASS_UNKNOWN = "unknown"  # not a platform permission: vendor, library or app-defined
PROTECTION_CLASSES = (CLASS_RUNTIME, CLASS_SPECIAL, CLASS_INSTALL, CLASS_SIGNATURE, CLASS_UNKNOWN)


@record
class PermissionAccess:
    """A permission as it stands on the evaluated device level."""

    name: str
    element: str
    max_sdk: int | None = None
    #: Why an implied permission was added (``IMPLIED`` rows only).
    reason: str | None = None
    #: Whether Android grants the request on ``Report.device_sdk`` (maxSdk, sdk-23, not ignored).
    applies: bool = True
    #: Protection flags on the device level, e.g. ``("dangerous",)``; ``()`` when unknown.
    protection: tuple[str, ...] = ()
    protection_class: str = CLASS_UNKNOWN
    #: A short explanation when the class needs one (e.g. a known benign library permission).
    note: str | None = None
    capabilities: tuple[str, ...] = ()


@record
class CapabilityHit:
    """A capability the app reaches on the device level, and through what."""

    id: str
    title: str
    severity: Severity
    #: Permissions and manifest features (e.g. ``service:...BIND_ACCESSIBILITY_SERVICE``).
    via: tuple[str, ...]
    #: How far it reaches, from the ruleset's access labels: e.g. ``("precise", "background")``.
    access: tuple[str, ...] = ()
    #: Caveats, e.g. "only through uses-permission-sdk-23", "implied by targetSdk 22".
    notes: tuple[str, ...] = ()
    #: What the capability means for the phone's owner, in plain words (from the ruleset).
    rationale: str = ""


@record
class Finding:
    """One rule that fired on one subject (a capability, permission, component or flag)."""

    rule: str
    severity: Severity
    title: str
    subject: str
    category: str
    message: str
    fingerprint: str
    references: tuple[str, ...] = ()
    line: int | None = None


class ScorePool(TextEnum):
    """Which share of the risk score a finding counts in (see ``engine.risk``)."""

    #: What the app itself can reach: capabilities, combinations, tampering, code evidence.
    REACH = "reach"
    #: How others could get at it (exported components, hardening, signing, ...): capped.
    SURFACE = "surface"


@record
class ScoreContribution:
    """One finding's share of the risk score: equal for findings of one ``ScoreGroup``."""

    rule: str
    subject: str
    #: Points, to two decimals; the exact shares add up to the score.
    points: float


@record
class ScoreGroup:
    """Alike findings (one severity, one pool) and the whole points they add together."""

    severity: Severity
    pool: ScorePool
    findings: int
    #: Whole points; the groups of a ``Risk`` add up to its score exactly.
    points: int


@record
class Risk:
    """The 0..100 risk score, its level, and what made it up."""

    score: int
    level: str
    contributions: tuple[ScoreContribution, ...] = ()
    groups: tuple[ScoreGroup, ...] = ()


@record
class Report:
    """Everything permaudit concludes about one app on one device level."""

    app: App
    device_sdk: int
    permissions: tuple[PermissionAccess, ...]
    capabilities: tuple[CapabilityHit, ...]
    findings: tuple[Finding, ...]
    risk: Risk
    #: Trackers, servers and API references found in ``app.code``; ``None`` when no code was read.
    code_evidence: CodeEvidence | None = None


@record
class RulesetInfo:
    """Provenance of the ruleset a set of reports was made with."""

    id: str
    sha256: str


@record
class InputFailure:
    """An input that could not be read, kept as an entry when the run keeps going."""

    path: str
    #: The ``PermauditError`` subclass name, e.g. ``InputError`` or ``ManifestError``.
    error: str
    #: The one-line message, without the path.
    message: str


@record
class ScanResult:
    """What ``scan`` renders: reports for each input, in input order, plus provenance."""

    tool_version: str
    ruleset: RulesetInfo
    device_sdk: int
    reports: tuple[Report, ...]
    #: Inputs that could not be read (only with ``--keep-going``; otherwise the run stops).
    failures: tuple[InputFailure, ...] = ()

