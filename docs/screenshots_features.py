"""Screenshots of the features panel: the demo SAE's features on the IOI prompt, the card of
feature #916 (on 'the'), the window with feature #1245 clamped to 30 (the graph shows before -> after),
and the panel on the real model (no dictionary shipped for it: the hint).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_features.py [--real]"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docs.screenshots_timeline import ROOT, settle, stop_engines, window_on  # noqa: E402
from engine.paths import demo_model_dir  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")


def main() -> None:
    app = QApplication(sys.argv[:1])
    out = ROOT / "docs"
    if "--real" in sys.argv:
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        window = window_on(app, str(real_model_cache() / REAL_MODEL_FOLDER))
        window.docks["features"].raise_()
        settle(app, lambda: True)
        window.grab().save(str(out / "real_size" / "features_smollm2.png"))
        return
    window = window_on(app, None)
    panel, c = window.panels["features"], window.controller
    window.docks["features"].raise_()
    panel.open(FOLDER)
    settle(app, lambda: panel.shown is not None)
    c.focus_position(7)  # 'the'
    settle(app, lambda: True)
    window.view("features").grab().save(str(out / "features.png"))
    window.view("features").search.setText("Mary")
    panel.search("Mary")
    settle(app, lambda: c.results.get("feature_search") is not None)
    window.view("features").grab().save(str(out / "features_search.png"))
    panel.show_card(916)  # the card of the SAE feature on 'the' (resources/demo_saes/L0.resid_post/README.md)
    settle(app, lambda: window.panels["feature_card"].shown is not None)
    window.docks["feature_card"].raise_()
    settle(app, lambda: True)
    window.view("feature_card").grab().save(str(out / "feature_card.png"))
    before = panel.shown
    panel.edit_feature(1245, "clamp", 30.0)  # a feature edit, undoable like a head's
    settle(app, lambda: panel.shown is not before and not c.pending and c.last_result.interventions)
    window.docks["features"].raise_()
    window.docks["graph"].raise_()
    settle(app, lambda: True)
    window.grab().save(str(out / "features_clamped.png"))
    print("saved", [p.name for p in out.glob("features*.png")])


if __name__ == "__main__":
    main()
    stop_engines()
