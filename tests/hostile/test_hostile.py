"""Hostile inputs through the whole CLI: one builder per class, every command and format.

To add a class, append a ``Hostile`` builder to ``BUILDERS``: a name and a function that
writes the input(s) into a directory and returns the argv tail (the input paths).
Every builder runs through every (command, format) in ``RUNS`` and must end in exit 0,
1 (check's policy failure) or 2; a failure prints exactly one ``permaudit: error:`` line;
no text output carries a control character; an ``-o`` file is complete or untouched.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import struct
import sys
import xml.dom.minidom
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from permaudit.cli import EXIT_INTERRUPTED, main

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from fixtures.axml_writer import Element, encode  # noqa: E402
from fixtures.build import apk_bytes  # noqa: E402

#: Terminal escapes (clear screen, home, OSC title, BEL), a forged report line, workflow
#: commands after a CR/LF, bidi override, zero-width, DEL, C1 NEL, Markdown/HTML syntax.
EVIL = (
    "\x1b[2J\x1b[HRisk 0/100, no findings\x1b]0;pwned\x07 <img src=x onerror=alert(1)>"
    "\r\n::error::forged\n::warning::x \u202e\u200b\ufeff\x7f\x85\x9b31m | `x` *y* "
    "[link](http://x) ![img](http://x) <h2>PASS</h2> &amp; <!-- -->"
)
#: Any control or format character: what a text output must never contain raw.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _manifest(package: str, permission: str, component: str, version: str) -> bytes:
    root = Element("manifest", {
        "package": package, "android:versionCode": 1, "android:versionName": version,
    }, [
        Element("uses-sdk", {"android:minSdkVersion": 21, "android:targetSdkVersion": 34}),
        Element("uses-permission", {"android:name": "android.permission.RECORD_AUDIO"}),
        Element("uses-permission", {"android:name": permission}),
        # The label is a header in every format: as hostile as the version name.
        Element("application", {"android:label": version}, [
            Element("receiver", {"android:name": component, "android:exported": True}, [
                Element("intent-filter", {}, [
                    Element("action", {"android:name": "android.intent.action.BOOT_COMPLETED"}),
                ]),
            ]),
        ]),
    ])
    return apk_bytes(encode(root))


class Hostile:
    """One class of hostile input: ``build(directory) -> input paths``."""

    def __init__(self, name: str, build: Callable[[Path], list[str]]) -> None:
        self.name = name
        self.build = build


def _escapes_in_names(directory: Path) -> list[str]:
    path = directory / "escapes.apk"
    path.write_bytes(_manifest(
        "com.evil.app", "android.permission.CAMERA" + EVIL, "com.evil.R" + EVIL, "1" + EVIL
    ))
    return [str(path)]


def _html_in_names(directory: Path) -> list[str]:
    path = directory / "html.apk"
    html = "<script>alert(1)</script><h2>PASS</h2>![x](http://e/x.png)"
    path.write_bytes(_manifest("com.evil.html", "x." + html, "com.evil.H" + html, html))
    return [str(path)]


def _control_chars(directory: Path) -> list[str]:
    every = "".join(chr(c) for c in range(1, 0x20)) + "\x7f" + "".join(
        chr(c) for c in range(0x80, 0xA0)
    )
    path = directory / "controls.apk"
    path.write_bytes(_manifest("com.evil.ctl", "p" + every, "com.evil.C" + every, every))
    return [str(path)]


def _hostile_file_name(directory: Path) -> list[str]:
    name = os.fsdecode(b"\xff\x1b[2J" + "\u202e".encode() + b".apk")
    path = directory / name
    path.write_bytes(_manifest("com.evil.name", "android.permission.CAMERA", "com.e.N", "1"))
    return [str(path)]


def _not_an_apk(directory: Path) -> list[str]:
    path = directory / ("broken\x1b[2J.apk")
    path.write_bytes(b"PK\x03\x04" + EVIL.encode())
    return [str(path)]


def _wrong_crc_in_a_split_set(directory: Path) -> list[str]:
    """An .apks whose member (named with escapes) and whose member's manifest have wrong
    CRCs: read as Android reads them, with tamper notes that carry the hostile name."""
    from tests.inputs.binary.test_zip64_crc import _wrong_crc, _zip

    base = _manifest("com.evil.crc", "android.permission.CAMERA", "com.e.C", "1")
    name = "base\x1b[2J\u202e.apk"
    inner = _wrong_crc(base, "AndroidManifest.xml")
    path = directory / "crc.apks"
    path.write_bytes(_wrong_crc(_zip({name: inner}, zipfile.ZIP_STORED), name))
    return [str(path)]


def _zip64(directory: Path, *, hostile: bool) -> list[str]:
    """zip64 end records (as a writer past 65535 entries leaves them); ``hostile``: the
    locator points past itself."""
    limit = zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP_FILECOUNT_LIMIT = 1  # type: ignore[misc]
    try:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("AndroidManifest.xml", zipfile.ZipFile(io.BytesIO(_manifest(
                "com.evil.z64", "android.permission.CAMERA" + EVIL, "com.e.Z", "1"
            ))).read("AndroidManifest.xml"))
            archive.writestr("x\x1b[2J", b"")
    finally:
        zipfile.ZIP_FILECOUNT_LIMIT = limit  # type: ignore[misc]
    blob = bytearray(buffer.getvalue())
    eocd = blob.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", blob, eocd + 8, 0xFFFF, 0xFFFF)
    if hostile:
        struct.pack_into("<Q", blob, eocd - 20 + 8, 2**63)
    path = directory / ("z64-bad.apk" if hostile else "z64.apk")
    path.write_bytes(bytes(blob))
    return [str(path)]


def _hostile_bundle_code(directory: Path) -> list[str]:
    """An App Bundle with a misplaced DEX and a duplicate named with escapes, and an .apks
    whose split holds a broken DEX in a nested APK in a nested APK: tamper records carrying
    the hostile names reach every format."""
    from fixtures.bundle_writer import aab, archive, split_apk, zip_bytes
    from fixtures.dex_writer import build_dex

    dex = build_dex(["Lcom/evil/A;"], ["https://evil.example.ru/" + EVIL])
    bundle = directory / "code.aab"
    bundle.write_bytes(aab(
        {"base": {"dex/classes.dex": dex, "dex/classes01.dex": dex},
         "f\x1b[2J\u202e": {"dex/classes.dex": dex}},
        extra={"base/x\x1b[2J\u202e/classes.dex": dex, "classes.dex": b"dex\n035\0"},
    ))
    nested = zip_bytes({"assets/in\x1b[2J.apk": zip_bytes({"classes.dex": b"dex\n039\0" * 9})})
    split = split_apk("evil\x1b[2J", {"assets/outer.apk": nested})
    apks = directory / "code.apks"
    apks.write_bytes(archive({"base.apk": split_apk(entries={"classes.dex": dex}),
                              "split\u202e.apk": split}))
    return [str(bundle), str(apks)]


BUILDERS: list[Hostile] = [
    Hostile("hostile-bundle-code", _hostile_bundle_code),
    Hostile("wrong-crc-split-set", _wrong_crc_in_a_split_set),
    Hostile("zip64", lambda d: _zip64(d, hostile=False)),
    Hostile("zip64-hostile", lambda d: _zip64(d, hostile=True)),
    Hostile("escapes-in-names", _escapes_in_names),
    Hostile("html-in-names", _html_in_names),
    Hostile("control-chars", _control_chars),
    Hostile("hostile-file-name", _hostile_file_name),
    Hostile("not-an-apk", _not_an_apk),
]

#: (command prefix, format): every output format of every command that reads apps.
RUNS: list[tuple[list[str], str]] = [
    *((["scan"], f) for f in ("table", "json")),
    *((["check"], f) for f in ("table", "json", "markdown", "sarif", "junit", "github")),
    *((["compare"], f) for f in ("table", "markdown", "json", "html")),
    *((["diff"], f) for f in ("table", "markdown", "json", "html")),
]
TEXT_FORMATS = {"table", "markdown", "junit", "github", "html"}


def _argv(command: list[str], fmt: str, inputs: list[str]) -> list[str]:
    if command[0] in ("compare", "diff"):
        inputs = [inputs[0], inputs[0]]  # the same app twice: still a valid comparison
    return [*command, "-f", fmt, *inputs]


def _check_output(fmt: str, text: str) -> None:
    if fmt in TEXT_FORMATS:
        assert not CONTROL.search(text), CONTROL.search(text)
    if fmt in ("json", "sarif"):
        json.loads(text)
    if fmt == "junit":
        xml.dom.minidom.parseString(text.encode("utf-8"))  # noqa: S318  (our own output)
    if fmt == "github":
        for line in text.splitlines():
            assert line.startswith("::") or not line.lstrip().startswith("::"), line
    if fmt == "markdown":
        _assert_markdown_inert(text)
    if fmt == "html":
        assert "<script>" not in text and "<h2>PASS" not in text and "<img" not in text


def _assert_markdown_inert(text: str) -> None:
    """No raw HTML, link or image outside code spans (inside one, GitHub shows it literally)."""
    prose = re.sub(r"`[^`\n]*`", "", text).replace("\\<", "").replace("\\]", "")
    for bad in ("<img", "<script", "<h2>PASS", "](http", "<!--"):
        assert bad not in prose, bad


@pytest.mark.parametrize("hostile", BUILDERS, ids=lambda h: h.name)
@pytest.mark.parametrize(("command", "fmt"), RUNS, ids=lambda v: v if isinstance(v, str) else v[0])
def test_hostile_input_renders_inert(
    hostile: Hostile, command: list[str], fmt: str, tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    inputs = hostile.build(tmp_path)
    code = main(_argv(command, fmt, inputs))
    out_b, err_b = capsysbinary.readouterr()
    out, err = out_b.decode("utf-8"), err_b.decode("utf-8")
    assert code in (0, 1, 2), err
    assert not CONTROL.search(err), err
    if code == 2:
        assert err.count("permaudit: error:") == 1, err
        assert out == ""
        return
    _check_output(fmt, out)
    # the same run into a file: complete, identical to stdout
    target = tmp_path / f"report.{fmt}"
    assert main([*_argv(command, fmt, inputs), "-o", str(target)]) == code
    capsysbinary.readouterr()
    assert target.read_bytes() == out_b


SPECIAL_TARGETS = ["/dev/null", "/dev/full", "-", "input", "symlink", "directory"]


@pytest.mark.parametrize("target", SPECIAL_TARGETS)
def test_output_to_special_targets(
    target: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    apk = _escapes_in_names(tmp_path)[0]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    real = tmp_path / "real.json"
    path = {"input": apk, "symlink": str(tmp_path / "link.json"),
            "directory": str(tmp_path)}.get(target, target)
    if target == "symlink":
        (tmp_path / "link.json").symlink_to(real)
    stat_before = os.stat(path) if path.startswith("/dev/") else None
    code = main(["scan", "-f", "json", "-o", path, apk])
    out, err = capsysbinary.readouterr()
    expected = {"/dev/null": 0, "/dev/full": 2, "-": 0, "input": 2, "symlink": 0, "directory": 2}
    assert code == expected[target], err
    if code == 2:
        assert err.decode().count("permaudit: error:") == 1
    if stat_before is not None:
        after = os.stat(path)
        assert (after.st_mode, after.st_rdev) == (stat_before.st_mode, stat_before.st_rdev)
    if target == "-":
        json.loads(out)
    if target == "symlink":
        assert (tmp_path / "link.json").is_symlink() and json.loads(real.read_bytes())
    for name, data in before.items():
        assert (tmp_path / name).read_bytes() == data  # the input is untouched
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize("command", [["scan"], ["check"], ["compare"], ["diff"]])
def test_ctrl_c(command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture[str]) -> None:
    apk = _escapes_in_names(tmp_path)[0]
    import permaudit.app as app

    def interrupt(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("no SIGINT")

    monkeypatch.setattr(app, "analyse", interrupt)
    target = tmp_path / "out.txt"
    assert main([*_argv(command, "table", [apk]), "-o", str(target)]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == "permaudit: interrupted\n"
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["escapes.apk"]
