"""JUnit XML for ``permaudit check``: one test case per rule per app, failures for failing findings.

Each app is a ``<testsuite>`` (named by package, with the input path); each rule of the
ruleset (plus the policy and change rules the verdicts use) is a ``<testcase>`` whose
classname is the package. A rule with a failing item has a ``<failure>`` listing them; a
rule the policy disables is ``<skipped>``; a passing rule that fired says why it passed
(accepted, in the baseline, below the threshold) in ``<system-out>``. No timestamps.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from permaudit.ci.gate import DISABLED, CheckResult, Item, Verdict
from permaudit.ci.rule_docs import RuleDoc


def _line(item: Item) -> str:
    text = f"[{item.severity.label}] {item.subject}: {item.message} ({item.reason})"
    if item.justification:
        text += f" justification: {item.justification}"
    return text


def testcase(doc: RuleDoc, verdict: Verdict) -> ET.Element:
    """The test case of rule ``doc`` for one app."""
    package = verdict.report.app.manifest.package
    case = ET.Element("testcase", {"name": doc.id, "classname": package, "time": "0"})
    items = [i for i in verdict.items if i.rule == doc.id]
    failing = [i for i in items if i.failed]
    if failing:
        first = failing[0]
        message = f"{first.title}: {first.subject}"
        if len(failing) > 1:
            message += f" (and {len(failing) - 1} more)"
        failure = ET.SubElement(
            case, "failure", {"message": message, "type": max(i.severity for i in failing).label}
        )
        failure.text = "\n".join(_line(i) for i in failing)
    elif items and all(i.status == DISABLED for i in items):
        ET.SubElement(case, "skipped", {"message": "rule disabled by policy"})
    passed = [i for i in items if not i.failed]
    if passed:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(_line(i) for i in passed)
    return case


def testsuite(rules: tuple[RuleDoc, ...], verdict: Verdict) -> ET.Element:
    """One app's suite."""
    report = verdict.report
    cases = [testcase(doc, verdict) for doc in rules]
    failures = sum(1 for c in cases if c.find("failure") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    suite = ET.Element(
        "testsuite",
        {
            "name": f"permaudit {report.app.manifest.title}",
            "tests": str(len(cases)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": "0",
            "file": report.app.input.path,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("input", report.app.input.path),
        ("sha256", report.app.input.sha256),
        ("package", report.app.manifest.package),
        ("label", report.app.manifest.label),
        ("fail_on", verdict.fail_on.label),
        ("risk_score", str(report.risk.score)),
        ("verdict", "pass" if verdict.passed else "fail"),
    ):
        if value is not None:
            ET.SubElement(properties, "property", {"name": name, "value": value})
    suite.extend(cases)
    return suite


def render(result: CheckResult, *, color: bool = False) -> str:
    """Render ``result`` as a JUnit XML document (``color`` is ignored)."""
    del color
    suites = [testsuite(result.rules, verdict) for verdict in result.verdicts]
    root = ET.Element(
        "testsuites",
        {
            "name": "permaudit check",
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": "0",
            "skipped": str(sum(int(s.get("skipped", "0")) for s in suites)),
            "time": "0",
        },
    )
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
