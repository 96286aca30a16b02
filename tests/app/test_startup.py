"""The window comes up before torch and transformers are imported, and they are imported
in the engine thread, never on the UI thread (app/startup_timing.py watches both)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import startup_timing

ROOT = Path(__file__).resolve().parents[2]


def timed_start(command: list[str], tmp_path: Path) -> tuple[dict[str, tuple[float, str]], subprocess.CompletedProcess]:
    """Run the app until its first result; milestone -> (seconds since process start, thread)."""
    env = {**os.environ, startup_timing.ENV: "exit", "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1",
           "MICROTOME_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    marks = {}
    for line in proc.stderr.splitlines():
        parts = line.split("\t")
        if parts[0] == startup_timing.PREFIX and len(parts) == 5:
            marks.setdefault(parts[1], (float(parts[3]), parts[4]))
    return marks, proc


def check_startup_order(marks: dict[str, tuple[float, str]], proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ON THE UI THREAD" not in proc.stderr, proc.stderr[-3000:]
    for name in ("torch", "transformers"):
        assert marks[f"import {name} starts"][1].startswith("worker thread")
    shown, painted = marks["window shown"][0], marks["first paint"][0]
    assert shown <= marks["import torch starts"][0] <= marks["import transformers starts"][0]
    assert painted <= marks["first result"][0]
    assert marks["model loaded"][0] <= marks["first result"][0]


@pytest.mark.slow
def test_window_first_then_torch_in_the_engine_thread(tmp_path) -> None:
    marks, proc = timed_start([sys.executable, "-m", "app"], tmp_path)
    check_startup_order(marks, proc)


def test_import_watch_reports_the_ui_thread(monkeypatch, capsys) -> None:
    monkeypatch.setenv(startup_timing.ENV, "1")
    monkeypatch.setattr(startup_timing, "_seen_imports", set())
    startup_timing._ImportWatch.find_spec("torch")
    err = capsys.readouterr().err
    assert "import torch starts ON THE UI THREAD" in err and "imported on the UI thread from" in err
    assert startup_timing._ImportWatch.find_spec("numpy") is None


def test_process_start_is_in_the_past() -> None:
    import time

    assert time.time() - 600 < startup_timing.process_start_time() <= time.time()
