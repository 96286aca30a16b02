"""Screenshots of generation and steering: on the demo model, the IOI pair's vector steering
the answer (the strength sweep with where it flips) and the generation panel with a steered
and an unsteered continuation; with --real, the same on SmolLM2-135M with a sentiment vector
from contrast pairs.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_steering.py [--real]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docs.screenshots_timeline import ROOT, settle, stop_engines, window_on  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

DEMO_PAIRS = (["When Mary and John went to the store , John gave a drink to"],
              ["When Mary and John went to the store , Mary gave a drink to"])
POSITIVE = ["I loved this movie. It was wonderful.", "What a great day, I am so happy.",
            "The food was delicious and the staff were kind.", "This is the best book I have read."]
NEGATIVE = ["I hated this movie. It was awful.", "What a terrible day, I am so sad.",
            "The food was disgusting and the staff were rude.", "This is the worst book I have read."]


def steer_and_generate(app, window, component: str, positives, negatives, strength: float, words: str,
                       n_new: int, out: Path, name: str) -> None:
    c, steering, generation = window.controller, window.panels["steering"], window.panels["generation"]
    w = steering.widget
    w.site_box.setCurrentText(component)
    w.set_pairs(positives, negatives, "last")
    steering.make_vector({"component": component, "positives": positives, "negatives": negatives, "position": "last"})
    settle(app, lambda: any(getattr(i, "kind", "") == "steer" for i in c.state.interventions))
    low, high = -abs(strength) * 2, abs(strength) * 2
    w.set_strength_range(low, high)
    w.words_edit.setText(words)
    steering.sweep({"low": low, "high": high, "n": 21, "words": [s.strip() for s in words.split(",") if s.strip()]})
    settle(app, lambda: steering.shown_sweep is not None)
    w.set_strength(strength)
    steering.apply(strength=strength)
    settle(app, lambda: not c.pending and c.result_is_current())
    window.docks["steering"].raise_()
    window.docks["generation"].raise_()
    generation.generate({"n_new": n_new, "temperature": 0.0, "top_p": 1.0, "seed": 0, "apply_to": "all"})
    settle(app, lambda: generation.shown is not None and generation.shown.complete)
    settle(app, lambda: True)
    window.view("steering").grab().save(str(out / f"{name}_steering.png"))
    window.view("generation").grab().save(str(out / f"{name}_generation.png"))
    window.grab().save(str(out / f"{name}_window.png"))


def main() -> None:
    app = QApplication(sys.argv[:1])
    out = ROOT / "docs"
    if "--real" in sys.argv:
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        window = window_on(app, str(real_model_cache() / REAL_MODEL_FOLDER))
        c = window.controller
        c.set_prompt("I watched the film last night. Honestly, I thought it was")
        c.set_target(" great")
        c.set_foil(" terrible")
        settle(app, lambda: not c.pending and c.result_is_current())
        steer_and_generate(app, window, "L15.resid_pre", POSITIVE, NEGATIVE, -2.0, " good, great, bad, awful", 24,
                           out / "real_size", "steering_smollm2")
    else:
        window = window_on(app, None)
        steer_and_generate(app, window, "L1.resid_pre", DEMO_PAIRS[0], DEMO_PAIRS[1], 1.0, "Mary, John", 16, out, "steering")
    print("saved")


if __name__ == "__main__":
    main()
    stop_engines()
