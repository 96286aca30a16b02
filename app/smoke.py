"""`microtome --smoke`: open the bundled demo model in the real window and engine thread
(offscreen when there is no display), run the IOI prompt, ablate induction/IOI head L1.H4,
and check the numbers against a direct engine computation. Exit 0 when all is well,
1 when a number is wrong, 2 when the demo model cannot be opened. Used to check an
installed copy or a bundle."""

from __future__ import annotations

import os
import sys
import time

CHECK_TIMEOUT_S = 300


def run_smoke() -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from engine.paths import demo_model_dir

    from .controller import Controller
    from .main_window import MainWindow
    from .settings import Settings
    from .teardown import shut_down

    if not (demo_model_dir() / "config.json").is_file():
        print(f"smoke test failed: the demo model is missing ({demo_model_dir()})", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    controller = Controller()
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None
    window.show()
    errors: list[str] = []
    controller.error.connect(errors.append)

    def wait(condition) -> bool:
        end = time.monotonic() + CHECK_TIMEOUT_S
        while not condition() and not errors and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
        return condition()

    try:
        controller.load_model(None, "auto")
        if not wait(lambda: controller.last_result is not None):
            print(f"smoke test failed: no result ({'; '.join(errors) or 'timed out'})", file=sys.stderr)
            return 2
        clean = controller.last_result
        controller.ablate(["L1.H4"])
        if not wait(lambda: controller.last_result.interventions != ()):
            print(f"smoke test failed: no ablated result ({'; '.join(errors) or 'timed out'})", file=sys.stderr)
            return 1
        ablated = controller.last_result
        from engine import Ablation, Engine

        direct = Engine(device="cpu").run(clean.prompt, [Ablation("L1.H4")], want=(), target="Mary", foil="John")
        problems = []
        if not (clean.target_prob > 0.9 and clean.logit_diff > 5):
            problems.append(f"clean prediction is off (P(Mary) {clean.target_prob:.3f}, logit diff {clean.logit_diff:.2f})")
        if not ablated.target_prob < 0.1:
            problems.append(f"ablating L1.H4 did not break the prediction (P(Mary) {ablated.target_prob:.3f})")
        if abs(ablated.logit_diff - direct.logit_diff) > 1e-3:
            problems.append(f"window and engine disagree ({ablated.logit_diff:.4f} vs {direct.logit_diff:.4f})")
        if problems:
            print("smoke test failed: " + "; ".join(problems), file=sys.stderr)
            return 1
        print(f"smoke test passed: P('Mary') {clean.target_prob:.3f} -> {ablated.target_prob:.3f} with L1.H4 "
              f"ablated; logit diff {clean.logit_diff:+.2f} -> {ablated.logit_diff:+.2f} on {clean.device}")
        return 0
    finally:
        shut_down(app, window)
