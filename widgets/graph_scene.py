"""Scene decorations of the component graph that are not nodes: the columns layout's
residual-stream lane, and layer/head headers drawn at a fixed screen size (they never shrink
to dust on a fitted 48-layer model; when crowded, every k-th is shown, never overlapping)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSimpleTextItem

from .graph_layout import COL_W, HEADER, NODE_H, NODE_W, Layout, label_step, visible_labels


def screen_text(scene: QGraphicsScene, x: float, y: float, text: str, font: QFont,
                colour: QColor = QColor(60, 60, 60)) -> QGraphicsSimpleTextItem:
    """Text of a fixed on-screen size, anchored at scene (x, y); place_headers positions it."""
    item = scene.addSimpleText(text)
    item.setFont(font)
    item.setBrush(colour)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    item.setData(0, (x, y))
    return item


def draw_lanes(scene: QGraphicsScene, lay: Layout, n_layers: int, font: QFont) -> QGraphicsSimpleTextItem:
    """The columns layout's residual-stream lane and the connectors into it; returns its caption."""
    lane_pen, connector = QPen(QColor(150, 150, 150), 3), QPen(QColor(190, 190, 190), 1.5)
    embed, unembed = lay.slots[0], lay.slots[-1]
    scene.addLine(NODE_W, lay.lane_y, unembed.x, lay.lane_y, lane_pen).setZValue(0)
    scene.addLine(NODE_W / 2, embed.y + NODE_H, NODE_W / 2, lay.lane_y, lane_pen).setZValue(0)
    scene.addLine(unembed.x + NODE_W / 2, lay.lane_y, unembed.x + NODE_W / 2, unembed.y + NODE_H,
                  lane_pen).setZValue(0)
    for slot in lay.slots[1:-1]:
        scene.addLine(slot.x - 8, slot.y + NODE_H / 2, slot.x, slot.y + NODE_H / 2, connector).setZValue(0)
    for l in range(n_layers):
        x = (l + 1) * COL_W - 8
        scene.addLine(x, HEADER + NODE_H / 2, x, lay.lane_y, connector).setZValue(0)
    return screen_text(scene, NODE_W + 8, lay.lane_y + 3, "residual stream →", font, QColor(120, 120, 120))


def place_headers(items: list[QGraphicsSimpleTextItem], s: float, pitch: float, horizontal: bool) -> None:
    """Column headers centred above their anchor, row headers right-aligned left of it, at
    scale s; thinned so that none overlaps (the last, MLP, always shows)."""
    if not items:
        return
    sizes = [i.boundingRect().width() if horizontal else i.boundingRect().height() for i in items]
    centres = [(i.data(0)[0] if horizontal else i.data(0)[1]) * s for i in items]
    shown = visible_labels(centres, sizes, label_step(pitch * s, max(sizes)))
    for item, show in zip(items, shown):
        (x, y), r = item.data(0), item.boundingRect()
        if horizontal:
            item.setPos(x - r.width() / 2 / s, y - r.height() / s)
        else:
            item.setPos(x - r.width() / s, y - r.height() / 2 / s)
        item.setVisible(show)
