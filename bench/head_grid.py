"""Head grid repaint: new patterns for 144 heads (12 x 12) at 64 tokens.

Times set_patterns + a synchronous repaint of the view, offscreen, median of N. The
baseline row is the naive layout (one ViewBox + ImageItem per head), to show what the
single-mosaic design buys. Target: <= 16 ms (one frame at 60 Hz).

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/head_grid.py"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from widgets.colors import VIRIDIS_LUT  # noqa: E402
from widgets.head_grid import HeadGrid  # noqa: E402


def patterns(seed: int, layers: int = 12, heads: int = 12, seq: int = 64) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = np.where(np.tril(np.ones((seq, seq))) > 0, rng.normal(size=(layers, heads, seq, seq)), -np.inf)
    return (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)


def time_it(update, widget, frames: list[np.ndarray], app: QApplication) -> float:
    """update(data), then let Qt paint the view (update + processEvents), timed together."""
    times = []
    for data in frames:
        start = time.perf_counter()
        update(data)
        widget.viewport().update()
        app.processEvents()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[2:])


def main(runs: int = 40) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    frames = [patterns(i % 4) for i in range(runs)]

    grid = HeadGrid()
    grid.resize(1000, 900)
    grid.show()
    grid.set_patterns(frames[0])
    app.processEvents()
    mosaic_ms = time_it(grid.set_patterns, grid.view, frames, app)

    naive = pg.GraphicsLayoutWidget()
    naive.resize(1000, 900)
    images = []
    for l in range(12):
        for h in range(12):
            vb = naive.addViewBox(row=l, col=h)
            vb.invertY(True)
            item = pg.ImageItem(axisOrder="row-major")
            item.setLookupTable(VIRIDIS_LUT)
            vb.addItem(item)
            images.append(item)
    naive.show()
    app.processEvents()

    def naive_update(data: np.ndarray) -> None:
        for item, pattern in zip(images, data.reshape(-1, 64, 64)):
            item.setImage(pattern, levels=(0, 1), autoLevels=False)

    naive_ms = time_it(naive_update, naive, frames, app)
    print(f"Head grid repaint, 12 x 12 heads, 64 tokens, 1000 x 900 px, offscreen, median of {runs - 2}\n")
    print("| layout                               | median ms | x mosaic |")
    print("|--------------------------------------|-----------|----------|")
    print(f"| one mosaic ImageItem (HeadGrid)      | {mosaic_ms:9.2f} | {1.0:8.2f} |")
    print(f"| 144 ViewBoxes + ImageItems (naive)   | {naive_ms:9.2f} | {naive_ms / mosaic_ms:8.2f} |")
    print(f"\ntarget <= 16 ms: {'met' if mosaic_ms <= 16 else 'NOT met'}")


if __name__ == "__main__":
    main()
