"""The fast central-directory walk agrees with the straightforward per-entry walk it replaced."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permaudit.errors import InputError
from permaudit.inputs.binary import ziparchive, zipend
from permaudit.inputs.binary.ziparchive import (
    _CDR,
    CD_SIGNATURE,
    MANIFEST_NAME,
    ZipEntry,
    read_directory,
)
from permaudit.inputs.binary.zipdata import read_at as _read_at
from permaudit.inputs.binary.zipnames import _NOT_CONTROL, _TRAVERSAL, _looks_like_manifest, _shown
from permaudit.inputs.binary.zipnames import method_evidence as _method_evidence
from permaudit.model import TamperEvidence
from tests.conftest import corpus_files

# --- the reference: the per-entry walk as it was before the fast path (commit 0bd5c62) ---


def reference_walk(
    stream: BinaryIO,
    cd_offset: int,
    cd_size: int,
    count: int,
    wanted: frozenset[bytes],
    prefix: bytes | None,
) -> tuple[tuple[ZipEntry, ...], tuple[TamperEvidence, ...]]:
    cd = _read_at(stream, cd_offset, cd_size)
    pos = 0
    seen: set[bytes] = set()
    picked: list[ZipEntry] = []
    odd_methods: list[tuple[bytes, int]] = []
    for i in range(count):
        if pos > cd_size - _CDR.size:
            raise InputError(f"not a valid zip: central directory ends inside entry #{i}")
        record = _CDR.unpack_from(cd, pos)
        if record[0] != CD_SIGNATURE:
            raise InputError(f"not a valid zip: missing central directory signature at entry #{i}")
        name_len, extra_len, comment_len = record[10], record[11], record[12]
        start = pos + _CDR.size
        if start + name_len + extra_len > cd_size:
            raise InputError(f"not a valid zip: entry #{i} name or extra field overflows")
        local_offset = record[16]
        if local_offset >= cd_offset:
            raise InputError(f"not a valid zip: bad local header offset at entry #{i}")
        entry_name = cd[start : start + name_len]
        if b"\0" in entry_name or not reference_valid_utf8(entry_name):
            raise InputError(f"not a zip Android accepts: invalid entry name at entry #{i}")
        if entry_name in seen:
            raise InputError(
                "duplicate zip entry "
                f"{entry_name.decode(errors='replace')!r}: Android rejects such archives"
            )
        seen.add(entry_name)
        if record[4] not in (0, 8):
            odd_methods.append((entry_name, record[4]))
        if entry_name in wanted or (prefix is not None and entry_name.startswith(prefix)):
            picked.append(ZipEntry(
                name=entry_name.decode(),
                flags=record[3],
                method=record[4],
                crc32=record[7],
                compressed_size=record[8],
                uncompressed_size=record[9],
                local_header_offset=local_offset,
            ))
        pos = start + name_len + extra_len + comment_len
        if pos > cd_size:
            raise InputError(f"not a valid zip: bad central directory advance at entry #{i}")
    if _read_at(stream, 0, 4) != b"PK\x03\x04":
        raise InputError(
            "not a zip Android accepts: the file does not start with a local file header "
            "(data prepended to the archive)"
        )
    return tuple(picked), (*_method_evidence(odd_methods), *reference_name_evidence(seen))


def reference_name_evidence(names: set[bytes]) -> tuple[TamperEvidence, ...]:
    evidence = []
    if b"" in names:
        evidence.append(TamperEvidence(
            id="zip.empty_name",
            detail="an entry has an empty name; Android accepts it, extracting tools stumble",
        ))
    blob = b"\0".join(names)
    if blob.translate(None, _NOT_CONTROL):
        odd = [n for n in names if n.translate(None, _NOT_CONTROL)]
        evidence.append(TamperEvidence(
            id="zip.control_character_name",
            detail=f"entry names with control characters: {_shown(odd)}",
        ))
    if b".." in blob or b"\0/" in blob or blob.startswith(b"/") or b"\\" in blob:
        odd = [n for n in names if _TRAVERSAL.search(n)]
        if odd:
            evidence.append(TamperEvidence(
                id="zip.path_traversal",
                detail=f"entry names that climb out of the extraction directory: {_shown(odd)}; "
                       "Android never extracts by name, unpacking tools may write elsewhere",
            ))
    parents = set(map(itemgetter(0), map(bytes.rpartition, names, repeat(b"/"))))
    ancestors = set(parents)
    for parent in parents:
        while b"/" in parent:
            parent = parent.rpartition(b"/")[0]
            ancestors.add(parent)
    collisions = (ancestors & names) - {b""}
    if collisions:
        evidence.append(TamperEvidence(
            id="zip.path_collision",
            detail=f"entries that are both a file and a directory: {_shown(collisions)}; "
                   "Android reads each by its full name, extracting tools overwrite or fail",
        ))
    if blob.lower().count(MANIFEST_NAME.lower()) > (MANIFEST_NAME in names):
        lookalikes = [n for n in names if n != MANIFEST_NAME and _looks_like_manifest(n)]
        if lookalikes:
            evidence.append(TamperEvidence(
                id="zip.manifest_lookalike",
                detail=f"entries that resemble {MANIFEST_NAME.decode()}: {_shown(lookalikes)}; "
                       "Android reads only the exact name, tools that match loosely may not",
            ))
    return tuple(evidence)


def reference_valid_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- building central directories ------------------------------------------------------

BODY = b"PK\x03\x04" + bytes(60)  # where the local headers would be; only offset 0 is read


def record(
    name: bytes,
    *,
    method: int = 8,
    local_offset: int = 0,
    extra: bytes = b"",
    comment: bytes = b"",
    signature: int = CD_SIGNATURE,
    name_len: int | None = None,
) -> bytes:
    fields = (
        signature, 20, 20, 0, method, 0, 0, 0x1234, 7, 9,
        len(name) if name_len is None else name_len, len(extra), len(comment), 0, 0, 0,
        local_offset,
    )
    return _CDR.pack(*fields) + name + extra + comment


def archive(records: Iterable[bytes], *, count: int | None = None, cut: int = 0) -> bytes:
    """BODY, the records (the directory size shortened by ``cut``), the end record."""
    listed = list(records)
    cd = b"".join(listed)
    eocd = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(listed) if count is None else count,
        len(listed) if count is None else count, len(cd) - cut, len(BODY), 0,
    )
    return BODY + cd + eocd


Outcome = tuple[tuple[ZipEntry, ...], tuple[TamperEvidence, ...]] | str


def _fast_walk(
    stream: BinaryIO, cd_offset: int, cd_size: int, count: int, wanted: frozenset[bytes],
    prefix: bytes | None,
) -> tuple[tuple[ZipEntry, ...], tuple[TamperEvidence, ...]]:
    walked = ziparchive._walk(stream, cd_offset, cd_size, count, wanted, prefix)
    return walked.entries, walked.evidence


def walk_both(
    blob: bytes, names: Iterable[str] = (), prefix: str | None = None
) -> tuple[Outcome, Outcome]:
    """(reference, fast): each the walk's result, or its error message."""
    wanted = frozenset(n.encode() for n in names)
    encoded_prefix = prefix.encode() if prefix is not None else None
    end = zipend.find_central_directory(io.BytesIO(blob), len(blob))
    outcomes: list[Outcome] = []
    for walk in (reference_walk, _fast_walk):
        try:
            outcomes.append(walk(
                io.BytesIO(blob), end.cd_offset, end.cd_size, end.count, wanted, encoded_prefix
            ))
        except InputError as exc:
            outcomes.append(str(exc))
    return outcomes[0], outcomes[1]


def many(n: int) -> list[bytes]:
    return [f"res/drawable-v{i % 7}/img_{i:05}.png".encode() for i in range(n)]


# --- examples: one odd entry among thousands ------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (b"res/caf\xe9.png", "invalid entry name at entry #2500"),
        (b"res/\xed\xa0\x80.png", "invalid entry name at entry #2500"),  # UTF-8 surrogate
        (b"res/nul\0.png", "invalid entry name at entry #2500"),
        (b"res/drawable-v1/img_00008.png", r"duplicate zip entry 'res/drawable-v1/img_00008\.png'"),
    ],
)
def test_one_bad_name_among_thousands_is_reported_as_before(bad: bytes, message: str) -> None:
    names = many(5000)
    names.insert(2500, bad)
    blob = archive(record(n) for n in names)
    reference, fast = walk_both(blob, ["AndroidManifest.xml"], "META-INF/")
    assert fast == reference
    with pytest.raises(InputError, match=message):
        read_directory(io.BytesIO(blob), len(blob))


def test_split_utf8_sequence_across_two_names_is_still_two_invalid_names() -> None:
    """'\\xc3' + 'xa9' would be valid joined without a separator; each name alone is not."""
    names = [*many(10), b"a\xc3", b"\xa9b"]
    blob = archive(record(n) for n in names)
    assert walk_both(blob) == ("not a zip Android accepts: invalid entry name at entry #10",) * 2


def test_first_failing_entry_wins_between_name_and_structure_errors() -> None:
    invalid_then_broken = archive([
        *(record(n) for n in many(3)), record(b"\xff"), record(b"x", signature=0x12345678),
    ])
    assert walk_both(invalid_then_broken)[1] == (
        "not a zip Android accepts: invalid entry name at entry #3"
    )
    broken_then_duplicate = archive([
        record(b"a"), record(b"b", local_offset=len(BODY)), record(b"a"),
    ])
    assert walk_both(broken_then_duplicate)[1] == (
        "not a valid zip: bad local header offset at entry #1"
    )
    overshooting_last = archive([record(b"a"), record(b"b", comment=b"c" * 10)], cut=4)
    assert walk_both(overshooting_last) == (
        "not a valid zip: bad central directory advance at entry #1",
    ) * 2
    overshooting_then_duplicate = archive([record(b"a", comment=b"c" * 10), record(b"a")], cut=54)
    reference, fast = walk_both(overshooting_then_duplicate)
    assert fast == reference == "not a valid zip: bad central directory advance at entry #0"


def test_selection_finds_exact_names_and_prefixes_in_directory_order() -> None:
    names = [
        b"META-INF/CERT.SF", *many(300), b"x/AndroidManifest.xml", b"AndroidManifest.xml.bak",
        b"AndroidManifest.xml", b"META-INF/", b"META-INF/CERT.RSA", b"NOTMETA-INF/x",
    ]
    blob = archive(record(n, local_offset=i % 50) for i, n in enumerate(names))
    reference, fast = walk_both(blob, ["AndroidManifest.xml", "a\0b", "absent"], "META-INF/")
    assert fast == reference
    assert not isinstance(fast, str)
    assert [e.name for e in fast[0]] == [
        "META-INF/CERT.SF", "AndroidManifest.xml", "META-INF/", "META-INF/CERT.RSA",
    ]
    every = walk_both(blob, prefix="")
    assert every[1] == every[0]
    assert not isinstance(every[1], str) and len(every[1][0]) == len(names)
    nothing = walk_both(blob, ["res/drawable-v0/img_00000.png\0"], "M\0")
    assert nothing[1] == nothing[0]
    assert not isinstance(nothing[1], str) and nothing[1][0] == ()


def test_tamper_evidence_of_odd_names_matches() -> None:
    names = [
        *many(200), b"", b"ctl\x07", b"../up", b"/abs", b"a\\b", b"res/drawable-v3",
        b"./AndroidManifest.xml", b"AndroidManifest.xml",
    ]
    blob = archive(record(n, method=99 if n == b"../up" else 8) for n in names)
    reference, fast = walk_both(blob)
    assert fast == reference
    assert not isinstance(fast, str)
    assert {e.id for e in fast[1]} == {
        "zip.unknown_compression", "zip.empty_name", "zip.control_character_name",
        "zip.path_traversal", "zip.path_collision", "zip.manifest_lookalike",
    }


@pytest.mark.parametrize(
    ("odd", "evidence"),
    [
        ([b"/abs"], "zip.path_traversal"),
        ([b"/res/a.png"], "zip.path_traversal"),
        ([b"res/.."], "zip.path_traversal"),
        ([b".."], "zip.path_traversal"),
        ([b"\\abs"], "zip.path_traversal"),
        ([b"res\\..\\x.png"], "zip.path_traversal"),
        ([b"res/drawable-v2", b"res/drawable-v2/x"], "zip.path_collision"),
        ([b"top", b"top/a/b/c.png"], "zip.path_collision"),
        ([b"d/", b"d//x"], "zip.path_collision"),
        ([b"/", b"//x"], "zip.path_collision"),
    ],
)
def test_each_traversal_and_collision_shape_among_many_names(
    odd: list[bytes], evidence: str
) -> None:
    blob = archive(record(n) for n in [*many(500), *odd])
    reference, fast = walk_both(blob)
    assert fast == reference
    assert not isinstance(fast, str)
    assert evidence in {e.id for e in fast[1]}


def test_names_that_only_look_like_traversal_or_collision_are_not() -> None:
    names = [
        *many(100), b"a..b", b"res/x/..png", b"res\\x.png", b"res/drawable-v1/img_00001.png.d/x",
        b"d/",
    ]
    reference, fast = walk_both(archive(record(n) for n in names))
    assert fast == reference == ((), ())


# --- property: random central directories, valid or broken -------------------------------

VALID_PIECES = [
    b"", b"a", b"b", b"/", b".", b"..", b"\\", b"\x07", b" ", b"\xc3\xa9", b"AndroidManifest.xml",
    b"androidmanifest.XML", b"META-INF/",
]
INVALID_PIECES = [b"\0", b"\xc3", b"\xa9", b"\xff"]  # NUL, cut UTF-8 sequences


@st.composite
def directories(draw: st.DrawFn) -> bytes:
    """Mostly well-formed directories; some with bad names, a broken record or bad sizes."""
    pieces = VALID_PIECES + (INVALID_PIECES if draw(st.integers(0, 3)) == 0 else [])
    names = draw(st.lists(
        st.lists(st.sampled_from(pieces), min_size=1, max_size=5).map(b"".join),
        min_size=1, max_size=25,
    ))
    if draw(st.booleans()):  # no digit in the pieces: these stay unique, and collide with none
        names = [name + str(i).encode() for i, name in enumerate(names)]
    breakage = draw(st.sampled_from(["none", "none", "none", "signature", "offset", "overflow"]))
    broken_at = draw(st.integers(0, len(names) - 1)) if breakage != "none" else -1
    records = []
    for i, name in enumerate(names):
        broken = breakage if i == broken_at else "ok"
        records.append(record(
            name,
            method=draw(st.sampled_from([0, 8, 8, 8, 1, 99])),
            local_offset=len(BODY) if broken == "offset" else draw(st.integers(0, 9)),
            extra=b"e" * draw(st.integers(0, 3)),
            comment=b"c" * draw(st.integers(0, 3)),
            signature=0x02014B51 if broken == "signature" else CD_SIGNATURE,
            name_len=len(name) + 10_000 if broken == "overflow" else None,
        ))
    count = len(records) + draw(st.sampled_from([0, 0, 0, 0, -1, 1]))
    return archive(records, count=max(count, 1), cut=draw(st.sampled_from([0, 0, 0, 0, 1, 30])))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    directories(),
    st.lists(
        st.sampled_from(["a", "a0", "AndroidManifest.xml", "a/b1", "", "\0", "é"]), max_size=3
    ),
    st.sampled_from([None, "", "a", "META-INF/", "a/", "\0"]),
)
def test_fast_walk_agrees_with_the_reference(
    blob: bytes, names: list[str], prefix: str | None
) -> None:
    reference, fast = walk_both(blob, names, prefix)
    assert fast == reference


# --- pick: more entries from a walked directory, without a second walk ------------------


def _pick_cases() -> list[Path]:
    return [p for p in corpus_files("apk", "*.apk") if zipfile.is_zipfile(p)]


def _names_to_pick(stream: BinaryIO, size: int) -> list[str]:
    """Every third name of the archive, plus names it does not have."""
    every = read_directory(stream, size, prefix="").entries
    return [e.name for e in every[::3]] + ["not/in/the/archive.xml", ""]


@pytest.mark.parametrize("path", _pick_cases(), ids=lambda p: p.name)
def test_pick_equals_a_fresh_walk_for_those_names(path: Path) -> None:
    with path.open("rb") as stream:
        size = path.stat().st_size
        try:
            walked = read_directory(stream, size, names=("AndroidManifest.xml",))
        except InputError:
            pytest.skip("an archive Android refuses: nothing to pick from")
        names = _names_to_pick(stream, size)
        fresh = read_directory(stream, size, names=names)
    picked = walked.pick(names)
    assert picked.entries == fresh.entries
    assert picked.evidence == fresh.evidence
    assert (picked.offset, picked.size, picked.count) == (fresh.offset, fresh.size, fresh.count)
    assert walked.pick([]).entries == ()


def test_pick_reads_zip64_sizes_from_the_extra_field() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("AndroidManifest.xml", b"x")
        with out.open("big.bin", "w", force_zip64=True) as big:
            big.write(b"y" * 10)
    data = buffer.getvalue()
    walked = read_directory(io.BytesIO(data), len(data), names=("AndroidManifest.xml",))
    fresh = read_directory(io.BytesIO(data), len(data), names=("big.bin",))
    assert walked.pick(["big.bin"]).entries == fresh.entries
    assert fresh.entries[0].uncompressed_size == 10
