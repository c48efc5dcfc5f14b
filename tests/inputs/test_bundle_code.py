"""Code evidence of split sets and App Bundles: every member's and module's DEX, read once.

Fixtures come from ``fixtures/bundle_writer.py`` (and ``dex_writer.py``); the corpus bundles
are checked against ``dexdump`` (skipped when it is not installed) over the DEX entries an
independent reader (Python's ``zipfile``) picks by bundletool's layout rules.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from fixtures.bundle_writer import aab, archive, split_apk, zip_bytes
from fixtures.dex_writer import build_dex
from permaudit.inputs import code as codemod
from permaudit.inputs.binary.dex import java_name
from permaudit.inputs.loader import load, load_inputs
from permaudit.model import App
from tests.conftest import corpus_files


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _tamper(app: App, prefix: str = "dex.") -> list[str]:
    return [t.id for t in app.tamper if t.id.startswith(prefix)]


# --- split sets ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["apks", "xapk", "apkm"])
def test_every_member_of_an_archive_is_read_once(tmp_path: Path, kind: str) -> None:
    base = split_apk(entries={"classes.dex": build_dex(["Lcom/my/tracker/A;"])})
    feature = split_apk("feature", {"classes.dex": build_dex(["Lru/ok/tracer/T;"]),
                                    "lib/arm64-v8a/libf.so": b"\x7fELF"})
    config = split_apk("config.en")
    app = load(_write(tmp_path, f"set.{kind}", archive(
        {"base.apk": base, "feature.apk": feature, "config.en.apk": config}, kind)))
    assert app.code is not None
    assert app.code.defined_classes == ("com.my.tracker.A", "ru.ok.tracer.T")
    assert [d.path for d in app.code.dex] == ["base.apk!classes.dex", "feature.apk!classes.dex"]
    assert [n.path for n in app.code.native_libraries] == ["feature.apk!lib/arm64-v8a/libf.so"]
    (note,) = [n for n in app.notes if n.startswith("DEX read from")]
    assert note == (f"DEX read from every APK of the .{kind} archive (3): base.apk (1 DEX), "
                    "feature.apk (1 DEX); 1 other with no DEX read")
    assert load(_write(tmp_path, f"nocode.{kind}", archive({"base.apk": base})),
                code=False).code is None


def test_a_failing_member_is_named_and_the_rest_reported(tmp_path: Path) -> None:
    base = split_apk(entries={"classes.dex": build_dex(["La/A;"])})
    broken = split_apk("feature", {"classes.dex": b"dex\n035\0" + b"\0" * 8})
    app = load(_write(tmp_path, "set.apks", archive({"base.apk": base, "feature.apk": broken})))
    assert app.code is not None and app.code.defined_classes == ("a.A",)
    (record,) = [t for t in app.tamper if t.id == "dex.unreadable"]
    assert record.member == "feature.apk" and "feature.apk!classes.dex" in record.detail


def test_loose_splits_and_a_directory_of_splits_read_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "splits"
    folder.mkdir()
    _write(folder, "base.apk", split_apk(entries={"classes.dex": build_dex(["La/A;"])}))
    _write(folder, "split_f.apk", split_apk("f", {"classes2.dex": build_dex(["Lf/F;"])}))
    for inputs in ([str(folder)], [str(folder / "base.apk"), str(folder / "split_f.apk")]):
        (app,) = load_inputs(inputs)
        assert app.code is not None and app.code.defined_classes == ("a.A", "f.F")
        notes = [n for n in app.notes if "DEX" in n]
        assert notes == ["DEX read from every APK of the set of split APKs (2): base.apk "
                         "(1 DEX), split_f.apk (1 DEX)"]


def test_dex_in_a_nested_apk_in_a_nested_apk_in_a_split_set(tmp_path: Path) -> None:
    innermost = zip_bytes({"classes.dex": build_dex(["Ldeep/D;"])})
    middle = zip_bytes({"assets/inner.apk": innermost})
    feature = split_apk("feature", {"assets/plugin.apk": middle})
    base = split_apk(entries={"classes.dex": build_dex(["La/A;"])})
    app = load(_write(tmp_path, "set.apks", archive({"base.apk": base, "feature.apk": feature})))
    assert app.code is not None
    assert app.code.defined_classes == ("a.A", "deep.D")
    assert app.code.dex[-1].path == (
        "feature.apk!assets/plugin.apk!assets/inner.apk!classes.dex")


# --- App Bundles --------------------------------------------------------------------------


def test_every_module_dex_lib_and_nested_archive(tmp_path: Path) -> None:
    nested = zip_bytes({"classes.dex": build_dex(["Lplug/P;"])})
    bundle = aab({
        "base": {"dex/classes.dex": build_dex(["La/A;"]), "dex/classes2.dex":
                 build_dex(["La/B;"]), "lib/x86_64/liba.so": b"\x7fELF" * 4},
        "feature": {"dex/classes.dex": build_dex(["Lf/F;"]), "assets/p/plugin.apk": nested},
        "pack": {"assets/big.bin": b"\0" * 16},
    })
    app = load(_write(tmp_path, "app.aab", bundle))
    assert app.code is not None
    assert app.code.defined_classes == ("a.A", "a.B", "f.F", "plug.P")
    assert [d.path for d in app.code.dex] == [
        "base/dex/classes.dex", "base/dex/classes2.dex", "feature/dex/classes.dex",
        "feature/assets/p/plugin.apk!classes.dex"]
    assert [(n.path, n.abi, n.size) for n in app.code.native_libraries] == [
        ("base/lib/x86_64/liba.so", "x86_64", 16)]
    assert "DEX read from the app bundle's modules with code entries (2): base (2 DEX), " \
           "feature (2 DEX)" in app.notes
    assert not _tamper(app)


def test_misplaced_dex_is_tamper_evidence_and_not_read(tmp_path: Path) -> None:
    """bundletool: top-level files are skipped (AppBundle.extractModules), classes*.dex under
    root/ is a reserved name and dex/ may not hold directories (BundleFilesValidator)."""
    bundle = aab({"base": {"dex/classes.dex": build_dex(["La/A;"])}}, extra={
        "classes.dex": build_dex(["Ltop/T;"]),
        "base/root/classes.dex": build_dex(["Lroot/R;"]),
        "base/dex/sub/classes2.dex": build_dex(["Lsub/S;"]),
        "base/classes3.dex": build_dex(["Lmod/M;"]),
        "base/assets/classes.dex": build_dex(["Lasset/X;"]),  # an asset: not code, not odd
    })
    app = load(_write(tmp_path, "app.aab", bundle))
    assert app.code is not None and app.code.defined_classes == ("a.A",)
    (record,) = [t for t in app.tamper if t.id == "dex.misplaced"]
    for name in ("classes.dex (outside", "base/root/classes.dex (under root/",
                 "base/dex/sub/classes2.dex (in a subdirectory", "base/classes3.dex (not"):
        assert name in record.detail
    assert "assets" not in record.detail
    assert record.detail.startswith("4 classes*.dex where bundletool does not take DEX code")


def test_same_dex_twice_in_a_module(tmp_path: Path) -> None:
    """DexFilesValidator: indices 1, 2, ... each once; classes02.dex is index 2 too."""
    bundle = aab({"base": {"dex/classes.dex": build_dex(["La/A;"]),
                           "dex/classes2.dex": build_dex(["La/B;"]),
                           "dex/classes02.dex": build_dex(["La/C;"])}})
    app = load(_write(tmp_path, "app.aab", bundle))
    (record,) = [t for t in app.tamper if t.id == "dex.duplicate"]
    assert "base/dex/classes2.dex and base/dex/classes02.dex" in record.detail
    assert record.member == "base"
    assert app.code is not None and app.code.defined_classes == ("a.A", "a.B", "a.C")


def test_classes1_is_renamed_not_a_duplicate_and_gaps_are_noted(tmp_path: Path) -> None:
    """ClassesDexNameSanitizer: classes1.dex -> classes2.dex, classes2 -> classes3, ..."""
    renamed = aab({"base": {"dex/classes.dex": build_dex(), "dex/classes1.dex": build_dex(),
                            "dex/classes2.dex": build_dex()}})
    app = load(_write(tmp_path, "renamed.aab", renamed))
    assert not _tamper(app) and not any("numbered" in n for n in app.notes)
    gap = aab({"base": {"dex/classes.dex": build_dex(), "dex/classes3.dex": build_dex()}})
    app = load(_write(tmp_path, "gap.aab", gap))
    assert any(n.startswith("module base: dex/ is not numbered") for n in app.notes)


def test_ten_thousand_tiny_dex_entries_are_bounded(tmp_path: Path) -> None:
    tiny = build_dex()
    files = {f"dex/classes{i}.dex": tiny for i in range(2, 10_001)}
    files["dex/classes.dex"] = tiny
    path = _write(tmp_path, "many.aab", aab({"base": files}))
    start = time.perf_counter()
    app = load(path)
    elapsed = time.perf_counter() - start
    assert app.code is not None and len(app.code.dex) == codemod.MAX_DEX_FILES
    (record,) = [t for t in app.tamper if t.id == "dex.too_many"]
    assert record.detail.startswith(f"{10_000 - codemod.MAX_DEX_FILES} classes*.dex entries")
    assert len(app.tamper) < 10 and len(app.notes) < 10
    assert elapsed < 30, elapsed  # bounded work: a few seconds on a loaded 2-core machine


def test_bundle_code_notes_and_tamper_reach_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from permaudit.cli import main

    bundle = aab({"base": {"dex/classes.dex": build_dex(["La/A;"])}},
                 extra={"base/root/classes.dex": build_dex(["Lroot/R;"])})
    path = _write(tmp_path, "app.aab", bundle)
    assert main(["scan", "-f", "json", path]) in (0, 1)
    document = json.loads(capsys.readouterr().out)
    text = json.dumps(document.get("apps", [document]))
    assert "DEX read from the app bundle's modules" in text
    assert "dex.misplaced" in text and "tamper.code" in text
    assert main(["scan", path]) in (0, 1)
    report = " ".join(capsys.readouterr().out.split())
    assert "DEX read from the app bundle's modules with code entries (1): base (1 DEX)" in report
    assert "base/root/classes.dex" in report


# --- the corpus against dexdump ----------------------------------------------------------

_DEX = re.compile(r"classes\d*\.dex")
_NESTED = re.compile(r"assets/.+\.(?:apk|jar|zip)", re.IGNORECASE)


def _oracle_dex(path: Path) -> dict[str, bytes]:
    """The DEX entries of a corpus bundle as bundletool/the installer take them, by zipfile."""
    found: dict[str, bytes] = {}
    with zipfile.ZipFile(path) as outer:
        if path.suffix == ".aab":
            for name in outer.namelist():
                parts = name.split("/")
                if len(parts) == 3 and parts[1] == "dex" and _DEX.fullmatch(parts[2]):
                    found[name] = outer.read(name)
            return found
        for member in [n for n in outer.namelist() if n.endswith(".apk")]:
            _apk_dex(outer.read(member), f"{member}!", found)
    return found


def _apk_dex(data: bytes, prefix: str, found: dict[str, bytes]) -> None:
    """Root classes*.dex of an APK, and of archives nested under its assets/ (recursively)."""
    with zipfile.ZipFile(io.BytesIO(data)) as apk:
        for name in apk.namelist():
            if _DEX.fullmatch(name):
                found[prefix + name] = apk.read(name)
            elif _NESTED.fullmatch(name):
                inner = apk.read(name)
                if inner.startswith(b"PK"):
                    _apk_dex(inner, f"{prefix}{name}!", found)


@pytest.mark.parametrize(
    "path", [*corpus_files("bundles", "*.aab"), *corpus_files("bundles", "*.apks"),
             *corpus_files("bundles", "*.xapk")], ids=lambda p: p.name,
)
def test_corpus_bundle_classes_equal_dexdump(path: Path, tmp_path: Path) -> None:
    if shutil.which("dexdump") is None:
        pytest.skip("dexdump is not installed (apt-get install -y dexdump)")
    app = load(str(path))
    assert app.code is not None
    expected = _oracle_dex(path)
    assert sorted(d.path for d in app.code.dex) == sorted(expected)
    classes: set[str] = set()
    for name, data in expected.items():
        dex = tmp_path / "c.dex"
        dex.write_bytes(data)
        out = subprocess.run(["dexdump", str(dex)], capture_output=True, text=True,
                             errors="surrogateescape", check=False).stdout
        found = [line.split("'")[1] for line in out.splitlines()
                 if line.startswith("  Class descriptor  : '")]
        (summary,) = [d for d in app.code.dex if d.path == name]
        assert summary.class_defs == len(found), name
        classes.update(n for n in map(java_name, found) if n is not None)
    assert app.code.defined_classes == tuple(sorted(classes))
    assert not _tamper(app)


def test_a_broken_dex_two_archives_deep_in_a_split_is_named(tmp_path: Path) -> None:
    nested = zip_bytes({"assets/in.apk": zip_bytes({"classes.dex": b"dex\n039\0" * 9})})
    split = split_apk("feature", {"assets/outer.apk": nested})
    base = split_apk(entries={"classes.dex": build_dex(["La/A;"])})
    app = load(_write(tmp_path, "set.apks", archive({"base.apk": base, "feature.apk": split})))
    (record,) = [t for t in app.tamper if t.id == "dex.unreadable"]
    assert record.member == "feature.apk"
    assert record.detail.startswith("feature.apk!assets/outer.apk!assets/in.apk!classes.dex ")
    assert app.code is not None and app.code.defined_classes == ("a.A",)
