"""Benchmark: every hostile-input class of issue 10, before and after, as a Markdown table.

Each class is built as files (by the generators the tests already have, imported from
``tests/``, at full or tiny size), then run through a revision's installed console script
(``bench/_trees.py``) in a child with a timeout and an address-space cap
(``RLIMIT_AS`` through ``prlimit``). Recorded per run: exit code (or ``timeout`` / the
signal), wall time, peak RSS (GNU time's ``%M``; ``os.wait4`` without it), the first
stderr line, and for output targets what the target is afterwards. Targets that a
revision may destroy are copies made for the run (a null device made with ``mknod``, a
FIFO, a symlink), never the system's own ``/dev/null``.
Run by hand: ``make bench-hostile``; ``tests/test_bench.py`` runs the tiny sizes against
the current tree.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(BENCH), str(REPO)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import _trees  # noqa: E402

MESSENGER = REPO / "fixtures" / "apk" / "max-25.8.1.apk"
ANDROID_NS = "http://schemas.android.com/apk/res/android"


@dataclass(kw_only=True)
class Case:
    """One hostile input: the command tail (after the program) and what to inspect."""

    cls: str
    name: str
    argv: list[str]
    cwd: Path
    #: exit codes the current tree must give (issue 10: 0 with a correct report, or 2).
    expect: frozenset[int] = frozenset({0, 2})
    stdout_path: str | None = None
    fifo_reader: Path | None = None
    inspect: Callable[[], str] | None = None
    #: the stdout must not carry a raw ESC (terminal injection)
    inert_stdout: bool = False


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one run did."""

    code: int | str
    wall: float
    rss: float
    first_line: str
    note: str = ""
    lines: int = 0
    stderr: str = field(default="", repr=False)


# --- generators ---------------------------------------------------------------------------


def _write(path: Path, data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return str(path)


def _deflated_apk(path: Path, manifest: bytes, **extra: bytes) -> str:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("AndroidManifest.xml", manifest)
        for name, data in extra.items():
            archive.writestr(name, data)
    return str(path)


def axml_amplification(directory: Path, nodes: int) -> bytes:
    """A binary manifest of ``nodes`` elements declaring 65,535 zero-size attributes each."""
    from permaudit.inputs.binary.xmltree import TYPE_STRING
    from tests.inputs.binary.test_axml import NO, _aliasing_node, document, end, pool, start

    strings = ["manifest", "uses-permission", "a", "v", "package", "com.evil.alias"]
    children = [_aliasing_node(0xFFFF, 0) + end(1) for _ in range(nodes)]
    return document(pool(strings), start(0, [(NO, 4, 5, TYPE_STRING, 5)]), *children, end(0))


def _manifest_with(children: str, root_attrs: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<manifest xmlns:android="{ANDROID_NS}" '
            f'package="com.evil.text" android:versionCode="1"{root_attrs}>\n'
            f"{children}</manifest>\n")


def _components_apk(path: Path, count: int, *, exported: bool) -> str:
    """A binary-manifest APK with ``count`` activities (or exported receivers)."""
    from fixtures.axml_writer import Element, encode

    if exported:
        components = [Element("receiver", {"android:name": f"com.evil.R{i}",
                                           "android:exported": True}) for i in range(count)]
    else:
        components = [Element("activity", {"android:name": f"com.evil.A{i}"})
                      for i in range(count)]
    root = Element("manifest", {"package": "com.evil.many", "android:versionCode": 1}, [
        Element("uses-sdk", {"android:minSdkVersion": 21, "android:targetSdkVersion": 34}),
        Element("application", {}, components),
    ])
    return _deflated_apk(path, encode(root))


#: issue 10's YAML classes, by the name tests/rules/test_config_bounds.py gives them.
YAML_CLASSES = ("alias_bomb", "recursive_anchor", "python_tag", "complex_key", "nesting_1000",
                "huge_int")
FORMAT_CLASSES = ("spec_d", "conversion_z", "nested_spec", "huge_width")
FIRES = "    when: {requested_permission: [android.permission.RECORD_AUDIO]}\n"


def _null_device(path: Path) -> bool:
    """A character device like /dev/null at ``path`` (root only); False where refused."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError:
        return False
    return True


def _kind(path: Path) -> str:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "absent"
    for test, name in ((stat.S_ISLNK, "symlink"), (stat.S_ISCHR, "char device"),
                       (stat.S_ISFIFO, "FIFO"), (stat.S_ISREG, "regular file")):
        if test(mode):
            return name
    return "other"


def build(directory: Path, *, small: bool, no_code: bool = True) -> list[Case]:
    """Every class of issue 10 as files in ``directory``; ``small``: tiny sizes for tests;
    ``no_code``: the revision's scan has ``--no-code`` (before the DEX reader it had not)."""
    from tests.hostile.test_hostile import _escapes_in_names, _zip64
    from tests.inputs.test_aab import _aab, _empty_children
    from tests.rules.test_config_bounds import HOSTILE

    d = directory
    d.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def add(cls: str, name: str, *argv: str, **extra: object) -> None:
        cases.append(Case(cls=cls, name=name, argv=list(argv), cwd=d, **extra))  # type: ignore[arg-type]

    apk = str(MESSENGER)
    nc = ["--no-code"] if no_code else []
    for sub in ("attrs", "elements", "utf7", "vc"):
        (d / sub).mkdir()
    # 1. bounded work
    nodes = 20 if small else 2000
    add("1 binary XML attributeCount", f"{nodes} elements x 65,535 zero-size attributes",
        "scan", *nc, _deflated_apk(d / "alias.apk", axml_amplification(d, nodes)))
    messages = 4_000 if small else 4_000_000
    add("1 App Bundle empty messages", f"{messages:,} empty messages",
        "scan", _write(d / "empty.aab", _aab({
            "base/manifest/AndroidManifest.xml": _empty_children(messages)})))
    attrs = 1_000 if small else 1_000_000
    add("1 text manifest", f"{attrs:,} attributes", "scan", _write(
        d / "attrs" / "AndroidManifest.xml",
        _manifest_with("", "".join(f' a{i}="x"' for i in range(attrs)))))
    elements = 200 if small else 200_000
    add("1 text manifest", f"{elements:,} elements", "scan", _write(
        d / "elements" / "AndroidManifest.xml",
        _manifest_with("".join(f'<uses-permission android:name="p.P{i}"/>\n'
                               for i in range(elements)))))
    for count, exported in ((20_000, False), (40_000, True)):
        count = count // 200 if small else count
        add("1 risk score", f"{count:,} {'exported receivers' if exported else 'activities'}",
            "scan", *nc, _components_apk(d / f"components-{count}.apk", count,
                                                 exported=exported))
    for name in YAML_CLASSES:
        body = HOSTILE[name][0]
        add("1 rules YAML", name.replace("_", " "), "rules", "validate",
            _write(d / f"{name}.yml", body), expect=frozenset({2}))
    for name in ("alias_bomb", "python_tag"):
        body = HOSTILE[name][0].replace("rules:", "allow:")
        add("1 policy YAML", name.replace("_", " "), "check", "--policy",
            _write(d / f"policy-{name}.yml", body), apk, expect=frozenset({2}))
    add("1 baseline JSON", "100,000 deep", "check", "--baseline", _write(
        d / "deep.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"), apk,
        expect=frozenset({2}))
    add("1 baseline JSON", "5,000-digit number", "check", "--baseline", _write(
        d / "huge.json", '{"schema_version": ' + "9" * 5000 + "}"), apk, expect=frozenset({2}))
    for name in FORMAT_CLASSES:
        body = HOSTILE[name][0] + FIRES
        add("1 rule message format", HOSTILE[name][0].splitlines()[-1].split(": ", 1)[1],
            "scan", *nc, "--rules", _write(d / f"{name}.yml", body), apk,
            expect=frozenset({2}))
    fifo = d / "fifo.apk"
    os.mkfifo(fifo)
    add("1 special file", "FIFO as the APK", "scan", str(fifo), expect=frozenset({2}))
    for option, command in (("--rules", "scan"), ("--policy", "check"),
                            ("--baseline", "check")):
        path = d / f"fifo{option}"
        os.mkfifo(path)
        add("1 special file", f"FIFO as {option}", command, option, str(path), apk,
            expect=frozenset({2}))
        add("1 special file", f"/dev/zero as {option}", command, option, "/dev/zero", apk,
            expect=frozenset({2}))
    # 2. output
    device = d / "null-device"
    if _null_device(device):
        add("2 -o target", "-o a device node (mknod copy of /dev/null)", "scan", *nc,
            "-o", str(device), apk, expect=frozenset({0}), inspect=lambda: _kind(device))
    out_fifo = d / "out.fifo"
    os.mkfifo(out_fifo)
    add("2 -o target", "-o a FIFO (with a reader)", "scan", *nc, "-o", str(out_fifo),
        apk, expect=frozenset({0}), fifo_reader=out_fifo, inspect=lambda: _kind(out_fifo))
    real, link = d / "real.txt", d / "link.txt"
    real.write_text("")
    link.symlink_to(real)
    add("2 -o target", "-o a symlink", "scan", *nc, "-o", str(link), apk,
        expect=frozenset({0}),
        inspect=lambda: f"{_kind(link)}, target {real.stat().st_size} bytes")
    victim = d / "victim.apk"
    victim.write_bytes(MESSENGER.read_bytes())
    add("2 -o target", "-o the input APK", "scan", *nc, "-o", str(victim),
        str(victim), expect=frozenset({2}),
        inspect=lambda: "input intact" if victim.read_bytes() == MESSENGER.read_bytes()
        else "input overwritten")
    add("2 -o target", "-o -", "scan", *nc, "-o", "-", apk, expect=frozenset({0}),
        inspect=lambda: f"file '-': {_kind(d / '-')}")
    add("2 stdout", "stdout on /dev/full", "scan", *nc, apk, stdout_path="/dev/full",
        expect=frozenset({2}))
    add("2 terminal escapes", "ESC in names, table", "scan", *nc,
        *_escapes_in_names(d), inert_stdout=True, expect=frozenset({0}))
    # 3. no silent gaps
    base = MESSENGER.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        with zipfile.ZipFile(d / "two-bases.apks", "w") as archive:
            archive.writestr("base.apk", base)
            archive.writestr("base.apk", base)
    add("3 duplicate entries", ".apks with two base.apk", "scan", *nc,
        str(d / "two-bases.apks"), expect=frozenset({2}))
    add("3 text manifest", 'encoding="utf-7"', "scan", _write(
        d / "utf7" / "AndroidManifest.xml",
        _manifest_with("").replace("utf-8", "utf-7")), expect=frozenset({2}))
    add("3 text manifest", "4,400-digit versionCode", "scan", _write(
        d / "vc" / "AndroidManifest.xml",
        _manifest_with("").replace('versionCode="1"', f'versionCode="{"9" * 4400}"')),
        expect=frozenset({2}))
    add("3 zip64", "zip64 end records", "scan", *nc, *_zip64(d, hostile=False),
        expect=frozenset({0}))
    return cases


# --- runner -------------------------------------------------------------------------------


def _drain(path: Path, stop: threading.Event) -> None:
    """Read ``path`` (a FIFO opened without blocking) until ``stop``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready and not os.read(fd, 65536):
                time.sleep(0.02)
    finally:
        os.close(fd)


def _kill_below(pid: int) -> None:
    """SIGKILL the children of ``pid`` (GNU time's command, so time still reports its peak
    RSS), or ``pid`` itself when it has none."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children or [str(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(child), signal.SIGKILL)


def run(program: list[str], case: Case, *, timeout: float, memory: int) -> Outcome:
    """Run ``case`` with ``program`` in a child capped at ``memory`` bytes and ``timeout``."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    stop = threading.Event()
    reader = None
    if case.fifo_reader is not None and stat.S_ISFIFO(os.lstat(case.fifo_reader).st_mode):
        reader = threading.Thread(target=_drain, args=(case.fifo_reader, stop), daemon=True)
        reader.start()
        time.sleep(0.05)
    unique = f"{os.getpid()}-{threading.get_ident()}"  # runs may share a process
    err_path = case.cwd / f".stderr-{unique}"
    out_path = case.stdout_path or str(case.cwd / f".stdout-{unique}")
    with open(err_path, "w+b") as errors, open(out_path, "wb") as out:
        rss_file = case.cwd / f".rss-{unique}"
        argv = [*program, *case.argv]
        prlimit = shutil.which("prlimit")
        if prlimit:  # the cap set by a small process, not by a fork of this large one
            argv = [prlimit, f"--as={memory}", "--", *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(_trees.timed(argv, rss_file), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=errors, cwd=case.cwd,
                                preexec_fn=None if prlimit else cap)
        code: int | str
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - start > timeout:
                _kill_below(proc.pid)
                _, status, usage = os.wait4(proc.pid, 0)
                code = "timeout"
                break
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = 0
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    stop.set()
    if reader is not None:
        reader.join()
    stdout = b"" if case.stdout_path else Path(out_path).read_bytes()
    err_path.unlink()
    if not case.stdout_path:
        Path(out_path).unlink()
    if isinstance(code, int) and code < 0:
        code = signal.Signals(-code).name
    lines = stderr.splitlines()
    note = case.inspect() if case.inspect else ""
    if case.inert_stdout:
        note = "raw ESC in stdout" if b"\x1b" in stdout else "no raw ESC in stdout"
    if "Traceback" in stderr:
        note = (note + "; traceback").lstrip("; ")
    return Outcome(code=code, wall=wall, rss=_trees.peak_mib(rss_file, usage.ru_maxrss),
                   first_line=lines[0] if lines else "", note=note, lines=len(lines),
                   stderr=stderr)


def _cell(text: str, width: int = 70) -> str:
    shown = text.encode("unicode_escape").decode("ascii")
    shown = shown if len(shown) <= width else shown[: width - 3] + "..."
    return shown.replace("|", "\\|").replace("`", "'")


def _short(outcome: Outcome, directory: Path) -> str:
    return _cell(outcome.first_line.replace(str(directory) + "/", ""))


def _detail(outcome: Outcome, case: Case) -> str:
    return "; ".join(x for x in (_short(outcome, case.cwd), _cell(outcome.note)) if x)


def table(cases: list[tuple[Case, Case, Outcome, Outcome]], before: str, after: str) -> str:
    """The Markdown table of every case, before and after."""
    rows = [
        f"| class | case | {before} exit | s | MiB | {after} exit | s | MiB | "
        f"{after}: first stderr line / target after | {before}: first stderr line / target "
        "after |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for old_case, case, old, new in cases:
        rows.append(
            f"| {case.cls} | {_cell(case.name, 48)} | {old.code} | {old.wall:.2f} | "
            f"{old.rss:.0f} | {new.code} | {new.wall:.2f} | {new.rss:.0f} | "
            f"{_detail(new, case)} | {_detail(old, old_case)} |"
        )
    return "\n".join(rows) + "\n"


def main() -> None:
    """Build every class twice (one copy per revision), run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="d05d627", help="default: the tree before issue 10")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--memory-mib", type=int, default=2048)
    parser.add_argument("--small", action="store_true", help="tiny sizes (a quick look)")
    parser.add_argument("--work", type=Path, default=BENCH / "out" / "hostile")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    before, after = _trees.install(args.before), _trees.install(args.after)
    shutil.rmtree(args.work, ignore_errors=True)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    old_cases = build(args.work / before.label, small=args.small,
                      no_code=_trees.has_option(before, "scan", "--no-code"))
    new_cases = build(args.work / after.label, small=args.small,
                      no_code=_trees.has_option(after, "scan", "--no-code"))
    results = []
    for old_case, new_case in zip(old_cases, new_cases, strict=True):
        limits = {"timeout": args.timeout, "memory": args.memory_mib * 2**20}
        new = run([after.permaudit], new_case, **limits)  # type: ignore[arg-type]
        old = run([before.permaudit], old_case, **limits)  # type: ignore[arg-type]
        results.append((old_case, new_case, old, new))
        print(f"{new_case.cls}: {new_case.name}: before {old.code} {old.wall:.1f}s, "
              f"after {new.code} {new.wall:.1f}s", file=sys.stderr, flush=True)
    finished = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    report = (
        f"Run {started}; `uptime` before: {load.strip()}; after: {finished.strip()}. "
        f"Before {before.label}, after {after.label}; each run in a child with a "
        f"{args.timeout:.0f} s timeout and RLIMIT_AS {args.memory_mib} MiB; peak RSS from "
        f"os.wait4. Paths in stderr lines are shown relative to the case directory.\n\n"
        + table(results, before.label, after.label)
    )
    print(report, end="")
    if args.output:
        args.output.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
