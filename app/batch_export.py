"""`microtome export SESSION --out DIR`: open a session in a window nobody sees (offscreen
when there is no display), wait for its results, write every panel and table, exit.

Exit codes: 0 written, 2 the session or its model could not be used."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .export import DATA_FORMATS, FIGURE_FORMATS

TIMEOUT_MS = 600_000


def run_export(args: argparse.Namespace) -> int:
    formats = tuple(f.strip().lower() for f in args.formats.split(",") if f.strip())
    unknown = set(formats) - set(FIGURE_FORMATS) - set(DATA_FORMATS)
    if unknown:
        print(f"error: unknown formats {sorted(unknown)} (use png, svg, csv, npz)", file=sys.stderr)
        return 2
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .controller import Controller
    from .main_window import MainWindow
    from .session_file import SessionError, load_session
    from .settings import Settings

    try:
        load_session(args.session)  # fail fast, before Qt and torch start
    except SessionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    controller = Controller()
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None  # never ask anything in batch mode
    window.resize(1600, 1000)
    window.show()
    outcome: dict[str, object] = {}

    def finish(code: int, message: str = "") -> None:
        outcome.update(code=code, message=message)
        controller.shutdown()
        app.quit()

    def export_everything() -> None:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for key, dock in window.docks.items():
            dock.show()
            dock.raise_()
        app.processEvents()
        for key in window.docks:
            for fmt in set(formats) & set(FIGURE_FORMATS):
                path = out / f"{key}.{fmt}"
                window.files.export_panel(key, str(path), fmt, args.scale)
                written.append(path)
        written += window.files.export_all_data(str(out), tuple(set(formats) & set(DATA_FORMATS)))
        finish(0, "\n".join(str(p) for p in written) + f"\n{window.session_verdict}")

    def on_error(message: str) -> None:
        """The session's own run failed (empty prompt, a two-token target, a prompt over the
        context...): nothing may be written from any other state; say why and stop."""
        if "scheduled" not in outcome:
            outcome["scheduled"] = True
            finish(2, f"error: {message}")

    def on_result(_result) -> None:
        if not controller.result_is_current():
            return  # not the session's own state
        ready = controller.last_result is not None and (controller.baseline is not None or not controller.state.interventions)
        if ready and "scheduled" not in outcome:
            outcome["scheduled"] = True
            QTimer.singleShot(300, export_everything)

    controller.result_ready.connect(on_result)
    controller.error.connect(on_error)
    controller.results.on("baseline", on_result)
    window.files.sessions.failed.connect(lambda message: finish(2, f"error: {message}"))
    window.files.open(args.session)
    QTimer.singleShot(TIMEOUT_MS, lambda: finish(2, "error: timed out waiting for the model"))
    app.exec()
    from .teardown import shut_down

    shut_down(app, window)
    print(outcome.get("message", ""), file=sys.stderr if outcome.get("code") else sys.stdout)
    return int(outcome.get("code", 2))
