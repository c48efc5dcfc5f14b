"""What a loaded ruleset holds: capabilities, rules and their ``when:`` conditions, as records.

A ruleset file has these top-level keys (all optional but at least one of the last five)::

    ruleset: my-org          # id of this file, shown in reports
    version: 1
    description: ...
    capabilities: [...]      # new capabilities (what an app can reach)
    rules: [...]             # new rules (one ``when`` condition each)
    override: [...]          # change an existing capability or rule by id
    disable: [id, ...]       # switch capabilities or rules off by id

``permaudit.rules.yaml_reader`` (with ``yaml_values``, ``yaml_conditions``, ``merge``) reads
files into these records; ``permaudit.rules.ruleset`` loads the default set and applies user
files on top.
"""

from __future__ import annotations

from permaudit._infra.records import field, record
from permaudit.datafiles.origin import Origin
from permaudit.model import Severity

#: Finding rule ids of capabilities are ``capability.<id>``.
CAPABILITY_PREFIX = "capability."


@record
class PermissionGrant:
    """A permission that gives a capability, with the access label reports show for it."""

    name: str
    access: str | None = None
    #: Counts only when another entry of the same capability already applies.
    needs_other: bool = False


@record
class ComponentFeature:
    """A component of one of ``kinds`` matching every filter given."""

    kinds: tuple[str, ...]
    permission: str | None = None
    actions: tuple[str, ...] = ()
    foreground_service_types: tuple[str, ...] = ()
    access: str | None = None
    needs_other: bool = False


@record
class QueriesFeature:
    """A ``<queries><intent>`` element with this action and/or category."""

    action: str | None = None
    category: str | None = None
    access: str | None = None
    needs_other: bool = False


Feature = ComponentFeature | QueriesFeature


@record
class Capability:
    """Something an app can reach on a phone, and what in a manifest gives it."""

    id: str
    title: str
    severity: Severity
    rationale: str
    references: tuple[str, ...] = ()
    permissions: tuple[PermissionGrant, ...] = ()
    features: tuple[Feature, ...] = ()
    origin: Origin
    overridden_at: tuple[Origin, ...] = ()

    @property
    def rule_id(self) -> str:
        """The rule id of this capability's findings: ``capability.<id>``."""
        return CAPABILITY_PREFIX + self.id


# The ``when`` vocabulary: one record class per match key.


@record
class AppFlags:
    """``app_flags``: every listed application flag has the given value."""

    flags: tuple[tuple[str, bool], ...]


@record
class CleartextTraffic:
    """``cleartext_traffic``: explicitly allowed, or allowed by default for old targets."""

    default_when_target_below: int


@record
class TargetSdkBelow:
    """``target_sdk_below``: ``targetSdkVersion < level``."""

    level: int


@record
class ExportedComponent:
    """``exported_component``: one finding per exported component of these kinds."""

    kinds: tuple[str, ...]
    without_permission: bool = True
    exclude_launcher: bool = True
    #: ``True``: only services in an isolated process; ``False``: only the others;
    #: ``None`` (absent): both.
    isolated_process: bool | None = None


@record
class DeclaredPermission:
    """``declared_permission``: an app-defined permission with one of these base levels."""

    protection: tuple[str, ...]
    guards_exported: bool = True


@record
class SharedUserId:
    """``shared_user_id: true``: the manifest sets ``android:sharedUserId``."""


@record
class PermissionClass:
    """``permission_class``: requested permissions (that apply) of these protection classes."""

    classes: tuple[str, ...]


@record
class RequestedPermission:
    """``requested_permission``: any of these permissions is requested and applies."""

    names: tuple[str, ...]


@record
class IgnoredElement:
    """``ignored_element``: elements Android's parser skips; any tag when ``tags`` is empty."""

    tags: tuple[str, ...] = ()


@record
class SigningCondition:
    """``signing: {unsigned|debug_certificate|ambiguous: true}``: one signer-identity fact."""

    condition: str


@record
class Tamper:
    """``tamper: {ids: [...]}``: tamper evidence with these ids (``zip.*`` for a family)."""

    ids: tuple[str, ...] = ()

    def matches(self, evidence_id: str) -> bool:
        """Whether ``evidence_id`` is selected (every id when ``ids`` is empty)."""
        return not self.ids or any(
            evidence_id.startswith(i[:-1]) if i.endswith(".*") else evidence_id == i
            for i in self.ids
        )


@record
class NetworkSecurityCondition:
    """``network_security: {cleartext|user_certificates|pins_expire|pins_overridable|
    debug_overrides|invalid: true}``: one fact of the app's network security config."""

    condition: str


@record
class BackupCondition:
    """``backup: {nothing_excluded: true}``: backup is allowed and a destination copies all."""

    condition: str


@record
class TrackerCondition:
    """``tracker: {name: [...]}`` or ``tracker: {category: [...]}``: tracker SDKs in the code.

    One finding per tracker. ``names`` are the tracker table's names (matched without regard
    to case); ``categories`` the vocabulary's ``TRACKER_CATEGORIES``. Only SDKs the app ships
    (defines classes of) count, unless ``shipped_only`` is false (``strength: any``): types
    the app merely references are weak evidence.
    """

    names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    shipped_only: bool = True


@record
class ServerCountry:
    """``server_country: [RU, ...]``: the code names servers of an owner based in one of these
    countries (ISO 3166-1 alpha-2); one finding per owner."""

    countries: tuple[str, ...]


@record
class ServerOwner:
    """``server_owner: [VK, ...]``: the code names servers of one of these owners (the domain
    owner table's names, matched without regard to case); one finding per owner."""

    owners: tuple[str, ...]


@record
class CodeReference:
    """``code_reference: {capability: [...], requested: false}``: the code references an API
    of one of these capabilities (``[]``: any the API table knows); ``requested`` ``False``:
    only when the app does not reach the capability (and the API needs a permission),
    ``True``: only when it does, ``None``: either way."""

    capabilities: tuple[str, ...] = ()
    requested: bool | None = None


#: ``when`` conditions that look at the app's code evidence (nothing to match without it).
CODE_CONDITIONS = (TrackerCondition, ServerCountry, ServerOwner, CodeReference)


@record
class AllCapabilities:
    """``all_capabilities``: the app reaches every listed capability."""

    ids: tuple[str, ...]
    origins: tuple[Origin, ...] = field(default=(), compare=False)


Match = (
    AppFlags | CleartextTraffic | TargetSdkBelow | ExportedComponent | DeclaredPermission
    | SharedUserId | PermissionClass | RequestedPermission | IgnoredElement | AllCapabilities
    | SigningCondition | Tamper | NetworkSecurityCondition | BackupCondition
    | TrackerCondition | ServerCountry | ServerOwner | CodeReference
)


@record
class Rule:
    """A rule beyond single permissions: one ``when`` condition, its severity and wording."""

    id: str
    title: str
    severity: Severity
    category: str
    rationale: str
    #: ``str.format`` template over ``MESSAGE_FIELDS``.
    message: str = "{detail}"
    references: tuple[str, ...] = ()
    when: Match
    origin: Origin
    overridden_at: tuple[Origin, ...] = ()

    @property
    def needs_code(self) -> bool:
        """Whether the condition reads code evidence (``--no-code`` leaves it unevaluated)."""
        return isinstance(self.when, CODE_CONDITIONS)


@record
class RulesFile:
    """One file that went into a ruleset."""

    path: str
    id: str
    version: str | None
    #: sha256 of the file's canonical content (comments and layout do not count).
    sha256: str


@record
class RuleSet:
    """The merged, validated ruleset: enabled capabilities and rules, in file order."""

    id: str
    version: str | None
    sha256: str
    files: tuple[RulesFile, ...]
    capabilities: tuple[Capability, ...]
    rules: tuple[Rule, ...]
    #: Switched off with ``disable:``; kept for ``rules list``.
    disabled: tuple[Capability | Rule, ...] = ()

    def capability(self, capability_id: str) -> Capability:
        """The enabled capability ``capability_id``; ``KeyError`` when there is none."""
        for capability in self.capabilities:
            if capability.id == capability_id:
                return capability
        raise KeyError(capability_id)

    def rule(self, rule_id: str) -> Rule:
        """The enabled rule ``rule_id``; ``KeyError`` when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


@record
class ListedRule:
    """One line of ``permaudit rules list``."""

    #: The rule id findings carry (``capability.<id>`` for capabilities).
    id: str
    kind: str  # "capability" or "rule"
    severity: Severity
    title: str
    category: str
    origin: str
    enabled: bool
    overridden_at: tuple[str, ...] = ()
