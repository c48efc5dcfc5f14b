"""The id tables a code scan needs from one DEX file, decoding only the strings it can use.

``read_dex`` (``dex.py``) decodes and validates every string: the oracle tests (androguard's
string set, dexdump's classes) and the fuzz harness use it. A code scan needs less
(``inputs/code.py``, ``knowledge/``): every type descriptor, the names of the methods whose
class the DEX does not define, and the string constants that can name a server or a URI: a
host name needs a dot, a URI (``content://``, ``tel:``) a colon. So ``read_dex_ids``
decodes exactly those strings: the ``type_ids`` strings, the external method names, and
the strings holding a ``MARKERS`` byte, found by a C-level ``bytes.find`` over the string
data (a ``.`` or ``:`` byte in MUTF-8 is always that character: lead and continuation
bytes are >= 0x80), each hit mapped to its string by bisecting the string offsets.

That mapping is exact when the ``string_data_item``s lie in ``string_ids`` order, each
after the NUL that ends the one before (as d8 and dx write them): checked first (offsets
strictly increasing, the byte before each a NUL; C-level passes). Any other layout is read
by ``read_dex`` and filtered (``ids_of``): the same result, slower. Every decoded string is
validated as ``read_dex`` does (ASCII strings in bulk: length byte, terminator, ASCII;
the others through ``dex.string_item``). ``ids_of(read_dex(data)) == read_dex_ids(data)``
whenever ``read_dex`` succeeds (tests/inputs/binary/test_dex_ids.py, on every corpus DEX).

What it no longer detects: a malformed string that no evidence looks at (bad MUTF-8, a
wrong UTF-16 length, a missing terminator in a string without a marker that is no type
and no external method name). ``read_dex`` refuses the whole file for it (a
``dex.unreadable`` record, no evidence from that DEX); this reader reads the evidence of
the rest. Acceptable: Android's verifier refuses such a file too, so its code does not run,
and the evidence read is what the file says, not less; the header checks, the checksum
(``dex.checksum`` is still tamper evidence for any edited byte) and every table bound are
the same as ``read_dex``'s, so a malformed string does not go unseen if it was edited in.

Measured (2026-12-06, the 2 shared cores, load ~1, CPU time, best of 7) over the 11 DEX of
``bench/bench_code_scan.py``'s APK (76 MB, 540k strings): 0.28-0.30 s against ``read_dex``'s
0.60-0.64 s; it decodes ~150k strings (68k type descriptors, the external method names, 48k
marked strings) where ``read_dex`` decodes 540k, and keeps 28k distinct strings per app
instead of 272k, so the whole ``permaudit scan`` went from 1.9-2.2 s and 133 MiB to
0.95-1.15 s and 67 MiB (paired, docs/performance.md). Where the rest goes: the header's
Adler-32 (21 ms), the layout check (38 ms), the method table (45 ms), the byte search
(37 ms), the decoding (~90 ms, a third of it the ~2,000 non-ASCII strings one by one).

Work is linear in the file: the layout check and the byte search are single passes, each
decoded string's scan stops at its own terminator (spans do not overlap once the layout
is checked), and a short ASCII string is sliced to at most 127 characters.
"""

from __future__ import annotations

import bisect
import operator
import struct
import sys
from collections.abc import Callable, Sequence
from itertools import compress, islice, repeat
from typing import Any

from permaudit._infra.records import record
from permaudit.inputs.binary.dex import (
    HEADER_SIZE,
    DexError,
    DexFile,
    check_class_defs,
    check_types,
    method_error,
    read_dex,
    read_header,
    string_item,
    uleb128,
)

#: A string constant is kept when it holds one of these bytes: a host name needs a dot, a
#: URI a colon (``knowledge/domains.hosts_in``, ``knowledge/code_evidence.api_evidence``).
MARKERS = b".:"


@record
class DexIds:
    """What a code scan reads from one DEX file (see the module docstring)."""

    version: str
    size: int
    checksum_ok: bool
    #: Table sizes from the header (``string_ids``, ``method_ids``).
    string_count: int
    method_count: int
    #: Type descriptors by type index, ``Lcom/example/Foo;``, ``[I``.
    types: tuple[str, ...]
    #: Type index of each ``class_def_item``'s class, in file order.
    class_defs: tuple[int, ...]
    #: ``(class descriptor, name)`` of each ``method_id_item`` whose class this DEX does not
    #: define, in file order.
    external_methods: tuple[tuple[str, str], ...]
    #: The strings holding a ``MARKERS`` character, in ``string_ids`` order.
    strings: tuple[str, ...]
    notes: tuple[str, ...] = ()


def marked(text: str) -> bool:
    """Whether ``text`` holds a ``MARKERS`` character (it may name a host or a URI)."""
    return "." in text or ":" in text


def ids_of(parsed: DexFile, keep: Callable[[str], bool] = marked) -> DexIds:
    """The ``DexIds`` of a fully read DEX file, keeping the strings ``keep`` accepts."""
    types, strings = parsed.types, parsed.strings
    own = frozenset(parsed.class_defs)
    return DexIds(
        version=parsed.version, size=parsed.size, checksum_ok=parsed.checksum_ok,
        string_count=len(strings), method_count=len(parsed.methods), types=types,
        class_defs=parsed.class_defs,
        external_methods=tuple((types[c], strings[n]) for c, n in parsed.methods
                               if c not in own),
        strings=tuple(filter(keep, strings)), notes=parsed.notes,
    )


def read_dex_ids(data: bytes) -> DexIds:
    """The ``DexIds`` of ``data`` (one whole DEX file); ``DexError`` naming the problem."""
    head = read_header(data)
    view, size = head.view, head.size
    strings_n, strings_off = head.strings
    types_n, types_off = head.types
    offsets: tuple[int, ...] = struct.unpack_from(f"<{strings_n}I", view, strings_off)
    region_end = _layout_end(view, size, offsets)
    if region_end is None:
        return ids_of(read_dex(data))
    type_strings = check_types(view, strings_n, types_n, types_off)
    class_defs = check_class_defs(view, types_n, *head.classes)
    ext_classes, ext_names = _external(view, head.methods, types_n, strings_n, class_defs)
    names = tuple(set(ext_names))
    found = _marked(view, offsets, region_end)
    # One decode for the three: they share the region's latin-1 copy and the bulk passes.
    texts = _decode(view, size, offsets, (*type_strings, *names, *found), region_end)
    types = texts[:types_n]
    name_of = dict(zip(names, texts[types_n:types_n + len(names)], strict=True))
    return DexIds(
        version=head.version, size=size, checksum_ok=head.checksum_ok,
        string_count=strings_n, method_count=head.methods[0], types=types,
        class_defs=class_defs,
        external_methods=tuple(zip(_gather(types, ext_classes), _gather(name_of, ext_names),
                                   strict=True)),
        strings=tuple(filter(marked, texts[types_n + len(names):])), notes=head.notes,
    )


def _gather(seq: Sequence[Any] | dict[int, Any] | bytes | memoryview, indices: Sequence[int]
            ) -> tuple[Any, ...]:
    """``tuple(seq[i] for i in indices)`` in one C-level call."""
    if len(indices) > 1:
        return operator.itemgetter(*indices)(seq)  # type: ignore[no-any-return]
    return tuple(seq[i] for i in indices)


def _layout_end(view: bytes, size: int, offsets: tuple[int, ...]) -> int | None:
    """The end of the string data when laid out as d8 writes it, else ``None``.

    Checked: offsets strictly increasing, inside the file, the byte before each one (but
    the first) a NUL, and the last string terminated before the end of the file.
    """
    count = len(offsets)
    if count == 0:
        return HEADER_SIZE
    first, last = offsets[0], offsets[-1]
    if first < HEADER_SIZE or last >= size:
        return None
    if count > 1:
        if not all(map(operator.lt, offsets, islice(offsets, 1, None))):
            return None
        before = _gather(view, tuple(map(operator.sub, islice(offsets, 1, None), repeat(1))))
        if before.count(0) != count - 1:
            return None
    try:
        _, start = uleb128(view, last, size, count - 1)
    except DexError:
        return None
    end = view.find(b"\0", start, size)
    return end + 1 if end >= 0 else None


def _external(view: bytes, methods: tuple[int, int], types_n: int, strings_n: int,
              class_defs: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Class and name indices of the ``method_id_item``s whose class is not in ``class_defs``."""
    count, offset = methods
    if not count:
        return (), ()
    if sys.byteorder == "little":  # the table's layout: memoryview reads native order
        table = memoryview(view)[offset:offset + 8 * count]
        classes = table.cast("H")[0::4].tolist()
        names = table.cast("I")[1::2].tolist()
    else:  # pragma: no cover - big-endian hosts
        raw = struct.unpack_from("<" + "HHI" * count, view, offset)
        classes, names = list(raw[0::3]), list(raw[2::3])
    ordered = classes == sorted(classes)  # as the format requires: by class, then name
    if (classes[-1] if ordered else max(classes)) >= types_n or max(names) >= strings_n:
        raise DexError(method_error(types_n, strings_n))
    outside = bytearray(b"\1") * types_n
    for index in class_defs:
        outside[index] = 0
    if ordered:
        # Each outside class's methods are one run, found by two bisections (C-level maps
        # over the outside classes, not a pass over every method: 2x faster, measured).
        wanted = list(compress(range(types_n), outside))
        lows = map(bisect.bisect_left, repeat(classes), wanted)
        highs = map(bisect.bisect_left, repeat(classes), map(operator.add, wanted, repeat(1)))
        keep: list[int] = []
        for low, high in zip(lows, highs, strict=True):
            if high > low:
                keep.extend(range(low, high))
    else:
        keep = list(compress(range(count), map(outside.__getitem__, classes)))
    return _gather(classes, keep), _gather(names, keep)


def _marked(view: bytes, offsets: tuple[int, ...], end: int) -> list[int]:
    """Indices (ascending) of the strings whose bytes hold a ``MARKERS`` byte; a superset: a
    length byte equal to a marker also counts, and ``marked`` filters the decoded text.

    ``bytes.find`` jumps to a marker, then past the NUL after it: one hit per string and
    marker (measured 2x faster than ``re.finditer`` with a literal first byte, 5x than a
    ``[.:]`` class); the hits are mapped to strings by one C-level ``map`` of
    ``bisect_right`` over the offsets.
    """
    if not offsets:
        return []
    hits: list[int] = []
    add, find = hits.append, view.find
    for marker in MARKERS:
        needle = bytes((marker,))
        at = find(needle, offsets[0], end)
        while at >= 0:
            add(at)
            at = find(b"\0", at, end)
            if at < 0:
                break
            at = find(needle, at, end)
    after = set(map(bisect.bisect_right, repeat(offsets), hits))
    return list(map(operator.sub, sorted(after), repeat(1)))


#: ``bytes.translate`` tables: 1 for a one-byte ULEB128 (< 0x80), 1 for a NUL, and a flip
#: of a 0/1 mask.
_SHORT = bytes(1 if byte < 0x80 else 0 for byte in range(256))
_NUL = bytes(1 if byte == 0 else 0 for byte in range(256))
_FLIP = bytes((1, 0)) + bytes(254)


def _decode(view: bytes, size: int, offsets: tuple[int, ...], wanted: Sequence[int], end: int
            ) -> tuple[str, ...]:
    """The strings ``wanted`` (indices), validated as ``read_dex`` does.

    ASCII strings are sliced in bulk from one latin-1 decode of the string data
    (``_ascii``): first those with a one-byte length (below 0x80 units), then those with a
    two-byte length; the rest (non-ASCII, or a failed bulk check) go through
    ``dex.string_item`` one by one, which also reports the fault of a malformed one.
    """
    count = len(wanted)
    if not count:
        return ()
    base = offsets[0]
    region = memoryview(view)[base:size]
    chunk = str(region[:end - base], "latin-1")
    at = _gather(offsets, wanted)
    first = bytes(_gather(region, tuple(map(operator.sub, at, repeat(base)))))
    texts, done = _ascii(region, chunk, tuple(map(operator.sub, at, repeat(base - 1))), first,
                         first.translate(_SHORT))
    rest = list(compress(range(count), done.translate(_FLIP)))
    # at[k] + 1 is inside the file: before the next offset, or the last string's NUL.
    two = [k for k in rest if first[k] >= 0x80 and view[at[k] + 1] < 0x80]
    if two:
        lengths = [first[k] & 0x7F | view[at[k] + 1] << 7 for k in two]
        more, ok = _ascii(region, chunk, [at[k] + 2 - base for k in two], lengths,
                          bytes((1,)) * len(two))
        for k, text in compress(zip(two, more, strict=True), ok):
            texts[k] = text
        rest = sorted({*rest} - set(compress(two, ok)))
    for k in rest:
        texts[k] = string_item(view, size, at[k], wanted[k], size)[0]
    return tuple(texts)


def _ascii(region: memoryview, chunk: str, starts: Sequence[int], lengths: Sequence[int],
           eligible: bytes) -> tuple[list[str], bytes]:
    """The ASCII strings of ``lengths`` characters at ``starts`` (offsets into ``region``,
    whose string data ``chunk`` holds, latin-1), and a 0/1 mask of those read: eligible,
    followed by their NUL, and (all of them together) ASCII without a NUL inside.

    The mask is one AND of two big integers made from translated byte strings, not a
    Python-level pass per string. ``starts`` lie inside ``chunk``, so a slice cut short at
    its end holds the data's last NUL and fails the check.
    """
    count = len(starts)
    stops = tuple(map(operator.add, starts, lengths))  # where each NUL must be
    texts = list(map(chunk.__getitem__, map(slice, starts, stops)))
    if max(stops) >= len(region):
        return texts, bytes(count)
    terminated = bytes(_gather(region, stops)).translate(_NUL)
    mask = (int.from_bytes(eligible, "little") & int.from_bytes(terminated, "little")
            ).to_bytes(count, "little")
    joined = "".join(compress(texts, mask))
    if not joined.isascii() or "\0" in joined:
        return texts, bytes(count)
    return texts, mask
