"""`microtome [MODEL] [--prompt TEXT] [--target T --foil F] [--device auto|cpu|cuda] [--session FILE]`
and `microtome export SESSION --out DIR [--formats png,svg,csv,npz]`; also `python -m app`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

# first: with MICROTOME_STARTUP_TIMING set it times startup from here on
from . import startup_timing
from .version import APP_ID, APP_NAME, __version__


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="microtome", description="Visual model dissection of transformer LMs.")
    parser.add_argument("model", nargs="?", default=None, help="local folder, .gguf file or hub id (default: the bundled demo model)")
    parser.add_argument("--prompt", help="prompt to run first")
    parser.add_argument("--target", help="target token for the logit difference")
    parser.add_argument("--foil", help="foil token for the logit difference")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--session", metavar="FILE", help="open a saved session (.microtome)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="allow pickle checkpoints (.bin/.pt): loading one can run code from the file")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window after the first result, then exit")
    parser.add_argument("--smoke", action="store_true", help="self-test on the demo model (window + engine thread), then exit")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser.parse_args(argv)


def parse_export_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="microtome export",
                                     description="Write every figure and table of a session without showing a window.")
    parser.add_argument("session", help="a .microtome session file")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--formats", default="png,svg,csv,npz", help="comma-separated: png, svg, csv, npz")
    parser.add_argument("--scale", type=float, default=2.0, help="PNG scale (2 = 192 dpi)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    return parser.parse_args(argv)


def app_icon():
    """The window/taskbar icon: every PNG size in resources/icons (no SVG plugin needed)."""
    from PySide6.QtGui import QIcon

    from engine.paths import resources_dir

    icon = QIcon()
    for png in sorted((resources_dir() / "icons").glob(f"{APP_ID}-*.png")):
        icon.addFile(str(png))
    return icon


def main(argv: list[str] | None = None) -> int:
    startup_timing.mark("main() entered")
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["export"]:
        from .batch_export import run_export

        return run_export(parse_export_args(argv[1:]))
    args = parse_args(argv)
    if args.smoke:
        from .smoke import run_smoke

        return run_smoke()
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .controller import Controller, ViewState
    from .main_window import MainWindow
    from .settings import load_settings

    startup_timing.mark("UI modules imported")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # matches resources/microtome.desktop (taskbar grouping, Wayland app id)
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(antialias=True)
    controller = Controller()
    # a custom model gets no demo target/foil; explicit arguments win
    state = ViewState() if args.model is None else ViewState(target="", foil="")
    given = {"prompt": args.prompt, "target": args.target, "foil": args.foil}
    controller.state = replace(state, **{k: v for k, v in given.items() if v is not None})
    window = MainWindow(controller, load_settings())
    startup_timing.watch_window(app, window, controller)
    window.show()
    startup_timing.mark("window shown")
    from .fallback import open_demo_if_nothing_opens

    open_demo_if_nothing_opens(window, args.device)
    if args.session:
        window.files.open(args.session)
    else:
        # one event-loop turn later: the window paints before the engine thread starts importing
        # torch (which holds the GIL for ~1 s); measured with bench/startup.py: first paint 0.25-0.45 s sooner
        QTimer.singleShot(0, lambda: controller.load_model(args.model, args.device, allow_pickle=args.allow_pickle))
        window.files.offer_recovery()
    if args.screenshot:
        from .screenshot import screenshot_after_first_result

        screenshot_after_first_result(window, args.screenshot)
    code = app.exec()
    from .teardown import shut_down

    shut_down(app, window)
    return code


if __name__ == "__main__":
    sys.exit(main())
