"""`microtome [MODEL] [--prompt TEXT] [--target T --foil F] [--device auto|cpu|cuda] [--session FILE]`
and `microtome export SESSION --out DIR [--formats png,svg,csv,npz]`; also `python -m app`."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="microtome", description="Visual model dissection of transformer LMs.")
    parser.add_argument("model", nargs="?", default=None, help="local folder or hub id (default: the bundled demo model)")
    parser.add_argument("--prompt", help="prompt to run first")
    parser.add_argument("--target", help="target token for the logit difference")
    parser.add_argument("--foil", help="foil token for the logit difference")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--session", metavar="FILE", help="open a saved session (.microtome)")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window after the first result, then exit")
    parser.add_argument("--smoke", action="store_true", help="self-test on the demo model (window + engine thread), then exit")
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["export"]:
        from .batch_export import run_export

        return run_export(parse_export_args(argv[1:]))
    args = parse_args(argv)
    if args.smoke:
        from .smoke import run_smoke

        return run_smoke()
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    from .controller import Controller, ViewState
    from .main_window import MainWindow
    from .settings import load_settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Microtome")
    pg.setConfigOptions(antialias=True)
    controller = Controller()
    # a custom model gets no demo target/foil; explicit arguments win
    state = ViewState() if args.model is None else ViewState(target="", foil="")
    given = {"prompt": args.prompt, "target": args.target, "foil": args.foil}
    controller.state = replace(state, **{k: v for k, v in given.items() if v is not None})
    window = MainWindow(controller, load_settings())
    window.show()
    if args.session:
        window.files.open(args.session)
    else:
        controller.load_model(args.model, args.device)
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
