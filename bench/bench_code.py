"""Time reading an APK's code: permaudit's DEX reader vs androguard's ``DEX()``, paired.

Each round runs both over the same APK, alternating which goes first, and prints the
per-round ratio. Keep runs short (2 cores shared): default 3 rounds on one APK.
Usage: ``python bench/bench_code.py [APK] [--rounds N]``; the default APK is the largest
corpus APK by DEX size (``appium-espresso-server-app-debug-androidTest.apk``).
"""

from __future__ import annotations

import argparse
import importlib
import io
import statistics
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT = (REPO.parent / "shared" / "corpus" / "apk"
           / "appium-espresso-server-app-debug-androidTest.apk")


def ours(data: bytes) -> int:
    from permaudit.inputs.code import scan_code

    return len(scan_code([("", io.BytesIO(data), len(data))]).defined_classes)


def androguard(data: bytes) -> int:
    from androguard.core.dex import DEX

    count = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("classes") and name.endswith(".dex") and "/" not in name:
                count += len(DEX(archive.read(name)).get_classes())
    return count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("apk", nargs="?", default=str(DEFAULT))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data = Path(args.apk).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        dex_bytes = sum(i.file_size for i in archive.infolist()
                        if i.filename.startswith("classes") and i.filename.endswith(".dex"))
    t = time.perf_counter()
    importlib.import_module("androguard.core.dex")

    print(f"androguard import: {time.perf_counter() - t:.3f} s")
    print(f"{Path(args.apk).name}: {len(data) / 1e6:.1f} MB, DEX {dex_bytes / 1e6:.1f} MB")
    ratios = []
    for round_ in range(args.rounds):
        times = {}
        order = (ours, androguard) if round_ % 2 == 0 else (androguard, ours)
        for func in order:
            t = time.perf_counter()
            func(data)
            times[func.__name__] = time.perf_counter() - t
        ratios.append(times["androguard"] / times["ours"])
        print(f"round {round_ + 1}: ours {times['ours']:.3f} s, androguard "
              f"{times['androguard']:.3f} s, ratio {ratios[-1]:.1f}x")
    print(f"median ratio {statistics.median(ratios):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
