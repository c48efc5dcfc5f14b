"""Servers the code names: host names from strings, their registrable domain and its owner.

Hosts come from URLs (``scheme://host``) and from strings that are a bare host name. The
regex is linear (no nested quantifiers, labels bounded at 63 characters) and each string is
looked at only in its first ``MAX_STRING`` characters, so hostile strings cost bounded work.
The registrable domain follows the Public Suffix List algorithm (rules, ``*.`` wildcards,
``!`` exceptions, default rule ``*``) over its ICANN section shipped as data (MPL-2.0).
Owners come from ``data/domain_owners.yml`` (facts with a source each); unknown stays unknown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from permaudit._infra.records import record
from permaudit.datafiles.compiled import ShippedData, load_shipped
from permaudit.model.code import HostHit

DATA = Path(__file__).with_name("data")
PSL_FILE = DATA / "public_suffix_icann.dat"
OWNERS_FILE = DATA / "domain_owners.yml"
MAX_STRING = 4096
MAX_HOSTS_PER_STRING = 16
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]{0,15}://(" + _LABEL + r"(?:\." + _LABEL + r"){1,10})",
                  re.IGNORECASE)
_BARE = re.compile(r"(?:" + _LABEL + r"\.){1,10}[a-z]{2,24}", re.IGNORECASE)


_REVERSE_DNS = frozenset({"com", "org", "net", "ru", "io", "me", "de", "android", "androidx",
                          "java", "javax", "kotlin", "dalvik"})
#: Real TLDs that a bare string (no ``scheme://``) ends in far more often as a file name or a
#: Java property than as a host: ``Foo.java`` (a DEX SourceFile), ``user.name``,
#: ``user.country``, ``google.services``, ``a.zip``; and ``lib*.so`` native libraries.
_FILE_LIKE_TLDS = frozenset({"java", "name", "country", "services", "zip", "mov"})


@record
class Suffixes:
    """The Public Suffix List rules: plain, wildcard (``*.ck`` kept as ``ck``) and exceptions."""

    rules: frozenset[str]
    wildcards: frozenset[str]
    exceptions: frozenset[str]


@record
class Owner:
    name: str
    country: str
    source: str


@record
class OwnerTable:
    domains: dict[str, Owner]
    noise_domains: frozenset[str]
    noise_hosts: frozenset[str]


def parse_suffixes(text: str) -> Suffixes:
    rules: set[str] = set()
    wildcards: set[str] = set()
    exceptions: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip().lower()
        if not line or line.startswith("//"):
            continue
        if line.startswith("!"):
            exceptions.add(line[1:])
        elif line.startswith("*."):
            wildcards.add(line[2:])
        else:
            rules.add(line)
    return Suffixes(rules=frozenset(rules), wildcards=frozenset(wildcards),
                    exceptions=frozenset(exceptions))


@lru_cache(maxsize=1)
def shipped_suffixes() -> Suffixes:
    return parse_suffixes(PSL_FILE.read_text(encoding="utf-8"))


def registrable_domain(host: str, suffixes: Suffixes | None = None) -> str | None:
    """The registrable domain (public suffix + one label) of ``host``; ``None`` for a suffix."""
    table = shipped_suffixes() if suffixes is None else suffixes
    labels = host.lower().rstrip(".").split(".")
    if len(labels) > 127 or any(not label for label in labels):
        return None
    suffix_len = 1  # the default rule "*"
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        parent = ".".join(labels[i + 1:])
        if candidate in table.exceptions:
            suffix_len = len(labels) - i - 1
            break
        if candidate in table.rules or (parent and parent in table.wildcards):
            suffix_len = len(labels) - i
            break
    if len(labels) <= suffix_len:
        return None
    return ".".join(labels[-suffix_len - 1:])


def _known_tld(host: str, suffixes: Suffixes) -> bool:
    tld = host.rsplit(".", 1)[-1]
    return tld in suffixes.rules or tld in suffixes.wildcards


def hosts_in(text: str, suffixes: Suffixes | None = None) -> tuple[str, ...]:
    """Host names a string names: URL hosts anywhere, or the whole string when it is a host."""
    head = text[:MAX_STRING]
    if "." not in head:  # both patterns need a dot; ~90% of a DEX's strings have none
        return ()
    table = shipped_suffixes() if suffixes is None else suffixes
    # _URL needs a literal "://": the substring test spares the regex scan of most strings.
    found = ([m.group(1).lower() for m in _URL.finditer(head)][:MAX_HOSTS_PER_STRING]
             if "://" in head else [])
    if not found and len(head) <= 253 and _BARE.fullmatch(head):
        host = head.lower()
        # a bare string must end in a real TLD: "R.string" or "foo.bar" are not servers
        # and not be a reverse-DNS package or class name ("com.example.app")
        tld = host.rsplit(".", 1)[-1]
        file_like = tld in _FILE_LIKE_TLDS or (tld == "so" and host.startswith("lib"))
        if not file_like and _known_tld(host, table) and host.split(".", 1)[0] not in _REVERSE_DNS:
            found.append(host)
    return tuple(h for h in found if _known_tld(h, table))


def extract_hosts(strings: Iterable[str]) -> dict[str, int]:
    """Each host with how many distinct strings name it."""
    counts: dict[str, int] = defaultdict(int)
    for text in strings:
        for host in set(hosts_in(text)):
            counts[host] += 1
    return dict(counts)


@record
class DomainOwner:
    """One row of the owner table: a registrable domain and who owns it."""

    domain: str
    owner: Owner


@record
class OwnerRows:
    """The owner table as its precompiled copy holds it (rows, not a dict)."""

    domains: tuple[DomainOwner, ...]
    noise_domains: frozenset[str]
    noise_hosts: frozenset[str]


def shipped_owner_data() -> ShippedData:
    """domain_owners.yml and its precompiled copy (``make compiled``)."""
    return ShippedData(
        sources=(OWNERS_FILE,), compiled=OWNERS_FILE.with_suffix(".compiled.json"),
        types=(OwnerRows, DomainOwner, Owner),
    )


def read_owner_rows() -> OwnerRows:
    """The owner table read from its YAML (the compiled copy is not looked at)."""
    import yaml  # only when the compiled copy is stale

    document = yaml.safe_load(OWNERS_FILE.read_text(encoding="utf-8"))
    owners = {
        name: Owner(name=name, country=facts["country"], source=facts["source"])
        for name, facts in document["owners"].items()
    }
    return OwnerRows(
        domains=tuple(
            DomainOwner(domain=domain, owner=owners[owner])
            for domain, owner in document["domains"].items()
        ),
        noise_domains=frozenset(document["noise_domains"]),
        noise_hosts=frozenset(document["noise_hosts"]),
    )


@lru_cache(maxsize=1)
def shipped_owners() -> OwnerTable:
    """The shipped owner table, from its precompiled copy while that matches the YAML."""
    rows = load_shipped(shipped_owner_data(), read_owner_rows, OwnerRows)
    return OwnerTable(
        domains={row.domain: row.owner for row in rows.domains},
        noise_domains=rows.noise_domains, noise_hosts=rows.noise_hosts,
    )


def owner_of(domain: str, table: OwnerTable | None = None) -> Owner | None:
    """The owner of a registrable domain, or of a listed parent (``firebase.google.com``)."""
    owners = shipped_owners() if table is None else table
    return owners.domains.get(domain)


def host_hits(host_counts: dict[str, int], table: OwnerTable | None = None) -> tuple[HostHit, ...]:
    """Hosts grouped by registrable domain with owners; documentation noise dropped."""
    owners = shipped_owners() if table is None else table
    grouped: dict[str, dict[str, int]] = defaultdict(dict)
    for host, count in host_counts.items():
        domain = registrable_domain(host)
        if domain is None or domain in owners.noise_domains or host in owners.noise_hosts:
            continue
        grouped[domain][host] = count
    hits = []
    for domain, hosts in grouped.items():
        owner = owner_of(domain, owners)
        hits.append(HostHit(
            domain=domain, hosts=tuple(sorted(hosts)), strings=sum(hosts.values()),
            owner=owner.name if owner else None, country=owner.country if owner else None,
            source=owner.source if owner else None,
        ))
    hits.sort(key=lambda hit: (hit.owner is None, hit.owner or "", hit.domain))
    return tuple(hits)
