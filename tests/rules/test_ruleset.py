"""The ruleset loader: the default set, schema diagnostics as file:line:col, overrides by id."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO, TESTS
from permaudit.errors import RulesError
from permaudit.model import Severity
from permaudit.rules import ruleset as ruleset_module
from permaudit.rules.model import AllCapabilities, ComponentFeature, PermissionGrant, TargetSdkBelow
from permaudit.rules.ruleset import default_ruleset_paths, list_rules, load_ruleset, validate_files

DATA = TESTS / "data" / "rules"

REQUIRED_CAPABILITIES = {
    "microphone", "camera", "contacts", "location", "background_location", "files", "sms",
    "call_log", "phone", "calendar", "body_sensors", "activity_recognition", "nearby_devices",
    "notifications", "accounts", "installed_apps", "overlay", "accessibility",
    "notification_access", "device_admin", "vpn", "boot", "install_packages", "exact_alarms",
}
REQUIRED_RULES = {
    "hardening.debuggable", "hardening.backup_without_rules", "hardening.cleartext_traffic",
    "hardening.target_sdk_below_play_minimum", "hardening.shared_user_id",
    "hardening.test_only", "hardening.legacy_external_storage", "exported.service",
    "exported.receiver", "exported.provider", "exported.activity",
    "permissions.weak_custom_permission", "permissions.signature_requested",
    "manifest.ignored_permission", "combination.stalkerware",
    "combination.sms_accessibility", "combination.overlay_accessibility",
    "tracker.advertising", "tracker.location", "tracker.identification", "tracker.analytics",
    "code.unrequested_api",
}


def diagnostics(*paths: Path, include_default: bool = True) -> list[str]:
    """The diagnostics loading ``paths`` raises (fails the test when it loads)."""
    with pytest.raises(RulesError) as caught:
        load_ruleset(paths, include_default=include_default)
    return list(caught.value.diagnostics)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the default ruleset -------------------------------------------------------------------


def test_default_ruleset_paths_come_from_the_source_tree() -> None:
    paths = default_ruleset_paths()
    assert paths == tuple(
        REPO / "rules" / name
        for name in ("capabilities.yml", "code.yml", "hardening.yml", "integrity.yml")
    )


def test_default_ruleset_paths_prefer_the_installed_copy(tmp_path: Path) -> None:
    package = tmp_path / "permaudit"
    (package / "_rules").mkdir(parents=True)
    (package / "_rules" / "capabilities.yml").write_text("ruleset: x\n")
    assert default_ruleset_paths(package) == (package / "_rules" / "capabilities.yml",)


def test_missing_default_ruleset_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="default ruleset is missing"):
        default_ruleset_paths(tmp_path / "permaudit")


def test_default_ruleset_validates_and_has_every_required_id() -> None:
    ruleset = load_ruleset()
    assert ruleset.id == "permaudit-default"
    assert ruleset.version == "1"
    capability_ids = {c.id for c in ruleset.capabilities}
    assert capability_ids >= REQUIRED_CAPABILITIES
    assert {r.id for r in ruleset.rules} >= REQUIRED_RULES
    assert ruleset.disabled == ()


def test_every_default_item_is_explained_with_developer_references() -> None:
    ruleset = load_ruleset()
    for item in (*ruleset.capabilities, *ruleset.rules):
        assert len(item.rationale) > 40, item.id
        assert item.references, item.id
        assert all(url.startswith("https://") for url in item.references), item.id
    for capability in ruleset.capabilities:
        assert any("developer.android.com" in url for url in capability.references), capability.id


def test_default_access_labels_and_features() -> None:
    ruleset = load_ruleset()
    location = {p.name: p.access for p in ruleset.capability("location").permissions}
    assert location["android.permission.ACCESS_FINE_LOCATION"] == "precise"
    assert location["android.permission.ACCESS_COARSE_LOCATION"] == "approximate"
    files = {p.name: p.access for p in ruleset.capability("files").permissions}
    assert files["android.permission.MANAGE_EXTERNAL_STORAGE"] == "all files"
    assert files["android.permission.READ_MEDIA_VISUAL_USER_SELECTED"] == "user-selected media"
    assert files["android.permission.READ_EXTERNAL_STORAGE"] == "legacy storage"
    contacts = {p.name: p.access for p in ruleset.capability("contacts").permissions}
    assert contacts == {
        "android.permission.READ_CONTACTS": "read", "android.permission.WRITE_CONTACTS": "write",
    }
    (feature,) = ruleset.capability("accessibility").features
    assert feature == ComponentFeature(
        kinds=("service",), permission="android.permission.BIND_ACCESSIBILITY_SERVICE",
        access="read and control the screen",
    )
    boot_actions = {a for f in ruleset.capability("boot").features
                    if isinstance(f, ComponentFeature) for a in f.actions}
    assert {"android.intent.action.BOOT_COMPLETED", "android.intent.action.LOCKED_BOOT_COMPLETED",
            "android.intent.action.QUICKBOOT_POWERON"} <= boot_actions


def test_play_minimum_is_a_yaml_parameter() -> None:
    rule = load_ruleset().rule("hardening.target_sdk_below_play_minimum")
    assert rule.when == TargetSdkBelow(level=35)
    assert "https://developer.android.com/google/play/requirements/target-sdk" in rule.references


def test_stalkerware_combination_names_its_capabilities() -> None:
    rule = load_ruleset().rule("combination.stalkerware")
    assert rule.when == AllCapabilities(ids=("microphone", "location", "boot", "accessibility"))
    assert rule.severity is Severity.CRITICAL


def test_sha256_is_stable_and_ignores_comments_and_layout(tmp_path: Path) -> None:
    first = load_ruleset()
    assert load_ruleset().sha256 == first.sha256
    assert len(first.sha256) == 64
    copies = []
    for path in default_ruleset_paths():
        text = path.read_text(encoding="utf-8")
        copies.append(write(tmp_path, path.name, "# a new comment\n\n" + text))
    assert load_ruleset(copies, include_default=False).sha256 == first.sha256


def test_sha256_changes_with_content_and_with_extra_files(tmp_path: Path) -> None:
    base = load_ruleset()
    extra = write(tmp_path, "x.yml", "disable: [exported.activity]\n")
    other = write(tmp_path, "y.yml", "disable: [exported.service]\n")
    assert load_ruleset([extra]).sha256 != base.sha256
    assert load_ruleset([extra]).sha256 != load_ruleset([other]).sha256


# --- schema diagnostics ---------------------------------------------------------------------


def test_every_schema_error_is_reported_at_once_with_its_position() -> None:
    path = DATA / "bad_schema.yml"
    p = str(path)
    assert diagnostics(path) == [
        f"{p}:6:15: error: unknown severity 'hihg' (did you mean 'high'?); "
        "use one of info, low, medium, high, critical",
        f"{p}:8:5: error: unknown key 'permisions' in a capability (did you mean 'permissions'?)",
        f"{p}:11:51: error: malformed permission 'BIND_TORCH' (expected a package-qualified "
        "name such as android.permission.BIND_TORCH)",
        f"{p}:12:9: error: duplicate capability id 'torch' (first defined at line 4); "
        "use one definition",
        f"{p}:13:12: error: 'title' must be a string, but YAML reads '1.10' as a float; "
        'quote it: "1.10"',
        f"{p}:14:15: error: 'severity' must be a string, but YAML reads 'no' as a boolean; "
        'quote it: "no"',
        f"{p}:16:17: error: 'references' must be a list, not a string",
        f"{p}:18:9: error: malformed permission name 'RECORD_AUDIO' (expected a "
        "package-qualified name such as android.permission.RECORD_AUDIO)",
        f"{p}:19:58: error: duplicate key 'access' in a permission (first at line 19, column 43)",
        f"{p}:26:33: error: rule 'custom.torch_spy' refers to unknown capability 'microfone' "
        "(did you mean 'microphone'?)",
        f"{p}:31:14: error: unknown placeholder '{{sdk}}' in 'message'; use {{package}}, "
        "{subject}, {detail}, {target_sdk}",
        f"{p}:33:25: error: 'target_sdk_below' must be an integer, not a string ('30')",
    ]


def test_rules_error_message_is_every_diagnostic_on_its_own_line() -> None:
    with pytest.raises(RulesError) as caught:
        load_ruleset([DATA / "bad_schema.yml"])
    assert str(caught.value).splitlines() == list(caught.value.diagnostics)


def test_yaml_syntax_error_has_a_position() -> None:
    path = DATA / "syntax_error.yml"
    assert diagnostics(path) == [
        f"{path}:5:13: error: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 4, column 12)"
    ]


def test_errors_of_several_files_come_together(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", "disable: [nothing.here]\n")
    second = write(tmp_path, "b.yml", "rules: {}\n")
    assert diagnostics(first, second) == [
        f"{first}:1:11: error: cannot disable 'nothing.here': no capability or rule has this id",
        f"{second}:1:8: error: 'rules' must be a list, not a mapping",
    ]


def test_redefining_a_default_id_points_at_both_definitions() -> None:
    path = DATA / "redefine_default.yml"
    first = REPO / "rules" / "capabilities.yml"
    (line,) = diagnostics(path)
    assert line.startswith(f"{path}:3:5: error: duplicate capability id 'microphone' "
                           f"(first defined at {first}:")
    assert line.endswith("); use 'override' to change it")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "1:1: error: the file is empty"),
        ("- a\n", "1:1: error: the ruleset file must be a mapping, not a list"),
        ("ruleset: x\n", "1:1: error: the file has none of 'capabilities', 'rules', "
                         "'override', 'disable'"),
        ("disable: [vpn]\ndisable: [boot]\n",
         "2:1: error: duplicate key 'disable' in the ruleset file (first at line 1, column 1)"),
        ("rules:\n  - id: Bad\n    title: t\n    severity: low\n    rationale: r\n"
         "    when: {shared_user_id: true}\n",
         "2:9: error: rule id 'Bad' must be dotted lower-case words such as "
         "'hardening.debuggable' (and not start with 'capability.')"),
        ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    rationale: r\n"
         "    when: {target_sdk_below: 30, shared_user_id: true}\n",
         "6:11: error: 'when' needs exactly one condition, one of app_flags, cleartext_traffic, "
         "target_sdk_below, exported_component, declared_permission, shared_user_id, "
         "permission_class, requested_permission, ignored_element, all_capabilities, signing, "
         "tamper, network_security, backup, tracker, server_country, server_owner, code_reference"),
        ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    rationale: r\n"
         "    when: {app_flags: {debugable: true}}\n",
         "6:24: error: unknown key 'debugable' in 'app_flags' (did you mean 'debuggable'?)"),
        ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    rationale: r\n"
         "    when: {target_sdk_below: 1.5}\n",
         "6:30: error: 'target_sdk_below' must be an integer, not a float ('1.5')"),
        ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    rationale: r\n",
         "2:5: error: a rule is missing the required key 'when'"),
        ("capabilities:\n  - id: x\n    title: t\n    severity: low\n    rationale: r\n"
         "    features:\n      - component: {kinds: [servce], permission: a.B}\n",
         "7:29: error: unknown value 'servce' in 'kinds' (did you mean 'service'?); use one of "
         "activity, activity-alias, service, receiver, provider"),
        ("capabilities:\n  - id: x\n    title: t\n    severity: low\n    rationale: r\n",
         "2:5: error: a capability needs 'permissions' or 'features'"),
        ("capabilities:\n  - id: x\n    title: t\n    severity: low\n    rationale: r\n"
         "    references: [http://example.com]\n    permissions: [a.B]\n",
         "6:18: error: reference 'http://example.com' must be an https:// URL"),
        ("override:\n  - id: hardening.debuggable\n",
         "2:5: error: override of 'hardening.debuggable' changes nothing"),
        ("rules:\n  - id: a.b\n    title: t\n    severity: low\n    rationale: r\n"
         "    when: {app_flags: {}}\n",
         "6:23: error: 'app_flags' needs at least one flag"),
        ("override:\n  - id: hardening.debuggable\n    severity: 3\n",
         "3:15: error: 'severity' must be a string, but YAML reads '3' as an integer; "
         'quote it: "3"'),
    ],
)
def test_single_schema_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, "rules.yml", text)
    assert diagnostics(path) == [f"{path}:{expected}"]


def test_not_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yml"
    path.write_bytes(b"ruleset: caf\xe9\n")
    assert diagnostics(path) == [f"{path}:1:1: error: not UTF-8 text (invalid continuation byte)"]


def test_missing_file_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    assert diagnostics(path) == [f"{path}:1:1: error: cannot read: No such file or directory"]


# --- overrides, disable, additions ----------------------------------------------------------


def test_override_file_changes_the_default_by_id() -> None:
    ruleset = load_ruleset([DATA / "override.yml"])
    assert ruleset.id == "permaudit-default+acme-policy"
    assert [f.id for f in ruleset.files] == [
        "permaudit-default", "permaudit-default", "permaudit-default", "permaudit-default",
        "acme-policy",
    ]
    assert ruleset.files[-1].version == "2025.11"
    assert ruleset.rule("hardening.debuggable").severity is Severity.CRITICAL
    assert ruleset.rule("hardening.target_sdk_below_play_minimum").when == TargetSdkBelow(level=36)
    microphone = ruleset.capability("microphone")
    assert microphone.severity is Severity.CRITICAL
    assert microphone.permissions[-1] == PermissionGrant(
        name="com.example.permission.RECORD", access="vendor recorder"
    )
    assert microphone.permissions[0].name == "android.permission.RECORD_AUDIO"
    assert [str(o) for o in microphone.overridden_at] == [f"{DATA / 'override.yml'}:23:9"]
    assert ruleset.capability("torch").severity is Severity.INFO
    assert ruleset.rule("acme.no_sms").severity is Severity.CRITICAL


def test_disabled_items_leave_the_ruleset_but_are_listed() -> None:
    ruleset = load_ruleset([DATA / "override.yml"])
    with pytest.raises(KeyError):
        ruleset.rule("exported.activity")
    with pytest.raises(KeyError):
        ruleset.capability("biometric")
    listed = {entry.id: entry for entry in list_rules(ruleset)}
    assert listed["exported.activity"].enabled is False
    assert listed["capability.biometric"].enabled is False
    assert listed["capability.torch"].enabled is True
    assert listed["capability.torch"].kind == "capability"
    assert listed["hardening.debuggable"].severity is Severity.CRITICAL
    assert listed["hardening.debuggable"].overridden_at == (f"{DATA / 'override.yml'}:21:9",)


def test_the_default_is_never_changed_by_loading_an_override() -> None:
    load_ruleset([DATA / "override.yml"])
    assert load_ruleset().rule("hardening.debuggable").severity is Severity.HIGH


def test_overrides_apply_in_file_order(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yml", "override: [{id: hardening.debuggable, severity: low}]\n")
    second = write(tmp_path, "b.yml", "override: [{id: hardening.debuggable, severity: info}]\n")
    assert load_ruleset([first, second]).rule("hardening.debuggable").severity is Severity.INFO
    assert load_ruleset([second, first]).rule("hardening.debuggable").severity is Severity.LOW


def test_capability_id_may_be_given_with_its_rule_prefix(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yml", "disable: [capability.biometric, vpn]\n")
    ruleset = load_ruleset([path])
    assert {c.id for c in ruleset.capabilities}.isdisjoint({"biometric", "vpn"})


def test_bad_overrides_are_all_reported() -> None:
    path = DATA / "bad_override.yml"
    assert diagnostics(path) == [
        f"{path}:3:9: error: cannot override 'hardening.debugable': no capability or rule has "
        "this id (did you mean 'hardening.debuggable'?)",
        f"{path}:6:5: error: 'add_permissions' applies to capabilities, and "
        "'hardening.test_only' is a rule",
        f"{path}:8:5: error: 'message' applies to rules, and 'location' is a capability",
        f"{path}:10:5: error: cannot disable capability 'accessibility': "
        "'combination.stalkerware', 'combination.sms_accessibility', "
        "'combination.overlay_accessibility', 'combination.dropper_accessibility', "
        "'combination.device_admin_accessibility' need it; disable those rules too",
    ]


def test_adding_a_permission_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yml", "override:\n  - id: camera\n"
                                    "    add_permissions: [android.permission.CAMERA]\n")
    assert diagnostics(path) == [
        f"{path}:3:5: error: capability 'camera' already has permission 'android.permission.CAMERA'"
    ]


def test_references_are_checked_after_merging(tmp_path: Path) -> None:
    # The rule refers to a capability a later file defines: valid once both are merged.
    rule = write(tmp_path, "a.yml", "rules:\n  - id: x.combo\n    title: t\n"
                                    "    severity: low\n    rationale: r\n"
                                    "    when: {all_capabilities: [torch, sms]}\n")
    capability = write(tmp_path, "b.yml", "capabilities:\n  - id: torch\n    title: T\n"
                                          "    severity: info\n    rationale: r\n"
                                          "    permissions: [android.permission.FLASHLIGHT]\n")
    ruleset = load_ruleset([rule, capability])
    assert ruleset.rule("x.combo").when == AllCapabilities(ids=("torch", "sms"))


def test_validate_files_accepts_good_and_rejects_bad() -> None:
    assert validate_files([DATA / "override.yml"]) == load_ruleset([DATA / "override.yml"])
    assert validate_files([]) == load_ruleset()
    with pytest.raises(RulesError) as caught:
        validate_files([DATA / "override.yml", DATA / "bad_override.yml"])
    assert len(caught.value.diagnostics) == 4
    assert all(d.startswith(f"{DATA / 'bad_override.yml'}:") for d in caught.value.diagnostics)


def test_validate_files_reads_the_default_yaml_never_its_compiled_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(paths: object) -> None:
        raise AssertionError("validation used the compiled default ruleset")

    monkeypatch.setattr(ruleset_module, "compiled_default_ruleset", refuse)
    assert validate_files([]).id == "permaudit-default"
    with pytest.raises(AssertionError, match="compiled"):
        load_ruleset()


def test_without_default_only_the_given_files_count(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yml", "ruleset: solo\ncapabilities:\n  - id: torch\n"
                                    "    title: T\n    severity: info\n    rationale: r\n"
                                    "    permissions: [android.permission.FLASHLIGHT]\n")
    ruleset = load_ruleset([path], include_default=False)
    assert ruleset.id == "solo"
    assert [c.id for c in ruleset.capabilities] == ["torch"]
    assert ruleset.rules == ()
