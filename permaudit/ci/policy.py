"""The CI policy file (``.permaudit.yml`` / ``--policy``): YAML -> validated ``Policy``.

Read with PyYAML's safe composer so every node keeps its position; every problem is
collected and reported at once as ``file:line:col: error: ...`` (a ``RulesError``, exit 2).
Scalars PyYAML would silently retype (``fail_on: no`` is a boolean, ``1.10`` a float) are
rejected where a string is expected. Names that only the ruleset can judge (rule ids,
capability ids) keep their positions so the CLI can check them once the ruleset is loaded
(``unknown_references``).

Reference (also in docs/ci.md)::

    version: 1                      # optional; the only version so far
    fail_on: high                   # info|low|medium|high|critical (the --fail-on flag wins)
    device_sdk: 34                  # API level to evaluate (the --device-sdk flag wins)
    target_sdk: 35                  # for source manifests without <uses-sdk> (--target-sdk wins)
    min_sdk: 24                     # likewise (--min-sdk wins); built apps keep their own
    max_score: 60                   # fail when an app's risk score is above this (0..100)
    allow:                          # accepted: never fail, shown with the justification
      - permission: android.permission.CAMERA
        justification: Video calls; see docs/privacy.md
      - capability: location
        justification: Live location sharing, opt-in per chat
    deny:                           # fail whatever the severity (and whatever the baseline)
      - accessibility               # a bare id is a capability ...
      - android.permission.SEND_SMS # ... a dotted name a permission
      - capability: sms
        reason: we never touch SMS
      - tracker_category: advertisement   # code evidence: a tracker SDK of this category,
      - tracker: myTracker                # one by name, servers of an owner based in a
      - server_country: CN                # country (ISO 3166-1 alpha-2) or of an owner
      - server_owner: VK                  # (allow takes the same four keys)
    rules:
      files: [ci-rules.yml]         # extra rule files, relative to this file
      severity: {manifest.debuggable: critical}
      disable: [manifest.allow_backup]
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode

from permaudit._infra.records import record

#: The file looked for in the working directory when ``--policy`` is not given.
from permaudit.ci import DEFAULT_POLICY_NAME
from permaudit.ci.policy_code import Problem, code_target_name
from permaudit.datafiles.yaml_nodes import Diagnostics, NodeReader, Origin, did_you_mean, read_text
from permaudit.errors import RulesError
from permaudit.model import Severity

POLICY_VERSION = 1
#: Largest ``target_sdk``/``min_sdk`` accepted (an API level, not a typo'd year).
MAX_SDK_LEVEL = 10_000

PERMISSION_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z0-9_$]+)+$")
CAPABILITY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")

TOP_KEYS = ("version", "fail_on", "device_sdk", "target_sdk", "min_sdk", "max_score", "allow",
            "deny", "rules")
#: Targets over the app's code evidence (``--no-code`` cannot judge them).
CODE_KINDS = ("tracker", "tracker_category", "server_country", "server_owner")
TARGET_KINDS = ("permission", "capability", *CODE_KINDS)
ALLOW_KEYS = (*TARGET_KINDS, "justification")
DENY_KEYS = (*TARGET_KINDS, "reason")
RULES_KEYS = ("files", "severity", "disable")

PERMISSION = "permission"
CAPABILITY = "capability"


@record
class Target:
    """A permission name or a capability id that an allow/deny entry names."""

    kind: str  # PERMISSION or CAPABILITY
    name: str
    origin: Origin | None = None

    def __str__(self) -> str:
        return f"{self.kind.replace('_', ' ')} {self.name}"

    @property
    def needs_code(self) -> bool:
        """Whether judging it needs the app's code evidence."""
        return self.kind in CODE_KINDS


@record
class Acceptance:
    """An ``allow`` entry: a target the team accepts, with its written justification."""

    target: Target
    justification: str


@record
class Denial:
    """A ``deny`` entry: a target that fails the check whatever its severity."""

    target: Target
    reason: str | None = None


@record
class RuleRef:
    """A rule id named by the policy (severity override or disabled), with its position."""

    rule: str
    origin: Origin | None = None


@record
class SeverityOverride:
    """``rules.severity``: a rule's findings count at this severity for the gate."""

    rule: RuleRef
    severity: Severity


@record
class Policy:
    """A validated policy. ``Policy()`` is the empty policy (no file)."""

    source: str | None = None
    fail_on: Severity | None = None
    device_sdk: int | None = None
    #: Levels for source manifests that declare none (``--target-sdk``/``--min-sdk`` win).
    target_sdk: int | None = None
    min_sdk: int | None = None
    max_score: int | None = None
    allow: tuple[Acceptance, ...] = ()
    deny: tuple[Denial, ...] = ()
    severity_overrides: tuple[SeverityOverride, ...] = ()
    disabled: tuple[RuleRef, ...] = ()
    #: Extra rule files, resolved against the policy file's directory.
    rules_files: tuple[Path, ...] = ()

    def severity_for(self, rule: str) -> Severity | None:
        """The overriding severity of ``rule``, or ``None``."""
        for override in self.severity_overrides:
            if override.rule.rule == rule:
                return override.severity
        return None

    def is_disabled(self, rule: str) -> bool:
        """Whether the policy disables ``rule``."""
        return any(ref.rule == rule for ref in self.disabled)


# --- finding and reading the file ---------------------------------------------------------


def find_policy(directory: Path) -> Path | None:
    """``directory/.permaudit.yml`` if it exists, else ``None``."""
    candidate = directory / DEFAULT_POLICY_NAME
    return candidate if candidate.is_file() else None


def load_policy(path: Path, display: str | None = None) -> Policy:
    """Read and validate the policy at ``path``; every problem at once in a ``RulesError``.

    ``display`` is how the path is named in messages (default: ``str(path)``).
    """
    name = display or str(path)
    diagnostics = Diagnostics()
    if not path.exists():
        raise RulesError([f"{name}: error: policy file not found"])
    if path.is_dir():
        raise RulesError([f"{name}: error: policy file is a directory"])
    text = read_text(path, diagnostics)
    if text is None:
        raise RulesError(diagnostics.lines())
    return parse_policy(text, name, base_dir=path.parent)


def parse_policy(text: str, name: str, *, base_dir: Path | None = None) -> Policy:
    """Validate policy ``text`` (read from ``name``); raise ``RulesError`` listing every problem.

    An empty file (or one holding only comments) is the empty policy.
    """
    diagnostics = Diagnostics()
    reader = _PolicyReader(name, diagnostics, base_dir or Path("."))
    root = None if _blank(text) else reader.compose(text)
    policy = reader.policy(root)
    if diagnostics:
        raise RulesError(diagnostics.lines())
    return policy


def _blank(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def unknown_references(
    policy: Policy, rule_ids: frozenset[str], capability_ids: frozenset[str]
) -> list[str]:
    """Diagnostics for rule and capability ids the loaded ruleset does not know."""
    diagnostics = Diagnostics()
    fallback = Origin(path=policy.source or "<policy>", line=1, column=1)
    for ref in (*(o.rule for o in policy.severity_overrides), *policy.disabled):
        if ref.rule not in rule_ids:
            diagnostics.error_at(
                ref.origin or fallback,
                f"unknown rule id '{ref.rule}'{did_you_mean(ref.rule, rule_ids)}",
            )
    for target in (*(a.target for a in policy.allow), *(d.target for d in policy.deny)):
        if target.kind == CAPABILITY and target.name not in capability_ids:
            diagnostics.error_at(
                target.origin or fallback,
                f"unknown capability '{target.name}'{did_you_mean(target.name, capability_ids)}",
            )
    return diagnostics.lines()


# --- validation ---------------------------------------------------------------------------


class _PolicyReader(NodeReader):
    """Walks the composed policy, recording every problem."""

    def __init__(self, path: str, diagnostics: Diagnostics, base_dir: Path) -> None:
        super().__init__(path, diagnostics)
        self.base_dir = base_dir

    def bounded(self, node: Node, what: str, low: int, high: int | None = None) -> int | None:
        value = self.integer(node, what, minimum=low)
        if value is not None and high is not None and value > high:
            self.error(node, f"{what} must be at most {high}, not {value}")
            return None
        return value

    def severity(self, node: Node, what: str) -> Severity | None:
        text = self.string(node, what)
        if text is None:
            return None
        try:
            return Severity.parse(text)
        except ValueError:
            labels = tuple(s.label for s in Severity)
            self.error(
                node,
                f"{what} must be one of {', '.join(labels)}, not '{text}'"
                f"{did_you_mean(text.lower(), labels)}",
            )
            return None

    def policy(self, root: Node | None) -> Policy:
        if root is None:
            return Policy(source=self.path)
        top = self.mapping(root, "the policy", TOP_KEYS) or {}
        if "version" in top:
            version = self.integer(top["version"][1], "version", minimum=1)
            if version is not None and version != POLICY_VERSION:
                self.error(
                    top["version"][1],
                    f"policy version {version} is not supported "
                    f"(this permaudit reads version {POLICY_VERSION})",
                )
        fail_on = self.severity(top["fail_on"][1], "fail_on") if "fail_on" in top else None
        device_sdk = (
            self.bounded(top["device_sdk"][1], "device_sdk", 1) if "device_sdk" in top else None
        )
        target_sdk, min_sdk = (
            self.bounded(top[key][1], key, 1, MAX_SDK_LEVEL) if key in top else None
            for key in ("target_sdk", "min_sdk")
        )
        max_score = (
            self.bounded(top["max_score"][1], "max_score", 0, 100) if "max_score" in top else None
        )
        allow = self.allow(top["allow"][1]) if "allow" in top else ()
        deny = self.deny(top["deny"][1]) if "deny" in top else ()
        self.conflicts(allow, deny)
        overrides: tuple[SeverityOverride, ...] = ()
        disabled: tuple[RuleRef, ...] = ()
        files: tuple[Path, ...] = ()
        if "rules" in top:
            overrides, disabled, files = self.rules(top["rules"][1])
        return Policy(
            source=self.path,
            fail_on=fail_on,
            device_sdk=device_sdk,
            target_sdk=target_sdk,
            min_sdk=min_sdk,
            max_score=max_score,
            allow=allow,
            deny=deny,
            severity_overrides=overrides,
            disabled=disabled,
            rules_files=files,
        )

    def target(
        self, entry: dict[str, tuple[ScalarNode, Node]], node: Node, what: str
    ) -> Target | None:
        kinds = [k for k in TARGET_KINDS if k in entry]
        if len(kinds) != 1:
            self.error(node, f"{what} needs exactly one of "
                             + ", ".join(f"'{k}'" for k in TARGET_KINDS))
            return None
        kind = kinds[0]
        value_node = entry[kind][1]
        name = self.string(value_node, kind)
        if name is None:
            return None
        return self.named_target(kind, name, value_node)

    def named_target(self, kind: str, name: str, node: Node) -> Target | None:
        if kind == PERMISSION and not PERMISSION_RE.match(name):
            self.error(
                node,
                f"malformed permission name '{name}' "
                "(expected a dotted name such as android.permission.CAMERA)",
            )
            return None
        if kind == CAPABILITY and not CAPABILITY_RE.match(name):
            self.error(node, f"malformed capability id '{name}' (expected e.g. microphone)")
            return None
        if kind in CODE_KINDS:
            checked = code_target_name(kind, name)
            if isinstance(checked, Problem):
                self.error(node, checked.text)
                return None
            name = checked
        return Target(kind=kind, name=name, origin=self.origin(node))

    def allow(self, node: Node) -> tuple[Acceptance, ...]:
        result: list[Acceptance] = []
        seen: dict[tuple[str, str], Origin] = {}
        for item in self.sequence(node, "allow") or []:
            entry = self.mapping(item, "an allow entry", ALLOW_KEYS)
            if entry is None:
                continue
            target = self.target(entry, item, "an allow entry")
            justification = None
            if "justification" in entry:
                justification = self.string(entry["justification"][1], "justification")
            else:
                self.error(item, "an allow entry needs a written 'justification'")
            if target is None or justification is None:
                continue
            key = (target.kind, target.name)
            if key in seen:
                self.error(item, f"{target} is already allowed at line {seen[key].line}")
                continue
            seen[key] = self.origin(item)
            result.append(Acceptance(target=target, justification=" ".join(justification.split())))
        return tuple(result)

    def deny(self, node: Node) -> tuple[Denial, ...]:
        result: list[Denial] = []
        seen: dict[tuple[str, str], Origin] = {}
        for item in self.sequence(node, "deny") or []:
            target: Target | None
            reason = None
            if isinstance(item, ScalarNode):
                name = self.string(item, "a deny entry")
                if name is None:
                    continue
                target = self.named_target(PERMISSION if "." in name else CAPABILITY, name, item)
            else:
                entry = self.mapping(item, "a deny entry", DENY_KEYS)
                if entry is None:
                    continue
                target = self.target(entry, item, "a deny entry")
                if "reason" in entry:
                    reason = self.string(entry["reason"][1], "reason")
            if target is None:
                continue
            key = (target.kind, target.name)
            if key in seen:
                self.error(item, f"{target} is already denied at line {seen[key].line}")
                continue
            seen[key] = self.origin(item)
            result.append(Denial(target=target, reason=reason))
        return tuple(result)

    def conflicts(self, allow: tuple[Acceptance, ...], deny: tuple[Denial, ...]) -> None:
        allowed = {(a.target.kind, a.target.name): a.target for a in allow}
        for denial in deny:
            other = allowed.get((denial.target.kind, denial.target.name))
            if other is not None and denial.target.origin and other.origin:
                self.diagnostics.error_at(
                    denial.target.origin,
                    f"{denial.target} is both denied and allowed "
                    f"(allowed at line {other.origin.line})",
                )

    def rules(
        self, node: Node
    ) -> tuple[tuple[SeverityOverride, ...], tuple[RuleRef, ...], tuple[Path, ...]]:
        section = self.mapping(node, "rules", RULES_KEYS) or {}
        overrides: list[SeverityOverride] = []
        disabled: list[RuleRef] = []
        files: list[Path] = []
        if "files" in section:
            for text, item in self.strings(section["files"][1], "rules.files", allow_single=True):
                path = self.base_dir / text
                problem = _unreadable(path)
                if problem:
                    # Blamed on the key that names the file, not on the file's line 1.
                    where = "" if str(path) == text else f" ({path})"
                    self.error(item, f"rules.files: cannot read '{text}'{where}: {problem}")
                else:
                    files.append(path)
        if "severity" in section:
            value = section["severity"][1]
            if not isinstance(value, MappingNode):
                self.mapping(value, "rules.severity", ())
            else:
                seen: dict[str, Origin] = {}
                for key_node, sev_node in value.value:
                    rule = self.rule_ref(key_node)
                    severity = self.severity(sev_node, "a severity")
                    if rule is None or severity is None:
                        continue
                    if rule.rule in seen:
                        self.error(
                            key_node,
                            f"duplicate key '{rule.rule}' in rules.severity "
                            f"(first at line {seen[rule.rule].line})",
                        )
                        continue
                    seen[rule.rule] = self.origin(key_node)
                    overrides.append(SeverityOverride(rule=rule, severity=severity))
        if "disable" in section:
            for _, item in self.strings(section["disable"][1], "rules.disable"):
                rule = self.rule_ref(item)
                if rule is not None:
                    disabled.append(rule)
        overridden = {o.rule.rule for o in overrides}
        for ref in disabled:
            if ref.rule in overridden and ref.origin:
                self.diagnostics.error_at(
                    ref.origin, f"rule '{ref.rule}' is both disabled and given a severity"
                )
        return tuple(overrides), tuple(disabled), tuple(files)

    def rule_ref(self, node: Node) -> RuleRef | None:
        text = self.string(node, "a rule id")
        if text is None:
            return None
        if not RULE_ID_RE.match(text):
            self.error(node, f"malformed rule id '{text}'")
            return None
        return RuleRef(rule=text, origin=self.origin(node))


def _unreadable(path: Path) -> str | None:
    """Why the rule file ``path`` cannot be read (a missing file, a directory), or ``None``."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if stat.S_ISDIR(mode):
        return "is a directory"
    return None
