"""Benchmark: permaudit scan vs androguard APK() vs aapt on large realistic APKs.

Builds APKs with ``$PERMAUDIT_CORPUS/make-big-apk.py`` (default 150 MB / 8,000 entries,
plus a smaller and a bigger one to show whether cost stays flat as the APK grows), builds a
wheel of this tree and installs it into a fresh venv (``bench/out/venv``: byte-compiled, as
a user would have it; third-party packages are borrowed from the running venv through a
``.pth`` file), then runs each tool in fresh processes, the tools taking turns within each
round. It reports the median wall time and peak resident memory of each tool (``os.wait4``
rusage) and, the figure to quote, the **paired ratio**: within each round, androguard's
time (or aapt's) divided by permaudit's, and the median and range of those per-round
ratios. Run by hand: ``make bench``.
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


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, list[tuple[float, float]]]:
    """(wall seconds, peak RSS MiB) of each command in each of ``runs`` rounds.

    The commands take turns within each round (after one warm-up round), so a slow spell
    of a shared machine weighs on every tool of that round alike: the per-round ratios stay
    meaningful where separate medians would not.
    """
    for argv in commands.values():
        run_once(argv)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(run_once(argv))
    return samples


def paired_ratios(mine: list[tuple[float, float]], other: list[tuple[float, float]]) -> list[float]:
    """``other / mine`` wall time within each round (how many times faster permaudit was)."""
    return sorted(o[0] / m[0] for m, o in zip(mine, other, strict=True))


def install_wheel() -> Path:
    """Build a wheel of this tree and install it into a fresh venv; return its bin directory."""
    import sysconfig
    import venv

    work = OUT_DIR / "install"
    shutil.rmtree(work, ignore_errors=True)
    source = work / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".*", "build", "dist", "*.egg-info", "__pycache__", "tests", "fixtures", "bench", "fuzz"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(work / "dist"), str(source)],
                   check=True, stdout=subprocess.DEVNULL)
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(python), "-c", where],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((work / "dist").glob("permaudit-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", str(wheel)], check=True)
    return env_dir / "bin"


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


def tools(apk: Path, bin_dir: Path) -> dict[str, list[str]]:
    """The command line of each contender (permaudit from the installed wheel in ``bin_dir``)."""
    commands = {
        "permaudit scan --format json": [
            str(bin_dir / "permaudit"),
            "scan",
            "--format",
            "json",
            str(apk),
        ],
        # Manifest, resources and signing only: the workload androguard and aapt do here.
        "permaudit scan --format json --no-code": [
            str(bin_dir / "permaudit"),
            "scan",
            "--format",
            "json",
            "--no-code",
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
    bin_dir = install_wheel()
    print(f"permaudit installed from a wheel into {bin_dir.parent}; {args.runs} interleaved rounds")
    heading = f"{'apk':<24} {'tool':<38} {'median ms':>10} {'peak MiB':>9}"
    print(f"{heading} {'x permaudit (paired)':>22} {'x --no-code (paired)':>22}", flush=True)
    for pair in args.sizes.split(","):
        size_mb, entries = (int(x) for x in pair.split(":"))
        apk = make_apk(size_mb, entries)
        label = f"{apk.stat().st_size / 2**20:.0f} MiB, {entries} entries"
        samples = measure(tools(apk, bin_dir), args.runs)
        mine = samples["permaudit scan --format json"]
        manifest_only = samples["permaudit scan --format json --no-code"]
        for name, runs_ in samples.items():
            wall = statistics.median(r[0] for r in runs_) * 1000
            rss = max(r[1] for r in runs_)
            columns = []
            for base in (mine, manifest_only):
                ratios = paired_ratios(base, runs_)
                columns.append(f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
                               if runs_ is not base else "1")
            print(f"{label:<24} {name:<38} {wall:>10.1f} {rss:>9.1f} "
                  f"{columns[0]:>22} {columns[1]:>22}", flush=True)


if __name__ == "__main__":
    main()
