"""The lean DEX reader (``dex_ids``): the same answer as ``read_dex`` filtered, on every corpus
DEX and on hostile files; the code scan's evidence equal to what the full strings give."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.dex_writer import build_dex
from permaudit.inputs.binary import dex_ids
from permaudit.inputs.binary.dex import DexError, DexFile, read_dex
from permaudit.inputs.binary.dex_ids import DexIds, ids_of, marked, read_dex_ids
from permaudit.inputs.code import scan_code
from permaudit.knowledge.code_evidence import code_evidence
from permaudit.model.code import CodeScan
from tests.conftest import FIXTURES


def _corpus_dex(corpus: Path) -> Iterator[tuple[str, bytes]]:
    """Every root ``classes*.dex`` of every corpus APK (all sizes), one at a time."""
    for apk in sorted((corpus / "apk").glob("*.apk")):
        try:
            with zipfile.ZipFile(apk) as archive:
                names = [i for i in archive.infolist()
                         if "/" not in i.filename and i.filename.endswith(".dex")]
                for info in names:
                    yield f"{apk.name}!{info.filename}", archive.read(info)
        except (zipfile.BadZipFile, OSError, NotImplementedError, zlib.error):
            continue


def _lean_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the fallback to ``read_dex`` fail loudly: the lean path must have read the file."""
    def refuse(_data: bytes) -> DexFile:
        raise AssertionError("read_dex_ids fell back to read_dex")
    monkeypatch.setattr(dex_ids, "read_dex", refuse)


def _outcome(read: object, data: bytes) -> object:
    try:
        return read(data)  # type: ignore[operator]
    except DexError as exc:
        return DexError(exc.detail)


def test_corpus_lean_equals_full_filtered(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every corpus DEX: ``read_dex_ids`` equals ``read_dex`` filtered, through the lean path
    (d8 and dx lay string data out as it expects)."""
    files = 0
    for name, data in _corpus_dex(corpus):
        try:
            expected = ids_of(read_dex(data))
        except DexError:
            continue  # the malformed corpus DEX are the hostile tests' business
        with monkeypatch.context() as patch:
            _lean_only(patch)
            assert read_dex_ids(data) == expected, name
        files += 1
    assert files > 100


def test_written_dex_lean_path_and_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    strings = ["", "a", "x" * 127, "y.y" * 60, "z:" * 3000, "é.", "😀:", "\0.", "a\ud800b.",
               "plain", "." * 46, "https://vk.com/x", "tel:", "no marker é"]
    data = build_dex(["La/B;"], strings, [("La/B;", "m"), ("Landroid/app/X;", "run.now")],
                     extra_types=["[Lcom/c/D;"])
    _lean_only(monkeypatch)
    ids = read_dex_ids(data)
    assert set(ids.strings) == {s for s in [*strings, "run.now"] if marked(s)}
    assert ids.external_methods == (("Landroid/app/X;", "run.now"),)
    assert "[Lcom/c/D;" in ids.types and ids.string_count == len(read_dex(data).strings)
    monkeypatch.undo()
    assert ids == ids_of(read_dex(data))


def test_a_length_byte_equal_to_a_marker_is_no_string() -> None:
    """A 46-character string's length byte is 0x2e ('.'): found, decoded, dropped."""
    data = build_dex([], ["q" * 46, "r" * 58])
    assert read_dex_ids(data).strings == ()


def _table(data: bytes) -> tuple[int, int]:
    count, offset = struct.unpack_from("<II", data, 0x38)
    return count, offset


def _with_checksum(data: bytearray) -> bytes:
    struct.pack_into("<I", data, 8, zlib.adler32(data[12:]))
    return bytes(data)


def test_other_layouts_are_read_by_read_dex(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two string ids swapped (data no longer in id order): the fallback reads it, same answer."""
    data = bytearray(build_dex(["La/B;"], ["k.one", "k.two", "zz"]))
    count, offset = _table(bytes(data))
    ids = list(struct.unpack_from(f"<{count}I", data, offset))
    ids[0], ids[-1] = ids[-1], ids[0]
    struct.pack_into(f"<{count}I", data, offset, *ids)
    swapped = _with_checksum(data)
    calls = []
    real = dex_ids.read_dex
    monkeypatch.setattr(dex_ids, "read_dex", lambda d: calls.append(1) or real(d))
    assert _outcome(read_dex_ids, swapped) == _outcome(lambda d: ids_of(read_dex(d)), swapped)
    assert calls == [1]


def test_method_ids_out_of_class_order_are_filtered_one_by_one() -> None:
    """method_ids not sorted by class (the format requires it): the per-method mask path."""
    data = bytearray(build_dex(["La/B;"], [], [("La/B;", "own"), ("Lx/Y;", "go"),
                                               ("Lz/Z;", "run")]))
    count, offset = struct.unpack_from("<II", data, 0x58)
    items = [data[offset + 8 * i:offset + 8 * i + 8] for i in range(count)]
    data[offset:offset + 8 * count] = b"".join(reversed(items))
    shuffled = _with_checksum(data)
    ids = read_dex_ids(shuffled)
    assert ids.external_methods == (("Lz/Z;", "run"), ("Lx/Y;", "go"))
    assert ids == ids_of(read_dex(shuffled))


def test_repeated_offsets_fall_back_with_bounded_work() -> None:
    """1,000 string ids sharing one 16,000-byte marked string: not the lean layout, read by
    ``read_dex``, which decodes a repeated offset once (one str, not a copy per id)."""
    count = 1_000
    ids_off = 0x70
    data_off = ids_off + 4 * count
    text = b"A." * 8000
    item = bytes((0x80 | len(text) & 0x7F, len(text) >> 7)) + text + b"\0"
    size = data_off + len(item)
    head = struct.pack("<8sI20sIII" + "I" * 17, b"dex\n035\0", 0, b"\0" * 20, size, 0x70,
                       0x12345678, 0, 0, 0, count, ids_off, *([0] * 12))
    data = head + struct.pack("<I", data_off) * count + item
    ids = read_dex_ids(data)
    assert ids.strings == (text.decode(),) * count and ids.string_count == count
    assert len({id(s) for s in ids.strings}) == 1


@pytest.mark.parametrize(("mutate", "message"), [
    # a marked string whose length byte says 9 for 8 characters
    (lambda d: d.replace(b"\x08k.marked\0", b"\x09k.marked\0"), "UTF-16 units"),
    # a marked string with a 4-byte UTF-8 form
    (lambda d: d.replace(b"k.marked", b"k.\xf0\x9f\x98\x80ed"), "not MUTF-8"),
    # a type descriptor with bad MUTF-8
    (lambda d: d.replace(b"La/B;", b"La/\xc3;"), "MUTF-8"),
    # the last string runs off the file
    (lambda d: d[:d.rindex(b"zz") + 2], "past the end|runs off"),
])
def test_hostile_strings_evidence_reads_are_errors(mutate: object, message: str) -> None:
    data = build_dex(["La/B;"], ["k.marked", "zz"], [("Lx/Y;", "m")])
    bad = mutate(data)  # type: ignore[operator]
    bad = _with_checksum(bytearray(bad))[:len(bad)]
    if len(bad) < len(data):  # truncated: keep file_size honest so the strings are at fault
        buf = bytearray(bad)
        struct.pack_into("<I", buf, 32, len(buf))
        bad = _with_checksum(buf)
    with pytest.raises(DexError, match=message):
        read_dex_ids(bad)


def test_hostile_method_index_is_an_error() -> None:
    data = bytearray(build_dex(["La/B;"], [], [("Lx/Y;", "m")]))
    methods_off = struct.unpack_from("<I", data, 0x5C)[0]
    struct.pack_into("<I", data, methods_off + 4, 0xFFFF)
    with pytest.raises(DexError, match="method_ids"):
        read_dex_ids(_with_checksum(data))


def test_malformed_unused_string_is_what_the_lean_path_does_not_see() -> None:
    """The documented difference: a bad string no evidence reads (no marker, no type, no
    external method name) makes ``read_dex`` refuse the file; ``read_dex_ids`` reads the rest."""
    data = _with_checksum(bytearray(build_dex(["La/B;"], ["k.marked", "unused"]).replace(
        b"\x06unused\0", b"\x07unused\0")))
    with pytest.raises(DexError, match="UTF-16 units"):
        read_dex(data)
    assert read_dex_ids(data).strings == ("k.marked",)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_dex_lean_never_disagrees(data: st.DataObject) -> None:
    """Flip bytes anywhere past the header: a ``DexError`` or a result; when ``read_dex``
    reads the file, ``read_dex_ids`` gives its filtered answer."""
    dex = bytearray(build_dex(["La/B;", "Lc/D;"], ["hello.x", "é:", "x." * 100, "", "w:x", "q"],
                              [("Lx/Y;", "go.on"), ("La/B;", "own")]))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0x38, len(dex) - 1))
        dex[at] = data.draw(st.integers(0, 255))
    mutated = _with_checksum(dex)
    full = _outcome(lambda d: ids_of(read_dex(d)), mutated)
    lean = _outcome(read_dex_ids, mutated)
    if isinstance(full, DexIds):
        assert lean == full
    else:
        assert isinstance(lean, (DexIds, DexError))


# --- the whole code scan: lean vs every string ----------------------------------------------

def _every_string(data: bytes) -> DexIds:
    return ids_of(read_dex(data), keep=lambda _text: True)


def _both_scans(path: Path) -> tuple[CodeScan, CodeScan]:
    blob = path.read_bytes()
    scans = []
    for read in (read_dex_ids, _every_string):
        scans.append(scan_code([("", io.BytesIO(blob), len(blob))], read=read))
    return scans[0], scans[1]


def _apks_with_dex(root: Path) -> list[Path]:
    found = []
    for apk in sorted(root.glob("*.apk")):
        try:
            with zipfile.ZipFile(apk) as archive:
                if any(n.endswith(".dex") for n in archive.namelist()):
                    found.append(apk)
        except (zipfile.BadZipFile, OSError):
            continue
    return found


def _assert_same_evidence(path: Path) -> tuple[int, int]:
    """Lean and full scans of ``path`` agree; their string counts."""
    lean, full = _both_scans(path)
    assert lean.strings == tuple(s for s in full.strings if marked(s)), path.name
    for name in ("dex", "defined_classes", "referenced_classes", "external_methods",
                 "native_libraries", "tamper", "notes"):
        assert getattr(lean, name) == getattr(full, name), (path.name, name)
    assert code_evidence(lean) == code_evidence(full), path.name
    return len(lean.strings), len(full.strings)


def test_corpus_code_evidence_equals_the_full_strings(corpus: Path) -> None:
    apks = _apks_with_dex(corpus / "apk")
    assert len(apks) > 50
    counts = [_assert_same_evidence(apk) for apk in apks]
    # not vacuous: most apps have marked strings, and the lean scan keeps far fewer
    assert sum(1 for lean, _ in counts if lean) > 50
    assert sum(lean for lean, _ in counts) * 4 < sum(full for _, full in counts)


@pytest.mark.parametrize("apk", _apks_with_dex(FIXTURES / "apk"), ids=lambda p: p.stem)
def test_messenger_fixtures_code_evidence_equals_the_full_strings(apk: Path) -> None:
    _assert_same_evidence(apk)
