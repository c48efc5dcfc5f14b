"""Code scan of an archive: every classes*.dex, nested APKs, splits, bounds, corrupt DEX."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fixtures.dex_writer import build_dex
from permaudit.inputs import code as codemod
from permaudit.inputs.code import scan_code
from permaudit.model.code import MethodRef


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("AndroidManifest.xml", b"\0" * 8)
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def _scan(data: bytes) -> codemod.CodeScan:
    return scan_code([("", io.BytesIO(data), len(data))])


def test_defined_referenced_methods_strings_native() -> None:
    apk = _zip({
        "classes.dex": build_dex(["Lcom/my/tracker/A;"], ["https://tracker-api.vk-analytics.ru/"],
                                 [("Landroid/media/AudioRecord;", "startRecording"),
                                  ("Lcom/my/tracker/A;", "go")]),
        "classes2.dex": build_dex(["Lru/ok/tracer/T;"]),
        "lib/arm64-v8a/libx.so": b"\x7fELF",
    })
    scan = _scan(apk)
    assert [d.path for d in scan.dex] == ["classes.dex", "classes2.dex"]
    assert scan.defined_classes == ("com.my.tracker.A", "ru.ok.tracer.T")
    assert "android.media.AudioRecord" in scan.referenced_classes
    assert "java.lang.Object" in scan.referenced_classes
    assert scan.external_methods == (MethodRef(class_descriptor="Landroid/media/AudioRecord;",
                                               name="startRecording"),)
    assert "https://tracker-api.vk-analytics.ru/" in scan.strings
    assert list(scan.strings) == sorted(set(scan.strings))
    assert [(n.abi, n.size) for n in scan.native_libraries] == [("arm64-v8a", 4)]
    assert not scan.tamper


def test_corrupt_dex_is_one_tamper_record_and_the_rest_is_read() -> None:
    apk = _zip({"classes.dex": build_dex(["La/A;"]), "classes2.dex": b"dex\n035\0" + b"\0" * 8})
    scan = _scan(apk)
    assert scan.defined_classes == ("a.A",)
    (tamper,) = scan.tamper
    assert tamper.id == "dex.unreadable" and "classes2.dex" in tamper.detail


def test_checksum_mismatch_and_unloaded_numbering() -> None:
    bad = bytearray(build_dex(["La/A;"]))
    bad[8] ^= 0xFF
    scan = _scan(_zip({"classes.dex": bytes(bad), "classes3.dex": build_dex(["Lb/B;"])}))
    assert [t.id for t in scan.tamper] == ["dex.checksum"]
    assert any("classes3.dex" in n and "does not load" in n for n in scan.notes)


def test_nested_apks_to_bounded_depth() -> None:
    inner = _zip({"classes.dex": build_dex(["Ldeep/D;"])})
    for _ in range(codemod.MAX_DEPTH):
        inner = _zip({"assets/p.apk": inner})
    apk = _zip({"classes.dex": build_dex(["La/A;"]), "assets/plugin.apk": inner})
    scan = _scan(apk)
    assert "deep.D" not in scan.defined_classes
    assert any("deeper than" in n for n in scan.notes)
    shallow = _zip({"assets/x.apk": _zip({"assets/y.apk": _zip({"classes.dex":
                                                              build_dex(["Ln/N;"])})})})
    scan = _scan(shallow)
    assert scan.defined_classes == ("n.N",)
    assert scan.dex[0].path == "assets/x.apk!assets/y.apk!classes.dex"


def test_many_tiny_dex_entries_are_capped() -> None:
    tiny = build_dex()
    entries = {f"classes{i}.dex": tiny for i in range(2, codemod.MAX_DEX_FILES + 50)}
    entries["classes.dex"] = tiny
    scan = _scan(_zip(entries))
    assert len(scan.dex) == codemod.MAX_DEX_FILES
    # One tamper record for all that were skipped, never one note per entry.
    (too_many,) = [t for t in scan.tamper if t.id == "dex.too_many"]
    assert too_many.detail.startswith("49 classes*.dex entries not read")
    assert "and 44 more" in too_many.detail
    assert not any("not read" in n for n in scan.notes)


def test_split_set_order_and_member_names() -> None:
    base = _zip({"classes.dex": build_dex(["La/A;"])})
    split = _zip({"classes.dex": build_dex(["Lf/F;"])})
    scan = scan_code([("", io.BytesIO(base), len(base)),
                      ("split_f.apk", io.BytesIO(split), len(split))])
    assert scan.defined_classes == ("a.A", "f.F")
    assert [d.path for d in scan.dex] == ["classes.dex", "split_f.apk!classes.dex"]


def test_an_unreadable_dex_is_the_apps_tamper_evidence_and_fires_tamper_code(
    tmp_path: Path,
) -> None:
    """A DEX declaring 2^31 strings in 10 KB: refused in O(1), reported, the rest read."""
    import struct

    from permaudit.android.platform import platform_for
    from permaudit.engine import evaluate
    from permaudit.inputs.loader import load
    from permaudit.rules.ruleset import load_ruleset

    fake = bytearray(0x70 + 10_000)
    fake[0:8] = b"dex\n035\0"
    struct.pack_into("<III", fake, 32, len(fake), 0x70, 0x12345678)
    struct.pack_into("<II", fake, 0x38, 0x7FFFFFFF, 0x70)
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "apk" / "max-25.8.1.apk"
    apk = tmp_path / "fake-dex.apk"
    with zipfile.ZipFile(fixture) as source, zipfile.ZipFile(apk, "w") as out:
        for info in source.infolist():
            data = bytes(fake) if info.filename == "classes.dex" else source.read(info)
            out.writestr(info.filename, data)
    app = load(str(apk))
    assert [t.id for t in app.tamper if t.id.startswith("dex.")] == ["dex.unreadable"]
    assert app.manifest.package == "ru.oneme.app"  # the rest of the report still comes out
    report = evaluate(app, load_ruleset([]), platform_for(36))
    assert "tamper.code" in {f.rule for f in report.findings}
    assert report.code_evidence is not None
    assert "could be read" in report.code_evidence.notes[0]
