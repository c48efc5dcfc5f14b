"""AXML decoding like ResXMLTree: string pools, resource map, chunk validation, attribute lookup."""

from __future__ import annotations

import struct

import pytest

from permaudit.android.attributes import ANDROID_NS, ATTRIBUTE_IDS
from permaudit.errors import ManifestError
from permaudit.inputs.binary import axml
from permaudit.inputs.binary.axml import MAX_DEPTH, decode_axml, parse_axml
from permaudit.inputs.binary.xmltree import TYPE_INT_DEC, TYPE_STRING

NO = 0xFFFFFFFF
NAME_ID = ATTRIBUTE_IDS["name"]
MAX_SDK_ID = ATTRIBUTE_IDS["maxSdkVersion"]


def _len8(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])


def _len16(n: int) -> bytes:
    if n < 0x8000:
        return struct.pack("<H", n)
    return struct.pack("<HH", 0x8000 | (n >> 16), n & 0xFFFF)


def pool(strings: list[str], *, utf8: bool = False, terminate: bool = True) -> bytes:
    """A RES_STRING_POOL chunk, UTF-8 or UTF-16, no styles."""
    offsets, data = [], bytearray()
    for s in strings:
        offsets.append(len(data))
        if utf8:
            raw = s.encode()
            data += _len8(len(s)) + _len8(len(raw)) + raw + b"\0"
        else:
            data += _len16(len(s)) + s.encode("utf-16-le") + b"\0\0"
    if not terminate:
        data[-1 if utf8 else -2 :] = b"x" if utf8 else b"xx"
    while len(data) % 4:
        data += b"\0"
    header = 28
    start = header + 4 * len(strings)
    flags = 1 << 8 if utf8 else 0
    body = struct.pack(f"<{len(strings)}I", *offsets) + bytes(data)
    return (
        struct.pack("<HHIIIIII", 1, header, header + len(body), len(strings), 0, flags, start, 0)
        + body
    )


def res_map(ids: list[int]) -> bytes:
    return struct.pack(f"<HHI{len(ids)}I", 0x180, 8, 8 + 4 * len(ids), *ids)


Attr = tuple[int, int, int, int, int]  # ns index, name index, raw index, type, data


def start(tag: int, attrs: list[Attr] = (), *, line: int = 1, attr_size: int = 20) -> bytes:  # type: ignore[assignment]
    ext = struct.pack("<IIHHHHHH", NO, tag, 20, attr_size, len(attrs), 0, 0, 0)
    for ns, name, raw, dtype, data in attrs:
        ext += struct.pack("<IIIHBBI", ns, name, raw, 8, 0, dtype, data)
        ext += b"\0" * (attr_size - 20)
    return struct.pack("<HHIII", 0x102, 16, 16 + len(ext), line, NO) + ext


def end(tag: int) -> bytes:
    return struct.pack("<HHIIIII", 0x103, 16, 24, 1, NO, NO, tag)


def document(*chunks: bytes, outer_type: int = 3) -> bytes:
    body = b"".join(chunks)
    return struct.pack("<HHI", outer_type, 8, 8 + len(body)) + body


# String indices used below: attribute names first so they line up with the resource map.
STRINGS = ["name", "maxSdkVersion", ANDROID_NS, "package", "manifest", "uses-permission",
           "com.example.app", "android.permission.CAMERA"]  # fmt: skip
S = {s: i for i, s in enumerate(STRINGS)}


def simple_manifest(*, utf8: bool = False, perm_attrs: list[Attr] | None = None) -> bytes:
    attrs = perm_attrs or [
        (S[ANDROID_NS], S["name"], S["android.permission.CAMERA"], TYPE_STRING,
         S["android.permission.CAMERA"]),
    ]  # fmt: skip
    return document(
        pool(STRINGS, utf8=utf8),
        res_map([NAME_ID, MAX_SDK_ID]),
        start(
            S["manifest"],
            [(NO, S["package"], S["com.example.app"], TYPE_STRING, S["com.example.app"])],
        ),
        start(S["uses-permission"], attrs, line=2),
        end(S["uses-permission"]),
        end(S["manifest"]),
    )


@pytest.mark.parametrize("utf8", [False, True], ids=["utf16", "utf8"])
def test_pools_decode_and_package_is_read_by_name(utf8: bool) -> None:
    root = parse_axml(simple_manifest(utf8=utf8))
    assert root.tag == "manifest"
    package = root.by_name("package", None)
    assert package is not None and package.coerce_to_string() == "com.example.app"
    (perm,) = root.children
    name = perm.android(NAME_ID)
    assert (perm.tag, perm.line) == ("uses-permission", 2)
    assert name is not None and name.value.string == "android.permission.CAMERA"
    assert name.namespace == ANDROID_NS and name.resource_id == NAME_ID


@pytest.mark.parametrize("utf8", [False, True], ids=["utf16", "utf8"])
def test_long_strings_use_two_unit_lengths(utf8: bool) -> None:
    long = "p." + "x" * (40000 if not utf8 else 300)
    root = parse_axml(
        document(
            pool(["manifest", long], utf8=utf8), start(0, [(NO, 1, 1, TYPE_STRING, 1)]), end(0)
        )
    )
    assert root.attributes[0].raw == long


def test_out_of_order_attribute_is_missed_like_android() -> None:
    """maxSdkVersion (0x01010271) written before name (0x01010003): the merge walk of
    RetrieveAttributes is past ``name`` when it looks for it, so Android misses it."""
    camera = S["android.permission.CAMERA"]
    attrs = [
        (S[ANDROID_NS], S["maxSdkVersion"], NO, TYPE_INT_DEC, 18),
        (S[ANDROID_NS], S["name"], camera, TYPE_STRING, camera),
    ]
    (perm,) = parse_axml(simple_manifest(perm_attrs=attrs)).children
    assert perm.android(NAME_ID) is None
    max_sdk = perm.android(MAX_SDK_ID)
    assert max_sdk is not None and max_sdk.value.data == 18
    assert perm.by_name("name", ANDROID_NS) is not None  # by-name lookup would have found it


def test_name_string_that_lies_about_its_resource_id() -> None:
    """The attribute's name string says "maxSdkVersion", the resource map says android:name:
    Android goes by the id only."""
    lying = ["maxSdkVersion", "manifest", "p.CAMERA"]
    doc = document(
        pool(lying),
        res_map([NAME_ID]),
        start(1, [(NO, 0, 2, TYPE_STRING, 2)]),
        end(1),
    )
    root = parse_axml(doc)
    attribute = root.android(NAME_ID)
    assert attribute is not None and (attribute.name, attribute.value.string) == (
        "maxSdkVersion",
        "p.CAMERA",
    )
    assert root.android(MAX_SDK_ID) is None


def test_name_index_beyond_the_resource_map_has_no_id() -> None:
    root = parse_axml(
        document(
            pool(["name", "manifest", "v"]),
            res_map([]),
            start(1, [(NO, 0, 2, TYPE_STRING, 2)]),
            end(1),
        )
    )
    assert root.attributes[0].resource_id == 0
    assert root.android(NAME_ID) is None


def test_outer_chunk_type_is_not_checked() -> None:
    root = parse_axml(document(pool(["manifest"]), start(0), end(0), outer_type=0))
    assert root.tag == "manifest"


def test_unknown_chunks_are_skipped_before_and_after_the_first_node() -> None:
    unknown_before = struct.pack("<HHI", 0x0222, 8, 16) + b"\0" * 8
    unknown_node = struct.pack("<HHIII", 0x0177, 16, 24, 1, NO) + b"\0" * 8
    doc = document(
        pool(["manifest", "child"]),
        unknown_before,
        start(0),
        unknown_node,
        start(1),
        end(1),
        end(0),
    )
    root = parse_axml(doc)
    assert [c.tag for c in root.children] == ["child"]


def test_node_with_a_short_header_after_the_first_node_is_corrupt() -> None:
    """nextNode validates every node with minSize sizeof(ResXMLTree_node) == 16."""
    short = struct.pack("<HHI", 0x0180, 8, 12) + b"\0" * 4
    with pytest.raises(ManifestError, match="header size 8 is too small"):
        parse_axml(document(pool(["manifest"]), start(0), short, end(0)))


def test_string_pool_after_the_first_node_is_never_loaded() -> None:
    """setTo stops collecting chunks at the first XML node: a pool behind it is not seen."""
    doc = document(start(0), pool(["outer", "manifest"]), start(1), end(1), end(0))
    with pytest.raises(ManifestError, match="no string pool"):
        parse_axml(doc)


def test_string_pool_with_unterminated_last_string() -> None:
    with pytest.raises(ManifestError, match="last string is not NUL-terminated"):
        parse_axml(document(pool(["manifest"], terminate=False), start(0), end(0)))


def test_misaligned_chunk_is_rejected() -> None:
    bad = bytearray(document(pool(["manifest"]), start(0), end(0)))
    struct.pack_into("<I", bad, len(bad) - 24 + 4, 26)  # END node size not a multiple of 4
    with pytest.raises(ManifestError, match="4-byte boundary"):
        parse_axml(bytes(bad))


def test_attribute_stride_comes_from_the_file() -> None:
    root = parse_axml(
        document(
            pool(["manifest", "a", "v"]),
            start(0, [(NO, 1, 2, TYPE_STRING, 2)], attr_size=28),
            end(0),
        )
    )
    assert root.by_name("a") is not None


def test_attributes_overflowing_their_node_are_rejected() -> None:
    node = bytearray(start(0, [(NO, 1, 2, TYPE_STRING, 2)]))
    struct.pack_into("<H", node, 16 + 12, 5)  # attributeCount 5 in a node holding 1
    with pytest.raises(ManifestError, match="attributes overflow"):
        parse_axml(document(pool(["manifest", "a", "v"]), bytes(node), end(0)))


def test_document_ending_before_the_root_closes_is_accepted() -> None:
    root = parse_axml(document(pool(["manifest", "child"]), start(0), start(1)))
    assert [c.tag for c in root.children] == ["child"]


def test_nothing_after_the_root_end_is_read() -> None:
    """A zero-sized END_NAMESPACE after </manifest> never reaches the framework parser."""
    zero = struct.pack("<HHI", 0x101, 16, 0)
    root = parse_axml(document(pool(["manifest"]), start(0), end(0), zero))
    assert root.tag == "manifest"


def test_depth_is_bounded() -> None:
    nodes = [start(0)] * (MAX_DEPTH + 1)
    with pytest.raises(ManifestError, match="nests deeper than"):
        parse_axml(document(pool(["e"]), *nodes))


def test_out_of_range_string_reads_as_none() -> None:
    root = parse_axml(
        document(pool(["manifest"]), start(0, [(NO, 0, 99, TYPE_STRING, 99)]), end(0))
    )
    assert (root.attributes[0].raw, root.attributes[0].value.string) == (None, None)


@pytest.mark.parametrize("blob", [b"", b"\x03\x00\x08\x00", b"\x03\x00\x08\x00\xff\xff\xff\x7f"])
def test_truncated_headers(blob: bytes) -> None:
    with pytest.raises(ManifestError):
        parse_axml(blob)


def _aliasing_node(count: int, attr_size: int) -> bytes:
    """A START node declaring ``count`` attributes at stride ``attr_size`` over one record."""
    ext = struct.pack("<IIHHHHHH", NO, 1, 20, attr_size, count, 0, 0, 0)
    ext += struct.pack("<IIIHBBI", NO, 2, 3, 8, 0, TYPE_STRING, 3)
    body = max(20, attr_size * count)
    ext += b"\0" * (body - 20 + (-body) % 4)
    return struct.pack("<HHIII", 0x102, 16, 16 + len(ext), 1, NO) + ext


def _count_attributes(root: object) -> int:
    total, todo = 0, [root]
    while todo:
        element = todo.pop()
        total += len(element.attributes)  # type: ignore[attr-defined]
        todo.extend(element.children)  # type: ignore[attr-defined]
    return total


def test_zero_size_attributes_alias_one_record_and_decode_once() -> None:
    # Android: attribute i is at attributeStart + attributeSize*i and validateNode accepts
    # 0*65535 <= size: 65,535 reads of one record. 2,000 such 56-byte nodes once decoded
    # to 131M attributes; decoded work is now bounded by the input bytes.
    children = [_aliasing_node(0xFFFF, 0) + end(1) for _ in range(2000)]
    data = document(pool(["manifest", "uses-permission", "a", "v"]), start(0), *children, end(0))
    decoded = decode_axml(data)
    assert _count_attributes(decoded.root) == 2000
    assert _count_attributes(decoded.root) <= len(data) // 20
    assert any(e.id == "axml.attribute_aliasing" for e in decoded.evidence)
    leaf = decoded.root.children[0]
    assert leaf.by_name("a") is not None and leaf.by_name("a").coerce_to_string() == "v"


def test_overlapping_attribute_stride_costs_at_most_one_attribute_per_byte() -> None:
    node = _aliasing_node(4000, 1)
    data = document(pool(["manifest", "uses-permission", "a", "v"]), start(0), node, end(1), end(0))
    decoded = decode_axml(data)
    assert 0 < _count_attributes(decoded.root) <= len(data)


def test_total_attributes_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(axml, "MAX_ATTRIBUTES", 100)
    node = _aliasing_node(101, 1)
    data = document(pool(["manifest", "uses-permission", "a", "v"]), start(0), node, end(1), end(0))
    with pytest.raises(ManifestError, match="more than 100 attributes"):
        decode_axml(data)
