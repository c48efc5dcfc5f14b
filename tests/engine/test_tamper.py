"""Tamper evidence: each trick Android reads through gives Android's manifest plus evidence;
each trick Android rejects stays a clear error; hostile inputs end in bounded time and memory.
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from permaudit.android.attributes import ANDROID_NS
from permaudit.android.platform import platform_for
from permaudit.engine import evaluate
from permaudit.errors import InputError, ManifestError
from permaudit.inputs.apk import load
from permaudit.inputs.binary import axml
from permaudit.inputs.binary.axml import MAX_DEPTH, MAX_ELEMENTS, decode_axml
from permaudit.inputs.binary.xmltree import TYPE_INT_DEC, TYPE_STRING
from permaudit.inputs.binary.ziparchive import MAX_ENTRY_SIZE
from permaudit.inputs.manifest import parse_manifest
from permaudit.inputs.signing.schemes import V2_BLOCK_ID, V3_BLOCK_ID, V31_BLOCK_ID, read_signing
from permaudit.model import App, Manifest
from permaudit.rules.ruleset import load_ruleset
from tests.inputs.binary.test_axml import (
    MAX_SDK_ID,
    NAME_ID,
    NO,
    STRINGS,
    S,
    document,
    end,
    pool,
    res_map,
    start,
)
from tests.inputs.binary.test_ziparchive import NAME, Entry, deflate, make_zip
from tests.inputs.signing.test_schemes import (
    apk_with,
    certificate,
    scheme_block,
    signer,
    signing_block,
)

CAMERA = "android.permission.CAMERA"
PERMISSION = (S[ANDROID_NS], S["name"], S[CAMERA], TYPE_STRING, S[CAMERA])


def namespace(kind: int) -> bytes:
    """START_NAMESPACE (0x100) or END_NAMESPACE (0x101) for the android URI (no prefix)."""
    return struct.pack("<HHIIIII", kind, 16, 24, 1, NO, NO, S[ANDROID_NS])


def manifest_doc(*, strings: list[str] = STRINGS, first: bytes | None = None,
                 perm: bytes | None = None, extra: bytes = b"", after: bytes = b"",
                 outer_type: int = 3) -> bytes:
    """<manifest package=com.example.app><uses-permission android:name=CAMERA/></manifest>."""
    return document(
        first if first is not None else pool(strings),
        res_map([NAME_ID, MAX_SDK_ID]),
        namespace(0x100),
        start(S["manifest"], [(NO, S["package"], S["com.example.app"], TYPE_STRING,
                               S["com.example.app"])]),
        perm if perm is not None else start(S["uses-permission"], [PERMISSION], line=2),
        extra,
        end(S["uses-permission"]),
        end(S["manifest"]),
        namespace(0x101),
        after,
        outer_type=outer_type,
    )


CLEAN = manifest_doc()


def write(tmp_path: Path, blob: bytes, name: str = "in.apk") -> str:
    path = tmp_path / name
    path.write_bytes(blob)
    return str(path)


def load_blob(tmp_path: Path, blob: bytes) -> App:
    return load(write(tmp_path, blob))


def ids(app: App) -> list[str]:
    return [e.id for e in app.tamper]


def permissions(manifest: Manifest) -> list[str]:
    return [p.name for p in manifest.uses_permissions]


@pytest.fixture(scope="module")
def clean_manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    app = load(write(tmp_path_factory.mktemp("clean"), make_zip([Entry(NAME, CLEAN)])))
    assert app.tamper == ()
    assert permissions(app.manifest) == [CAMERA]
    return app.manifest


# --- zip tricks Android installs ------------------------------------------------------------


def test_unknown_compression_method_is_read_as_stored(tmp_path: Path, clean_manifest: Manifest
                                                      ) -> None:
    app = load_blob(tmp_path, make_zip([Entry(NAME, CLEAN, method=99)]))
    assert app.manifest == clean_manifest
    assert ids(app) == ["zip.unknown_compression"]
    assert "Android opens the manifest as stored data" in app.tamper[0].detail


def test_local_header_method_differs_android_uses_the_central_one(
    tmp_path: Path, clean_manifest: Manifest
) -> None:
    blob = bytearray(make_zip([Entry(NAME, CLEAN, method=8, stored=deflate(CLEAN))]))
    struct.pack_into("<H", blob, 8, 0)  # the local header now says "stored"
    app = load_blob(tmp_path, bytes(blob))
    assert app.manifest == clean_manifest
    assert ids(app) == ["zip.header_mismatch"]
    assert "compression method 0 locally, 8 centrally" in app.tamper[0].detail


def test_fake_encryption_flag_is_ignored_like_android(tmp_path: Path, clean_manifest: Manifest
                                                      ) -> None:
    app = load_blob(tmp_path, make_zip([Entry(NAME, CLEAN, method=8, stored=deflate(CLEAN),
                                              flags=0x1)]))
    assert app.manifest == clean_manifest
    assert ids(app) == ["zip.encrypted_flag"]


def test_really_encrypted_manifest_is_an_input_error(tmp_path: Path) -> None:
    secret = bytes(range(7, 255, 3)) * 8
    with pytest.raises(InputError, match=r"AndroidManifest\.xml is encrypted"):
        load_blob(tmp_path, make_zip([Entry(NAME, secret, method=8, stored=secret, flags=0x1)]))


@pytest.mark.parametrize(
    ("others", "evidence"),
    [
        (["", "res/a.png"], "zip.empty_name"),
        (["res", "res/a.png"], "zip.path_collision"),
        (["lib/x", "lib/x/y/z.so"], "zip.path_collision"),
        (["../../evil.sh"], "zip.path_traversal"),
        (["/etc/evil"], "zip.path_traversal"),
        (["assets/x\r"], "zip.control_character_name"),
        (["androidmanifest.xml"], "zip.manifest_lookalike"),
        (["./AndroidManifest.xml"], "zip.manifest_lookalike"),
    ],
)
def test_entry_name_tricks(tmp_path: Path, clean_manifest: Manifest, others: list[str],
                           evidence: str) -> None:
    entries = [Entry(NAME, CLEAN), *(Entry(name, b"decoy") for name in others)]
    app = load_blob(tmp_path, make_zip(entries))
    assert app.manifest == clean_manifest
    assert ids(app) == [evidence]


def test_ordinary_names_give_no_evidence(tmp_path: Path) -> None:
    names = ["res/", "res/a.png", "META-INF/MANIFEST.MF", "lib/arm64-v8a/libx.so", "a..b.txt"]
    app = load_blob(tmp_path, make_zip([Entry(NAME, CLEAN), *(Entry(n, b"1") for n in names)]))
    assert app.tamper == ()


def test_bytes_between_directory_and_end_record(tmp_path: Path, clean_manifest: Manifest
                                                ) -> None:
    blob = make_zip([Entry(NAME, CLEAN)])
    app = load_blob(tmp_path, blob[:-22] + b"hidden" + blob[-22:])
    assert app.manifest == clean_manifest
    assert ids(app) == ["zip.gap_before_eocd"]


def test_second_end_record_in_the_comment(tmp_path: Path, clean_manifest: Manifest) -> None:
    blob = bytearray(make_zip([Entry(NAME, CLEAN)]))
    fake = bytes(blob[-22:])  # same directory, no comment: Android's backward scan picks it
    struct.pack_into("<H", blob, len(blob) - 2, 22)
    app = load_blob(tmp_path, bytes(blob) + fake)
    assert app.manifest == clean_manifest
    # The real record now sits between the directory and the one Android uses.
    assert ids(app) == ["zip.gap_before_eocd", "zip.multiple_eocd"]


# --- zip tricks Android rejects ------------------------------------------------------------


@pytest.mark.parametrize(
    ("blob", "error", "message"),
    [
        # CdEntryMapZip32::AddToMap: kDuplicateEntry, whichever entry is duplicated.
        (make_zip([Entry(NAME, CLEAN), Entry(NAME, b"<decoy/>")]), InputError,
         "duplicate zip entry 'AndroidManifest.xml'"),
        # FindEntry: no data descriptor and sizes differ: kInconsistentInformation.
        (make_zip([Entry(NAME, CLEAN, local_sizes=(10, 10))]), InputError,
         "differ between the local header and the central directory"),
        # The Janus check: the archive must start with a local header.
        (make_zip([Entry(NAME, CLEAN)], prefix=b"dex\n035\0"), InputError, "local file header"),
        # Inflated size must equal the declared one (zip_archive::Inflate).
        (make_zip([Entry(NAME, CLEAN, method=8, stored=deflate(CLEAN),
                         declared_size=len(CLEAN) + 4, local_sizes=None)]),
         ManifestError, "not the declared"),
    ],
)
def test_zip_tricks_android_rejects_stay_errors(tmp_path: Path, blob: bytes,
                                                error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        load_blob(tmp_path, blob)


# --- AXML tricks Android reads through -----------------------------------------------------


def _replace_pool(strings: list[str], patch: bytes, at: int) -> bytes:
    chunk = bytearray(pool(strings))
    chunk[at : at + len(patch)] = patch
    return bytes(chunk)


def _resized(doc: bytes) -> bytes:
    """``doc`` with its outer size set to its length."""
    return doc[:4] + struct.pack("<I", len(doc)) + doc[8:]


def _loaded(tmp_path: Path, doc: bytes) -> App:
    return load_blob(tmp_path, make_zip([Entry(NAME, doc)]))


def test_outer_chunk_type_changed(tmp_path: Path, clean_manifest: Manifest) -> None:
    app = _loaded(tmp_path, manifest_doc(outer_type=0x0000))
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.chunk_type"]


def test_declared_document_size_smaller_than_the_data(tmp_path: Path,
                                                      clean_manifest: Manifest) -> None:
    hidden = start(S["uses-permission"], [PERMISSION]) + end(S["uses-permission"])
    app = _loaded(tmp_path, CLEAN + hidden)
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.trailing_data"]


def test_tampered_string_pool_count_hides_strings_from_android(tmp_path: Path) -> None:
    # stringCount one lower than the offset table: the CAMERA string (last) is not a
    # string for Android, so the uses-permission has no name and is dropped.
    first = _replace_pool(STRINGS, struct.pack("<I", len(STRINGS) - 1), 8)
    app = _loaded(tmp_path, manifest_doc(first=first))
    assert permissions(app.manifest) == []
    assert [e.tag for e in app.manifest.ignored] == ["uses-permission"]
    assert ids(app) == ["axml.string_pool_count", "axml.bad_string"]


def test_oversized_string_reads_as_missing(tmp_path: Path) -> None:
    chunk = pool(STRINGS)
    (offset,) = struct.unpack_from("<I", chunk, 28 + 4 * S[CAMERA])
    first = _replace_pool(STRINGS, struct.pack("<H", 0x7FFF), 28 + 4 * len(STRINGS) + offset)
    app = _loaded(tmp_path, manifest_doc(first=first))
    assert permissions(app.manifest) == []
    assert ids(app) == ["axml.bad_string"]


def test_data_hidden_in_a_node_is_skipped(tmp_path: Path, clean_manifest: Manifest) -> None:
    node = bytearray(start(S["uses-permission"], [PERMISSION], line=2) + b"\xde\xad\xbe\xef" * 4)
    struct.pack_into("<I", node, 4, len(node))
    app = _loaded(tmp_path, manifest_doc(perm=bytes(node)))
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.data_between_elements"]


def test_unknown_chunk_between_nodes(tmp_path: Path, clean_manifest: Manifest) -> None:
    junk = struct.pack("<HHI", 0x0777, 16, 24) + b"\0" * 16
    app = _loaded(tmp_path, manifest_doc(extra=junk))
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.unknown_chunk"]


def test_attribute_layout_other_than_20_is_honoured(tmp_path: Path,
                                                    clean_manifest: Manifest) -> None:
    perm = start(S["uses-permission"], [PERMISSION], line=2, attr_size=24)
    app = _loaded(tmp_path, manifest_doc(perm=perm))
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.attribute_layout"]


def test_tag_in_the_android_namespace_is_read_by_its_bare_name(
    tmp_path: Path, clean_manifest: Manifest
) -> None:
    node = bytearray(start(S["uses-permission"], [PERMISSION], line=2))
    struct.pack_into("<I", node, 16, S[ANDROID_NS])  # element namespace
    app = _loaded(tmp_path, manifest_doc(perm=bytes(node)))
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.namespaced_tag"]


def test_prefixed_tag_name_is_not_a_uses_permission(tmp_path: Path) -> None:
    strings = [*STRINGS, "android:uses-permission"]
    perm = start(len(STRINGS), [PERMISSION], line=2)
    app = _loaded(tmp_path, manifest_doc(strings=strings, perm=perm))
    assert permissions(app.manifest) == []
    assert ids(app) == ["axml.namespaced_tag"]


@pytest.mark.parametrize("lie", ["", "label", "android:name"])
def test_attribute_name_that_lies_about_its_id(tmp_path: Path, lie: str) -> None:
    strings = [lie, *STRINGS[1:]]
    app = _loaded(tmp_path, manifest_doc(strings=strings))
    assert permissions(app.manifest) == [CAMERA]  # Android reads android:name by its id
    assert ids(app) == ["axml.attribute_name"]


def test_android_attribute_without_resource_id_is_ignored(tmp_path: Path) -> None:
    strings = [*STRINGS, "name"]  # a second "name" string beyond the resource map
    attr = (S[ANDROID_NS], len(STRINGS), S[CAMERA], TYPE_STRING, S[CAMERA])
    app = _loaded(tmp_path, manifest_doc(strings=strings,
                                         perm=start(S["uses-permission"], [attr], line=2)))
    assert permissions(app.manifest) == []
    assert ids(app) == ["axml.attribute_without_id"]


def test_attributes_out_of_id_order_hide_one_from_android(tmp_path: Path) -> None:
    attrs = [(S[ANDROID_NS], S["maxSdkVersion"], NO, TYPE_INT_DEC, 22), PERMISSION]
    app = _loaded(tmp_path, manifest_doc(perm=start(S["uses-permission"], attrs, line=2)))
    assert permissions(app.manifest) == []  # the merge walk never reaches android:name
    assert ids(app) == ["axml.attribute_order"]


def test_several_string_pools_android_uses_the_last(tmp_path: Path) -> None:
    decoy = [*STRINGS]
    decoy[S["com.example.app"]] = "com.decoy.app"
    first = pool(decoy) + pool(STRINGS)
    app = _loaded(tmp_path, manifest_doc(first=first))
    assert app.manifest.package == "com.example.app"
    assert ids(app) == ["axml.multiple_string_pools"]


def test_malformed_chunk_after_the_root(tmp_path: Path, clean_manifest: Manifest) -> None:
    zero = struct.pack("<HHI", 0x101, 16, 0) + b"\0" * 16  # a zero-sized END_NAMESPACE
    app = _loaded(tmp_path, manifest_doc(after=zero))
    assert app.manifest == clean_manifest
    assert ids(app) == ["axml.invalid_after_root"]


def test_standalone_binary_manifest_carries_evidence_too(tmp_path: Path) -> None:
    app = load(write(tmp_path, manifest_doc(outer_type=0x0000), "AndroidManifest.xml"))
    assert app.input.kind == "axml"
    assert app.signing is None
    assert ids(app) == ["axml.chunk_type"]


# --- AXML tricks Android rejects -----------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        # ResXMLTree::setTo: size larger than the data is "Bad XML block".
        (CLEAN[:4] + struct.pack("<I", len(CLEAN) + 64) + CLEAN[8:], "larger than the data"),
        # ResStringPool::setTo: the offset table must fit in the pool.
        (manifest_doc(first=_replace_pool(STRINGS, struct.pack("<I", 0x7FFFFFF0), 8)),
         "extend past its size"),
        # validate_chunk: a node whose size runs past the document.
        (_resized(CLEAN[:-48] + struct.pack("<HHI", 0x103, 16, 4096) + b"\0" * 16),
         "runs past the end"),
    ],
)
def test_axml_tricks_android_rejects_stay_errors(tmp_path: Path, doc: bytes, message: str
                                                 ) -> None:
    with pytest.raises(ManifestError, match=message):
        _loaded(tmp_path, doc)


# --- findings ------------------------------------------------------------------------------


def test_each_trick_becomes_a_tamper_finding(tmp_path: Path) -> None:
    blob = bytearray(make_zip([Entry(NAME, manifest_doc(outer_type=0)), Entry("", b"x")]))
    app = load_blob(tmp_path, bytes(blob))
    report = evaluate(app, load_ruleset(), platform_for(35))
    tamper = sorted((f.rule, f.subject, f.category) for f in report.findings
                    if f.category == "tamper")
    assert tamper == [("tamper.archive", "zip.empty_name", "tamper"),
                      ("tamper.manifest", "axml.chunk_type", "tamper")]


# --- hostile inputs: bounded time and memory -----------------------------------------------


def test_zip_bomb_ratio_stops_at_the_cap_with_bounded_memory(tmp_path: Path) -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    stored = bomb.compress(b"\0" * (MAX_ENTRY_SIZE + 4096)) + bomb.flush()
    path = write(tmp_path, make_zip([Entry(NAME, b"", method=8, stored=stored,
                                           declared_size=1000)]))
    tracemalloc.start()
    try:
        with pytest.raises(ManifestError, match="inflates beyond"):
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(stored) < MAX_ENTRY_SIZE // 500  # a ratio above 500:1
    assert peak < 3 * MAX_ENTRY_SIZE


def test_absurd_element_count_is_an_error() -> None:
    child = start(1) + end(1)
    doc = document(pool(["manifest", "x"]), start(0), child * MAX_ELEMENTS, end(0))
    with pytest.raises(ManifestError, match=f"more than {MAX_ELEMENTS} elements"):
        decode_axml(doc)


def test_deepest_accepted_nesting_reads_without_recursion(tmp_path: Path) -> None:
    nodes = [start(S["manifest"], [(NO, S["package"], S["com.example.app"], TYPE_STRING,
                                    S["com.example.app"])])]
    nodes += [start(S["uses-permission"])] * (MAX_DEPTH - 1) + [end(0)] * MAX_DEPTH
    app = _loaded(tmp_path, document(pool(STRINGS), res_map([NAME_ID]), *nodes))
    assert app.manifest.package == "com.example.app"
    with pytest.raises(ManifestError, match="nests deeper"):
        decode_axml(document(pool(STRINGS), *nodes[:1], start(0), *nodes[1:]))


def test_string_pool_count_larger_than_the_file() -> None:
    huge = _replace_pool(STRINGS, struct.pack("<I", 0xFFFFFFF0), 8)
    with pytest.raises(ManifestError, match="extend past its size"):
        axml.parse_axml(manifest_doc(first=huge))


def test_signing_block_with_endless_entries_is_bounded() -> None:
    pairs = [(0x42424242 + i, b"") for i in range(5000)]
    blob = apk_with(signing_block(pairs))
    info, _ = read_signing(io.BytesIO(blob), len(blob))
    assert info.schemes == ()
    assert any("more than 256 entries" in p for p in info.problems)
    ok = apk_with(signing_block([(V2_BLOCK_ID, b"\0\0\0\0"), *pairs[:10]]))
    assert any("v2 signature block is malformed" in p
               for p in read_signing(io.BytesIO(ok), len(ok))[0].problems)


# --- property tests: random chunk streams and signing blocks -------------------------------

KNOWN_EVIDENCE = {
    "axml.chunk_type", "axml.trailing_data", "axml.string_pool_count", "axml.bad_string",
    "axml.multiple_string_pools", "axml.multiple_resource_maps", "axml.unknown_chunk",
    "axml.data_between_elements", "axml.attribute_layout", "axml.invalid_after_root",
    "axml.namespaced_tag", "axml.namespace_undeclared", "axml.attribute_name",
    "axml.attribute_without_id", "axml.attribute_order",
}
_INDEX = st.one_of(st.integers(0, len(STRINGS) + 2), st.just(NO), st.integers(0, 2**32 - 1))
_ATTR = st.tuples(_INDEX, _INDEX, _INDEX, st.sampled_from([TYPE_STRING, TYPE_INT_DEC, 0, 1, 0x12]),
                  st.integers(0, 2**32 - 1))
_CHUNK = st.one_of(
    st.builds(lambda tag, attrs, size: start(tag, attrs, attr_size=size),
              _INDEX, st.lists(_ATTR, max_size=4), st.sampled_from([20, 24])),
    st.builds(end, _INDEX),
    st.builds(lambda kind: namespace(kind), st.sampled_from([0x100, 0x101])),
    st.builds(lambda kind, body: struct.pack("<HHI", kind, 16, 16 + 4 * len(body))
              + b"".join(struct.pack("<I", b) for b in body),
              st.integers(0, 0xFFFF), st.lists(st.integers(0, 2**32 - 1), max_size=4)),
    st.builds(lambda ids: res_map(ids), st.lists(st.sampled_from([NAME_ID, MAX_SDK_ID, 0]),
                                                 max_size=4)),
    st.builds(lambda strings, utf8: pool(strings, utf8=utf8),
              st.lists(st.text(max_size=8), max_size=6), st.booleans()),
    st.binary(max_size=24),
)


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(_CHUNK, max_size=12), outer=st.sampled_from([3, 0, 0x0777]),
       tail=st.binary(max_size=8))
def test_random_chunk_streams_decode_or_fail_cleanly(chunks: list[bytes], outer: int,
                                                     tail: bytes) -> None:
    doc = document(pool(STRINGS), *chunks, outer_type=outer) + tail
    try:
        decoded = decode_axml(doc)
    except ManifestError:
        return
    assert {e.id for e in decoded.evidence} <= KNOWN_EVIDENCE
    try:
        parse_manifest(decoded.root, with_lines=False)
    except ManifestError:
        return


_PAIR_VALUE = st.one_of(
    st.binary(max_size=64),
    st.builds(lambda certs: scheme_block(signer(certs)),
              st.lists(st.sampled_from([certificate("p"), b"\x30\x00", b""]), max_size=2)),
    st.builds(lambda low, high: scheme_block(signer([certificate("q")], (low, high))),
              st.integers(0, 40), st.integers(0, 40)),
)


@settings(max_examples=150, deadline=None)
@given(pairs=st.lists(st.tuples(st.sampled_from([V2_BLOCK_ID, V3_BLOCK_ID, V31_BLOCK_ID, 7]),
                                _PAIR_VALUE), max_size=5),
       flips=st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)), max_size=3))
def test_random_signing_blocks_never_raise(pairs: list[tuple[int, bytes]],
                                           flips: list[tuple[int, int]]) -> None:
    block = bytearray(signing_block(pairs))
    for offset, value in flips:
        if offset < len(block) - 24:  # keep the footer so the block is looked at
            block[offset] = value
    blob = apk_with(bytes(block))
    info, _ = read_signing(io.BytesIO(blob), len(blob))
    assert set(info.schemes) <= {"v2", "v3", "v3.1"}
    assert all(s.certificates for s in info.signers)


def test_huge_central_directory_is_refused_before_reading_it(tmp_path: Path) -> None:
    from permaudit.inputs.binary.ziparchive import MAX_CENTRAL_DIRECTORY

    size = MAX_CENTRAL_DIRECTORY + 1
    path = tmp_path / "sparse.apk"
    with open(path, "wb") as handle:  # a hole, then an end record claiming it is all directory
        handle.write(b"PK\x03\x04")
        handle.truncate(16 + size)
        handle.seek(16 + size)
        handle.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, size, 16, 0))
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="beyond the 67108864 byte limit"):
            load(str(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MAX_CENTRAL_DIRECTORY // 4


def test_many_v1_signature_files_are_bounded() -> None:
    from permaudit.inputs.signing.schemes import MAX_V1_BLOCKS

    entries = [Entry(NAME, CLEAN)]
    for i in range(MAX_V1_BLOCKS + 4):
        entries += [Entry(f"META-INF/S{i}.SF", b"sf"), Entry(f"META-INF/S{i}.RSA", b"junk")]
    blob = make_zip(entries)
    info, _ = read_signing(io.BytesIO(blob), len(blob))
    assert info.schemes == ()
    assert f"{MAX_V1_BLOCKS + 4} v1 signature block files; only the first" in info.problems[0]
    assert len([p for p in info.problems if "cannot be read" in p]) == MAX_V1_BLOCKS


def test_evidence_from_a_bundle_member_names_the_member(clean_manifest: Manifest) -> None:
    from permaudit.model import InputInfo, TamperEvidence

    app = App(
        input=InputInfo(path="x.apks", sha256="0", kind="apks", size=1),
        manifest=clean_manifest,
        tamper=(TamperEvidence(id="zip.multiple_eocd", detail="two end records",
                               member="splits/base-master.apk"),),
    )
    report = evaluate(app, load_ruleset(), platform_for(35))
    (finding,) = [f for f in report.findings if f.category == "tamper"]
    assert finding.rule == "tamper.archive"
    assert finding.subject == "zip.multiple_eocd@splits/base-master.apk"
    assert finding.message == "splits/base-master.apk: two end records"
