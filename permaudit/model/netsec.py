"""Records of the network security config and backup rules, as Android evaluates them.

``NetworkSecurity`` mirrors ``android.security.net.config`` (``ManifestConfigSource``,
``XmlConfigSource``, ``NetworkSecurityConfig.Builder``): every config is already *effective*
(inheritance from nested domain-config, base-config and the platform default resolved), so
a reader of the report never has to redo Android's inheritance.
``BackupRules`` is what ``fullBackupContent`` / ``dataExtractionRules`` say is left out.
"""

from __future__ import annotations

from permaudit._infra.records import record

#: ``NetworkSecurity.source``: where Android takes the configuration from.
NSC_DEFAULT = "default"  # no networkSecurityConfig: platform defaults + usesCleartextTraffic
NSC_CONFIG = "config"  # the res/xml file was read and is valid
NSC_INVALID = "invalid"  # the file exists but Android's parser throws (the app's TLS fails)
NSC_UNREAD = "unread"  # the attribute is set but the file could not be found or resolved


@record
class CertificateSource:
    """One ``<certificates>`` entry of a ``trust-anchors`` (or a platform default anchor)."""

    #: ``system``, ``user`` or ``resource`` (a raw certificate file of the app).
    kind: str
    #: ``system``, ``user``, or the resource as written / resolved (``res/raw/ca.pem``).
    src: str
    #: ``overridePins``: certificates from here are trusted even when pins do not match.
    override_pins: bool = False


@record
class PinSet:
    """A ``<pin-set>``: SHA-256 SPKI digests (base64) and the optional expiration date."""

    pins: tuple[str, ...] = ()
    #: ``yyyy-MM-dd`` as written; after that day Android stops enforcing the pins.
    expiration: str | None = None


@record
class EffectiveConfig:
    """What ``NetworkSecurityConfig.Builder.build()`` gives for one config."""

    cleartext_permitted: bool
    hsts_enforced: bool = False
    trust_anchors: tuple[CertificateSource, ...] = ()
    #: ``None`` when no pin-set applies (``PinSet.EMPTY_PINSET``).
    pins: PinSet | None = None
    #: Where ``cleartext_permitted`` comes from, e.g. ``base-config``,
    #: ``domain-config (line 7)``, ``platform default for targetSdk 27``.
    cleartext_from: str = ""

    @property
    def trusts_user(self) -> bool:
        """User-installed CAs are among the trust anchors."""
        return any(a.kind == "user" for a in self.trust_anchors)


@record
class Domain:
    """A ``<domain>``: lower-cased name, and whether subdomains match too."""

    name: str
    include_subdomains: bool = False


@record
class DomainConfig:
    """A ``<domain-config>`` (nested ones flattened, parents first) and its effective config."""

    domains: tuple[Domain, ...]
    config: EffectiveConfig
    #: Nesting depth: 1 for a top-level domain-config.
    depth: int = 1
    line: int | None = None


@record
class NetworkSecurity:
    """The app's network security configuration as Android applies it on the phone."""

    source: str
    #: The file read (``res/xml/network_security_config.xml``), when there is one.
    path: str | None = None
    #: The base configuration (the default for every host no domain-config names).
    base: EffectiveConfig | None = None
    domains: tuple[DomainConfig, ...] = ()
    #: The file has ``<debug-overrides>``; Android applies them only to debuggable builds.
    has_debug_overrides: bool = False
    debug_overrides_active: bool = False
    #: ``<debug-overrides>`` trust anchors as written (added to every config when active).
    debug_anchors: tuple[CertificateSource, ...] = ()
    #: Why the file is invalid or unread, and caveats (one sentence each).
    problems: tuple[str, ...] = ()

    @property
    def read(self) -> bool:
        """The configuration is known (defaults, or a valid file)."""
        return self.base is not None


#: ``BackupRules.kind``.
BACKUP_FULL_CONTENT = "fullBackupContent"
BACKUP_DATA_EXTRACTION = "dataExtractionRules"


@record
class BackupPath:
    """An ``<include>`` or ``<exclude>``: a domain (``sharedpref``, ``database``, ...) and path."""

    domain: str
    path: str
    #: ``requireFlags`` of ``<include>`` (``clientSideEncryption``, ``deviceToDeviceTransfer``).
    require_flags: tuple[str, ...] = ()


@record
class BackupSection:
    """One destination: ``cloud-backup`` or ``device-transfer`` (or the whole legacy file)."""

    #: ``cloud-backup``, ``device-transfer`` or ``full-backup-content``.
    name: str
    includes: tuple[BackupPath, ...] = ()
    excludes: tuple[BackupPath, ...] = ()
    #: ``disableIfNoEncryptionCapabilities="true"`` on ``cloud-backup`` (API 31+).
    disable_if_no_encryption: bool = False


@record
class BackupRules:
    """What a backup rules file says (or ``problems`` when it could not be read)."""

    kind: str
    path: str | None = None
    sections: tuple[BackupSection, ...] = ()
    problems: tuple[str, ...] = ()
    #: ``False`` when the file could not be found or decoded (what it excludes is unknown).
    read: bool = True
