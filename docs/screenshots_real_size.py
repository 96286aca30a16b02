"""Screenshots at real size (README, issue 14): the window at 1400x950 on SmolLM2-135M
(`make real-model`) and on a random GPT-2-XL-layout model (48 layers x 25 heads), showing
the head grid fitted and zoomed into one layer, the head finder, the component graph and
the logit lens.

  QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots_real_size.py [smollm2|gpt2xl]"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MICROTOME_CONFIG_DIR", tempfile.mkdtemp())
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.controller import Controller, ViewState  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402

OUT = ROOT / "docs" / "real_size"
PROMPTS = {
    "smollm2": ViewState(prompt="When Mary and John went to the store, John gave a drink to", target=" Mary",
                         foil=" John"),
    "gpt2xl": ViewState(prompt=" ".join(f"t{i}" for i in (5, 17, 99, 3, 41, 8, 23, 5, 17, 99, 3, 41, 8)),
                        target="t23", foil="t7"),
}


def wait(app: QApplication, ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(app: QApplication, check, timeout_ms: int = 300_000) -> None:
    waited = 0
    while not check() and waited < timeout_ms:
        wait(app, 100)
        waited += 100
    if not check():
        raise SystemExit("timed out waiting for the window")


def model_source(name: str) -> str:
    if name == "smollm2":
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        folder = real_model_cache() / REAL_MODEL_FOLDER
        if not folder.is_dir():
            raise SystemExit("run `make real-model` first")
        return str(folder)
    from training.tiny_models import gpt2_xl_layout

    folder = Path(tempfile.gettempdir()) / "microtome-gpt2xl-layout"
    if not (folder / "model.safetensors").is_file():
        gpt2_xl_layout(folder)
    return str(folder)


def shoot(name: str, app: QApplication) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    controller = Controller()
    controller.state = PROMPTS[name]
    window = MainWindow(controller, Settings())
    window.resize(1400, 950)
    window.show()
    wait(app, 200)
    window.resize(1400, 950)  # before the first show, the layout's size hint wins over resize()
    controller.load_model(model_source(name), "cpu")
    wait_until(app, lambda: controller.last_result is not None and controller.results.get("head_scores") is not None)
    wait(app, 1500)

    def save(what: str) -> None:
        wait(app, 600)
        window.grab().save(str(OUT / f"{name}_{what}.png"))
        print("saved", OUT / f"{name}_{what}.png", window.size().toTuple())

    window.raise_panel("heads")
    window.raise_panel("lens")
    window.raise_panel("graph")
    save("window")
    grid = window.view("heads")
    grid.select_score_key("induction")
    layer = int(controller.results.get("head_scores").induction.max(axis=1).argmax())
    grid.set_layer_range(layer, layer)
    save("grid_one_layer")
    grid.set_layer_range(0, grid.grid_shape[0] - 1)
    grid.fit()
    window.raise_panel("finder")
    save("finder")
    window.raise_panel("heads")
    window.raise_panel("detail")
    save("detail")
    window.close()


def main() -> None:
    app = QApplication(sys.argv[:1])
    for name in sys.argv[1:] or ["smollm2", "gpt2xl"]:
        shoot(name, app)


if __name__ == "__main__":
    main()
