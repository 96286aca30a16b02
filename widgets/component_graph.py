"""The component graph: embed, every head, every MLP and unembed, laid out by layer, coloured
by direct logit attribution; drag nodes onto the ablation bin to ablate them.

Plain QGraphicsView items (not pyqtgraph): dragging, rubber-band and Ctrl-click selection,
double-click and context menus are what QGraphicsItem does natively. The widget only
emits what the user asked for (ablate / restore / scale these names); the app owns the
intervention list and feeds back what is in force."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QLinearGradient, QPainter, QPen
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem,
                               QGraphicsView, QHBoxLayout, QLabel, QMenu, QPushButton, QSlider, QVBoxLayout,
                               QWidget)

from .colors import text_color_for

DIVERGING_LUT = pg.colormap.get("CET-D1").getLookupTable(0.0, 1.0, 256)  # blue - white - red
NODE_W, NODE_H = 62.0, 24.0
COL_W, ROW_H, HEADER = 92.0, 30.0, 56.0
METHOD_MARK = {"zero": "0", "mean": "μ", "resample": "R"}
ABLATABLE_PREFIX = "L"


def diverging(value: float, scale: float) -> QColor:
    """Blue for negative, white at 0, red for positive; |value| >= scale saturates."""
    t = 0.5 + 0.5 * float(np.clip(value / scale, -1.0, 1.0)) if scale > 0 else 0.5
    r, g, b = DIVERGING_LUT[int(round(t * 255))]
    return QColor(int(r), int(g), int(b))


class NodeItem(QGraphicsRectItem):
    """One component. Movable only to be dropped somewhere; snaps back home after a drag."""

    def __init__(self, graph: "ComponentGraph", name: str, label: str, home: QPointF, ablatable: bool) -> None:
        super().__init__(0, 0, NODE_W, NODE_H)
        self.graph, self.name, self.home, self.ablatable = graph, name, home, ablatable
        self.setPos(home)
        flags = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        if ablatable:
            flags |= QGraphicsItem.GraphicsItemFlag.ItemIsMovable
        self.setFlags(flags)
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        self.label = QGraphicsSimpleTextItem(label, self)
        self.detail = QGraphicsSimpleTextItem("", self)
        self.label.setFont(graph.node_font)
        self.detail.setFont(graph.node_font)
        self.value = 0.0
        self.delta: float | None = None
        self.state: tuple[str, float | None] | None = None  # (method, factor) in force
        self._press_pos: QPointF | None = None
        self.restyle(1.0)

    def restyle(self, scale: float) -> None:
        fill = diverging(self.value, scale)
        ablated = self.state is not None and self.state[0] in METHOD_MARK
        if ablated:
            fill = QColor(200, 200, 200)
        self.setBrush(QBrush(fill))
        pen = QPen(QColor(255, 120, 0) if self.isSelected() else QColor(60, 60, 60))
        pen.setWidthF(2.5 if self.isSelected() else 1.0)
        if ablated:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)
        color = QColor(90, 90, 90) if ablated else text_color_for(fill)
        self.label.setBrush(color)
        self.detail.setBrush(color)
        mark = ""
        if self.state is not None:
            method, factor = self.state
            mark = f"✕{METHOD_MARK[method]}" if method in METHOD_MARK else f"×{factor:.2f}"
        self.label.setText(f"{self.label.text().split(' ')[0]} {mark}".strip())
        self.detail.setText("" if self.delta is None or abs(self.delta) < 0.005 else f"{self.delta:+.2f}")
        self._layout_text()

    def _layout_text(self) -> None:
        lb, db = self.label.boundingRect(), self.detail.boundingRect()
        if self.detail.text():
            self.label.setPos((NODE_W - lb.width()) / 2, NODE_H / 2 - lb.height() + 2)
            self.detail.setPos((NODE_W - db.width()) / 2, NODE_H / 2 - 1)
        else:
            self.label.setPos((NODE_W - lb.width()) / 2, (NODE_H - lb.height()) / 2)

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt API)
        text = f"{self.name}: direct logit attribution {self.value:+.3f}"
        if self.delta is not None:
            text += f" (change {self.delta:+.3f})"
        if self.state is not None:
            method, factor = self.state
            text += f"\nablated ({method})" if method in METHOD_MARK else f"\noutput scaled ×{factor:.2f}"
        if self.ablatable:
            text += "\nDrag onto the bin to ablate; double-click to toggle; right-click for more"
        self.setToolTip(text)
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

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        self.setZValue(2)
        moved = self._press_pos is not None and (self.pos() - self._press_pos).manhattanLength() > 6
        self._press_pos = None
        if moved and self.ablatable:
            self.graph.node_dropped(self, self.sceneBoundingRect().center())

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        if self.ablatable:
            self.graph.toggle(self.name)
        event.accept()

    def contextMenuEvent(self, event) -> None:  # noqa: N802
        if self.ablatable:
            self.graph.show_menu(self, event.screenPos())
        event.accept()


class GraphView(QGraphicsView):
    """Rubber-band selection on empty space, antialiased, zoom with Ctrl+wheel."""

    def __init__(self, scene: QGraphicsScene) -> None:
        super().__init__(scene)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setBackgroundBrush(QColor(255, 255, 255))

    def wheelEvent(self, event) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(factor, factor)
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)


class ComponentGraph(QWidget):
    """Emits ablate_requested(names, method), restore_requested(names),
    scale_requested(names, factor), restore_all_requested()."""

    ablate_requested = Signal(list, str)
    restore_requested = Signal(list)
    scale_requested = Signal(list, float)
    restore_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scene = QGraphicsScene(self)
        self.view = GraphView(self.scene)
        self.nodes: dict[str, NodeItem] = {}
        self.colour_scale = 1.0
        self.node_font = QFont()
        self.node_font.setPointSizeF(8.5)
        self.default_method = "zero"
        self.shape = (0, 0)
        self.bin: QGraphicsRectItem | None = None
        self.graph_rect = QRectF()

        self.summary = QLabel("Drag a head or MLP onto the ablation bin to ablate it")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 300)
        self.slider.setValue(100)
        self.slider.setEnabled(False)
        self.slider.setToolTip("Scale the output of the selected components (100% = unchanged)")
        self.slider_label = QLabel("scale: select nodes")
        self.slider_label.setMinimumWidth(150)
        self.slider.valueChanged.connect(self._on_slider)
        restore_all = QPushButton("Restore all")
        restore_all.clicked.connect(self.restore_all_requested)
        controls = QHBoxLayout()
        controls.addWidget(self.slider_label)
        controls.addWidget(self.slider, 1)
        controls.addWidget(restore_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addLayout(controls)

    # ------------------------------------------------------------------ building
    def set_shape(self, n_layers: int, n_heads: int) -> None:
        """Lay out embed | one column per layer (heads stacked, then the MLP) | unembed | bin."""
        self.scene.clear()
        self.nodes.clear()
        self.shape = (n_layers, n_heads)
        mlp_y = HEADER + n_heads * ROW_H + 10
        height = mlp_y + ROW_H + 10
        mid = (HEADER + mlp_y + NODE_H) / 2 - NODE_H / 2
        lane_y = height + 6
        x_unembed = (n_layers + 1) * COL_W
        lane_pen = QPen(QColor(150, 150, 150), 3)
        self.scene.addLine(NODE_W, lane_y, x_unembed, lane_y, lane_pen).setZValue(0)
        lane_text = self.scene.addSimpleText("residual stream →")
        lane_text.setBrush(QColor(120, 120, 120))
        lane_text.setPos(NODE_W + 8, lane_y + 3)
        self._add_node("embed", "embed", QPointF(0, mid), False)
        self.scene.addLine(NODE_W / 2, mid + NODE_H, NODE_W / 2, lane_y, lane_pen).setZValue(0)
        self._add_node("unembed", "unembed", QPointF(x_unembed, mid), False)
        self.scene.addLine(x_unembed + NODE_W / 2, lane_y, x_unembed + NODE_W / 2, mid + NODE_H, lane_pen).setZValue(0)
        connector = QPen(QColor(190, 190, 190), 1.5)
        for l in range(n_layers):
            x = (l + 1) * COL_W
            header = self.scene.addSimpleText(f"L{l}")
            header.setFont(self._bold())
            header.setPos(x + NODE_W / 2 - header.boundingRect().width() / 2, HEADER - 26)
            self.scene.addLine(x - 8, HEADER + NODE_H / 2, x - 8, lane_y, connector).setZValue(0)
            for h in range(n_heads):
                y = HEADER + h * ROW_H
                self.scene.addLine(x - 8, y + NODE_H / 2, x, y + NODE_H / 2, connector).setZValue(0)
                self._add_node(f"L{l}.H{h}", f"H{h}", QPointF(x, y), True)
            self.scene.addLine(x - 8, mlp_y + NODE_H / 2, x, mlp_y + NODE_H / 2, connector).setZValue(0)
            self._add_node(f"L{l}.mlp", "MLP", QPointF(x, mlp_y), True)
        self.graph_rect = QRectF(-10, 0, x_unembed + NODE_W + 20, lane_y + 24)
        bin_w = max(110.0, NODE_W * 1.8)
        self.bin = self.scene.addRect(QRectF(x_unembed + NODE_W + 30, HEADER, bin_w, max(90.0, mid - HEADER + NODE_H)),
                                      QPen(QColor(176, 0, 32), 2, Qt.PenStyle.DashLine), QBrush(QColor(255, 235, 238)))
        self.bin.setZValue(0)
        bin_text = self.scene.addSimpleText("Ablation bin\ndrop here")
        bin_text.setBrush(QColor(176, 0, 32))
        bin_text.setFont(self._bold())
        r = self.bin.rect()
        bin_text.setPos(r.center().x() - bin_text.boundingRect().width() / 2, r.top() + 8)
        self._legend(QPointF(x_unembed + NODE_W + 30, r.bottom() + 20), bin_w)
        self.scene.setSceneRect(self.scene.itemsBoundingRect().adjusted(-12, -12, 12, 12))
        self.view.fitInView(self.scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _add_node(self, name: str, label: str, home: QPointF, ablatable: bool) -> None:
        node = NodeItem(self, name, label, home, ablatable)
        self.scene.addItem(node)
        self.nodes[name] = node

    def _legend(self, at: QPointF, width: float) -> None:
        gradient = QLinearGradient(at.x(), 0, at.x() + width, 0)
        for t in (0.0, 0.25, 0.5, 0.75, 1.0):
            gradient.setColorAt(t, diverging(2 * t - 1, 1.0))
        rect = self.scene.addRect(QRectF(at.x(), at.y() + 18, width, 12), QPen(QColor(80, 80, 80)), QBrush(gradient))
        rect.setZValue(0)
        title = self.scene.addSimpleText("direct logit attribution\n(target − foil)")
        title.setPos(at.x(), at.y() - 18)
        self._legend_labels = []
        for frac, align in ((0.0, 0.0), (0.5, 0.5), (1.0, 1.0)):
            label = self.scene.addSimpleText("")
            label.setData(0, (at.x() + frac * width, align, at.y() + 32))
            self._legend_labels.append(label)
        self._update_legend()

    def _update_legend(self) -> None:
        for label, value in zip(getattr(self, "_legend_labels", []), (-self.colour_scale, 0.0, self.colour_scale)):
            label.setText(f"{value:+.2f}" if value else "0")
            x, align, y = label.data(0)
            label.setPos(x - align * label.boundingRect().width(), y)

    @staticmethod
    def _bold() -> QFont:
        font = QFont()
        font.setBold(True)
        return font

    # ------------------------------------------------------------------ data in
    def set_attribution(self, values: dict[str, float], deltas: dict[str, float] | None = None) -> None:
        """Node colours from DLA per name; deltas (after - before) shown on the nodes."""
        magnitudes = [abs(v) for k, v in values.items() if k in self.nodes]
        self.colour_scale = max(max(magnitudes, default=0.0), 1e-6)
        for name, node in self.nodes.items():
            node.value = float(values.get(name, 0.0))
            node.delta = None if deltas is None else deltas.get(name)
            node.restyle(self.colour_scale)
        self._update_legend()

    def set_interventions(self, state: dict[str, tuple[str, float | None]]) -> None:
        """name -> (method, factor): 'zero'/'mean'/'resample' ablations or ('scale', factor)."""
        for name, node in self.nodes.items():
            node.state = state.get(name)
            node.restyle(self.colour_scale)
        self.selection_changed_from_scene()

    def set_summary(self, html: str) -> None:
        self.summary.setText(html)

    def set_large_text(self, large: bool) -> None:
        """Bigger node labels (presentation mode); the boxes stay the same size."""
        self.node_font.setPointSizeF(10.0 if large else 8.5)
        for node in self.nodes.values():
            node.label.setFont(self.node_font)
            node.detail.setFont(self.node_font)
            node.restyle(self.colour_scale)

    # ------------------------------------------------------------------ geometry for tests and benches
    def node_scene_center(self, name: str) -> QPointF:
        return self.nodes[name].sceneBoundingRect().center()

    def bin_scene_center(self) -> QPointF:
        return self.bin.sceneBoundingRect().center()

    def selected_names(self) -> list[str]:
        return [n.name for n in self.nodes.values() if n.isSelected() and n.ablatable]

    # ------------------------------------------------------------------ user actions
    def node_dropped(self, node: NodeItem, where: QPointF) -> None:
        """A drag ended: onto the bin or off the graph = ablate; anywhere else = restore."""
        names = self.selected_names() if node.isSelected() else [node.name]
        names = names or [node.name]
        for name in names:
            self.nodes[name].setPos(self.nodes[name].home)
        if self.bin.sceneBoundingRect().contains(where) or not self.graph_rect.contains(where):
            self.ablate_requested.emit(names, self.default_method)
        elif any(self.nodes[n].state is not None for n in names):
            self.restore_requested.emit([n for n in names if self.nodes[n].state is not None])

    def toggle(self, name: str) -> None:
        if self.nodes[name].state is None:
            self.ablate_requested.emit([name], self.default_method)
        else:
            self.restore_requested.emit([name])

    def show_menu(self, node: NodeItem, screen_pos) -> None:
        """The menu acts on the node right-clicked (with the selection it belongs to); an
        unselected node becomes the selection, so the slider then scales what was acted on."""
        if not node.isSelected():
            self.scene.clearSelection()
            node.setSelected(True)
        names = self.selected_names()
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # one per right-click: none may be left behind
        menu.addSection(", ".join(names) if len(names) <= 4 else f"{len(names)} components")
        for method, text in (("zero", "Zero-ablate"), ("mean", "Mean-ablate"), ("resample", "Resample from corrupted prompt")):
            menu.addAction(text).triggered.connect(lambda checked=False, m=method: self.ablate_requested.emit(names, m))
        menu.addSeparator()
        for factor in (0.5, 2.0):
            menu.addAction(f"Scale output ×{factor:g}").triggered.connect(
                lambda checked=False, f=factor: self.scale_requested.emit(names, f))
        menu.addAction("Restore").triggered.connect(lambda: self.restore_requested.emit(names))
        menu.exec(screen_pos)

    def selection_changed_from_scene(self) -> None:
        names = self.selected_names()
        self.slider.setEnabled(bool(names))
        if not names:
            self.slider_label.setText("scale: select nodes")
            return
        state = self.nodes[names[0]].state
        factor = state[1] if state is not None and state[0] == "scale" else (0.0 if state is not None else 1.0)
        self.slider.blockSignals(True)
        self.slider.setValue(int(round(factor * 100)))
        self.slider.blockSignals(False)
        self._label_slider(names, factor)

    def _label_slider(self, names: list[str], factor: float) -> None:
        who = names[0] if len(names) == 1 else f"{len(names)} nodes"
        self.slider_label.setText(f"scale {who}: ×{factor:.2f}")

    def _on_slider(self, value: int) -> None:
        names = self.selected_names()
        if names:
            self._label_slider(names, value / 100)
            self.scale_requested.emit(names, value / 100)


def demo() -> ComponentGraph:
    """2 layers x 4 heads with random attributions, one head ablated and one scaled."""
    rng = np.random.default_rng(0)
    graph = ComponentGraph()
    graph.set_shape(2, 4)
    names = ["embed", *(f"L{l}.H{h}" for l in range(2) for h in range(4)), "L0.mlp", "L1.mlp"]
    graph.set_attribution({n: float(v) for n, v in zip(names, rng.normal(size=len(names)))},
                          {"L1.H2": -1.3})
    graph.set_interventions({"L1.H2": ("zero", None), "L0.H1": ("scale", 0.5)})
    graph.set_summary("<b>logit diff</b> 3.21 → 1.02 &nbsp; <b>P('Mary')</b> 0.83 → 0.31")
    graph.resize(800, 500)
    return graph


if __name__ == "__main__":
    from .demo import run

    run(demo)
