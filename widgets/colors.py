"""Colour maps shared by the views: perceptually uniform viridis for attention and
probabilities, with a readable text colour for any background."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

VIRIDIS_LUT: np.ndarray = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256)  # [256, 3] uint8
GAP_RGB = (235, 235, 235)
HIGHLIGHT = QColor(255, 120, 0)


def viridis(value: float) -> QColor:
    """QColor for a value in [0, 1] (clipped)."""
    r, g, b = VIRIDIS_LUT[int(np.clip(value, 0.0, 1.0) * 255)]
    return QColor(int(r), int(g), int(b))


def text_color_for(background: QColor) -> QColor:
    """Black on light backgrounds, white on dark ones (relative luminance)."""
    lum = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF()
    return QColor(0, 0, 0) if lum > 0.5 else QColor(255, 255, 255)


def lut_with_gap() -> np.ndarray:
    """viridis LUT plus one extra entry (index 256) for the gaps between tiles."""
    return np.vstack([VIRIDIS_LUT, np.array([GAP_RGB], dtype=np.uint8)])


def to_lut_indices(values: np.ndarray) -> np.ndarray:
    """Map [0, 1] floats to LUT indices 0..255; NaN (gaps) to 256."""
    idx = np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0) * 255.0
    idx = idx.astype(np.uint16)
    idx[np.isnan(values)] = 256
    return idx
