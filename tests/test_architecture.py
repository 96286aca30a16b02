"""The walls of design.md and docs/architecture.md, checked on the source (AST), so a test
fails on the import line itself, not on whatever happens to be installed:

- engine never imports Qt, app or widgets; widgets never import engine, torch or transformers;
- analyses reach the model only through the handle: they import no torch backend module
  (hooks, resume, run cache, loading, adapters) and never touch `.model` / `.adapter`;
- panels do not import each other (they share through the workspace);
- the main window, controller and engine thread name no technique (new ones need no edit there)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "engine": {"PySide6", "pyqtgraph", "superqt", "qtpy", "app", "widgets"},
    "widgets": {"engine", "torch", "transformers", "app"},
}
BACKEND = {"hooks", "resume", "run_cache", "loading", "adapters", "fidelity", "memory"}
PANEL_HELPERS = {"base", "builtin", "__init__"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def relative_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(level, module, names) of every relative import."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            out.append((node.level, node.module or "", [a.name for a in node.names]))
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_wall(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    bad = {f"{f.relative_to(ROOT)} imports {sorted(imported_roots(f) & FORBIDDEN[package])}"
           for f in files if imported_roots(f) & FORBIDDEN[package]}
    assert not bad, bad


def test_analyses_reach_the_model_only_through_the_handle() -> None:
    bad = []
    for path in (ROOT / "engine" / "analyses").glob("*.py"):
        for level, module, names in relative_imports(path):
            first = module.split(".")[0] if module else (names[0] if names else "")
            if level == 2 and first in BACKEND:
                bad.append(f"{path.name} imports engine.{module}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("model", "adapter", "loaded", "tokenizer"):
                bad.append(f"{path.name}:{node.lineno} reads .{node.attr}")
    assert not bad, bad


def test_panels_do_not_import_each_other() -> None:
    panels = {p.stem for p in (ROOT / "app" / "panels").glob("*.py")} - PANEL_HELPERS
    bad = []
    for path in (ROOT / "app" / "panels").glob("*.py"):
        if path.stem in PANEL_HELPERS:
            continue
        for level, module, names in relative_imports(path):
            targets = {module.split(".")[0]} if module else set(names)
            if level == 1 and targets & panels:
                bad.append(f"{path.name} imports {sorted(targets & panels)}")
    assert not bad, bad


@pytest.mark.parametrize("shell", ["app/main_window.py", "app/controller.py", "app/jobs.py", "app/engine_service.py",
                                   "app/session_manager.py"])  # session_file: only its v2 -> v3 migration names one
def test_the_shell_names_no_technique(shell: str) -> None:
    """Adding a technique must not need an edit here: no technique's widget, analysis module or
    result type is named (only the live run and model loading, which are the app itself)."""
    text = (ROOT / shell).read_text(encoding="utf-8")
    techniques = ["patching", "PatchingSpec", "PatchingPanel", "HeadGrid", "LogitLens", "ComponentGraph",
                  "attention_text", "head_scores_from", "path_patching", "attribution", "generation", "steering",
                  "Steer", "GenerationView", "SteeringView", "transcoder", "feature_labels", "circuit", "circuit_eval",
                  "CircuitView", "info_flow", "InfoFlowView", "set_effects", "EditedSet"]
    used = [t for t in techniques if re.search(rf"\b{t}\b", text)]
    assert not used, f"{shell} names {used}"


def test_engine_results_and_interventions_import_without_torch() -> None:
    """The UI thread imports these to read results; torch must stay for the engine thread."""
    code = ("import sys, engine.results, engine.interventions, engine.errors, engine.addresses, engine.analysis, "
            "engine.edge_graph, engine.flow_routes, engine.prompt_sets, engine.circuit_results; "
            "from engine import Ablation, RunResult; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
