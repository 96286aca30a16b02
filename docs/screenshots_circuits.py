"""Screenshots of circuit discovery and information flow: on the demo model, the IOI pair's
circuit (EAP-IG) with its faithfulness curve after a hand edit, and the induction prompt's
information-flow graph; with --real, the same on SmolLM2-135M.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_circuits.py [--real]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docs.screenshots_timeline import ROOT, settle, stop_engines, window_on  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

DEMO = ("When Mary and John went to the store , John gave a drink to",
        "When Mary and John went to the store , Mary gave a drink to", "Mary", "John")
REAL = ("When Mary and John went to the store, John gave a drink to",
        "When Mary and John went to the store, Mary gave a drink to", " Mary", " John")
DEMO_INDUCTION = "shadow flame paper plate mother kind soft spoon busy took shadow flame paper plate mother"
REAL_INDUCTION = "The cat sat on the mat with the dog. The cat sat on the"


def circuit(app, window, pair, out: Path, name: str) -> None:
    c, panel = window.controller, window.panels["circuits"]
    c.set_prompt(pair[0])
    c.set_corrupted(pair[1])
    c.set_target(pair[2])
    c.set_foil(pair[3])
    settle(app, lambda: not c.pending and c.result_is_current())
    window.raise_panel("circuits")
    panel.find()
    settle(app, lambda: panel.found is not None and panel.last_faithfulness is not None, timeout_s=900)
    drawn_in = [i for i, e in enumerate(panel.drawn) if panel.circuit()[e]]
    if len(drawn_in) > 2:  # one hand edit: the weakest edge of the circuit out
        panel.toggle_edge(drawn_in[-1])
        settle(app, lambda: not panel.view.pending, timeout_s=300)
    panel.click_edge(0)
    settle(app, lambda: "exactly" in panel.view.details.toPlainText(), timeout_s=300)
    window.view("circuits").grab().save(str(out / f"{name}.png"))
    window.grab().save(str(out / f"{name}_window.png"))


def info_flow(app, window, prompt: str, out: Path, name: str) -> None:
    c, panel = window.controller, window.panels["info_flow"]
    c.set_prompt(prompt)
    settle(app, lambda: not c.pending and c.result_is_current())
    window.raise_panel("info_flow")
    settle(app, lambda: panel.flow is not None and len(panel.flow.tokens) == len(c.baseline.tokens), timeout_s=300)
    last = len(panel.flow.tokens) - 1
    panel.read_node(2 * panel.flow.n_layers, last)
    settle(app, lambda: True)
    window.view("info_flow").grab().save(str(out / f"{name}.png"))


def main() -> None:
    app = QApplication(sys.argv[:1])
    out = ROOT / "docs"
    if "--real" in sys.argv:
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        window = window_on(app, str(real_model_cache() / REAL_MODEL_FOLDER))
        info_flow(app, window, REAL_INDUCTION, out / "real_size", "info_flow_smollm2")
        circuit(app, window, REAL, out / "real_size", "circuit_smollm2")
    else:
        window = window_on(app, None)
        info_flow(app, window, DEMO_INDUCTION, out, "info_flow")
        circuit(app, window, DEMO, out, "circuit")
    print("saved")


if __name__ == "__main__":
    main()
    stop_engines()
