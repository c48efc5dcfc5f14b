"""Install any git revision of this repository into its own venv, cached by commit.

Each revision is exported with ``git archive`` into a temporary directory, built with
``pip wheel --no-deps --no-build-isolation`` and installed, not editable, into a fresh venv
(pip byte-compiles it as a user's install would be). Third-party packages are borrowed from
the running venv through a ``.pth`` file, as ``tests/test_wheel.py`` does: no network.
The cache lives in ``$PERMAUDIT_TREES`` (default ``/tmp/permaudit-trees``), one directory
per full commit id; a half-built tree is never taken for a finished one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("PERMAUDIT_TREES", "/tmp/permaudit-trees"))  # noqa: S108


@dataclass(frozen=True, slots=True, kw_only=True)
class Tree:
    """One installed revision: its commit, its short name and its venv."""

    commit: str
    label: str
    root: Path

    @property
    def permaudit(self) -> str:
        """The console script of this revision."""
        return str(self.root / "venv" / "bin" / "permaudit")

    @property
    def python(self) -> str:
        """The venv's interpreter (``-m permaudit`` for revisions without the script)."""
        return str(self.root / "venv" / "bin" / "python")


#: GNU time measures a child's peak RSS from a process of its own: ``os.wait4`` on a child
#: forked from this (large) Python process counts the parent's pages copied at the fork.
GNU_TIME = shutil.which("time") if Path("/usr/bin/time").exists() else None


def timed(argv: list[str], rss_file: Path) -> list[str]:
    """``argv`` run under GNU time writing the peak RSS (KiB) to ``rss_file``, if installed."""
    return [GNU_TIME, "-f", "%M", "-o", str(rss_file), *argv] if GNU_TIME else argv


def peak_mib(rss_file: Path, fallback_kib: float) -> float:
    """The peak RSS GNU time wrote, or ``fallback_kib`` (``os.wait4``'s) without it."""
    try:
        return int(rss_file.read_text().split()[-1]) / 1024
    except (OSError, ValueError, IndexError):
        return fallback_kib / 1024
    finally:
        rss_file.unlink(missing_ok=True)


def has_option(tree: Tree, command: str, option: str) -> bool:
    """Whether ``command`` of this revision takes ``option`` (read from its ``--help``)."""
    result = subprocess.run([tree.permaudit, command, "--help"], capture_output=True,
                            text=True, check=True)
    return option in result.stdout.split()


def resolve(revision: str) -> str:
    """The full commit id of ``revision`` (a hash, branch, tag or ``HEAD``)."""
    return subprocess.run(
        ["git", "rev-parse", "--verify", f"{revision}^{{commit}}"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout.strip()


def _export(commit: str, destination: Path) -> None:
    """Write the files of ``commit`` (not the work tree) into ``destination``."""
    destination.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "archive", "--format=tar", commit],
        cwd=REPO, stdout=subprocess.PIPE,
    )
    subprocess.run(["tar", "-x", "-C", str(destination)], stdin=archive.stdout, check=True)
    if archive.stdout is not None:
        archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit(f"git archive {commit} failed")


def _build(commit: str, target: Path) -> None:
    """Build the wheel of ``commit`` and install it into ``target/venv``."""
    with tempfile.TemporaryDirectory(prefix="permaudit-tree-") as work:
        source, dist = Path(work, "source"), Path(work, "dist")
        _export(commit, source)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
             "--no-build-isolation", "--wheel-dir", str(dist), str(source)],
            check=True, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wheel = next(dist.glob("permaudit-*.whl"))
        env_dir = target / "venv"
        venv.EnvBuilder(with_pip=False).create(env_dir)
        python = env_dir / "bin" / "python"
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
        Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
             "--no-deps", "--no-index", "--compile", str(wheel)],
            check=True, stdout=subprocess.DEVNULL,
        )


def install(revision: str, *, cache: Path = CACHE) -> Tree:
    """The installed tree of ``revision``, built once and then taken from ``cache``."""
    commit = resolve(revision)
    root = cache / commit
    cache.mkdir(parents=True, exist_ok=True)
    # One builder at a time per cache; a tree without its ``ready`` mark is rebuilt (the
    # venv's scripts name their absolute path, so it is built where it stays).
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "ready").exists():
            shutil.rmtree(root, ignore_errors=True)
            try:
                _build(commit, root)
            except BaseException:
                shutil.rmtree(root, ignore_errors=True)
                raise
            (root / "ready").write_text(commit + "\n")
    return Tree(commit=commit, label=commit[:7], root=root)


def main() -> None:
    """``python bench/_trees.py REV...``: install each revision and print its venv."""
    for revision in sys.argv[1:] or ["HEAD"]:
        tree = install(revision)
        print(tree.commit[:10], tree.root / "venv")


if __name__ == "__main__":
    main()
