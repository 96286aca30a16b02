"""One node of the component graph: a coloured box whose colour and number are the same
quantity, with text drawn at a fixed screen size (it never shrinks to a smudge when a
48-layer model is fitted; it is hidden until the box is big enough on screen to hold it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem, QStyle

from .colors import text_color_for
from .graph_layout import Slot, format_value

if TYPE_CHECKING:
    from .component_graph import ComponentGraph

DIVERGING_LUT = pg.colormap.get("CET-D1").getLookupTable(0.0, 1.0, 256)  # blue - white - red
METHOD_MARK = {"zero": "0", "mean": "μ", "resample": "R"}
ABLATED_FILL = QColor(200, 200, 200)


_DIVERGING_COLORS = [QColor(int(r), int(g), int(b)) for r, g, b in DIVERGING_LUT]


def diverging(value: float, scale: float) -> QColor:
    """Blue for negative, white at 0, red for positive; |value| >= scale saturates. Plain
    floats and a prebuilt table: every edit asks this for every node (1200 at GPT-2-XL)."""
    t = 0.5 + 0.5 * max(-1.0, min(1.0, float(value) / scale)) if scale > 0 else 0.5
    return _DIVERGING_COLORS[int(round(t * 255))] if t == t else _DIVERGING_COLORS[128]


def _screen_text(parent: QGraphicsItem) -> QGraphicsSimpleTextItem:
    item = QGraphicsSimpleTextItem("", parent)
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)  # fixed pt on screen
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    return item


class NodeItem(QGraphicsRectItem):
    """One component. Movable only to be dropped somewhere; snaps back home after a drag.

    `label` carries the name and what is in force (H3 ✕0), `detail` the number; in the matrix
    the name is in the headers, so the label is only the mark and the number comes first."""

    def __init__(self, graph: "ComponentGraph", slot: Slot, matrix: bool) -> None:
        super().__init__(0, 0, slot.w, slot.h)
        self.graph, self.name, self.ablatable = graph, slot.name, slot.ablatable
        self.short = slot.label
        self.bar = not slot.ablatable and matrix  # embed / unembed bars carry their name
        self.number_first = matrix
        self._label_full, self._label_mark = "", ""
        self.move_home(slot)
        flags = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        if slot.ablatable:
            flags |= QGraphicsItem.GraphicsItemFlag.ItemIsMovable
        self.setFlags(flags)
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        self.label, self.detail = _screen_text(self), _screen_text(self)
        self.label.setFont(graph.node_font)
        self.detail.setFont(graph.node_font)
        self.value: float | None = None  # DLA of the current run
        self.delta: float | None = None  # DLA change against the clean run
        self.shown: float | None = None  # the one quantity colour and number show
        self.state: tuple | None = None  # (method, factor) in force, (method, None, reference set) over a set
        self._press_pos: QPointF | None = None
        self.restyle(1.0)

    def move_home(self, slot: Slot) -> None:
        """Another layout (the matrix turned for a wide view): new home and size, same item."""
        self.setRect(0, 0, slot.w, slot.h)
        self.home = QPointF(slot.x, slot.y)
        self.setPos(self.home)

    def paint(self, painter, option, widget=None) -> None:
        option.state &= ~QStyle.StateFlag.State_Selected  # the orange pen marks selection, not Qt's dashes
        super().paint(painter, option, widget)

    def restyle(self, scale: float) -> None:
        ablated = self.state is not None and self.state[0] in METHOD_MARK
        fill = ABLATED_FILL if ablated else diverging(self.shown or 0.0, scale) if self.shown is not None \
            else QColor(245, 245, 245)
        # an edit restyles every node; most look the same afterwards (same colour, same number):
        # those keep their items (text layout is most of a restyle's cost, x 1200 nodes)
        look = (fill.rgb(), None if self.shown is None else format_value(self.shown), self.state,
                self.isSelected(), self.graph.view_scale(), self.label.font().pointSizeF())
        if look == getattr(self, "_look", None):
            return
        self._look = look
        self.setBrush(QBrush(fill))
        if self.isSelected():
            pen = QPen(QColor(255, 120, 0), 3.0)
        elif ablated:
            pen = QPen(QColor(60, 60, 60), 1.5, Qt.PenStyle.DashLine)
        else:
            pen = QPen(QColor(190, 190, 190) if self.number_first else QColor(60, 60, 60), 1.0)
        pen.setCosmetic(True)  # borders in screen pixels, whatever the zoom
        self.setPen(pen)
        color = QColor(70, 70, 70) if ablated else text_color_for(fill)
        self.label.setBrush(color)
        self.detail.setBrush(color)
        mark = ""
        if self.state is not None:
            method, factor = self.state[:2]
            mark = f"✕{METHOD_MARK[method]}" if method in METHOD_MARK else f"×{factor:.2f}"
        self._label_full, self._label_mark = f"{self.short} {mark}".strip(), mark
        self.label.setText(self._label_full)
        self.detail.setText("" if self.shown is None else format_value(self.shown))
        self.place_text(self.graph.view_scale())

    def place_text(self, s: float) -> None:
        """Show the lines that fit in the box as it is on screen now (scale s), centred."""
        lines = [self.detail, self.label] if self.number_first else [self.label, self.detail]
        if self.bar:
            lines = [self.label, self.detail]
        w_px, h_px = self.rect().width() * s - 4, self.rect().height() * s - 2
        self.label.setText(self._label_full)
        if self.label.boundingRect().width() > w_px and self._label_mark:  # name does not fit: the mark alone
            self.label.setText(self._label_mark)
        shown, used = [], 0.0
        for item in lines:
            r = item.boundingRect()
            need = max(r.width(), self.graph.number_px) if item is self.detail else r.width()  # same for every sign
            if item.text() and need <= w_px and used + r.height() * 0.92 <= h_px:
                shown.append(item)
                used += r.height() * 0.92
        if self.number_first and not self.bar and self.detail.text() and self.detail not in shown \
                and self.label.text() != self._label_mark:
            shown = []  # a cell too small for its value shows nothing but what is in force
        for item in lines:
            item.setVisible(item in shown)
        total = sum(i.boundingRect().width() for i in lines) + 10
        if self.bar and all(i.text() for i in lines) and total <= w_px \
                and max(i.boundingRect().height() for i in lines) <= h_px:  # "embed  +1.23" on one line
            shown = lines
            for item in lines:
                item.setVisible(True)
            x = (self.rect().width() * s - total) / 2
            for item in shown:
                item.setPos(x / s, (self.rect().height() * s - item.boundingRect().height()) / 2 / s)
                x += item.boundingRect().width() + 10
            return
        y = (self.rect().height() * s - used) / 2
        for item in shown:
            r = item.boundingRect()
            item.setPos((self.rect().width() * s - r.width()) / 2 / s, (y - r.height() * 0.04) / s)
            y += r.height() * 0.92

    def tooltip_text(self) -> str:
        text = self.name
        if self.value is not None:
            text += f": direct logit attribution {self.value:+.3f}"
        if self.delta is not None:
            text += f" (change vs clean {self.delta:+.3f})"
        if self.state is not None:
            method, factor = self.state[:2]
            over = f" over {self.state[2]}" if len(self.state) > 2 else ""
            text += f"\nablated ({method}{over})" if method in METHOD_MARK else f"\noutput scaled ×{factor:.2f}"
        if self.ablatable:
            text += "\nDrag onto the ablation bin to ablate; double-click to toggle; right-click for more"
        return text

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.setToolTip(self.tooltip_text())
        super().hoverEnterEvent(event)

    def itemChange(self, change, value):  # noqa: N802 (Qt API)
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self.restyle(self.graph.colour_scale)
            self.graph.selection_changed_from_scene()
        return super().itemChange(change, value)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._press_pos = self.pos()
        self.setZValue(5)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        super().mouseMoveEvent(event)
        if self.ablatable:
            self.graph.drag_hover(event.screenPos())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self.setZValue(2)
        moved = self._press_pos is not None and \
            (self.pos() - self._press_pos).manhattanLength() * self.graph.view_scale() > 6  # screen px
        self._press_pos = None
        if moved and self.ablatable:
            self.graph.node_dropped(self, self.sceneBoundingRect().center(), event.screenPos())

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if self.ablatable:
            self.graph.toggle(self.name)
        event.accept()

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        if self.ablatable:
            self.graph.show_menu(self, event.screenPos())
        event.accept()
