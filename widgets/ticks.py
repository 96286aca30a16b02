"""How many items apart labels go, shared by every view that thins its labels to fit (head
grid axes, graph headers), so layers read L0, L5, L10 ... the same way everywhere."""

from __future__ import annotations

STRIDES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def label_stride(pixels_per_item: float, needed_px: float) -> int:
    """The smallest of 1, 2, 5, 10, ... items between labels so that labels `needed_px` long
    (text plus margin) never overlap when items are `pixels_per_item` apart."""
    for stride in STRIDES:
        if stride * pixels_per_item >= needed_px:
            return stride
    return STRIDES[-1]
