"""Hosts from strings, registrable domains (PSL edge cases), owners, bounded regexes."""

from __future__ import annotations

import time

import pytest

from permaudit.knowledge import domains
from permaudit.knowledge.domains import (
    extract_hosts,
    host_hits,
    hosts_in,
    parse_suffixes,
    registrable_domain,
)


@pytest.mark.parametrize(("host", "expected"), [
    ("vk.com", "vk.com"),
    ("api.vk.com", "vk.com"),
    ("a.b.c.vk.com", "vk.com"),
    ("bbc.co.uk", "bbc.co.uk"),
    ("www.bbc.co.uk", "bbc.co.uk"),
    ("co.uk", None),
    ("com", None),
    ("tracker-api.vk-analytics.ru", "vk-analytics.ru"),
    ("www.cielo.com.br", "cielo.com.br"),
    ("API.OK.RU.", "ok.ru"),
    ("foo.unlistedtld", "foo.unlistedtld"),  # default rule "*"
    ("a..b.com", None),
])
def test_registrable_domain(host: str, expected: str | None) -> None:
    assert registrable_domain(host) == expected


def test_wildcard_and_exception_rules() -> None:
    table = parse_suffixes("// c\nck\n*.ck\n!www.ck\n")
    assert registrable_domain("a.b.ck", table) == "a.b.ck"
    assert registrable_domain("x.a.b.ck", table) == "a.b.ck"
    assert registrable_domain("www.ck", table) == "www.ck"
    assert registrable_domain("a.www.ck", table) == "www.ck"


def test_shipped_psl_keeps_its_licence_header() -> None:
    head = domains.PSL_FILE.read_text(encoding="utf-8")[:400]
    assert "Mozilla Public" in head and "publicsuffix.org" in head


def test_hosts_from_urls_and_bare_hosts_but_not_package_names() -> None:
    assert hosts_in("see https://sdk-api.apptracer.ru/api/v1?x=1") == ("sdk-api.apptracer.ru",)
    assert hosts_in("api.oneme.ru") == ("api.oneme.ru",)
    assert hosts_in("com.example.app") == ()
    assert hosts_in("R.string") == ()
    assert hosts_in("just words here") == ()


def test_hostile_strings_are_bounded() -> None:
    hostile = ["a." * 50_000, "http://" + "a" * 100_000, "x://" + "a-" * 50_000, "." * 100_000,
               " ".join(f"http://h{i}.com" for i in range(10_000))]
    start = time.perf_counter()
    counts = extract_hosts(hostile)
    assert time.perf_counter() - start < 1.0
    assert len(counts) <= domains.MAX_HOSTS_PER_STRING + 2


def test_hosts_group_by_owner_and_country_and_noise_is_dropped() -> None:
    counts = extract_hosts([
        "https://api.oneme.ru/x", "api-tg.oneme.ru", "https://tracker-api.vk-analytics.ru",
        "http://schemas.android.com/apk/res/android", "https://www.w3.org/2000/svg",
        "https://graph.facebook.com/v1", "https://mystery.example-unknown.xyz/",
    ])
    hits = {hit.domain: hit for hit in host_hits(counts)}
    assert hits["oneme.ru"].owner == "VK" and hits["oneme.ru"].country == "RU"
    assert hits["oneme.ru"].hosts == ("api-tg.oneme.ru", "api.oneme.ru")
    assert hits["oneme.ru"].strings == 2
    assert hits["facebook.com"].country == "US"
    assert hits["example-unknown.xyz"].owner is None
    assert "w3.org" not in hits and "android.com" not in hits


def test_every_owner_has_a_source_and_every_domain_an_owner() -> None:
    table = domains.shipped_owners()
    for domain, owner in table.domains.items():
        assert owner.source.startswith("https://"), domain
        assert len(owner.country) == 2, domain
    for domain in ("oneme.ru", "max.ru", "ok.ru", "vk.com", "vk-analytics.ru", "apptracer.ru",
                   "mycdn.me", "whatsapp.net", "whatsapp.com", "facebook.com", "fbcdn.net",
                   "telegram.org", "t.me", "signal.org", "yandex.ru", "google.com"):
        assert domain in table.domains, domain


def test_file_names_and_java_properties_are_not_bare_hosts() -> None:
    # .java, .name, .country and .services are real gTLDs; as bare strings in a DEX they are
    # SourceFile names and system properties (seen on corpus APKs: thousands of "Foo.java").
    for text in ("MainActivity.java", "user.name", "user.country", "google.services",
                 "libfoo.so", "archive.zip"):
        assert hosts_in(text) == (), text
    assert hosts_in("https://nic.java/x") == ("nic.java",)  # a URL still names its host
    assert hosts_in("notion.so") == ("notion.so",)
