"""The CI gate: decide, from a report, a policy and a baseline (or an old build), pass or fail.

Pure: ``decide(report, policy, baseline, fail_on=...)`` and ``decide_against(old, new,
policy, fail_on=...)`` return a ``Verdict`` that says, for every finding, whether it fails
and why not when it does not (below the threshold, accepted by the policy with its
justification, already in the baseline, unchanged since the old build, rule disabled).
The CLI only prints the verdict and turns it into an exit code.

Order of judgement for one finding: a rule the policy disables never fails; then the
finding's severity (after the policy's overrides) below ``fail_on`` passes; then an
``allow`` entry accepts it; then, with a baseline, a fingerprint in the baseline passes
unless the finding was *broadened* (its permission requested on more API levels, its
capability reached further or through a new permission); anything left fails.
A ``deny`` entry fails whenever the app requests the permission or reaches the capability,
whatever the severity, baseline or old build; ``max_score`` fails when the risk score is
above it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from permaudit._infra.records import record, replace
from permaudit.ci.baseline import Baseline
from permaudit.ci.code_changes import CODE_CHANGE_DOCS, CodeChange, code_changes
from permaudit.ci.policy import Acceptance, Policy
from permaudit.ci.policy_code import code_subjects
from permaudit.ci.reach import (
    accepting,
    broadening,
    is_related,
    reach_verb,
    reaches,
    subject_severity,
)
from permaudit.ci.rule_docs import RuleDoc
from permaudit.errors import UsageError
from permaudit.model import Finding, Report, ScanResult, Severity, TextEnum
from permaudit.views.diff import ChangeKind

if TYPE_CHECKING:
    from permaudit.views.diff import Change

DEFAULT_FAIL_ON = Severity.HIGH



class Status(TextEnum):
    """What the gate decided about one judged item (the JSON/SARIF ``status``)."""

    FAIL = "fail"
    ACCEPTED = "accepted"
    BASELINED = "baseline"
    UNCHANGED = "unchanged"
    BELOW = "below"
    DISABLED = "disabled"


class ItemKind(TextEnum):
    """What a judged item is: a finding, a change since the old build, a deny or the score."""

    FINDING = "finding"
    CHANGE = "change"
    DENY = "deny"
    SCORE = "score"


# Short names the gate and the formatters use.
FAIL, ACCEPTED, BASELINED = Status.FAIL, Status.ACCEPTED, Status.BASELINED
UNCHANGED, BELOW, DISABLED = Status.UNCHANGED, Status.BELOW, Status.DISABLED
STATUSES = tuple(Status)
KIND_FINDING, KIND_CHANGE = ItemKind.FINDING, ItemKind.CHANGE
KIND_DENY, KIND_SCORE = ItemKind.DENY, ItemKind.SCORE

RULE_DENY = "policy.deny"
RULE_MAX_SCORE = "policy.max_score"
CHANGE_RULE_PREFIX = "diff."

#: Change kinds (``permaudit.views.diff``) that only ever widen what the app reaches.
WIDENING_CHANGES = frozenset(
    {
        ChangeKind.CAPABILITY_GAINED,
        ChangeKind.PERMISSION_ADDED,
        ChangeKind.PERMISSION_MAX_SDK_WIDENED,
        ChangeKind.IMPLIED_ADDED,
        ChangeKind.COMPONENT_EXPORTED_ADDED,
        ChangeKind.COMPONENT_UNPROTECTED,
        ChangeKind.FINDING_ADDED,
    }
)
#: Change kinds that widen or narrow; ``diff`` gives the narrowing direction ``info``.
TWO_WAY_CHANGES = frozenset(
    {
        ChangeKind.CAPABILITY_ACCESS_CHANGED,
        ChangeKind.PERMISSION_ELEMENT_CHANGED,
        ChangeKind.PERMISSION_PROTECTION_CHANGED,
        ChangeKind.FLAG_CHANGED,
        ChangeKind.TARGET_SDK_CHANGED,
    }
)

@record
class Item:
    """One thing the gate judged: a finding, a change since the old build, a denial, the score."""

    kind: ItemKind
    rule: str
    subject: str
    #: Severity the gate used (the policy may override the rule's).
    severity: Severity
    title: str
    message: str
    status: Status
    #: Why it has that status, in words: "new since baseline", "accepted by policy: ...".
    reason: str
    justification: str | None = None
    fingerprint: str = ""
    #: Severity the ruleset gave, when the policy overrode it.
    rule_severity: Severity | None = None
    line: int | None = None
    references: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether this item fails the check."""
        return self.status == FAIL


@record
class Verdict:
    """The gate's decision for one app."""

    report: Report
    fail_on: Severity
    items: tuple[Item, ...]
    #: What findings were compared with: ``"baseline"``, the old build's path, or ``None``.
    compared_to: str | None = None

    @property
    def passed(self) -> bool:
        """True when no item fails."""
        return not any(item.failed for item in self.items)

    @property
    def failing(self) -> tuple[Item, ...]:
        """The items that fail, in report order."""
        return tuple(item for item in self.items if item.failed)

    def count(self, status: Status, *, kind: ItemKind | None = None) -> int:
        """How many items have ``status`` (optionally only of ``kind``)."""
        return sum(1 for i in self.items if i.status == status and (kind is None or i.kind == kind))


@record
class CheckResult:
    """What ``permaudit check`` renders: the scan, one verdict per app, and the settings."""

    scan: ScanResult
    verdicts: tuple[Verdict, ...]
    fail_on: Severity
    rules: tuple[RuleDoc, ...] = ()
    policy_source: str | None = None
    baseline_source: str | None = None
    against: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when every app passes."""
        return all(v.passed for v in self.verdicts)


# --- the decisions ------------------------------------------------------------------------


def decide(
    report: Report,
    policy: Policy,
    baseline: Baseline | None,
    *,
    fail_on: Severity = DEFAULT_FAIL_ON,
) -> Verdict:
    """Judge ``report`` against ``policy`` and, when given, ``baseline``."""
    items = [
        _judge(report, f, policy, fail_on, lambda f: _baseline_status(report, f, baseline, fail_on))
        for f in report.findings
    ]
    items.extend(_policy_items(report, policy))
    return Verdict(
        report=report,
        fail_on=fail_on,
        items=tuple(items),
        compared_to="baseline" if baseline is not None else None,
    )


def decide_against(
    old: Report,
    new: Report,
    policy: Policy,
    *,
    fail_on: Severity = DEFAULT_FAIL_ON,
) -> Verdict:
    """Judge ``new`` by what changed since ``old`` (``permaudit.views.diff`` semantics).

    A finding fails when it is new since the old build or a change at or above ``fail_on``
    widened its subject; a widening change with no finding of its own is an item too.
    """
    from permaudit.views.diff import diff

    label = old.app.input.path
    changes = [c for c in diff(old, new).changes if _fails_as_change(c, fail_on)]
    before = {(f.rule, f.subject) for f in old.findings}
    used: set[Change] = set()

    def status(finding: Finding) -> tuple[str, str]:
        if (finding.rule, finding.subject) not in before:
            return FAIL, f"new since {label}"
        related = [c for c in changes if is_related(new, c.subject, finding.subject)]
        used.update(related)
        if related:
            return FAIL, "; ".join(describe_change(c) for c in related) + f" since {label}"
        return UNCHANGED, f"unchanged since {label}"

    items = [_judge(new, f, policy, fail_on, status) for f in new.findings]
    for change in changes:
        if change in used or any(is_related(new, change.subject, f.subject) for f in new.findings):
            continue
        items.append(_change_item(new, change, policy, label))
    for code_change in code_changes(old, new):
        items.append(_change_item(new, code_change, policy, label, fail_on=fail_on))
    items.extend(_policy_items(new, policy))
    return Verdict(report=new, fail_on=fail_on, items=tuple(items), compared_to=label)


Compare = Callable[[Finding], tuple[str, str]]


def _judge(
    report: Report,
    finding: Finding,
    policy: Policy,
    fail_on: Severity,
    compare: Compare,
) -> Item:
    override = policy.severity_for(finding.rule)
    severity = finding.severity if override is None else override
    item = Item(
        kind=KIND_FINDING,
        rule=finding.rule,
        subject=finding.subject,
        severity=severity,
        title=finding.title,
        message=finding.message,
        status=FAIL,
        reason="",
        fingerprint=finding.fingerprint,
        rule_severity=finding.severity if override is not None else None,
        line=finding.line,
        references=finding.references,
    )
    if policy.is_disabled(finding.rule):
        return replace(item, status=DISABLED, reason="rule disabled by policy")
    if severity < fail_on:
        return replace(item, status=BELOW, reason=f"below {fail_on.label}")
    accepted = accepting(report, finding.subject, policy)
    if accepted:
        return _accept(item, accepted)
    status, reason = compare(finding)
    return replace(item, status=status, reason=reason)


def _accept(item: Item, accepted: Sequence[Acceptance]) -> Item:
    return replace(
        item,
        status=ACCEPTED,
        reason="accepted by policy (" + ", ".join(str(a.target) for a in accepted) + ")",
        justification="; ".join(a.justification for a in accepted),
    )


def _baseline_status(
    report: Report,
    finding: Finding,
    baseline: Baseline | None,
    fail_on: Severity,
) -> tuple[str, str]:
    if baseline is None:
        return FAIL, f"at or above {fail_on.label}"
    if finding.fingerprint not in baseline.fingerprints:
        return FAIL, "new since baseline"
    broadened = broadening(report, finding.subject, baseline)
    if broadened:
        return FAIL, f"broadened since baseline: {broadened}"
    return BASELINED, "in baseline"


def _policy_items(report: Report, policy: Policy) -> list[Item]:
    items = []
    package = report.app.manifest.package
    for denial in policy.deny:
        target = denial.target
        if target.needs_code:
            # One item per tracker or server owner, named so SARIF and baselines follow it.
            subjects = tuple(
                s for s in code_subjects(report, target.kind, target.name)
                if not s.startswith("country:")
            )
        else:
            subjects = (target.name,) if reaches(report, target.kind, target.name) else ()
        why = f": {denial.reason}" if denial.reason else ""
        for subject in subjects:
            what = subject.split(":", 1)[1] if target.needs_code else subject
            by = f" ({target})" if target.needs_code and subject != f"tracker:{target.name}" else ""
            items.append(
                Item(
                    kind=KIND_DENY,
                    rule=RULE_DENY,
                    subject=subject,
                    # A tracker's own finding may be low: a denial of code evidence is high.
                    severity=max(subject_severity(report, subject), Severity.HIGH)
                    if target.needs_code else subject_severity(report, subject),
                    title=f"Denied {target.kind.replace('_', ' ')}: {target.name}",
                    message=f"{package} {reach_verb(target.kind)} {what}{by}, "
                    f"which the policy denies{why}",
                    status=FAIL,
                    reason="denied by policy" + (f" ({denial.reason})" if denial.reason else ""),
                    fingerprint=f"{RULE_DENY}:{package}:{subject}",
                )
            )
    if policy.max_score is not None and report.risk.score > policy.max_score:
        items.append(
            Item(
                kind=KIND_SCORE,
                rule=RULE_MAX_SCORE,
                subject="risk score",
                severity=Severity.HIGH,
                title="Risk score above the policy's maximum",
                message=f"risk score {report.risk.score} ({report.risk.level}) is above "
                f"max_score {policy.max_score}",
                status=FAIL,
                reason=f"score {report.risk.score} > max_score {policy.max_score}",
                fingerprint=f"{RULE_MAX_SCORE}:{package}",
            )
        )
    return items


def _change_item(
    report: Report, change: Change | CodeChange, policy: Policy, label: str,
    *, fail_on: Severity | None = None,
) -> Item:
    """A change as an item; with ``fail_on`` (the code changes, which the policy can re-grade
    and disable by rule id) it may also be below the threshold or disabled."""
    text = describe_change(change)
    rule = CHANGE_RULE_PREFIX + change.kind
    override = policy.severity_for(rule) if fail_on is not None else None
    severity = change.severity if override is None else override
    item = Item(
        kind=KIND_CHANGE,
        rule=rule,
        subject=change.subject,
        severity=severity,
        rule_severity=change.severity if override is not None else None,
        title=change.kind.replace("_", " ").capitalize(),
        message=f"{text} since {label}",
        status=FAIL,
        reason=f"{text} since {label}",
        fingerprint=f"{CHANGE_RULE_PREFIX}{change.kind}:{report.app.manifest.package}:"
        f"{change.subject}",
    )
    if fail_on is not None:
        if policy.is_disabled(rule):
            return replace(item, status=DISABLED, reason="rule disabled by policy")
        if severity < fail_on:
            return replace(item, status=BELOW, reason=f"below {fail_on.label}")
    accepted = accepting(report, change.subject, policy)
    return _accept(item, accepted) if accepted else item


def _fails_as_change(change: Change, fail_on: Severity) -> bool:
    if change.severity < fail_on:
        return False
    if change.kind in WIDENING_CHANGES:
        return True
    return change.kind in TWO_WAY_CHANGES and change.severity > Severity.INFO


def describe_change(change: Change | CodeChange) -> str:
    """A change in words: ``permission max sdk widened (28 -> all levels): X``."""
    what = change.kind.replace("_", " ")
    old = "all levels" if change.old is None and "max_sdk" in change.kind else change.old
    new = "all levels" if change.new is None and "max_sdk" in change.kind else change.new
    if (change.old is not None and change.new is not None) or "max_sdk" in change.kind:
        return f"{what}: {change.subject} ({old} -> {new})"
    if change.new is not None:
        return f"{what}: {change.subject} ({new})"
    return f"{what}: {change.subject}"


# --- rule documentation -------------------------------------------------------------------

POLICY_RULE_DOCS = (
    RuleDoc(
        id=RULE_DENY,
        title="Permission, capability, tracker or server denied by the policy",
        severity=Severity.HIGH,
        help="The policy file's deny list names this permission, capability, tracker SDK "
        "(by name or category) or server country or owner: any app that requests, reaches, "
        "ships or names it fails the check, whatever its severity or baseline.",
    ),
    RuleDoc(
        id=RULE_MAX_SCORE,
        title="Risk score above the policy's max_score",
        severity=Severity.HIGH,
        help="The app's 0..100 risk score is above the max_score the policy file allows.",
    ),
)


def rule_docs(ruleset_docs: Iterable[RuleDoc], verdicts: Iterable[Verdict]) -> tuple[RuleDoc, ...]:
    """The ruleset's rules plus the policy and change rules the verdicts use, sorted by id."""
    docs = {doc.id: doc for doc in ruleset_docs}
    for doc in POLICY_RULE_DOCS:
        docs.setdefault(doc.id, doc)
    for verdict in verdicts:
        for item in verdict.items:
            code_doc = next((d for d in CODE_CHANGE_DOCS if d.id == item.rule), None)
            if item.rule not in docs and code_doc is not None:
                docs[item.rule] = code_doc
            elif item.rule not in docs:
                docs[item.rule] = RuleDoc(
                    id=item.rule,
                    title=item.title,
                    severity=item.severity,
                    help=(
                        "A change between the old and the new build that widens what the app "
                        "can reach (permaudit check --against)."
                        if item.kind == KIND_CHANGE
                        else item.title
                    ),
                )
    return tuple(sorted(docs.values(), key=lambda d: d.id))


def pair_against(reports: Sequence[Report], olds: Sequence[Report]) -> list[tuple[Report, Report]]:
    """Pair each app with the old build of the same package; a mismatch is a usage error."""
    by_package: dict[str, Report] = {}
    for old in olds:
        package = old.app.manifest.package
        if package in by_package:
            raise UsageError(f"--against: two old builds of {package}")
        by_package[package] = old
    pairs = []
    for report in reports:
        package = report.app.manifest.package
        if package not in by_package:
            given = ", ".join(f"{o.app.input.path} ({o.app.manifest.package})" for o in olds)
            raise UsageError(
                f"--against: no old build of {package} ({report.app.input.path}); given: {given}"
            )
        pairs.append((by_package.pop(package), report))
    if by_package:
        extra = ", ".join(o.app.input.path for o in by_package.values())
        raise UsageError(f"--against: no app to compare with {extra}")
    return pairs
