"""Dogfood: build the wheel, install it into a fresh venv, run it outside the source tree.

Proves the default ruleset and the platform data ship inside the wheel. No network: the
wheel is installed with ``--no-deps`` and the fresh venv borrows the test venv's
third-party packages through a ``.pth`` file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the freshly built wheel installed; returns its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    # Built from a copy of the tree: setuptools reuses an in-tree build/ directory and
    # would ship files deleted since the last build.
    source = work / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "build", "dist", "*.egg-info", "__pycache__", "tests", "fixtures", "bench",
            "fuzz",
        ),
    )
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
    )
    # A silent build: every data directory is a declared package (setuptools warns with a
    # long BuildBackendWarning block for importable directories absent from ``packages``).
    assert "Warning" not in build.stdout + build.stderr, build.stdout + build.stderr
    wheels = list(dist.glob("permaudit-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Third-party dependencies come from the test venv; permaudit itself must come from the wheel.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheels[0]),
        ],
        check=True,
        capture_output=True,
    )
    return env_dir / "bin"


def run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed console script from ``cwd``."""
    return subprocess.run(
        [str(bin_dir / "permaudit"), *args], capture_output=True, text=True, cwd=cwd
    )


def test_installed_wheel_validates_default_rules(installed: Path, tmp_path: Path) -> None:
    result = run(installed, "rules", "validate", "--default", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_installed_wheel_scans_from_outside_the_source_tree(
    installed: Path, tmp_path: Path
) -> None:
    apk = FIXTURES / "apk" / "max-25.8.1.apk"
    result = run(installed, "scan", "--format", "json", str(apk), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["apps"][0]["package"] == "ru.oneme.app"
    module = subprocess.run(
        [str(installed / "python"), "-c", "import permaudit; print(permaudit.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert str(REPO) not in module, "permaudit was imported from the source tree, not the wheel"


def test_installed_wheel_scans_from_its_compiled_rules(installed: Path, tmp_path: Path) -> None:
    """The wheel ships the compiled copies of its YAML data, so a scan needs no PyYAML."""
    apk = FIXTURES / "apk" / "max-25.8.1.apk"
    code = (
        "import sys\n"
        "from permaudit.cli import main\n"
        f"status = main(['scan', '--format', 'json', {str(apk)!r}])\n"
        "loaded = sorted(m for m in ('yaml', 'asn1crypto') if m in sys.modules)\n"
        "sys.stderr.write(f'{status} {loaded}')\n"
    )
    result = subprocess.run(
        [str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.stderr == "0 []"
    assert '"package": "ru.oneme.app"' in result.stdout
