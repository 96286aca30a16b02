"""Colour maps shared by the views: perceptually uniform viridis for attention and
probabilities, with a readable text colour for any background."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

VIRIDIS_LUT: np.ndarray = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256)  # [256, 3] uint8
GAP_RGB = (235, 235, 235)
HIGHLIGHT = QColor(255, 120, 0)


def text_color_for(background: QColor) -> QColor:
    """Black on light backgrounds, white on dark ones (relative luminance)."""
    lum = 0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF()
    return QColor(0, 0, 0) if lum > 0.5 else QColor(255, 255, 255)


_VIRIDIS_QCOLORS = [QColor(int(r), int(g), int(b)) for r, g, b in VIRIDIS_LUT]
_VIRIDIS_TEXT = [text_color_for(c) for c in _VIRIDIS_QCOLORS]


def _index(value: float) -> int:
    return 0 if not value > 0.0 else 255 if value >= 1.0 else int(value * 255)  # NaN -> 0


def viridis(value: float) -> QColor:
    """QColor for a value in [0, 1] (clipped). Precomputed: table cells ask for thousands."""
    return _VIRIDIS_QCOLORS[_index(value)]


def viridis_text(value: float) -> QColor:
    """The readable text colour on viridis(value)."""
    return _VIRIDIS_TEXT[_index(value)]


def lut_with_gap() -> np.ndarray:
    """viridis LUT plus one extra entry (index 256) for the gaps between tiles."""
    return np.vstack([VIRIDIS_LUT, np.array([GAP_RGB], dtype=np.uint8)])


def to_lut_indices(values: np.ndarray) -> np.ndarray:
    """Map [0, 1] floats to LUT indices 0..255; NaN (gaps) to 256."""
    idx = np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0) * 255.0
    idx = idx.astype(np.uint16)
    idx[np.isnan(values)] = 256
    return idx


GAP_INDEX = 255  # the gap colour's entry in lut8_with_gap()


def lut8_with_gap() -> np.ndarray:
    """256 entries: viridis resampled to 255 (indices 0..254) and the gap colour at 255. A
    uint8 image with a LUT this size goes to Qt as an indexed image, with no colour-mapping
    pass in numpy: what keeps a 48 x 25 head mosaic repaint within a frame."""
    viridis = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, GAP_INDEX)
    return np.vstack([viridis, np.array([GAP_RGB], dtype=np.uint8)])


def to_lut8_indices(values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Map [0, 1] floats to lut8_with_gap() indices 0..254 (NaN -> the gap index)."""
    scaled = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0) * np.float32(GAP_INDEX - 1) + np.float32(0.5)
    idx = scaled.astype(np.uint8) if out is None else out
    if out is not None:
        np.copyto(out, scaled, casting="unsafe")
    idx[np.isnan(values)] = GAP_INDEX
    return idx
