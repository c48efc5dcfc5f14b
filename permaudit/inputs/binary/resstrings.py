"""``ResStringPool`` and the chunk check of ResourceTypes.cpp, as binary XML reads them.

Strings are UTF-8 or UTF-16 with Android's length encodings; a string that is out of
range or not NUL-terminated reads as ``None`` (``stringAt`` returns NULL), while a pool
whose last string is not terminated is an error for the whole document. Chunks are
checked like ``validate_chunk``.
"""

from __future__ import annotations

import struct

from permaudit.errors import ManifestError

_CHUNK = struct.Struct("<HHI")
UTF8_FLAG = 1 << 8
NO_INDEX = 0xFFFFFFFF
_POOL = struct.Struct("<IIIII")  # stringCount, styleCount, flags, stringsStart, stylesStart


def validate_chunk(data: bytes, pos: int, min_size: int, end: int, what: str) -> tuple[int, int]:
    """``validate_chunk``: return (headerSize, size) or raise ``ManifestError``."""
    if pos + 8 > end:
        raise ManifestError(f"{what} at offset {pos} is truncated")
    _type, header_size, size = _CHUNK.unpack_from(data, pos)
    if header_size < min_size:
        raise ManifestError(f"{what} at offset {pos}: header size {header_size} is too small")
    if header_size > size:
        raise ManifestError(f"{what} at offset {pos}: size {size} is smaller than its header")
    if (header_size | size) & 3:
        raise ManifestError(f"{what} at offset {pos}: size is not on a 4-byte boundary")
    if size > end - pos:
        raise ManifestError(
            f"{what} at offset {pos}: size {size} runs past the end (corrupt binary XML)"
        )
    return header_size, size


class StringPool:
    """``ResStringPool``: validated at construction, strings decoded lazily and cached."""

    def __init__(self, data: bytes, pos: int, size: int) -> None:
        if size < 28:
            raise ManifestError("string pool header is truncated")
        header_size, _ = validate_chunk(data, pos, 28, pos + size, "string pool")
        count, style_count, flags, strings_start, styles_start = _POOL.unpack_from(data, pos + 8)
        self._data = data
        self._entries = pos + header_size
        self._utf8 = bool(flags & UTF8_FLAG)
        self._count = count
        self._cache: dict[int, str | None] = {}
        #: Referenced indices that read as NULL (not counting the NO_INDEX "none" marker).
        self.bad: set[int] = set()
        #: Offset-table slots beyond the declared counts (the "tampered count" trick).
        self.hidden = 0
        if strings_start > header_size:
            self.hidden = max(0, (strings_start - header_size) // 4 - count - style_count)
        self._start = pos + strings_start
        self._pool_size = 0  # in characters (bytes for UTF-8, 16-bit units for UTF-16)
        char_size = 1 if self._utf8 else 2
        if count:
            if header_size + count * 4 > size:
                raise ManifestError(f"string pool: {count} entries extend past its size {size}")
            if strings_start >= size - 2:
                raise ManifestError("string pool: strings start after the end of the pool")
            if style_count == 0:
                self._pool_size = (size - strings_start) // char_size
            else:
                if styles_start <= strings_start:
                    raise ManifestError("string pool: styles start before the strings")
                self._pool_size = (styles_start - strings_start) // char_size
            if self._pool_size == 0:
                raise ManifestError("string pool: no string data")
            last = self._start + (self._pool_size - 1) * char_size
            if data[last : last + char_size] != b"\0" * char_size:
                raise ManifestError("string pool: last string is not NUL-terminated")
        if style_count:
            if styles_start >= size:
                raise ManifestError("string pool: styles start after the end of the pool")
            if header_size + (count + style_count) * 4 > size:
                raise ManifestError("string pool: style entries extend past its size")
            tail = pos + size - 12
            if size - styles_start < 12 or data[tail : tail + 12] != b"\xff" * 12:
                raise ManifestError("string pool: last style is not 0xFFFFFFFF-terminated")

    def get(self, index: int) -> str | None:
        """``stringAt(index)``: the string, or ``None`` where Android gets NULL."""
        if index >= self._count:
            if index != NO_INDEX:
                self.bad.add(index)
            return None
        if index not in self._cache:
            self._cache[index] = self._decode(index)
            if self._cache[index] is None:
                self.bad.add(index)
        return self._cache[index]

    def _decode(self, index: int) -> str | None:
        data = self._data
        (offset,) = struct.unpack_from("<I", data, self._entries + index * 4)
        if self._utf8:
            if offset >= self._pool_size - 1:
                return None
            pos = self._start + offset
            _, pos = _length8(data, pos)  # UTF-16 length, unused
            length, pos = _length8(data, pos)
            if pos + length - self._start >= self._pool_size or data[pos + length] != 0:
                return None
            return data[pos : pos + length].decode("utf-8", errors="replace")
        if offset // 2 >= self._pool_size - 1:
            return None
        pos = self._start + (offset // 2) * 2
        length, pos = _length16(data, pos)
        end = pos + 2 * length
        if (end - self._start) // 2 >= self._pool_size or data[end : end + 2] != b"\0\0":
            return None
        return data[pos:end].decode("utf-16-le", errors="replace")


def _length8(data: bytes, pos: int) -> tuple[int, int]:
    length = data[pos]
    if length & 0x80:
        length = ((length & 0x7F) << 8) | data[pos + 1]
        return length, pos + 2
    return length, pos + 1


def _length16(data: bytes, pos: int) -> tuple[int, int]:
    (length,) = struct.unpack_from("<H", data, pos)
    if length & 0x8000:
        (low,) = struct.unpack_from("<H", data, pos + 2)
        return ((length & 0x7FFF) << 16) | low, pos + 4
    return length, pos + 2
