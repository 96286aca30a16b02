"""The walls of design.md: engine never imports Qt/app/widgets; widgets never import
engine, torch or transformers. Checked on the source (AST), so it fails on the import
line itself, not on whatever happens to be installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "engine": {"PySide6", "pyqtgraph", "superqt", "qtpy", "app", "widgets"},
    "widgets": {"engine", "torch", "transformers", "app"},
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_wall(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    bad = {f"{f.relative_to(ROOT)} imports {sorted(imported_roots(f) & FORBIDDEN[package])}"
           for f in files if imported_roots(f) & FORBIDDEN[package]}
    assert not bad, bad


def test_engine_results_and_interventions_import_without_torch() -> None:
    """The UI thread imports these to read results; torch must stay for the engine thread."""
    code = ("import sys, engine.results, engine.interventions, engine.errors; "
            "from engine import Ablation, RunResult; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
