"""Benchmark a full ``permaudit scan`` (manifest + code) of a big multi-DEX APK, paired.

Builds (once, in ``bench/out``) a ~150 MB APK with real DEX: ``make-big-apk.py`` from the
corpus (airtest-Yosemite.apk with its two DEX, 8,000 small res/ entries, a padded
resources.arsc), then nine more real corpus DEX files added as ``classes3..11.dex``
(deflated): 11 DEX files, 76 MB of DEX. Then, in interleaved rounds of fresh processes:

* ``scan``: ``permaudit scan --format json`` of revision ``--after`` (default ``HEAD``)
  vs ``--base`` (default ``64a2950``, before the lean DEX reader), each installed from a
  wheel into its own venv by ``bench/_trees.py`` (byte-compiled, as a user's install);
* ``no-code``: the same with ``--no-code`` (the manifest-only floor of the full scan);
* ``dex``: ``--after``'s ``scan_code`` vs androguard's ``DEX()`` over the same DEX bytes,
  the time inside the child (imports excluded).

It prints per-round wall time and peak RSS (GNU time's ``%M``; ``os.wait4`` without it)
and the median paired ratio. Usage: ``python bench/bench_code_scan.py [--rounds N] [--base
REV] [--after REV]``; report the machine load (``uptime``) with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _trees

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PERMAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))
OUT = REPO / "bench" / "out"
SOURCE = "airtest-Yosemite.apk"
EXTRA_DEX = (
    ("appium-espresso-server-app-debug-androidTest.apk", "classes.dex"),
    ("appium-uiautomator2-server-v10.6.6.apk", "classes.dex"),
    ("pocoui-pocoservice-debug.apk", "classes2.dex"),
    ("ApiDemos-debug.apk", "classes.dex"),
    ("exodus-blooddonation.apk", "classes.dex"),
    ("hello-world.apk", "classes.dex"),
    ("app-prod-debug.apk", "classes.dex"),
    ("com.example.android.wearable.wear.weardrawers.apk", "classes2.dex"),
    ("com.test.intent_filter.apk", "classes.dex"),
)

DEX_CHILD = """
import io, sys, time, zipfile
data = open(sys.argv[2], "rb").read()
t = time.perf_counter()
if sys.argv[1] == "ours":
    from permaudit.inputs.code import scan_code
    scan_code([("", io.BytesIO(data), len(data))])
else:
    from androguard.core.dex import DEX
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for n in z.namelist():
            if n.startswith("classes") and n.endswith(".dex"):
                DEX(z.read(n))
print(time.perf_counter() - t)
"""


def big_apk() -> Path:
    """The benchmark APK, built once."""
    path = OUT / "big-code-150mb.apk"
    if path.exists():
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, str(CORPUS / "make-big-apk.py"), str(CORPUS / "apk" / SOURCE),
         str(path), "--dex", "0", "--entries", "8000", "--arsc-mb", "82", "--seed", "1",
         "--keep-signature"],
        check=True, stdout=subprocess.DEVNULL,
    )
    with zipfile.ZipFile(path, "a") as out:
        for number, (apk, name) in enumerate(EXTRA_DEX, start=3):
            data = zipfile.ZipFile(CORPUS / "apk" / apk).read(name)
            info = zipfile.ZipInfo(f"classes{number}.dex", (2008, 1, 1, 0, 0, 0))
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return path


def run(argv: list[str]) -> tuple[float, float, str]:
    """(wall s, peak RSS MiB, stdout) of one child."""
    drop = ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    rss_file = OUT / "peak-rss.txt"
    start = time.perf_counter()
    proc = subprocess.Popen(_trees.timed(argv, rss_file), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, cwd="/")
    out = proc.stdout.read().decode() if proc.stdout else ""

    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{argv} failed")
    # GNU time's figure: os.wait4 on a child forked from this process counts the pages it
    # copied from this one (a floor of this process's own RSS).
    return wall, _trees.peak_mib(rss_file, usage.ru_maxrss), out


def paired(name: str, a: tuple[str, list[str]], b: tuple[str, list[str]],
           rounds: int, inner: bool = False) -> None:
    """Interleaved rounds of ``a`` and ``b``; ratio b/a per round."""
    ratios = []
    for round_ in range(rounds + 1):  # round 0 warms the caches and is not counted
        times = {}
        for label, argv in (a, b) if round_ % 2 else (b, a):
            wall, rss, out = run(argv)
            times[label] = (float(out.strip()) if inner else wall, rss)
        if round_:
            ratio = times[b[0]][0] / times[a[0]][0]
            ratios.append(ratio)
            print(f"{name} round {round_}: " + ", ".join(
                f"{k} {t:.2f} s {r:.0f} MiB" for k, (t, r) in times.items()) + f", {ratio:.1f}x")
    print(f"{name}: median {b[0]}/{a[0]} {statistics.median(ratios):.1f}x "
          f"(range {min(ratios):.1f}-{max(ratios):.1f})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--base", default="64a2950")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--skip-androguard", action="store_true")
    args = parser.parse_args()
    apk = big_apk()
    with zipfile.ZipFile(apk) as z:
        dex = [i for i in z.infolist() if i.filename.endswith(".dex")]
    base, after = _trees.install(args.base), _trees.install(args.after)
    print(f"{apk.name}: {apk.stat().st_size / 1e6:.0f} MB, {len(dex)} DEX, "
          f"{sum(i.file_size for i in dex) / 1e6:.0f} MB of DEX; {after.label} vs "
          f"{base.label}; load {os.getloadavg()}")
    for name, flags in (("scan", []), ("no-code", ["--no-code"])):
        paired(name, ("after", [after.permaudit, "scan", "--format", "json", *flags, str(apk)]),
               (f"base {base.label}", [base.permaudit, "scan", "--format", "json", *flags,
                                        str(apk)]), args.rounds)
    if not args.skip_androguard:
        child = ["-c", DEX_CHILD]
        paired("dex", ("after", [after.python, *child, "ours", str(apk)]),
               ("androguard", [sys.executable, *child, "androguard", str(apk)]), args.rounds,
               inner=True)
    print(f"load after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
