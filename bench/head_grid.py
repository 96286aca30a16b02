"""Head grid repaint: new patterns for every head, as a live run delivers them.

Times set_patterns + a synchronous repaint of the view, offscreen, median of N, for the
shapes the app meets: the 12 x 12 (GPT-2 small) grid, and 48 layers x 25 heads (GPT-2-XL)
at 64 tokens, fitted (the default view) and zoomed into a few layers. The baseline row is
the naive layout (one ViewBox + ImageItem per head), to show what the single-mosaic
design buys. Target: <= 16 ms (one frame at 60 Hz).

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

TARGET_MS = 16.0


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


def time_grid(app: QApplication, shape: tuple[int, int, int], size: tuple[int, int], runs: int,
              zoom_layers: int | None = None) -> float:
    """Median repaint of a HeadGrid; zoom_layers: zoomed in so that many layers fill the view."""
    frames = [patterns(i, *shape) for i in range(4)]
    grid = HeadGrid()
    grid.resize(*size)
    grid.show()
    grid.set_patterns(frames[0])
    app.processEvents()
    if zoom_layers is not None:
        step = shape[2] + grid._gap
        grid.plot.getViewBox().setRange(yRange=(0, zoom_layers * step), padding=0.0)
        app.processEvents()
    ms = time_it(grid.set_patterns, grid.view, [frames[i % 4] for i in range(runs)], app)
    grid.close()
    return ms


def time_naive(app: QApplication, runs: int) -> float:
    frames = [patterns(i % 4) for i in range(runs)]
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

    ms = time_it(naive_update, naive, frames, app)
    naive.close()
    return ms


def main(runs: int = 40) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    small = time_grid(app, (12, 12, 64), (1000, 900), runs)
    rows = [
        ("HeadGrid mosaic, 12 x 12 x 64, 1000 x 900 px", small),
        ("144 ViewBoxes + ImageItems (naive) 12x12", time_naive(app, runs)),
        ("HeadGrid mosaic, 48 x 25 x 64, fit, 500 x 800", time_grid(app, (48, 25, 64), (500, 800), runs)),
        ("HeadGrid mosaic, 48 x 25 x 64, zoom 4 layers", time_grid(app, (48, 25, 64), (500, 800), runs, 4)),
    ]
    print(f"Head grid repaint (set_patterns with new values + paint), offscreen, median of {runs - 2}\n")
    print("| layout                                          | median ms | x 12x12 mosaic | <= 16 ms |")
    print("|-------------------------------------------------|-----------|----------------|----------|")
    for name, ms in rows:
        print(f"| {name:47} | {ms:9.2f} | {ms / small:14.2f} | {'yes' if ms <= TARGET_MS else 'NO':8} |")


if __name__ == "__main__":
    main()
