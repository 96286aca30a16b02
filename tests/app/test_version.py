"""One version everywhere: app/version.py is the source; pyproject reads it, the installed
package metadata and `microtome --version` report it."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from app.version import APP_NAME, __version__

ROOT = Path(__file__).resolve().parents[2]


def test_version_is_a_plain_pep440_release() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", __version__), __version__


def test_pyproject_takes_the_version_from_app_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"], "write the version only in app/version.py"
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "app.version.__version__"}


def test_installed_metadata_matches() -> None:
    try:
        installed = importlib.metadata.version("microtome")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("microtome is not installed (pip install -e .)")
    assert installed == __version__, (f"installed metadata says {installed}, app/version.py says {__version__}: "
                                      "reinstall (pip install -e . / make setup)")


def test_cli_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "app", "--version"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{APP_NAME} {__version__}"
    assert "torch" not in proc.stderr
