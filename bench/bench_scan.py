"""Benchmark: permaudit scan vs androguard APK() vs aapt on large realistic APKs.

Builds APKs with ``$PERMAUDIT_CORPUS/make-big-apk.py`` (default 150 MB / 8,000 entries,
plus a smaller and a bigger one to show whether cost stays flat as the APK grows), then
runs each tool several times in fresh processes, the tools taking turns, and reports the
median wall time and the peak resident memory of the child (``os.wait4`` rusage). Run by
hand: ``make bench``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PERMAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))
SOURCE_APK = CORPUS / "apk" / "airtest-Yosemite.apk"
OUT_DIR = REPO / "bench" / "out"


def child_env() -> dict[str, str]:
    """The environment of a normal install: bytecode caches are used (and written)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(argv: list[str]) -> tuple[float, float]:
    """Run ``argv`` once; return (wall seconds, peak RSS MiB) of that child alone."""
    with tempfile.TemporaryFile() as errors:
        # stderr goes to a file, not a pipe: androguard logs a lot, and a full pipe would
        # block the child while we wait for it.
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors, env=child_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()[-300:]
            raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {message}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall time (ms) and max peak RSS (MiB) of each command over ``runs`` rounds.

    The commands take turns within each round (after one warm-up round), so a slow spell
    of a shared machine weighs on every tool alike and the ratios stay meaningful.
    """
    for argv in commands.values():
        run_once(argv)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(run_once(argv))
    return {
        name: (statistics.median(s[0] for s in runs_) * 1000, max(s[1] for s in runs_))
        for name, runs_ in samples.items()
    }


def make_apk(size_mb: int, entries: int) -> Path:
    """Build (once) a synthetic APK of about ``size_mb`` MiB with ``entries`` extra entries."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"big-{size_mb}mb-{entries}-signed.apk"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                str(CORPUS / "make-big-apk.py"),
                str(SOURCE_APK),
                str(path),
                "--size-mb",
                str(size_mb),
                "--entries",
                str(entries),
                "--seed",
                "1",
                # The source's v1 signature files, so signer identity is read as in a
                # real APK (they no longer verify; permaudit identifies, not verifies).
                "--keep-signature",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return path


def tools(apk: Path) -> dict[str, list[str]]:
    """The command line of each contender."""
    bin_dir = Path(sys.executable).parent
    commands = {
        "permaudit scan --format json": [
            str(bin_dir / "permaudit"),
            "scan",
            "--format",
            "json",
            str(apk),
        ],
        "permaudit scan --format json --hash": [
            str(bin_dir / "permaudit"),
            "scan",
            "--format",
            "json",
            "--hash",
            str(apk),
        ],
        "androguard APK().get_permissions()": [
            sys.executable,
            "-c",
            "import sys; from androguard.core.apk import APK; APK(sys.argv[1]).get_permissions()",
            str(apk),
        ],
    }
    aapt = shutil.which("aapt")
    if aapt:
        commands["aapt dump permissions"] = [aapt, "dump", "permissions", str(apk)]
    return commands


def main() -> None:
    """Parse options, build the APKs, print one table row per (APK, tool)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument(
        "--sizes",
        default="30:2000,150:8000,300:16000",
        help="comma-separated SIZE_MB:ENTRIES pairs",
    )
    args = parser.parse_args()
    # As a wheel install would have them: byte-compiled modules.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "permaudit")], check=True)
    print(f"{'apk':<24} {'tool':<38} {'median ms':>10} {'peak MiB':>9}", flush=True)
    for pair in args.sizes.split(","):
        size_mb, entries = (int(x) for x in pair.split(":"))
        apk = make_apk(size_mb, entries)
        label = f"{apk.stat().st_size / 2**20:.0f} MiB, {entries} entries"
        for name, (wall, rss) in measure(tools(apk), args.runs).items():
            print(f"{label:<24} {name:<38} {wall:>10.1f} {rss:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
