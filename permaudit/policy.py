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
    rules:
      files: [ci-rules.yml]         # extra rule files, relative to this file
      severity: {manifest.debuggable: critical}
      disable: [manifest.allow_backup]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from permaudit.errors import RulesError
from permaudit.model import Severity

#: The file looked for in the working directory when ``--policy`` is not given.
DEFAULT_POLICY_NAME = ".permaudit.yml"
POLICY_VERSION = 1

PERMISSION_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z0-9_$]+)+$")
CAPABILITY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")

TOP_KEYS = ("version", "fail_on", "device_sdk", "max_score", "allow", "deny", "rules")
ALLOW_KEYS = ("permission", "capability", "justification")
DENY_KEYS = ("permission", "capability", "reason")
RULES_KEYS = ("files", "severity", "disable")

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
TAG_NAMES = {
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:str": "a string",
    "tag:yaml.org,2002:timestamp": "a date",
}

PERMISSION = "permission"
CAPABILITY = "capability"


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """Where a value was written: ``path:line:col`` (1-based)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A permission name or a capability id that an allow/deny entry names."""

    kind: str  # PERMISSION or CAPABILITY
    name: str
    position: Position | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Acceptance:
    """An ``allow`` entry: a target the team accepts, with its written justification."""

    target: Target
    justification: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Denial:
    """A ``deny`` entry: a target that fails the check whatever its severity."""

    target: Target
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleRef:
    """A rule id named by the policy (severity override or disabled), with its position."""

    rule: str
    position: Position | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SeverityOverride:
    """``rules.severity``: a rule's findings count at this severity for the gate."""

    rule: RuleRef
    severity: Severity


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """A validated policy. ``Policy()`` is the empty policy (no file)."""

    source: str | None = None
    fail_on: Severity | None = None
    device_sdk: int | None = None
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


# --- finding the file ---------------------------------------------------------------------


def find_policy(directory: Path) -> Path | None:
    """``directory/.permaudit.yml`` if it exists, else ``None``."""
    candidate = directory / DEFAULT_POLICY_NAME
    return candidate if candidate.is_file() else None


def load_policy(path: Path, display: str | None = None) -> Policy:
    """Read and validate the policy at ``path``; every problem at once in a ``RulesError``.

    ``display`` is how the path is named in messages (default: ``str(path)``).
    """
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulesError([f"{name}: error: policy file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise RulesError([f"{name}: error: cannot read policy: {reason}"]) from None
    return parse_policy(text, name, base_dir=path.parent)


def parse_policy(text: str, name: str, *, base_dir: Path | None = None) -> Policy:
    """Validate policy ``text`` (read from ``name``); raise ``RulesError`` listing every problem."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise RulesError([f"{where}: error: invalid YAML: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise RulesError([f"{name}: error: invalid YAML: {exc}"]) from None
    reader = _Reader(name, base_dir or Path("."))
    policy = reader.policy(root)
    if reader.errors:
        raise RulesError(sorted(reader.errors, key=_position_key))
    return policy


def unknown_references(
    policy: Policy, rule_ids: frozenset[str], capability_ids: frozenset[str]
) -> list[str]:
    """Diagnostics for rule and capability ids the loaded ruleset does not know."""
    errors: list[str] = []
    for ref in (*(o.rule for o in policy.severity_overrides), *policy.disabled):
        if ref.rule not in rule_ids:
            errors.append(
                _diag(
                    ref.position,
                    policy.source,
                    f"unknown rule id {ref.rule!r}" + _hint(ref.rule, rule_ids),
                )
            )
    targets = (*(a.target for a in policy.allow), *(d.target for d in policy.deny))
    for target in targets:
        if target.kind == CAPABILITY and target.name not in capability_ids:
            errors.append(
                _diag(
                    target.position,
                    policy.source,
                    f"unknown capability {target.name!r}" + _hint(target.name, capability_ids),
                )
            )
    return errors


# --- validation ---------------------------------------------------------------------------


def _diag(position: Position | None, source: str | None, message: str) -> str:
    where = str(position) if position else (source or "<policy>")
    return f"{where}: error: {message}"


def _hint(word: str, choices: frozenset[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Reader:
    """Walks the composed YAML tree, collecting every diagnostic."""

    def __init__(self, name: str, base_dir: Path) -> None:
        self.name = name
        self.base_dir = base_dir
        self.errors: list[str] = []

    def pos(self, node: Node) -> Position:
        return Position(
            path=self.name, line=node.start_mark.line + 1, column=node.start_mark.column + 1
        )

    def error(self, node: Node, message: str) -> None:
        self.errors.append(f"{self.pos(node)}: error: {message}")

    # scalars --------------------------------------------------------------------------

    def string(self, node: Node, what: str) -> str | None:
        if isinstance(node, ScalarNode) and node.tag == STR:
            if not node.value.strip():
                self.error(node, f"{what} must not be empty")
                return None
            return str(node.value)
        self.error(
            node,
            f"{what} must be a string, not {_describe(node)}"
            + (" (quote it)" if isinstance(node, ScalarNode) else ""),
        )
        return None

    def integer(self, node: Node, what: str, low: int, high: int | None) -> int | None:
        if not (isinstance(node, ScalarNode) and node.tag == INT):
            self.error(node, f"{what} must be an integer, not {_describe(node)}")
            return None
        try:
            value = int(node.value.replace("_", ""), 0)
        except ValueError:
            self.error(node, f"{what} must be a decimal integer, not {node.value!r}")
            return None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.error(node, f"{what} must be {bounds}, not {value}")
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
                f"{what} must be one of {', '.join(labels)}, not {text!r}"
                + _hint(text.lower(), labels),
            )
            return None

    # containers -----------------------------------------------------------------------

    def mapping(self, node: Node, what: str, keys: tuple[str, ...]) -> dict[str, tuple[Node, Node]]:
        """Key -> (key node, value node); unknown and duplicate keys are reported."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping, not {_describe(node)}")
            return {}
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.tag == STR):
                self.error(key_node, f"keys of {what} must be strings, not {_describe(key_node)}")
                continue
            key = str(key_node.value)
            if key in result:
                first = self.pos(result[key][0])
                self.error(key_node, f"duplicate key {key!r} (first at line {first.line})")
                continue
            if key not in keys:
                self.error(key_node, f"unknown key {key!r} in {what}" + _hint(key, keys))
                continue
            result[key] = (key_node, value_node)
        return result

    def sequence(self, node: Node, what: str) -> Iterator[Node]:
        if isinstance(node, SequenceNode):
            yield from node.value
        else:
            self.error(node, f"{what} must be a list, not {_describe(node)}")

    # the policy -----------------------------------------------------------------------

    def policy(self, root: Node | None) -> Policy:
        if root is None:
            return Policy(source=self.name)
        top = self.mapping(root, "the policy", TOP_KEYS)
        if "version" in top:
            version = self.integer(top["version"][1], "version", 1, None)
            if version is not None and version != POLICY_VERSION:
                self.error(
                    top["version"][1],
                    f"policy version {version} is not supported "
                    f"(this permaudit reads version {POLICY_VERSION})",
                )
        fail_on = self.severity(top["fail_on"][1], "fail_on") if "fail_on" in top else None
        device_sdk = (
            self.integer(top["device_sdk"][1], "device_sdk", 1, None)
            if "device_sdk" in top
            else None
        )
        max_score = (
            self.integer(top["max_score"][1], "max_score", 0, 100) if "max_score" in top else None
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
            source=self.name,
            fail_on=fail_on,
            device_sdk=device_sdk,
            max_score=max_score,
            allow=allow,
            deny=deny,
            severity_overrides=overrides,
            disabled=disabled,
            rules_files=files,
        )

    def target(self, entry: dict[str, tuple[Node, Node]], node: Node, what: str) -> Target | None:
        kinds = [k for k in (PERMISSION, CAPABILITY) if k in entry]
        if len(kinds) != 1:
            self.error(node, f"{what} needs exactly one of 'permission' or 'capability'")
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
                f"malformed permission name {name!r} "
                "(expected a dotted name such as android.permission.CAMERA)",
            )
            return None
        if kind == CAPABILITY and not CAPABILITY_RE.match(name):
            self.error(node, f"malformed capability id {name!r} (expected e.g. microphone)")
            return None
        return Target(kind=kind, name=name, position=self.pos(node))

    def allow(self, node: Node) -> tuple[Acceptance, ...]:
        result: list[Acceptance] = []
        seen: dict[tuple[str, str], Position] = {}
        for item in self.sequence(node, "allow"):
            entry = self.mapping(item, "an allow entry", ALLOW_KEYS)
            if not isinstance(item, MappingNode):
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
            seen[key] = self.pos(item)
            result.append(Acceptance(target=target, justification=justification.strip()))
        return tuple(result)

    def deny(self, node: Node) -> tuple[Denial, ...]:
        result: list[Denial] = []
        seen: dict[tuple[str, str], Position] = {}
        for item in self.sequence(node, "deny"):
            target: Target | None
            reason = None
            if isinstance(item, ScalarNode):
                name = self.string(item, "a deny entry")
                if name is None:
                    continue
                kind = PERMISSION if "." in name else CAPABILITY
                target = self.named_target(kind, name, item)
            else:
                entry = self.mapping(item, "a deny entry", DENY_KEYS)
                if not isinstance(item, MappingNode):
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
            seen[key] = self.pos(item)
            result.append(Denial(target=target, reason=reason))
        return tuple(result)

    def conflicts(self, allow: tuple[Acceptance, ...], deny: tuple[Denial, ...]) -> None:
        allowed = {(a.target.kind, a.target.name): a.target for a in allow}
        for denial in deny:
            other = allowed.get((denial.target.kind, denial.target.name))
            if other is not None and denial.target.position and other.position:
                self.errors.append(
                    f"{denial.target.position}: error: {denial.target} is both denied and "
                    f"allowed (allowed at line {other.position.line})"
                )

    def rules(
        self, node: Node
    ) -> tuple[tuple[SeverityOverride, ...], tuple[RuleRef, ...], tuple[Path, ...]]:
        section = self.mapping(node, "rules", RULES_KEYS)
        overrides: list[SeverityOverride] = []
        disabled: list[RuleRef] = []
        files: list[Path] = []
        if "files" in section:
            for item in self.sequence(section["files"][1], "rules.files"):
                text = self.string(item, "a rule file")
                if text is not None:
                    files.append(self.base_dir / text)
        if "severity" in section:
            value = section["severity"][1]
            if not isinstance(value, MappingNode):
                self.error(value, f"rules.severity must be a mapping, not {_describe(value)}")
            else:
                seen: set[str] = set()
                for key_node, sev_node in value.value:
                    rule = self.rule_ref(key_node)
                    severity = self.severity(sev_node, "a severity")
                    if rule is None or severity is None:
                        continue
                    if rule.rule in seen:
                        self.error(key_node, f"duplicate key {rule.rule!r}")
                        continue
                    seen.add(rule.rule)
                    overrides.append(SeverityOverride(rule=rule, severity=severity))
        if "disable" in section:
            for item in self.sequence(section["disable"][1], "rules.disable"):
                rule = self.rule_ref(item)
                if rule is not None:
                    disabled.append(rule)
        both = {o.rule.rule for o in overrides} & {d.rule for d in disabled}
        for ref in disabled:
            if ref.rule in both and ref.position:
                self.errors.append(
                    f"{ref.position}: error: rule {ref.rule!r} is both "
                    "disabled and given a severity"
                )
        return tuple(overrides), tuple(disabled), tuple(files)

    def rule_ref(self, node: Node) -> RuleRef | None:
        text = self.string(node, "a rule id")
        if text is None:
            return None
        if not RULE_ID_RE.match(text):
            self.error(node, f"malformed rule id {text!r}")
            return None
        return RuleRef(rule=text, position=self.pos(node))


def _position_key(diagnostic: str) -> tuple[int, int]:
    """Sort key: (line, column) of a ``file:line:col: error: ...`` diagnostic."""
    match = re.search(r":(\d+):(\d+): error: ", diagnostic)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return TAG_NAMES.get(node.tag, f"a {node.tag}") + (
        f" ({node.value!r})" if isinstance(node, ScalarNode) and node.value else ""
    )
