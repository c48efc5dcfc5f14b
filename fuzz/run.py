"""Run every atheris harness in fuzz/ for a share of a time budget; print the figures.

Usage: ``python fuzz/run.py --seconds 1800 [harness ...]`` (``make fuzz FUZZ_SECONDS=...``).
Seed corpora are built at run time from ``$PERMAUDIT_CORPUS`` into ``build/fuzz/`` (never
committed); crash inputs land in ``build/fuzz/<harness>/crashes/``. The exit status is 1
when any harness found a crash.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = REPO / "build" / "fuzz"
#: Harness -> libFuzzer ``-max_len``.
HARNESSES = {
    "fuzz_load": 131072,
    "fuzz_axml": 65536,
    "fuzz_protoxml": 65536,
    "fuzz_signing": 65536,
    "fuzz_dex": 262144,
    "fuzz_containers": 131072,
}
STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)


def available() -> list[str]:
    """Harnesses whose script exists and whose target module is importable."""
    names = []
    for name in HARNESSES:
        if not (HERE / f"{name}.py").is_file():
            continue
        target = REPO / "permaudit" / "sources" / "protoxml.py"
        if name == "fuzz_protoxml" and not target.is_file():
            continue
        names.append(name)
    return names


def build_seeds(name: str, target: Path) -> int:
    """Fill ``target`` with seed inputs for harness ``name``; return how many."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(REPO))
    from _common import corpus_inputs

    target.mkdir(parents=True, exist_ok=True)
    blobs: list[bytes] = []
    if name == "fuzz_load":
        blobs = [p.read_bytes() for p in corpus_inputs("apk", "malformed", "axml")]
    elif name == "fuzz_axml":
        blobs = [p.read_bytes() for p in corpus_inputs("axml")]
        blobs += _manifests_of(corpus_inputs("apk", "malformed"))
        blobs += _hostile_axml()
    elif name == "fuzz_protoxml":
        blobs = _proto_manifests() + _hostile_proto()
    elif name == "fuzz_signing":
        blobs = _signer_material(corpus_inputs("apk", "malformed"))
    elif name == "fuzz_dex":
        blobs = _dex_seeds(corpus_inputs("apk"))
    elif name == "fuzz_containers":
        blobs = [p.read_bytes() for p in corpus_inputs("bundles")]
        blobs += [p.read_bytes() for p in list(corpus_inputs("apk"))[:20]]
        blobs += _container_seeds()
    for blob in blobs:
        (target / hashlib.sha256(blob).hexdigest()[:16]).write_bytes(blob)
    return len(blobs)


def _container_seeds() -> list[bytes]:
    """Generated containers: a zip64 APK (zip64 local header and end records, as a writer
    past 65535 entries leaves them), an APK with a wrong CRC, an .apks and an .aab."""
    import io
    import struct
    import zipfile

    from fixtures.axml_writer import Element, encode

    manifest = encode(Element("manifest", {"package": "org.example.fuzz"}, []))

    def archive(members: dict[str, bytes], zip64: bool = False) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
            for name, data in members.items():
                with out.open(name, "w", force_zip64=zip64) as member:
                    member.write(data)
        return buffer.getvalue()

    apk = archive({"AndroidManifest.xml": manifest})
    zip64 = bytearray(archive({"AndroidManifest.xml": manifest, "a": b"x"}, zip64=True))
    crc = bytearray(apk)
    struct.pack_into("<I", crc, 14, struct.unpack_from("<I", crc, 14)[0] ^ 1)
    cd = crc.index(b"PK\x01\x02")
    struct.pack_into("<I", crc, cd + 16, struct.unpack_from("<I", crc, cd + 16)[0] ^ 1)
    apks = archive({"base.apk": apk, "split.apk": apk})
    aab = archive({"base/manifest/AndroidManifest.xml": b"\x0a\x0a\x0a\x08manifest"})
    return [apk, bytes(zip64), bytes(crc), apks, aab]


def _dex_seeds(paths: object, limit: int = 262144) -> list[bytes]:
    """The DEX writer's output plus every root ``classes*.dex`` up to ``limit`` bytes."""
    import zipfile

    from fixtures.dex_writer import build_dex

    seeds = [build_dex(["La/B;"], ["https://example.org/", "é😀\0"], [("La/B;", "m")])]
    for path in paths:  # type: ignore[attr-defined]
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if (info.filename.startswith("classes") and info.filename.endswith(".dex")
                            and info.file_size <= limit):
                        seeds.append(archive.read(info))
        except (zipfile.BadZipFile, OSError, NotImplementedError, ValueError):
            continue
    return seeds


def _hostile_axml() -> list[bytes]:
    """Issue 10 seeds: START nodes with attributeSize 0 / count 65535 and stride 1 (small)."""
    import struct

    no = 0xFFFFFFFF
    strings = ["manifest", "uses-permission", "a", "v"]
    offsets, body = [], bytearray()
    for text in strings:
        offsets.append(len(body))
        body += struct.pack("<H", len(text)) + text.encode("utf-16-le") + b"\0\0"
    body += b"\0" * (-len(body) % 4)
    start = 28 + 4 * len(strings)
    pool = struct.pack("<HHIIIIII", 1, 28, start + len(body), len(strings), 0, 0, start, 0)
    pool += struct.pack(f"<{len(strings)}I", *offsets) + bytes(body)

    def node(count: int, size: int) -> bytes:
        room = max(20, size * count)
        ext = struct.pack("<IIHHHHHH", no, 1, 20, size, count, 0, 0, 0)
        ext += struct.pack("<IIIHBBI", no, 2, 3, 8, 0, 3, 3) + b"\0" * (room - 20 + (-room) % 4)
        end = struct.pack("<HHIIIII", 0x103, 16, 24, 1, no, no, 1)
        return struct.pack("<HHIII", 0x102, 16, 16 + len(ext), 1, no) + ext + end

    out = []
    for count, size in ((0xFFFF, 0), (4000, 1)):
        doc = pool + node(count, size) * 8
        out.append(struct.pack("<HHI", 3, 8, 8 + len(doc)) + doc)
    return out


def _hostile_proto() -> list[bytes]:
    """Issue 10 seed: an XmlElement with many empty ``child`` messages."""
    element = b"\x1a\x08manifest" + b"\x2a\x00" * 5000
    size, varint = len(element), bytearray()
    while size >= 0x80:
        varint.append(size & 0x7F | 0x80)
        size >>= 7
    return [b"\x0a" + bytes(varint + bytes([size])) + element]


def _manifests_of(paths: object) -> list[bytes]:
    from permaudit.errors import PermauditError
    from permaudit.inputs.binary.ziparchive import read_entry

    out = []
    for path in paths:  # type: ignore[attr-defined]
        try:
            with open(path, "rb") as stream:
                out.append(read_entry(stream, path.stat().st_size, "AndroidManifest.xml"))
        except PermauditError:
            continue
    return out


def _signer_material(paths: object) -> list[bytes]:
    """v1 signature block files and v2/v3/v3.1 block values of the corpus APKs."""
    from permaudit.errors import PermauditError
    from permaudit.inputs.binary.ziparchive import read_directory, read_member
    from permaudit.inputs.signing import schemes as signing

    out = []
    for path in paths:  # type: ignore[attr-defined]
        with open(path, "rb") as stream:
            try:
                directory = read_directory(stream, path.stat().st_size, prefix="META-INF/")
                for entry in directory.entries:
                    if signing.V1_BLOCK.match(entry.name):
                        out.append(read_member(stream, directory, entry).data)
                block = signing.read_signing_block(stream, directory.offset)
            except PermauditError:
                continue
        if block.ids:
            stream_values = _block_values(path, directory.offset)
            out.extend(stream_values)
    return out


def _block_values(path: Path, cd_offset: int) -> list[bytes]:
    from permaudit.inputs.signing import schemes as signing

    with open(path, "rb") as stream:
        stream.seek(cd_offset - 24)
        size = int.from_bytes(stream.read(8), "little")
        try:
            _ids, values = signing._pairs(stream, cd_offset, size)
        except signing._Malformed:
            return []
    return [value for _, value in values]


def _proto_manifests() -> list[bytes]:
    """aapt2 protobuf manifests from the corpus bundles (.aab members)."""
    import zipfile

    from _common import corpus_dir

    out = []
    for path in sorted((corpus_dir() / "bundles").glob("*.aab")):
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith("manifest/AndroidManifest.xml"):
                    out.append(archive.read(info))
    return out


def run(name: str, seconds: int) -> dict[str, int | str]:
    """Fuzz ``name`` for ``seconds``; return libFuzzer's final stats and any crash files."""
    base = WORK / name
    seeds, corpus, crashes = base / "seeds", base / "corpus", base / "crashes"
    shutil.rmtree(seeds, ignore_errors=True)
    count = build_seeds(name, seeds)
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    before = set(crashes.iterdir())
    command = [
        sys.executable, str(HERE / f"{name}.py"), str(corpus), str(seeds),
        f"-max_total_time={seconds}", f"-max_len={HARNESSES[name]}", "-timeout=20",
        "-rss_limit_mb=2048", "-print_final_stats=1", f"-artifact_prefix={crashes}/",
    ]
    started = time.monotonic()
    log = base / "log.txt"
    with open(log, "w") as handle:
        result = subprocess.run(  # noqa: S603 -- our own harness, argv built above
            command, stdout=handle, stderr=subprocess.STDOUT, check=False, cwd=HERE
        )
    text = log.read_text(errors="replace")
    stats: dict[str, int | str] = {k: int(v) for k, v in STAT.findall(text)}
    stats["seeds"] = count
    stats["seconds"] = round(time.monotonic() - started)
    stats["exit"] = result.returncode
    stats["crashes"] = " ".join(sorted(str(p) for p in set(crashes.iterdir()) - before))
    return stats


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600, help="total budget, split evenly")
    parser.add_argument("harness", nargs="*", help="harness names (default: all available)")
    args = parser.parse_args()
    names = args.harness or available()
    share = max(1, args.seconds // len(names))
    env_note = os.environ.get("PERMAUDIT_CORPUS", "(default corpus path)")
    print(f"fuzzing {', '.join(names)} for {share} s each; seeds from {env_note}", flush=True)
    failed = False
    for name in names:
        stats = run(name, share)
        execs = stats.get("number_of_executed_units", 0)
        rate = stats.get("average_exec_per_sec", 0)
        print(f"{name}: {execs} executions in {stats['seconds']} s ({rate} exec/s), "
              f"{stats['seeds']} seeds, {stats.get('new_units_added', '?')} new corpus units, "
              f"peak RSS {stats.get('peak_rss_mb', '?')} MB, exit {stats['exit']}", flush=True)
        if stats["crashes"]:
            failed = True
            print(f"{name}: CRASH inputs: {stats['crashes']}", flush=True)
        elif stats["exit"] != 0:
            failed = True
            print(f"{name}: libFuzzer exited {stats['exit']}; see {WORK / name / 'log.txt'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
