"""Read a config file (rules, policy, baseline) safely: regular files only, size-capped.

A FIFO would block ``open()`` forever and ``/dev/zero`` would never end, so the type is
checked with ``os.stat`` before opening, the open is non-blocking, the type is checked again
on the open descriptor (the path may have changed in between), and at most
``CONFIG_MAX_BYTES + 1`` bytes are ever read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from permaudit.errors import InputError

#: 4 MiB: the shipped ruleset is 34 KB; a config file 100 times larger is a mistake or an attack.
CONFIG_MAX_BYTES = 4 * 1024 * 1024


def _check_type(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(21, "is a directory")
    if not stat.S_ISREG(mode):
        raise InputError("not a regular file (a FIFO, device or socket is not read)")


def read_config_bytes(path: Path, limit: int = CONFIG_MAX_BYTES) -> bytes:
    """The bytes of ``path``; ``OSError`` or a path-less ``InputError`` when refused."""
    _check_type(os.stat(path).st_mode)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        _check_type(os.fstat(fd).st_mode)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise InputError(f"too large: config files are limited to {limit} bytes")
    return b"".join(chunks)


def read_config_text(path: Path, limit: int = CONFIG_MAX_BYTES) -> str:
    """``read_config_bytes`` decoded as UTF-8 (``UnicodeDecodeError`` when it is not)."""
    return read_config_bytes(path, limit).decode("utf-8")
