"""The ``when:`` keys over code evidence: tracker, server_country, server_owner, code_reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from permaudit.errors import RulesError
from permaudit.rules.model import CodeReference, ServerCountry, ServerOwner, TrackerCondition
from permaudit.rules.ruleset import load_ruleset

HEAD = "rules:\n  - id: acme.x\n    title: t\n    severity: low\n    rationale: r\n    when:\n"


def load(tmp_path: Path, when: str) -> object:
    path = tmp_path / "rules.yml"
    path.write_text(HEAD + when, encoding="utf-8")
    return load_ruleset([path]).rule("acme.x").when


def errors(tmp_path: Path, when: str) -> list[str]:
    path = tmp_path / "rules.yml"
    path.write_text(HEAD + when, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_ruleset([path])
    return [line.replace(f"{path}:", "") for line in caught.value.diagnostics]


def test_tracker_by_category_and_by_name_in_any_case(tmp_path: Path) -> None:
    assert load(tmp_path, "      tracker: {category: [advertisement, crash_reporting]}\n") == (
        TrackerCondition(categories=("advertisement", "crash_reporting"))
    )
    # Names are the table's, matched without regard to case, stored as the table spells them.
    assert load(tmp_path, "      tracker: {name: [MYTRACKER, ok tracer], strength: any}\n") == (
        TrackerCondition(names=("myTracker", "OK Tracer"), shipped_only=False)
    )


def test_server_and_code_reference_keys(tmp_path: Path) -> None:
    countries = ServerCountry(countries=("RU", "CN"))
    assert load(tmp_path, "      server_country: [RU, CN]\n") == countries
    assert load(tmp_path, "      server_owner: vk\n") == ServerOwner(owners=("VK",))
    assert load(tmp_path, "      code_reference: {capability: microphone, requested: false}\n") == (
        CodeReference(capabilities=("microphone",), requested=False)
    )
    assert load(tmp_path, "      code_reference: {}\n") == CodeReference()


def test_default_code_rules_need_code() -> None:
    ruleset = load_ruleset()
    needing = {r.id for r in ruleset.rules if r.needs_code}
    assert needing == {"tracker.advertising", "tracker.location", "tracker.identification",
                       "tracker.analytics", "code.unrequested_api"}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("      tracker: {category: adverts}\n",
         "7:27: error: unknown value 'adverts' in 'category' (did you mean 'advertisement'?); "
         "use one of analytics, advertisement, crash_reporting, location, profiling, "
         "identification"),
        ("      tracker: {name: myTraker}\n",
         "7:23: error: unknown tracker 'myTraker' (did you mean 'myTracker'?) (names as "
         "`permaudit scan` shows them)"),
        ("      tracker: {name: myTracker, category: analytics}\n",
         "7:16: error: 'tracker' needs exactly one of 'name' or 'category'"),
        ("      tracker: {}\n",
         "7:16: error: 'tracker' needs exactly one of 'name' or 'category'"),
        ("      tracker: {categories: analytics}\n",
         "7:17: error: unknown key 'categories' in 'tracker' (did you mean 'category'?)"),
        ("      tracker: {category: location, strength: strong}\n",
         "7:47: error: unknown value 'strong' in 'strength'; use one of defined, any"),
        ("      tracker: {strength: any}\n",
         "7:16: error: 'tracker' needs exactly one of 'name' or 'category'"),
        ("      tracker: myTracker\n",
         "7:16: error: 'tracker' must be a mapping, not a string"),
        ("      server_country: ru\n",
         "7:23: error: 'ru' is not an ISO 3166-1 alpha-2 country code such as RU or US "
         "(did you mean 'RU'?)"),
        # YAML 1.1 reads Norway's code as a boolean: it must be quoted.
        ("      server_country: [NO]\n",
         "7:24: error: each entry of 'server_country' must be a string, but YAML reads 'NO' "
         "as a boolean; quote it: \"NO\""),
        ("      server_country: Russia\n",
         "7:23: error: 'Russia' is not an ISO 3166-1 alpha-2 country code such as RU or US"),
        ("      server_owner: [Vkontakte]\n",
         "7:22: error: unknown server owner 'Vkontakte' (names as `permaudit scan` shows them)"),
        ("      code_reference: {capability: microphon}\n",
         "7:36: error: unknown value 'microphon' in 'capability' (did you mean 'microphone'?); "
         "use one of accessibility, accounts, call_log, camera, clipboard, contacts, "
         "installed_apps, location, microphone, nearby_devices, phone, screen_capture, sms, "
         "wifi_scan"),
        ("      tracker: {category: []}\n",
         "7:27: error: 'category' needs at least one value"),
        ("      server_country: []\n",
         "7:23: error: 'server_country' needs at least one value"),
        ("      server_owner: []\n",
         "7:21: error: 'server_owner' needs at least one value"),
        ("      code_reference: {requested: maybe}\n",
         "7:35: error: 'requested' must be true or false, not a string ('maybe')"),
    ],
)
def test_misuse_is_located(tmp_path: Path, when: str, expected: str) -> None:
    assert errors(tmp_path, when) == [expected]


def test_rules_validate_reports_every_code_key_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from permaudit.cli import main

    path = tmp_path / "hostile.yml"
    path.write_text(
        "rules:\n"
        "  - id: acme.a\n    title: t\n    severity: low\n    rationale: r\n"
        "    when: {tracker: {category: [location, location, spyware]}}\n"
        "  - id: acme.b\n    title: t\n    severity: low\n    rationale: r\n"
        "    when: {server_owner: [VK, vk]}\n"
        "  - id: acme.c\n    title: t\n    severity: low\n    rationale: r\n"
        "    when: {code_reference: {capability: [], requested: yes please}}\n",
        encoding="utf-8",
    )
    assert main(["rules", "validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith(f"{path}:6:53: error: unknown value 'spyware' in 'category'")
    assert lines[1] == f"{path}:11:31: error: 'vk' is listed twice in 'server_owner'"
    assert lines[2].startswith(f"{path}:16:")
    assert "Traceback" not in err
