"""Sensitive framework APIs the code references, as capabilities; and the whole code evidence.

The table is data (``permaudit/android/data/api_capabilities.yml``, sources per entry). A
class entry matches any referenced method of the class or the type among referenced classes;
a method entry matches ``Class.method`` in ``external_methods``; a URI entry matches string
constants starting with it. A reference is not proof the call is reached, and an app may reach
an API by reflection or native code without referencing it (docs/code-evidence.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from permaudit._infra.records import record
from permaudit.datafiles.compiled import ShippedData, load_shipped
from permaudit.knowledge.domains import extract_hosts, host_hits
from permaudit.knowledge.trackers import match_trackers
from permaudit.model.code import ApiEvidence, CodeEvidence, CodeScan

API_FILE = Path(__file__).resolve().parents[1] / "android" / "data" / "api_capabilities.yml"
_MAX_URI_STRING = 4096


@record
class ApiRule:
    capability: str
    classes: tuple[str, ...]
    methods: tuple[str, ...]
    uris: tuple[str, ...]
    source: str
    needs_permission: bool = True


@record
class ApiTable:
    """The API -> capability table, as its precompiled copy holds it."""

    rules: tuple[ApiRule, ...]


def shipped_data() -> ShippedData:
    """api_capabilities.yml and its precompiled copy (``make compiled``)."""
    return ShippedData(
        sources=(API_FILE,), compiled=API_FILE.with_suffix(".compiled.json"),
        types=(ApiTable, ApiRule),
    )


def read_table() -> ApiTable:
    """The table read from its YAML (the compiled copy is not looked at)."""
    import yaml  # only when the compiled copy is stale

    entries = yaml.safe_load(API_FILE.read_text(encoding="utf-8"))["entries"]
    return ApiTable(rules=tuple(
        ApiRule(
            capability=entry["capability"], classes=tuple(entry.get("classes") or ()),
            methods=tuple(entry.get("methods") or ()), uris=tuple(entry.get("uris") or ()),
            source=entry["source"], needs_permission=bool(entry.get("needs_permission", True)),
        )
        for entry in entries
    ))


@lru_cache(maxsize=1)
def load_api_rules() -> tuple[ApiRule, ...]:
    """The shipped table, from its precompiled copy while that matches the YAML."""
    return load_shipped(shipped_data(), read_table, ApiTable).rules


def java_name(descriptor: str) -> str:
    """``Landroid/media/AudioRecord;`` -> ``android.media.AudioRecord`` (others unchanged)."""
    if descriptor.startswith("L") and descriptor.endswith(";"):
        return descriptor[1:-1].replace("/", ".")
    return descriptor


def api_evidence(code: CodeScan, rules: Sequence[ApiRule] | None = None) -> tuple[ApiEvidence, ...]:
    """Each capability with the API references and URIs found for it, sorted by capability."""
    table = load_api_rules() if rules is None else rules
    methods: dict[str, set[str]] = defaultdict(set)
    for ref in code.external_methods:
        methods[java_name(ref.class_descriptor)].add(ref.name)
    referenced = set(code.referenced_classes)
    # URIs (content://..., tel:) have a colon: the few strings that do are searched per rule
    # instead of every string once per rule.
    uri_like = [head for text in code.strings if ":" in (head := text[:_MAX_URI_STRING])]
    nested: dict[str, set[str]] = defaultdict(set)  # outer class -> nested classes seen
    for name in referenced | set(methods):
        outer, dollar, _ = name.partition("$")
        if dollar:
            nested[outer].add(name)
    found: dict[str, set[str]] = defaultdict(set)
    for rule in table:
        for outer in rule.classes:
            for cls in (outer, *sorted(nested.get(outer, ()))):
                names = methods.get(cls, set())
                found[rule.capability].update(f"{cls}.{name}" for name in names)
                if not names and cls in referenced:
                    found[rule.capability].add(cls)
        for method in rule.methods:
            cls, _, name = method.rpartition(".")
            if name in methods.get(cls, ()):
                found[rule.capability].add(method)
        if rule.uris:
            for head in uri_like:
                if head.startswith(rule.uris):
                    found[rule.capability].add(head)
    free = {r.capability for r in table if not r.needs_permission}
    return tuple(
        ApiEvidence(
            capability=cap, references=tuple(sorted(refs)), needs_permission=cap not in free
        )
        for cap, refs in sorted(found.items()) if refs
    )


def code_evidence(code: CodeScan) -> CodeEvidence:
    """Trackers, hosts by owner and API evidence of one app's code."""
    # ``code.strings`` holds only the strings that can name a host or a URI: whether the
    # DEX files hold any string at all is in their summaries.
    if not (code.defined_classes or code.referenced_classes or code.strings
            or any(dex.strings for dex in code.dex)):
        # Nothing to match, and no table worth loading.
        if code.dex:
            why = "the DEX files hold no classes or strings"
        elif code.tamper:
            why = "no classes*.dex could be read (see the tamper evidence)"
        else:
            why = "no classes*.dex read"
        return CodeEvidence(notes=(f"no code evidence: {why}",))
    host_counts = extract_hosts(code.strings)
    trackers, notes = match_trackers(code, tuple(sorted(host_counts)))
    return CodeEvidence(
        trackers=trackers, hosts=host_hits(host_counts), apis=api_evidence(code), notes=notes,
        checked_capabilities=tuple(sorted({rule.capability for rule in load_api_rules()})),
    )
