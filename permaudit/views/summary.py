"""The top summary of an app in sentences, generated from its report (never hand-written)."""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.model import App, Report, Severity
from permaudit.views.order import capability_sort_key
from permaudit.views.reach import BACKGROUND_PERMISSIONS, REACH_LEVELS, hit_reach


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


#: How many server owners a summary names before "and N more".
SUMMARY_OWNERS = 6


def summary_sentences(report: Report, label: str) -> tuple[str, ...]:
    """What ``report`` says about the app, in a few sentences a journalist can quote.

    Generated only from the report: its capabilities by reach level, its code evidence
    (tracker SDKs, owners of the servers its strings name), its tamper evidence, its
    other findings, its signature and its score. Names from the app are left as they are
    (formatters escape).
    """
    by_level: dict[str, list[str]] = {level.key: [] for level in REACH_LEVELS}
    background: list[str] = []
    ids = {hit.title: hit.id for hit in report.capabilities}
    for hit in sorted(report.capabilities, key=lambda h: capability_sort_key(h.id)):
        reach, _ = hit_reach(report, hit)
        by_level[reach].append(hit.title)
        # A capability that is itself a background permission is not "also" background.
        if reach == "background" and not set(hit.via) <= BACKGROUND_PERMISSIONS:
            background.append(hit.title)
    asked = [*by_level["background"], *by_level["asks"]]
    asked.sort(key=lambda t: capability_sort_key(ids[t]))
    sentences = []
    if asked:
        sentences.append(f"{label} asks you for {_and(asked)}.")
    if background:
        sentences.append(f"Once allowed, it can use {_and(background)} also in the background.")
    if by_level["special"]:
        sentences.append(
            "It needs special access that you switch on in Settings for "
            f"{_and(by_level['special'])}."
        )
    if by_level["install"]:
        lead = "Android grants it"
        if not asked and not by_level["special"]:
            lead = f"Android grants {label}"
        sentences.append(f"{lead} without asking: {_and(by_level['install'])}.")
    if not report.capabilities:
        sentences.append(f"{label} reaches none of the capabilities the ruleset knows.")
    sentences.extend(_code_sentences(report))
    tamper = sorted({item.id for item in report.app.tamper})
    if tamper:
        sentences.append(
            "Its file was built or edited so that analysis tools may see something other than "
            f"what Android sees ({_counted(len(report.app.tamper), 'sign', 'signs')} of "
            f"tampering: {_and(tamper)})."
        )
    others = [f for f in report.findings if not f.rule.startswith("capability.")]
    if others:
        counts = [
            f"{sum(1 for f in others if f.severity == s)} {s.label}"
            for s in sorted(Severity, reverse=True)
            if any(f.severity == s for f in others)
        ]
        sentences.append(
            f"{_counted(len(others), 'other finding', 'other findings')} "
            f"(hardening, exported components, signing): {', '.join(counts)}."
        )
    sentences.append(_signer_sentence(report.app))
    sentences.append(f"Risk score {report.risk.score}/100 ({report.risk.level}).")
    return tuple(sentences)


def _code_sentences(report: Report) -> list[str]:
    evidence = report.code_evidence
    if evidence is None:
        return ["Its code was not searched for tracker SDKs or servers."]
    sentences = []
    if evidence.trackers:
        names = [t.name for t in evidence.trackers]
        sentences.append(
            f"Its code contains {_counted(len(names), 'known tracker SDK', 'known tracker SDKs')}:"
            f" {_and(names)}."
        )
    else:
        sentences.append("Its code contains no known tracker SDK.")
    owners: dict[str, str] = {}
    weight: dict[str, int] = {}
    for host in evidence.hosts:
        if host.owner:
            country = f" ({host.country})" if host.country else ""
            owners.setdefault(host.owner, host.owner + country)
            weight[host.owner] = weight.get(host.owner, 0) + host.strings
    if owners:
        # The owners the code names most first (by strings naming their domains), then by name.
        named = [owners[k] for k in sorted(owners, key=lambda k: (-weight[k], k))]
        shown = named[:SUMMARY_OWNERS]
        if len(named) > len(shown):
            shown.append(f"{len(named) - len(shown)} more")
        sentences.append(f"Its code names servers of {_and(shown)}.")
    elif evidence.hosts:
        sentences.append(
            f"Its code names {_counted(len(evidence.hosts), 'domain', 'domains')}, none of a "
            "known owner."
        )
    return sentences


def _signer_sentence(app: App) -> str:
    signing = app.signing
    if signing is None:
        return "The input carries no signature (not an installable file)."
    if not signing.signers:
        return "It is unsigned: Android refuses to install it."
    subjects = dict.fromkeys(
        s.certificates[0].subject for s in signing.signers if s.certificates
    )
    text = f"Signed by {_and(list(subjects))}" if subjects else "Signed"
    if any(c.debug for s in signing.signers for c in s.certificates[:1]):
        text += " (a debug key)"
    if signing.problems:
        text += "; the signature is ambiguous"
    return text + "."
