"""Geometry of the component graph, kept apart from Qt items so it can be reasoned about
(and tested) as plain numbers: where every node sits, which layout a model gets, how to fit
the graph plus its fixed-size labels into a viewport, and how a typed address is read.

Two layouts:
- "columns" (small models, up to COLUMNS_MAX_NODES heads + MLPs): one column per layer,
  heads stacked, the MLP below, embed left and unembed right, a residual-stream lane; each
  node is big enough to carry its name and its value.
- "matrix" (real models): a layer x head matrix of square cells, layers as rows (L0 on top,
  as in every layer x head heatmap in the MI literature), the MLP as an extra column after a
  gap, embed and unembed as full-width bars above and below. 48 x 25 stays one glanceable
  picture; the names live in the row and column headers, the value in the cell once zoomed
  far enough for it to be legible."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .ticks import label_stride

COLUMNS_MAX_NODES = 120  # layers * (heads + 1) above this -> matrix
# columns layout (scene units)
NODE_W, NODE_H = 72.0, 38.0
COL_W, ROW_H, HEADER = 92.0, 46.0, 30.0
# matrix layout
CELL, PITCH, MLP_GAP, BAR_H = 40.0, 42.0, 12.0, 26.0

_ADDRESS = re.compile(r"^(?:(embed|unembed)|l(0|[1-9][0-9]*)(?:\.(?:h(0|[1-9][0-9]*)|(mlp)))?)$", re.IGNORECASE)


@dataclass
class Slot:
    """One node's home: top-left (x, y), size (w, h), the short label drawn on it."""

    name: str
    x: float
    y: float
    w: float
    h: float
    label: str
    ablatable: bool


@dataclass
class Layout:
    """Everything set_shape draws. `grid` is the scene rect that must be in view when fitted;
    row/col headers are (anchor x, anchor y, text) drawn at a fixed screen size."""

    kind: str
    transposed: bool = False
    slots: list[Slot] = field(default_factory=list)
    grid: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x, y, w, h
    col_headers: list[tuple[float, float, str]] = field(default_factory=list)
    row_headers: list[tuple[float, float, str]] = field(default_factory=list)
    lane_y: float | None = None  # the residual-stream lane (columns layout)


def choose_kind(n_layers: int, n_heads: int) -> str:
    return "columns" if n_layers * (n_heads + 1) <= COLUMNS_MAX_NODES else "matrix"


def columns_layout(n_layers: int, n_heads: int) -> Layout:
    """embed | one column per layer (heads, then the MLP) | unembed."""
    out = Layout("columns")
    mlp_y = HEADER + n_heads * ROW_H + 10
    mid = (HEADER + mlp_y + NODE_H) / 2 - NODE_H / 2
    x_unembed = (n_layers + 1) * COL_W
    out.slots.append(Slot("embed", 0.0, mid, NODE_W, NODE_H, "embed", False))
    for l in range(n_layers):
        x = (l + 1) * COL_W
        out.col_headers.append((x + NODE_W / 2, HEADER - 4, f"L{l}"))
        out.slots += [Slot(f"L{l}.H{h}", x, HEADER + h * ROW_H, NODE_W, NODE_H, f"H{h}", True) for h in range(n_heads)]
        out.slots.append(Slot(f"L{l}.mlp", x, mlp_y, NODE_W, NODE_H, "MLP", True))
    out.slots.append(Slot("unembed", x_unembed, mid, NODE_W, NODE_H, "unembed", False))
    out.lane_y = mlp_y + NODE_H + 14
    out.grid = (-8.0, HEADER - 4, x_unembed + NODE_W + 16, out.lane_y + 4 - (HEADER - 4))
    return out


def matrix_layout(n_layers: int, n_heads: int, transposed: bool = False) -> Layout:
    """Rows = layers, columns = heads then the MLP; embed above, unembed below as bars.
    transposed: layers as columns (embed left, unembed right), for wide viewports."""
    out = Layout("matrix", transposed=transposed)
    bar = 60.0 if transposed else BAR_H  # turned, the bars must hold 'unembed' across
    mlp_x = n_heads * PITCH + MLP_GAP
    width = mlp_x + CELL
    top = bar + (PITCH - CELL) + 6
    out.slots.append(Slot("embed", 0.0, 0.0, width, bar, "embed", False))
    for l in range(n_layers):
        y = top + l * PITCH
        out.row_headers.append((-4.0, y + CELL / 2, f"L{l}"))
        out.slots += [Slot(f"L{l}.H{h}", h * PITCH, y, CELL, CELL, f"L{l}.H{h}", True) for h in range(n_heads)]
        out.slots.append(Slot(f"L{l}.mlp", mlp_x, y, CELL, CELL, f"L{l}.mlp", True))
    bottom = top + n_layers * PITCH + 4
    out.slots.append(Slot("unembed", 0.0, bottom, width, bar, "unembed", False))
    out.col_headers = [(h * PITCH + CELL / 2, -4.0, f"H{h}") for h in range(n_heads)]
    out.col_headers.append((mlp_x + CELL / 2, -4.0, "MLP"))
    out.grid = (0.0, 0.0, width, bottom + bar)
    if transposed:  # mirror across the diagonal
        out.slots = [Slot(s.name, s.y, s.x, s.h, s.w, s.label, s.ablatable) for s in out.slots]
        out.col_headers, out.row_headers = ([(y, x, t) for x, y, t in out.row_headers],
                                            [(y, x, t) for x, y, t in out.col_headers])
        out.grid = (0.0, 0.0, bottom + bar, width)
    return out


def layout_for(n_layers: int, n_heads: int, transposed: bool = False) -> Layout:
    if choose_kind(n_layers, n_heads) == "columns":
        return columns_layout(n_layers, n_heads)
    return matrix_layout(n_layers, n_heads, transposed)


def fit_scale_and_centre(grid: tuple[float, float, float, float], margins_px: tuple[float, float, float, float],
                         viewport: tuple[float, float], max_scale: float = 2.5) -> tuple[float, float, float]:
    """Scale s and the scene point to centre so the grid (scene units) plus fixed-pixel margins
    (left, top, right, bottom: headers that do not zoom) fill the viewport. -> (s, cx, cy)."""
    gx, gy, gw, gh = grid
    left, top, right, bottom = margins_px
    vw, vh = viewport
    s = min((vw - left - right) / max(gw, 1e-6), (vh - top - bottom) / max(gh, 1e-6), max_scale)
    s = max(s, 1e-3)
    x0 = (vw - (gw * s + left + right)) / 2 + left  # where the grid's left edge lands, px
    y0 = (vh - (gh * s + top + bottom)) / 2 + top
    return s, gx + (vw / 2 - x0) / s, gy + (vh / 2 - y0) / s


def label_step(pitch_px: float, label_px: float) -> int:
    """Show every k-th header (k = 1, 2, 5, 10, ... as in the head grid) so that labels of
    label_px never overlap at pitch_px spacing."""
    return label_stride(max(pitch_px, 1e-6), label_px + 3)


def visible_labels(centres_px: list[float], sizes_px: list[float], step: int) -> list[bool]:
    """Every step-th label plus the last (MLP), none overlapping another (3 px apart)."""
    n = len(centres_px)
    show = [i % step == 0 or i == n - 1 for i in range(n)]
    last_end = -math.inf
    for i in range(n):
        if show[i]:
            start = centres_px[i] - sizes_px[i] / 2
            if start < last_end + 3 and i != n - 1:
                show[i] = False
                continue
            if start < last_end + 3:  # the last one wins: drop the one before it
                prev = max(j for j in range(i) if show[j])
                show[prev] = False
            last_end = centres_px[i] + sizes_px[i] / 2
    return show


def parse_query(text: str, n_layers: int, n_heads: int) -> tuple[list[str], str]:
    """'L23.H3', 'l23.mlp', 'embed', or 'L23' (the whole layer) -> (names, error). Canonical
    names follow engine.addresses (widgets may not import the engine, so a small regex)."""
    m = _ADDRESS.match(text.strip().replace(" ", ""))
    if not m:
        return [], f"'{text.strip()}' is not an address: try L{max(n_layers - 1, 0)}.H0, L0.mlp, embed"
    end, layer, head, mlp = m.groups()
    if end:
        return [end.lower()], ""
    l = int(layer)
    if l >= n_layers:
        return [], f"no layer {l}: the model has {n_layers} (L0-L{n_layers - 1})"
    if mlp:
        return [f"L{l}.mlp"], ""
    if head is None:
        return [*(f"L{l}.H{h}" for h in range(n_heads)), f"L{l}.mlp"], ""
    if int(head) >= n_heads:
        return [], f"no head {head}: layers have {n_heads} (H0-H{n_heads - 1})"
    return [f"L{l}.H{int(head)}"], ""


def nice_ceiling(value: float) -> float:
    """Round up to 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k: a scale a legend can state plainly."""
    if not value > 0:
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0):
        if step * 10 ** exp >= value * (1 - 1e-9):
            return step * 10 ** exp
    return 10.0 ** (exp + 1)


def format_value(value: float) -> str:
    """Fits a cell: +0.42, -3.17, +12.5, +140."""
    a = abs(value)
    return f"{value:+.2f}" if a < 10 else f"{value:+.1f}" if a < 100 else f"{value:+.0f}"
