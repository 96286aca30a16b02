"""Startup milestones: process start -> main() -> window shown -> first paint -> first result.

Off unless MICROTOME_STARTUP_TIMING is set: `=1` prints one line per milestone to stderr,
`=exit` also quits after the first result (bench/startup.py runs the app that way). Each line is

    microtome-startup<TAB>event<TAB>unix time<TAB>seconds since the process started<TAB>thread

so a script can subtract its own launch time, and a person can read the fourth column.
It also watches the first imports of torch and transformers: they belong in the engine
thread, after the window is up. Imported on the UI (main) thread, the line says so and
prints the importing stack, which names the file and line to fix.

Nothing here imports Qt at module level, so importing this first costs nothing measurable."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from typing import Any

ENV = "MICROTOME_STARTUP_TIMING"
WATCHED_IMPORTS = ("torch", "transformers")
PREFIX = "microtome-startup"


def mode() -> str:
    """'' (off), '1' (print) or 'exit' (print, quit after the first result)."""
    value = os.environ.get(ENV, "").strip().lower()
    return "" if value in ("", "0", "false", "no") else value


def process_start_time() -> float:
    """When this process started (unix time): from /proc on Linux (10 ms ticks), else the
    moment this module was imported."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22, counted from the state field (3)
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - age
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED_AT


_IMPORTED_AT = time.time()
_START = process_start_time()
marks: list[tuple[str, float, str]] = []  # (event, unix time, thread), also when printing is off
_seen_imports: set[str] = set()


def _write(text: str) -> None:
    """One write per line, so lines from the UI and engine threads never interleave."""
    if sys.stderr is not None:  # a windowed app on Windows has no stderr
        sys.stderr.write(text)
        sys.stderr.flush()


def mark(event: str) -> None:
    now = time.time()
    current = threading.current_thread()
    thread = "UI thread" if current is threading.main_thread() else f"worker thread ({current.name})"
    marks.append((event, now, thread))
    if mode():
        _write(f"{PREFIX}\t{event}\t{now:.6f}\t{now - _START:.3f}\t{thread}\n")


class _ImportWatch:
    """A meta-path finder that only notes the first import of torch/transformers and finds nothing."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:  # finds nothing: returns None
        if name in WATCHED_IMPORTS and name not in _seen_imports:
            _seen_imports.add(name)
            on_ui = threading.current_thread() is threading.main_thread()
            mark(f"import {name} starts" + (" ON THE UI THREAD" if on_ui else ""))
            if on_ui and mode():
                stack = "".join(traceback.format_stack(limit=12)[:-1])
                _write(f"{PREFIX}: {name} imported on the UI thread from:\n{stack}")

    @staticmethod
    def invalidate_caches() -> None:
        pass  # part of the meta-path finder protocol; this finder caches nothing


def install_import_watch() -> None:
    if not any(isinstance(f, _ImportWatch) for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportWatch())


def watch_window(app: Any, window: Any, controller: Any) -> None:
    """Mark the window's first paint and the first result; with mode 'exit', quit after it
    (or after a failed load). Does nothing when timing is off."""
    if not mode():
        return
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QWidget

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.window() is window:
                mark("first paint")
                app.removeEventFilter(self)
            return False

    watcher = FirstPaint(app)
    app.installEventFilter(watcher)
    window._startup_watcher = watcher  # keep it alive with the window
    done = {"result": False}

    def finished(event: str) -> None:
        if done["result"]:
            return
        done["result"] = True
        mark(event)
        if mode() == "exit":
            QTimer.singleShot(0, app.quit)

    controller.model_loaded.connect(lambda *_: mark("model loaded") if "model loaded" not in (m[0] for m in marks) else None)
    controller.result_ready.connect(lambda *_: finished("first result"))
    controller.load_failed.connect(lambda *_: finished("load failed"))


if mode():
    install_import_watch()
