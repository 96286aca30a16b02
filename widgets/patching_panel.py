"""The patching panel: choose a sweep, run it (progress, cancel), read the heatmap(s).

Qt and numpy only: results arrive as objects with the fields of engine.analyses.patching's
PatchingResult (values, raw, row_labels, column_labels, clean_metric, corrupted_metric,
mode, method, sweep), duck-typed so this module never imports the engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSplitter,
                               QVBoxLayout, QWidget)

from .patching_heatmap import PatchingHeatmap

SWEEP_CHOICES: tuple[tuple[str, str], ...] = (
    ("head", "Head output, all positions"),
    ("head_pos", "Head output × position"),
    ("resid", "Residual stream × position"),
    ("attn_out", "Attention output × position"),
    ("mlp_out", "MLP output × position"),
    ("head_q", "Head query"),
    ("head_k", "Head key"),
    ("head_v", "Head value"),
    ("head_pattern", "Head attention pattern"),
    ("path", "Path patching into a head…"),
)


@dataclass(frozen=True)
class PatchingSpec:
    """What the user asked to run."""

    sweep: str
    mode: str = "denoise"
    attribution: bool = True
    receiver: str = ""
    receiver_input: str = "q"


class PatchingPanel(QWidget):
    run_requested = Signal(object)  # PatchingSpec
    cancel_requested = Signal()
    cell_clicked = Signal(object, int, int)  # the result shown in that heatmap, row, column

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: tuple = ()  # (activation-or-path result, attribution result or None)
        self.correlation: float | None = None
        self.sweep = QComboBox()
        for key, text in SWEEP_CHOICES:
            self.sweep.addItem(text, key)
        self.receiver = QComboBox()
        self.receiver_input = QComboBox()
        for key, text in (("q", "query"), ("k", "key"), ("v", "value")):
            self.receiver_input.addItem(text, key)
        self.mode = QComboBox()
        self.mode.addItem("Denoise: clean → corrupted", "denoise")
        self.mode.addItem("Noise: corrupted → clean", "noise")
        self.metric_choice = QComboBox()
        self.metric_choice.addItem("normalised (clean 1, corrupted 0)", "normalised")
        self.metric_choice.addItem("logit difference", "raw")
        self.with_attribution = QCheckBox("attribution alongside")
        self.with_attribution.setChecked(True)
        self.with_attribution.setToolTip("First-order estimate from one backward pass, with its correlation")
        self.run_button = QPushButton("Run sweep")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("%v / %m")
        self.summary = QLabel("Set a corrupted prompt of the same length, then run a sweep.")
        self.summary.setWordWrap(True)
        self.main = PatchingHeatmap()
        self.estimate = PatchingHeatmap()
        self.estimate.setVisible(False)
        self.main.cell_clicked.connect(lambda r, c: self._clicked(0, r, c))
        self.estimate.cell_clicked.connect(lambda r, c: self._clicked(1, r, c))

        controls = QHBoxLayout()
        for w in (self.sweep, self.receiver, self.receiver_input, self.mode, self.with_attribution, self.run_button,
                  self.cancel_button):
            controls.addWidget(w)
        controls.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(QLabel("show"))
        second.addWidget(self.metric_choice)
        second.addWidget(self.progress, 1)
        maps = QSplitter(Qt.Orientation.Horizontal)
        maps.addWidget(self.main)
        maps.addWidget(self.estimate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addLayout(second)
        layout.addWidget(self.summary)
        layout.addWidget(maps, 1)

        self.sweep.currentIndexChanged.connect(self._sweep_changed)
        self.mode.currentIndexChanged.connect(self._sweep_changed)
        self.metric_choice.currentIndexChanged.connect(self._render)
        self.run_button.clicked.connect(lambda: self.run_requested.emit(self.spec()))
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.set_model(2, 8)
        self._sweep_changed()

    # ------------------------------------------------------------------ inputs
    def set_model(self, n_layers: int, n_heads: int) -> None:
        """Receiver choices: every head outside layer 0 (layer 0 has no senders); no path
        patching on a one-layer model."""
        path_item = self.sweep.model().item(self.sweep.findData("path"))
        path_item.setEnabled(n_layers > 1)
        if n_layers < 2 and self.sweep.currentData() == "path":
            self.sweep.setCurrentIndex(0)
        current = self.receiver.currentText()
        self.receiver.clear()
        for l in range(1, n_layers):
            for h in range(n_heads):
                self.receiver.addItem(f"L{l}.H{h}")
        if current and self.receiver.findText(current) >= 0:
            self.receiver.setCurrentText(current)

    def spec(self) -> PatchingSpec:
        sweep = self.sweep.currentData()
        return PatchingSpec(sweep, self.mode.currentData(), self.with_attribution.isChecked() and
                            self.with_attribution.isEnabled(), self.receiver.currentText() if sweep == "path" else "",
                            self.receiver_input.currentData())

    def set_spec(self, spec: PatchingSpec) -> None:
        self.sweep.setCurrentIndex(max(0, self.sweep.findData(spec.sweep)))
        self.mode.setCurrentIndex(max(0, self.mode.findData(spec.mode)))
        self.with_attribution.setChecked(spec.attribution)
        if spec.receiver:
            self.receiver.setCurrentText(spec.receiver)
        self.receiver_input.setCurrentIndex(max(0, self.receiver_input.findData(spec.receiver_input)))

    def _sweep_changed(self) -> None:
        path = self.sweep.currentData() == "path"
        self.receiver.setVisible(path)
        self.receiver_input.setVisible(path)
        estimable = self.sweep.currentData() not in ("path", "head_pattern") and self.mode.currentData() == "denoise"
        self.with_attribution.setEnabled(estimable)
        self.with_attribution.setToolTip(
            "First-order estimate from one backward pass, with its correlation" if estimable else
            "Attribution patching estimates denoising patches of outputs and q/k/v inputs only")

    def clear_results(self, message: str) -> None:
        """Forget what is shown (another model was loaded)."""
        self.results, self.correlation = (), None
        self.main.clear(" ")
        self.estimate.setVisible(False)
        self.show_message(message)

    # ------------------------------------------------------------------ running
    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setRange(0, 0)  # busy until the first chunk reports
            self.summary.setText("Running…")

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def show_message(self, text: str) -> None:
        self.set_running(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.summary.setText(text)

    def set_results(self, main, estimate=None, correlation: float | None = None, elapsed_ms: float | None = None
                    ) -> None:
        """Show a sweep (and optionally its attribution estimate with their correlation)."""
        self.results, self.correlation = (main, estimate), correlation
        self.set_running(False)
        total = int(np.prod(main.values.shape))
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(total)
        direction = "clean → corrupted" if main.mode == "denoise" else "corrupted → clean"
        text = (f"Logit difference (target − foil): clean {main.clean_metric:+.3f}, corrupted "
                f"{main.corrupted_metric:+.3f}. Patching {direction}.")
        if elapsed_ms is not None:
            text += f"  {total} cells in {elapsed_ms / 1000:.2f} s" + (" (with the estimate)." if estimate else ".")
        if correlation is not None:
            text += f"  Attribution vs activation patching: r = {correlation:.3f}."
        text += "  Click a cell to apply it in the component graph."
        self.summary.setText(text)
        self._render()

    def _render(self) -> None:
        if not self.results:
            return
        raw = self.metric_choice.currentData() == "raw"
        for view, result in zip((self.main, self.estimate), self.results):
            view.setVisible(result is not None)
            if result is None:
                continue
            values = result.raw if raw and result.raw is not None else result.values
            kind = {"activation": "Activation patching", "attribution": "Attribution estimate",
                    "path": "Path patching"}.get(result.method, result.method)
            name = dict(SWEEP_CHOICES).get(result.sweep, result.sweep)
            view.set_result(values, result.row_labels, result.column_labels, f"{kind}: {name}",
                            raw=None if raw else result.raw)

    def _clicked(self, which: int, row: int, col: int) -> None:
        if len(self.results) > which and self.results[which] is not None:
            self.cell_clicked.emit(self.results[which], row, col)


def demo() -> PatchingPanel:
    """Made-up activation and attribution results over a 2 x 8 head grid."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    values = rng.normal(0, 0.05, (2, 8))
    values[0, 3], values[1, 4] = 0.9, 0.6
    heads = tuple(f"H{h}" for h in range(8))
    main = SimpleNamespace(values=values, raw=values * 6 - 2, row_labels=("L0", "L1"), column_labels=heads,
                           clean_metric=4.0, corrupted_metric=-2.0, mode="denoise", method="activation", sweep="head")
    est = SimpleNamespace(**{**vars(main), "values": values + rng.normal(0, 0.05, values.shape), "method": "attribution"})
    panel = PatchingPanel()
    panel.set_results(main, est, float(np.corrcoef(values.ravel(), est.values.ravel())[0, 1]), 420.0)
    panel.resize(1000, 420)
    return panel


if __name__ == "__main__":
    from .demo import run

    run(demo)
