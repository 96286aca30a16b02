"""Screenshots of prompt sets and probes: the set editor with an IOI template set, the mean
head-patching heatmap with the drill-down histogram, the probe accuracy by layer, the effect
of mean-ablating the answer's heads over the set, and the duplicate-token score on the set's
own tokens; with
--real the same on SmolLM2-135M (100 prompts).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_sets.py [--real]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docs.screenshots_timeline import ROOT, settle, stop_engines, window_on  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

NAMES = ["Mary", "John", "Anna", "James", "Jane", "Rose", "Grace", "Sam", "Victor", "Hugo"]


def main() -> None:
    app = QApplication(sys.argv[:1])
    real = "--real" in sys.argv
    if real:
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        window = window_on(app, str(real_model_cache() / REAL_MODEL_FOLDER))
        out, name, sep, limit = ROOT / "docs" / "real_size", "sets_smollm2", ",", 100
    else:
        window = window_on(app, None)
        out, name, sep, limit = ROOT / "docs", "sets", " ,", 400
    sets, results, probes = window.panels["prompt_set"], window.panels["set_results"], window.panels["probes"]
    template = f"When {{A}} and {{B}} went to the {{P}}{sep} {{B}} gave a {{O}} to"
    sets.widget.set_template(template, template.replace("{B} gave", "{A} gave"), " {A}", " {B}", "{A}")
    places, objects = ["store", "park", "school", "house", "office"], ["drink", "ball", "book", "ring", "letter"]
    sets.widget.set_fillers({"A": NAMES[:2], "B": NAMES[2:], "P": places, "O": objects} if not real
                            else {"A": NAMES, "B": NAMES, "P": places[:2], "O": objects[:3]})
    params = sets.widget.template_params()
    params["limit"] = limit
    sets.make_from_template(params)
    settle(app, lambda: sets.checked is not None)
    window.docks["prompt_set"].raise_()
    sets.run({"analysis": "head", "mode": "denoise"})
    settle(app, lambda: results.shown is not None, timeout_s=900)
    window.docks["set_results"].raise_()
    settle(app, lambda: True)
    window.view("prompt_set").grab().save(str(out / f"{name}_editor.png"))
    window.view("set_results").grab().save(str(out / f"{name}_results.png"))
    window.grab().save(str(out / f"{name}_window.png"))
    # labels: which name the model answers (Mary / John on the demo; one of ten names on SmolLM2)
    probes.train({"column": "label", "position": "last"})
    settle(app, lambda: probes.shown is not None, timeout_s=900)
    window.docks["probes"].raise_()
    settle(app, lambda: True)
    window.view("probes").grab().save(str(out / ("probes_smollm2.png" if real else "probes.png")))
    # the answer's heads mean-ablated over the set itself, measured in every metric
    c = window.controller
    c.ablate(["L23.H3"] if real else ["L0.H0", "L0.H5"], "mean")
    settle(app, lambda: not c.pending and c.result_is_current())
    sets.run({"analysis": "reference", "mode": "denoise"})
    settle(app, lambda: all(getattr(i, "reference", "") for i in c.state.interventions), timeout_s=900)
    sets.run({"analysis": "effects", "mode": "denoise"})
    settle(app, lambda: results.shown is not None and results.shown.sweep == "effects", timeout_s=900)
    window.docks["set_results"].raise_()
    settle(app, lambda: True)
    window.view("set_results").grab().save(str(out / f"{name}_effects.png"))
    sets.run({"analysis": "score:duplicate_token", "mode": "denoise"})
    settle(app, lambda: results.shown is not None and results.shown.sweep == "head_scores", timeout_s=900)
    settle(app, lambda: True)
    window.view("set_results").grab().save(str(out / f"{name}_scores.png"))
    print("saved")


if __name__ == "__main__":
    main()
    stop_engines()
