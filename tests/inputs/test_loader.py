"""Input kinds by content, directory arguments, loose split APKs, and errors before output.

Every corpus file under bundles/ has its expected outcome here (kind, package, number of
splits); the single-APK path is checked not to import the heavy readers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from permaudit.cli import main
from permaudit.errors import InputError
from permaudit.inputs.loader import expand_inputs, load, load_inputs
from tests.conftest import REPO, corpus_dir, corpus_files

#: Expected outcome of every corpus bundle file: kind, package, number of APKs/modules.
BUNDLE_OUTCOMES = {
    "AppManager_v2.5.22.apks": ("apks", "io.github.muntashirakon.AppManager", 27),
    "bundletool-install-time-permanent-modules.aab": (
        "aab",
        "com.google.android.samples.dynamicfeatures.ondemand",
        4,
    ),
    "bundletool-watch-face-from-tool.aab": ("aab", "com.watchfacestudio.testinstall", 2),
    "derived-dynamicfeatures.ondemand.xapk": (
        "xapk",
        "com.google.android.samples.dynamicfeatures.ondemand",
        3,
    ),
    # Loose APKs read alone are plain APKs; together they are one app (see below).
    "dynamicfeatures.ondemand-base.apk": (
        "apk",
        "com.google.android.samples.dynamicfeatures.ondemand",
        0,
    ),
    "dynamicfeatures.ondemand-split_config.en.apk": (
        "apk",
        "com.google.android.samples.dynamicfeatures.ondemand",
        0,
    ),
    "dynamicfeatures.ondemand-split_config.hdpi.apk": (
        "apk",
        "com.google.android.samples.dynamicfeatures.ondemand",
        0,
    ),
}
LOOSE = sorted(p for p in corpus_files("bundles", "dynamicfeatures.ondemand-*.apk"))


@pytest.mark.parametrize("path", corpus_files("bundles"), ids=lambda p: p.name)
def test_every_corpus_bundle_file_has_its_outcome(path: Path) -> None:
    kind, package, splits = BUNDLE_OUTCOMES[path.name]
    app = load(str(path), digest=True)
    assert (app.input.kind, app.manifest.package, len(app.splits)) == (kind, package, splits)
    assert app.input.path == str(path)
    assert app.input.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_kind_is_decided_by_content_not_extension(corpus: Path, tmp_path: Path) -> None:
    cases = {
        "apk/a2dp.Vol_137.apk": ("manifest.txt", "apk"),
        "bundles/bundletool-watch-face-from-tool.aab": ("bundle.zip", "aab"),
        "bundles/AppManager_v2.5.22.apks": ("am.apk", "apks"),
        "manifests/WireGuard-AndroidManifest.xml": ("wg.apk", "xml"),
        "axml/appmanager-HMS_Core_AndroidManifest.bin.xml": ("hms.apk", "axml"),
    }
    for source, (name, kind) in cases.items():
        target = tmp_path / name
        shutil.copyfile(corpus / source, target)
        assert load(str(target)).input.kind == kind, source


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\x03 some binary junk" * 10, "unknown input kind"),
        (b"%PDF-1.7\n", "unknown input kind"),
        (b"PK\x03\x04" + b"\x00" * 40, "not a zip file"),
    ],
    ids=["empty", "junk", "pdf", "truncated-zip"],
)
def test_broken_inputs_give_one_line_naming_the_file(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "input.apk"
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        load(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message


def test_zip_that_is_neither_apk_nor_bundle(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "docs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.md", "hello")
    with pytest.raises(InputError, match=re.escape("no AndroidManifest.xml in the archive")):
        load(str(path))


# --- directories ----------------------------------------------------------------------------


def _tree(corpus: Path, tmp_path: Path) -> Path:
    root = tmp_path / "inputs"
    (root / "nested").mkdir(parents=True)
    shutil.copyfile(corpus / "apk" / "a2dp.Vol_137.apk", root / "b.apk")
    shutil.copyfile(corpus / "manifests" / "WireGuard-AndroidManifest.xml", root / "a.xml")
    shutil.copyfile(corpus / "apk" / "apksig-debuggable-boolean.apk", root / "nested" / "c.apk")
    (root / "README.md").write_text("not an input\n")
    (root / "page.html").write_text("<html><body>not a manifest</body></html>\n")
    return root


def test_directory_expands_to_supported_files_in_sorted_order(corpus: Path, tmp_path: Path) -> None:
    root = _tree(corpus, tmp_path)
    assert expand_inputs([str(root)]) == [str(root / "a.xml"), str(root / "b.apk")]
    assert expand_inputs([str(root)], recursive=True) == [
        str(root / "a.xml"),
        str(root / "b.apk"),
        str(root / "nested" / "c.apk"),
    ]
    named = str(root / "README.md")  # a file named on the command line is kept as given
    assert expand_inputs([named, str(root / "nested")]) == [named, str(root / "nested" / "c.apk")]


def test_directory_with_nothing_to_scan(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    (tmp_path / "sub").mkdir()
    with pytest.raises(InputError, match=re.escape("nothing to scan")) as info:
        expand_inputs([str(tmp_path)])
    assert str(info.value).startswith(f"{tmp_path}: ")
    assert "--recursive" in str(info.value)


def test_loose_splits_in_a_directory_are_one_app(corpus: Path, tmp_path: Path) -> None:
    for path in LOOSE:
        shutil.copyfile(path, tmp_path / path.name)
    (app,) = load_inputs([str(tmp_path)])
    base = tmp_path / "dynamicfeatures.ondemand-base.apk"
    assert (app.input.kind, app.input.path) == ("splits", str(base))
    assert [(s.name, s.kind) for s in app.splits] == [
        ("base", "base"),
        ("config.en", "config"),
        ("config.hdpi", "config"),
    ]
    assert app.manifest == load(str(base)).manifest  # config splits add nothing
    assert any("permissions come from the base manifest" in n for n in app.notes)


def test_loose_splits_named_on_the_command_line_join_their_base(corpus: Path) -> None:
    apps = load_inputs([str(p) for p in reversed(LOOSE)])
    assert [(a.input.kind, len(a.splits)) for a in apps] == [("splits", 3)]


def test_split_without_its_base_is_an_error(corpus: Path) -> None:
    split = [p for p in LOOSE if "split_config" in p.name]
    with pytest.raises(InputError, match=re.escape("without its base APK")) as info:
        load_inputs([str(p) for p in split])
    assert str(info.value).startswith(str(split[0]))


def test_two_builds_of_one_app_stay_two_apps(corpus: Path) -> None:
    paths = [str(corpus / "apk" / "apksig-debuggable-boolean.apk")] * 2
    assert [a.input.kind for a in load_inputs(paths)] == ["apk", "apk"]


# --- CLI ------------------------------------------------------------------------------------


def test_one_bad_input_fails_before_any_report(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "empty.apk"
    bad.write_bytes(b"")
    good = corpus / "bundles" / "AppManager_v2.5.22.apks"
    code = main(["scan", "--format", "json", str(good), str(bad)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"permaudit: error: {bad}: empty file\n"


def test_scan_a_directory_recursively(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(corpus, tmp_path)
    assert main(["scan", "--format", "json", "--recursive", str(root)]) == 0
    apps = json.loads(capsys.readouterr().out)["apps"]
    assert [(a["input"]["kind"], a["package"]) for a in apps] == [
        ("xml", "unknown.namespace"),
        ("apk", "a2dp.Vol"),
        ("apk", "android.appsecurity.cts.tinyapp"),
    ]
    assert main(["scan", "--format", "json", str(root)]) == 0
    assert len(json.loads(capsys.readouterr().out)["apps"]) == 2


def test_compare_takes_bundles_and_manifests(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "compare",
            "--format",
            "json",
            str(corpus / "bundles" / "bundletool-watch-face-from-tool.aab"),
            str(corpus / "manifests" / "Conversations-AndroidManifest.xml"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "com.watchfacestudio.testinstall" in captured.out


def test_single_apk_path_does_not_import_the_other_readers(corpus: Path) -> None:
    script = (
        "import sys\n"
        "from permaudit.inputs.loader import load\n"
        f"load({str(corpus / 'apk' / 'a2dp.Vol_137.apk')!r})\n"
        "heavy = ['google.protobuf', 'xml.parsers.expat', 'zipfile', 'tempfile',\n"
        "         'permaudit.inputs.splits', 'permaudit.inputs.aab',\n"
        "         'permaudit.inputs.text_manifest', 'permaudit.inputs.binary.protoxml']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == ""


def test_a_broken_app_file_in_a_directory_is_an_error_not_skipped(tmp_path: Path) -> None:
    good = corpus_dir() / "bundles" / "dynamicfeatures.ondemand-base.apk"
    if not good.is_file():
        pytest.skip("corpus not found")
    (tmp_path / "app.apk").write_bytes(good.read_bytes())
    (tmp_path / "broken.apk").write_bytes(good.read_bytes()[:3000])
    (tmp_path / "notes.txt").write_text("not an app\n")
    with pytest.raises(InputError) as info:
        load_inputs([str(tmp_path)])
    assert info.value.path == str(tmp_path / "broken.apk")
    (tmp_path / "broken.apk").unlink()
    assert [app.input.path for app in load_inputs([str(tmp_path)])] == [str(tmp_path / "app.apk")]


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def test_fifo_named_apk_in_a_directory_is_an_error_naming_it(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "evil.apk")
    with pytest.raises(InputError, match="not a regular file") as caught:
        expand_inputs([str(tmp_path)])
    assert caught.value.path == str(fifo)


def test_dangling_symlink_named_apk_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "gone.apk").symlink_to(tmp_path / "missing")
    with pytest.raises(InputError, match="dangling symlink"):
        expand_inputs([str(tmp_path)], recursive=True)


def test_fifo_given_as_an_apk_does_not_block(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "pipe.apk")
    with pytest.raises(InputError, match="not a regular file"):
        load(str(fifo))  # open() would block forever waiting for a writer


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable directories")
@pytest.mark.parametrize("recursive", [False, True])
def test_unreadable_directory_is_an_error_naming_it(tmp_path: Path, recursive: bool) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        target = tmp_path if recursive else locked
        with pytest.raises(InputError, match=r"denied|cannot list") as caught:
            expand_inputs([str(target)], recursive=recursive)
        assert caught.value.path == str(locked)
    finally:
        locked.chmod(0o755)


def test_unlistable_directory_is_an_error_even_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    real = os.scandir

    def deny(path: object = ".") -> object:
        if str(path) == str(sub):
            raise PermissionError(13, "Permission denied", str(sub))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", deny)
    with pytest.raises(InputError, match="cannot list directory") as caught:
        expand_inputs([str(tmp_path)], recursive=True)
    assert caught.value.path == str(sub)
