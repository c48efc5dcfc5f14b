"""atheris harness: arbitrary bytes as signer material (certificate DER, PKCS#7, scheme block).

``fuzz_load`` reaches the signing reader only through intact zips; this harness feeds the
parsers directly: ``data`` as an X.509 certificate, as a v1 PKCS#7 signature block, and as
the value of a v2/v3 block inside a fixed small APK read through ``read_signing``. Only
``signing._Malformed`` (turned into a problem) may come out of the inner parsers, only
``der.DerError`` out of the DER reader's entry points, and ``read_signing`` must never
raise. Seeds: the signature block files and APK Signing Block scheme values of the small
corpus APKs.
"""

from __future__ import annotations

import contextlib
import io
import struct
import sys

import atheris

with atheris.instrument_imports(include=["permaudit"]):
    from permaudit.inputs.signing import der, signing  # der: the DER reader signing uses

_CRC = 0xE8B7BE43  # zlib.crc32(b"a")
_ZIP = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, _CRC, 1, 1, 1, 0) + b"aa"
_CD = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, _CRC, 1, 1, 1, 0, 0,
                  0, 0, 0, 0) + b"a"


def _apk(value: bytes, block_id: int) -> bytes:
    """A one-entry zip with an APK Signing Block holding ``value`` under ``block_id``."""
    pair = struct.pack("<QI", len(value) + 4, block_id) + value
    size = len(pair) + 24
    block = struct.pack("<Q", size) + pair + struct.pack("<Q", size) + signing.MAGIC
    offset = len(_ZIP) + len(block)
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(_CD), offset, 0)
    return _ZIP + block + _CD + eocd


def test_one_input(data: bytes) -> None:
    """Certificate, PKCS#7 and scheme-block parsing of ``data``: problems, never crashes."""
    for reader in (der.read_certificate, der.read_signed_data, der.read_name):
        with contextlib.suppress(der.DerError):
            reader(data)
    signing._certificate(data)
    with contextlib.suppress(signing._Malformed):
        signing._pkcs7_signer("META-INF/CERT.RSA", data)
    for block_id in (signing.V2_BLOCK_ID, signing.V3_BLOCK_ID):
        blob = _apk(data, block_id)
        signing.read_signing(io.BytesIO(blob), len(blob))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
