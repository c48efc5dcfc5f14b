"""Source manifests without <uses-sdk>: unknown levels, build.gradle literals, given levels.

Android facts these tests hold the code to:

* Gradle, not the source manifest, sets the levels: the manifest merger writes
  ``<uses-sdk>`` from the module's ``defaultConfig`` (developer.android.com/build/
  manage-manifests, "Build variables into the manifest"; ManifestMerger2 ``ToolsInstructions``
  injects minSdkVersion/targetSdkVersion). A source manifest alone does not say them.
* AGP's ``targetSdk`` "defaults to minSdk" when the DSL leaves it unset
  (com.android.build.api.dsl.ApplicationBaseFlavor#targetSdk).
* Split permissions apply only while ``targetSdk < targetSdkBelow``
  (frameworks/base PermissionManagerService / ``SplitPermissionInfo.getTargetSdk``):
  with the target unknown, no such permission can be claimed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from permaudit.inputs.gradle import parse_build_script, read_build_script, source_sdk
from permaudit.inputs.loader import load
from permaudit.inputs.text_manifest import read_text_manifest
from permaudit.model import SDK_FROM_GRADLE, SDK_FROM_OPTION, SDK_UNKNOWN, SdkLevels

MANIFEST = (
    '<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="a.b">\n'
    '<uses-permission android:name="android.permission.ACCESS_FINE_LOCATION"/>\n'
    '<uses-permission android:name="android.permission.READ_CONTACTS"/>\n'
    "<application/></manifest>\n"
)


def _module(tmp_path: Path, script: str | None, name: str = "build.gradle") -> Path:
    main = tmp_path / "app" / "src" / "main"
    main.mkdir(parents=True)
    manifest = main / "AndroidManifest.xml"
    manifest.write_text(MANIFEST)
    if script is not None:
        (tmp_path / "app" / name).write_text(script)
    return manifest


@pytest.mark.parametrize(
    ("text", "minimum", "target"),
    [
        ("android { defaultConfig { minSdk 21\n targetSdk 34 } }", 21, 34),
        ("defaultConfig {\n  minSdkVersion 16\n  targetSdkVersion 30\n}", 16, 30),
        ("android {\n defaultConfig {\n  minSdk = 24\n  targetSdk = 35\n }\n}", 24, 35),
        ('defaultConfig {\n minSdkVersion(21)\n targetSdkVersion("33")\n}', 21, 33),
        ("defaultConfig { targetSdk(34) }\n", None, 34),
        ("android.defaultConfig.targetSdk = 33\n", None, 33),
    ],
)
def test_literals_in_groovy_and_kotlin_scripts(
    text: str, minimum: int | None, target: int | None
) -> None:
    levels = parse_build_script(text, "build.gradle")
    assert (levels.min_sdk.level if levels.min_sdk else None) == minimum
    assert (levels.target_sdk.level if levels.target_sdk else None) == target


def test_commented_out_levels_are_not_read() -> None:
    text = "defaultConfig {\n  // targetSdk 22\n  /* minSdk 9\n */ minSdk 23\n}"
    levels = parse_build_script(text, "b.gradle")
    assert levels.target_sdk is None
    assert levels.min_sdk is not None and levels.min_sdk.level == 23
    assert levels.min_sdk.where == ("b.gradle:4",)  # lines survive comment removal


@pytest.mark.parametrize(
    "value",
    ["libs.versions.targetSdk.get().toInt()", "rootProject.ext.targetSdkVersion",
     "Integer.parseInt(project.property('t'))", "99999999"],
)  # fmt: skip
def test_a_non_literal_value_is_unknown_and_says_where(value: str) -> None:
    levels = parse_build_script(f"android {{\n  targetSdk = {value}\n}}\n", "app/build.gradle.kts")
    assert levels.target_sdk is not None and levels.target_sdk.level is None
    assert levels.target_sdk.problem is not None
    assert "app/build.gradle.kts:2" in levels.target_sdk.problem
    assert "not an integer literal" in levels.target_sdk.problem


def test_levels_that_differ_between_flavours_are_unknown() -> None:
    text = "defaultConfig { minSdk 21 }\nproductFlavors { legacy { minSdk 16 } }\n"
    levels = parse_build_script(text, "build.gradle")
    assert levels.min_sdk is not None and levels.min_sdk.level is None
    assert "differs between occurrences" in (levels.min_sdk.problem or "")


def test_an_oversized_or_special_script_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "build.gradle"
    big.write_text("minSdk 21\n" + "x" * 300_000)
    assert read_build_script(str(big)).problem is not None
    assert read_build_script(str(big)).min_sdk is None


def test_source_manifest_alone_has_unknown_levels_and_no_implied_permissions(
    tmp_path: Path,
) -> None:
    manifest = _module(tmp_path, None)
    app = load(str(manifest))
    assert (app.manifest.min_sdk, app.manifest.target_sdk) == (None, None)
    assert app.sdk_origin is not None
    assert (app.sdk_origin.min_sdk, app.sdk_origin.target_sdk) == (SDK_UNKNOWN, SDK_UNKNOWN)
    assert any("targetSdk and minSdk unknown" in n for n in app.notes)
    from permaudit.app import analyse, load_rules

    report = analyse([app], load_rules(()), None).reports[0]
    implied = [p for p in report.permissions if p.element == "implied"]
    # Only what Android implies for every target SDK (FINE -> COARSE) remains.
    assert [(p.name, p.reason) for p in implied] == [
        ("android.permission.ACCESS_COARSE_LOCATION",
         "split from ACCESS_FINE_LOCATION (every target SDK)"),
    ]
    assert "capability.background_location" not in {f.rule for f in report.findings}
    assert "hardening.target_sdk_below_play_minimum" not in {f.rule for f in report.findings}


def test_levels_come_from_the_module_build_script(tmp_path: Path) -> None:
    manifest = _module(tmp_path, "android {\n defaultConfig {\n  minSdk = 21\n  targetSdk = 28\n"
                                 " }\n}\n", name="build.gradle.kts")
    app = load(str(manifest))
    assert (app.manifest.min_sdk, app.manifest.target_sdk) == (21, 28)
    origin = app.sdk_origin
    assert origin is not None and origin.target_sdk == SDK_FROM_GRADLE
    assert origin.target_where == (str(tmp_path / "app" / "build.gradle.kts") + ":4",)
    assert any("targetSdk 28 from a literal in" in n for n in app.notes)
    from permaudit.app import analyse, load_rules

    report = analyse([app], load_rules(()), None).reports[0]
    implied = {p.name for p in report.permissions if p.element == "implied"}
    assert "android.permission.ACCESS_BACKGROUND_LOCATION" in implied  # 28 < 29


def test_a_script_without_target_sdk_targets_its_min_sdk(tmp_path: Path) -> None:
    manifest = _module(tmp_path, "defaultConfig { minSdkVersion 23 }\n")
    app = load(str(manifest))
    assert (app.manifest.min_sdk, app.manifest.target_sdk) == (23, 23)
    assert any("defaults to minSdk 23" in n for n in app.notes)


def test_given_levels_win_over_the_script_and_say_so(tmp_path: Path) -> None:
    manifest = _module(tmp_path, "defaultConfig {\n minSdk 21\n targetSdk libs.t.get()\n}\n")
    app = load(str(manifest), sdk=SdkLevels(target_sdk=34))
    assert (app.manifest.min_sdk, app.manifest.target_sdk) == (21, 34)
    assert app.sdk_origin is not None and app.sdk_origin.target_sdk == SDK_FROM_OPTION
    plain = load(str(manifest))
    assert plain.manifest.target_sdk is None
    assert any("build.gradle:3 sets it to 'libs.t.get()'" in n for n in plain.notes)


def test_given_levels_do_not_override_a_declared_uses_sdk(tmp_path: Path) -> None:
    path = tmp_path / "AndroidManifest.xml"
    path.write_text(MANIFEST.replace("<application/>", '<uses-sdk android:minSdkVersion="26" '
                                     'android:targetSdkVersion="35"/><application/>'))
    app = load(str(path), sdk=SdkLevels(target_sdk=22))
    assert app.manifest.target_sdk == 35
    assert app.sdk_origin is None
    assert any("--target-sdk 22 not used" in n for n in app.notes)


def test_uses_sdk_without_levels_keeps_them_unknown() -> None:
    data = MANIFEST.replace(
        "<application/>", '<uses-sdk xmlns:tools="http://schemas.android.com/tools" '
        'tools:overrideLibrary="x.y"/><application/>'
    ).encode()
    result = read_text_manifest(data)
    assert (result.manifest.min_sdk, result.manifest.target_sdk) == (None, None)


def test_source_sdk_without_a_script(tmp_path: Path) -> None:
    levels = source_sdk(str(tmp_path / "AndroidManifest.xml"), SdkLevels(min_sdk=24))
    assert (levels.min_sdk, levels.target_sdk) == (24, None)
    assert levels.origin.min_sdk == SDK_FROM_OPTION and levels.origin.target_sdk == SDK_UNKNOWN


@pytest.mark.parametrize("command", ["scan", "compare", "batch"])
def test_scan_compare_and_batch_take_the_levels(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from permaudit.cli import main

    manifest = _module(tmp_path, None)
    other = tmp_path / "other.xml"
    other.write_text(MANIFEST)
    args = [command, str(manifest), "--target-sdk", "28", "--min-sdk", "21"]
    if command == "compare":
        args += [str(other), "--format", "json"]
    elif command == "scan":
        args += ["--format", "json"]
    assert main(args) == 0
    out = capsys.readouterr().out
    documents = ([json.loads(line) for line in out.splitlines()] if command == "batch"
                 else [json.loads(out)])  # fmt: skip
    text = json.dumps(documents)
    assert "ACCESS_BACKGROUND_LOCATION" in text  # implied for targetSdk 28 < 29
    if command != "compare":
        entry = documents[0]["apps"][0] if command == "scan" else documents[0]
        assert (entry["min_sdk"], entry["target_sdk"]) == (21, 28)
        assert entry["sdk_origin"]["target_sdk"] == "option"


@given(st.text(max_size=2000))
def test_any_script_text_gives_levels_or_unknown(text: str) -> None:
    levels = parse_build_script(text, "b.gradle")
    for level in (levels.min_sdk, levels.target_sdk):
        if level is not None:
            assert (level.level is None) == (level.problem is not None)
            assert level.level is None or 1 <= level.level <= 10_000
