"""The DEX id-table reader: against dexdump and androguard on the corpus, and hostile DEX."""

from __future__ import annotations

import contextlib
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures.dex_writer import build_dex, mutf8
from permaudit.inputs.binary import dex as dexmod
from permaudit.inputs.binary.dex import DexError, decode_mutf8, java_name, read_dex

#: DEX files above this size are left to the benchmark: androguard takes ~0.7 s per MB.
ORACLE_MAX = 1_500_000


def _corpus_dex(corpus: Path) -> list[tuple[str, bytes]]:
    found = []
    for apk in sorted((corpus / "apk").glob("*.apk")):
        try:
            with zipfile.ZipFile(apk) as archive:
                for info in archive.infolist():
                    name = info.filename
                    if "/" not in name and name.endswith(".dex") and info.file_size <= ORACLE_MAX:
                        found.append((f"{apk.name}!{name}", archive.read(info)))
        except (zipfile.BadZipFile, OSError, NotImplementedError, zlib.error):
            continue
    return found


def test_corpus_defined_classes_equal_dexdump(corpus: Path, tmp_path: Path) -> None:
    if shutil.which("dexdump") is None:
        pytest.skip("dexdump is not installed")
    files = _corpus_dex(corpus)
    assert files
    for name, data in files:
        ours = read_dex(data)
        path = tmp_path / "c.dex"
        path.write_bytes(data)
        out = subprocess.run(["dexdump", str(path)], capture_output=True, text=True,
                             errors="surrogateescape", check=False).stdout
        theirs = [line.split("'")[1] for line in out.splitlines()
                  if line.startswith("  Class descriptor  : '")]
        assert [ours.types[t] for t in ours.class_defs] == theirs, name


def test_corpus_strings_equal_androguard(corpus: Path) -> None:
    dex_mod = pytest.importorskip("androguard.core.dex")
    files = _corpus_dex(corpus)
    for name, data in files:
        ours = read_dex(data)
        theirs = dex_mod.DEX(data)
        assert set(ours.strings) == set(theirs.get_strings()), name


def test_written_dex_round_trips() -> None:
    data = build_dex(["Lcom/my/tracker/A;"], ["https://vk.com/x", "é😀\0"],
                     [("Landroid/media/AudioRecord;", "startRecording")])
    parsed = read_dex(data)
    assert parsed.checksum_ok and parsed.version == "035"
    assert "é😀\0" in parsed.strings
    assert [parsed.types[t] for t in parsed.class_defs] == ["Lcom/my/tracker/A;"]
    ((cls, name),) = parsed.methods
    assert (parsed.types[cls], parsed.strings[name]) == ("Landroid/media/AudioRecord;",
                                                          "startRecording")


@pytest.mark.parametrize("text", ["", "abc", "é", "\0", "日本", "😀", "a\ud800b", "\udc00"])
def test_mutf8_round_trip(text: str) -> None:
    assert decode_mutf8(mutf8(text)) == text


def test_mutf8_specifics() -> None:
    assert decode_mutf8(b"\xc0\x80") == "\0"
    assert decode_mutf8(b"\xed\xa0\xbd\xed\xb8\x80") == "😀"  # a surrogate pair joins
    for bad in (b"\xf0\x9f\x98\x80", b"\xc3", b"\xe6\x97", b"\x80", b"\xc1\x81", b"\xff"):
        with pytest.raises(DexError, match="MUTF-8"):
            decode_mutf8(bad)


def test_java_name() -> None:
    assert java_name("Lcom/a/B;") == "com.a.B"
    assert java_name("[[Lcom/a/B;") == "com.a.B"
    assert java_name("I") is None


def _patch(data: bytes, offset: int, fmt: str, *values: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    struct.pack_into("<I", out, 8, zlib.adler32(out[12:]))
    return bytes(out)


BASE = build_dex(["La/B;"], ["hello"], [("La/B;", "m")])


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d[:0x40], "shorter than"),
    (lambda d: b"dey\n" + d[4:], "not a DEX"),
    (lambda d: d[:4] + b"034" + d[7:], "version"),
    (lambda d: _patch(d, 40, "<I", 0x78563412), "byte-swapped"),
    (lambda d: _patch(d, 40, "<I", 1), "endian_tag"),
    (lambda d: _patch(d, 36, "<I", 0x80), "header_size"),
    (lambda d: _patch(d, 32, "<I", len(d) + 1), "past the end"),
    (lambda d: d[:-8], "past the end"),
    (lambda d: _patch(d, 56, "<I", 0x3FFFFFFF), "string_ids"),
    (lambda d: _patch(d, 64, "<I", 0xFFFFFFF), "type_ids"),
    (lambda d: _patch(d, 88, "<I", 0xFFFFFFF0), "method_ids"),
    (lambda d: _patch(d, 96, "<I", 0x7FFFFFF), "class_defs"),
    (lambda d: _patch(d, 60, "<I", 0x71), "aligned"),
    (lambda d: _patch(d, 0x70, "<I", 0xFFFFFF), "outside the file"),
])
def test_hostile_headers(mutate: object, message: str) -> None:
    with pytest.raises(DexError, match=message):
        read_dex(mutate(BASE))  # type: ignore[operator]


@pytest.mark.parametrize("count_at", [56, 64, 88, 96])
def test_empty_table_offset_is_not_looked_at(count_at: int) -> None:
    """A table of 0 items whose offset points past the file (a struct.error before)."""
    data = _patch(BASE, count_at, "<II", 0, 0x10070)
    with contextlib.suppress(DexError):  # e.g. a type naming a string no longer there
        read_dex(data)


def test_checksum_mismatch_is_evidence_not_failure() -> None:
    data = bytearray(BASE)
    data[8] ^= 1
    assert read_dex(bytes(data)).checksum_ok is False


def test_string_running_off_the_file() -> None:
    body = bytearray(BASE)
    end = body.rindex(b"hello") + 5
    # Turn every byte from the string to the end into non-NUL: no terminator in the file.
    for i in range(end, len(body)):
        body[i] = 0x41
    with pytest.raises(DexError, match=r"runs off|length|past"):
        read_dex(bytes(body))


def test_repeated_string_offsets_bounded_work() -> None:
    """16,000 string ids naming one 16,000-byte string: it is scanned once, not 16,000 times."""
    count = 16_000
    ids_off = 0x70
    data_off = ids_off + 4 * count
    text = b"A" * count
    item = bytes((0x80 | count & 0x7F, count >> 7)) + text + b"\0"
    size = data_off + len(item)
    head = struct.pack("<8sI20sIII" + "I" * 17, b"dex\n035\0", 0, b"\0" * 20, size, 0x70,
                       0x12345678, 0, 0, 0, count, ids_off, *([0] * 12))
    data = head + struct.pack("<I", data_off) * count + item
    scanned = [0]

    class Counting(bytes):
        def find(self, sub, start=0, end=None):  # type: ignore[no-untyped-def, override]
            at = bytes.find(self, sub, start, len(self) if end is None else end)
            scanned[0] += (at if at >= 0 else len(self)) - start
            return at

    parsed = read_dex(Counting(data))
    assert len(parsed.strings) == count and parsed.strings[0] == "A" * count
    assert scanned[0] <= 2 * len(data)


def test_uleb_truncated() -> None:
    assert dexmod.uleb128(b"\x81\x01", 0, 2, 0) == (129, 2)
    with pytest.raises(DexError, match="ULEB128"):
        dexmod.uleb128(b"\x80\x80", 0, 2, 0)


def test_writer_output_passes_dexdump(tmp_path: Path) -> None:
    if shutil.which("dexdump") is None:
        pytest.skip("dexdump is not installed")
    path = tmp_path / "w.dex"
    path.write_bytes(build_dex(["Lcom/my/tracker/A;", "Lru/ok/tracer/T;"], ["https://ok.ru/"],
                               [("Landroid/media/AudioRecord;", "startRecording")]))
    run = subprocess.run(["dexdump", str(path)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert "Class descriptor  : 'Lru/ok/tracer/T;'" in run.stdout


def _string_table(data: bytes) -> tuple[int, tuple[int, ...]]:
    count, offset = struct.unpack_from("<II", data, 0x38)
    return len(data), struct.unpack_from(f"<{count}I", data, offset)


def _both_ways(data: bytes) -> tuple[object, object]:
    """What the bulk path and the one-by-one path say about ``data``'s strings."""
    size, offsets = _string_table(data)
    try:
        each: object = dexmod._strings_each(data, size, offsets)
    except DexError as exc:
        each = type(exc)
    try:
        bulk: object = dexmod._strings_contiguous(data, size, offsets)
    except DexError as exc:
        bulk = type(exc)
    return bulk, each


def test_bulk_strings_take_the_fast_path_and_equal_the_one_by_one_decoder() -> None:
    strings = ["", "a", "x" * 127, "y" * 128, "z" * 5000, "é", "😀", "\0", "a\ud800b", "mixé"]
    data = build_dex(["La/B;"], strings, [("La/B;", "m")])
    bulk, each = _both_ways(data)
    assert bulk is not None, "the writer lays strings out like d8: the bulk path applies"
    assert bulk == each
    assert set(strings) <= set(bulk)  # type: ignore[arg-type]


def test_corpus_bulk_strings_equal_the_one_by_one_decoder(corpus: Path) -> None:
    for name, data in _corpus_dex(corpus):
        bulk, each = _both_ways(data)
        assert bulk is None or bulk == each, name


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_string_data_bulk_never_disagrees(data: st.DataObject) -> None:
    """Flip bytes in the string data: the bulk path gives the same strings or steps aside."""
    dex_bytes = bytearray(build_dex(["La/B;"], ["hello", "é", "x" * 200, "", "world"]))
    _, offsets = _string_table(bytes(dex_bytes))
    low, high = min(offsets), len(dex_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(low, high - 1))
        dex_bytes[at] = data.draw(st.integers(0, 255))
    bulk, each = _both_ways(bytes(dex_bytes))
    if bulk is not None:
        assert bulk == each
