"""The component graph: embed, every head, every MLP and unembed, coloured by direct logit
attribution; drag nodes onto the ablation bin to ablate them.

Built for real models (30-48 layers x 9-25 heads), not only the toy: small models get one
column per layer; larger ones a layer x head matrix (see graph_layout). The view zooms with
the wheel at the pointer and pans by dragging empty space, a Fit button and a search box
(`L23.H3`) get anywhere in two actions, and node text keeps a fixed on-screen size, shown
once a box can hold it. The bin and the legend are widgets outside the zoomed scene so they
stay large and legible. Colour and number on a node are one quantity on one symmetric
scale, fixed per prompt from the clean run so that an ablation recolours only what changed.

Plain QGraphicsView items (not pyqtgraph): dragging, rubber-band and Ctrl-click selection,
double-click and context menus are what QGraphicsItem does natively. The widget only
emits what the user asked for (ablate / restore / scale these names); the app owns the
intervention list and feeds back what is in force."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (QComboBox, QCompleter, QGraphicsScene, QGraphicsSimpleTextItem,
                               QHBoxLayout, QInputDialog, QLabel, QLineEdit, QMenu, QPushButton, QSlider,
                               QVBoxLayout, QWidget)

from .ablation_bin import AblationBin
from .elided_label import ElidedLabel
from .graph_layout import COL_W, PITCH, fit_scale_and_centre, layout_for, nice_ceiling, parse_query
from .graph_legend import ColourLegend
from .graph_node import METHOD_MARK, NodeItem, diverging
from .graph_scene import draw_lanes, place_headers, screen_text
from .graph_view import GraphView

__all__ = ["ComponentGraph", "METHOD_MARK", "NodeItem", "diverging", "demo"]
HINT = ("Wheel: zoom at the pointer · drag empty space: pan · Shift+drag: box-select · Ctrl+click: add · "
        "double-click: ablate/restore · right-click: more")
MAX_SCALE = 8.0
FONT_PT, LARGE_FONT_PT = 8.5, 14.0


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
        self.nodes: dict[str, NodeItem] = {}
        self.colour_scale, self.scale_fixed, self.scale_source = 1.0, False, ""
        self.auto_scale = 1.0  # what the clean run of this prompt asked for
        self.quantity = "dla"  # or "delta": what colour and number show
        self.node_font, self.header_font = QFont(), QFont()
        self.node_font.setPointSizeF(FONT_PT)
        self.header_font.setPointSizeF(FONT_PT)
        self.header_font.setBold(True)
        self.default_method = "zero"
        self.number_px = 0.0  # on-screen width of a value: all numbers appear at the same zoom
        self.shape = (0, 0)
        self.kind = "columns"
        self.graph_rect = QRectF()
        self._values: dict[str, float] = {}
        self._deltas: dict[str, float] | None = None
        self._col_headers: list[QGraphicsSimpleTextItem] = []
        self._row_headers: list[QGraphicsSimpleTextItem] = []
        self._lane_text: QGraphicsSimpleTextItem | None = None
        self.view = GraphView(self.scene)
        self.view.zoom_requested.connect(self.zoom_by)
        self.view.refit_requested.connect(self.fit)

        self.updating = False  # numbers on display are the previous run's (set_updating)
        self.summary = QLabel("Drag a head or MLP onto the ablation bin to ablate it")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.updating_mark = QLabel("⟳ updating…")  # shown while the numbers are the previous run's
        self.updating_mark.setStyleSheet("color: #b36b00; font-weight: bold;")
        self.updating_mark.setVisible(False)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find: L23.H3, L23.mlp, L23, embed")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(lambda: self.find(self.search.text()))
        fit = QPushButton("Fit")
        fit.setToolTip("Show the whole model")
        fit.clicked.connect(self.fit)
        self.quantity_box = QComboBox()
        self.quantity_box.addItem("colour: DLA", "dla")
        self.quantity_box.addItem("colour: change vs clean", "delta")
        self.quantity_box.setToolTip("What colour and number on every node show (one quantity, one scale)")
        self.quantity_box.currentIndexChanged.connect(lambda _: self.set_quantity(self.quantity_box.currentData()))
        self.hint = ElidedLabel(HINT)  # one line (all of it in the tooltip): the graph keeps the height
        self.hint.setStyleSheet("color: #666;")
        self.legend = ColourLegend(diverging)
        self.legend.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.legend.customContextMenuRequested.connect(self._legend_menu)
        self.bin = AblationBin()
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

        tools = QHBoxLayout()
        tools.addWidget(self.search, 1)
        tools.addWidget(fit)
        tools.addWidget(self.quantity_box)
        below = QHBoxLayout()
        below.addWidget(self.legend, 1)
        below.addWidget(self.bin)
        controls = QHBoxLayout()
        controls.addWidget(self.slider_label)
        controls.addWidget(self.slider, 1)
        controls.addWidget(restore_all)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.updating_mark, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addLayout(tools)
        layout.addWidget(self.hint)
        layout.addWidget(self.view, 1)
        layout.addLayout(below)
        layout.addLayout(controls)
        self._update_legend()

    # ------------------------------------------------------------------ building
    def set_shape(self, n_layers: int, n_heads: int) -> None:
        """Columns per layer for small models, a layer x head matrix for real ones."""
        self.scene.clear()
        self.nodes.clear()
        self._col_headers, self._row_headers, self._lane_text = [], [], None
        self.shape = (n_layers, n_heads)
        lay = layout_for(n_layers, n_heads)
        self.kind, self.transposed = lay.kind, False
        self.view.show_at(1.0, QPointF(0, 0))
        if lay.lane_y is not None:
            self._lane_text = draw_lanes(self.scene, lay, n_layers, self.node_font)
        for slot in lay.slots:
            node = NodeItem(self, slot, lay.kind == "matrix")
            self.scene.addItem(node)
            self.nodes[slot.name] = node
        self._apply_layout(lay)
        if self.search.completer() is not None:
            self.search.completer().deleteLater()
        self.search.setCompleter(QCompleter(list(self.nodes), self.search))
        self.search.completer().setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search.completer().activated.connect(self.find)
        self.reset_colour_scale()
        self._restyle_all()
        self.fit()

    def _apply_layout(self, lay) -> None:
        """Nodes to their homes, headers for this layout, the rect that Fit shows."""
        self.transposed = lay.transposed
        for slot in lay.slots:
            self.nodes[slot.name].move_home(slot)
        for item in (*self._col_headers, *self._row_headers):
            self.scene.removeItem(item)
        self._col_headers = [screen_text(self.scene, x, y, t, self.header_font) for x, y, t in lay.col_headers]
        self._row_headers = [screen_text(self.scene, x, y, t, self.header_font) for x, y, t in lay.row_headers]
        self.graph_rect = QRectF(*lay.grid)
        pad = max(self.graph_rect.width(), self.graph_rect.height())
        self.scene.setSceneRect(self.graph_rect.adjusted(-pad, -pad, pad, pad))  # room to pan and centre freely

    # ------------------------------------------------------------------ zoom, pan, find
    def view_scale(self) -> float:
        return self.view.transform().m11() if hasattr(self, "view") else 1.0

    @property
    def fitted(self) -> bool:
        """The whole model is in view (and stays so on resize) until the user zooms or pans."""
        return self.view.fitted

    def figure_view(self) -> list[QWidget]:
        """The graph and its colour legend (no search box, buttons or bin): for figure exports."""
        return [self.view, self.legend]

    def _margins_px(self) -> tuple[float, float, float, float]:
        head_h = max((i.boundingRect().height() for i in self._col_headers), default=0.0)
        row_w = max((i.boundingRect().width() for i in self._row_headers), default=0.0)
        lane_h = self._lane_text.boundingRect().height() if self._lane_text is not None else 0.0
        return row_w + 10, head_h + 8, 8, lane_h + 8

    def fit(self) -> None:
        """The whole model in view, headers included (they do not zoom, so they are margins).
        A matrix turns to whichever way round gives bigger cells in this viewport."""
        if self.kind == "matrix":
            turned = layout_for(*self.shape, transposed=not self.transposed)
            vp = self.view.viewport()
            if fit_scale_and_centre(turned.grid, self._margins_px(), (vp.width(), vp.height()))[0] > \
                    1.1 * self.fit_scale():
                self._apply_layout(turned)
        vp = self.view.viewport()
        s, cx, cy = fit_scale_and_centre(self.graph_rect.getRect(), self._margins_px(), (vp.width(), vp.height()))
        self.view.show_at(s, QPointF(cx, cy), fitted=True)
        self._on_zoom()

    def fit_scale(self) -> float:
        vp = self.view.viewport()
        return fit_scale_and_centre(self.graph_rect.getRect(), self._margins_px(), (vp.width(), vp.height()))[0]

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom keeping the scene point under `anchor` (viewport px; default the centre) still."""
        self.view.zoom_by(factor, anchor, self.fit_scale() * 0.5, MAX_SCALE)
        self._on_zoom()

    def find(self, text: str) -> list[str]:
        """Select what a typed address names and bring it into view, zoomed to be legible."""
        names, error = parse_query(text, *self.shape)
        self.hint.setText(error or HINT)
        self.hint.setStyleSheet("color: #b00020;" if error else "color: #666;")
        if names:
            self.focus_on(names)
        return names

    def focus_on(self, names: list[str]) -> None:
        self.scene.clearSelection()
        rect = QRectF()
        for name in names:
            self.nodes[name].setSelected(True)
            rect = rect.united(self.nodes[name].sceneBoundingRect())
        vp = self.view.viewport()
        wanted = max(self.view_scale(), 84 / max(rect.width(), rect.height(), 1.0))  # a node ~84 px: name + value
        s = min(vp.width() * 0.9 / rect.width(), vp.height() * 0.9 / rect.height(), wanted, MAX_SCALE)
        self.view.show_at(s, rect.center())
        self._on_zoom()

    def _on_zoom(self) -> None:
        """Place fixed-size text for the current scale: node lines that fit, headers that don't collide."""
        s = self.view_scale()
        probe = QGraphicsSimpleTextItem("+8.88")  # measured as the node text is, so -0.1 and +0.9 agree
        probe.setFont(self.node_font)
        self.number_px = probe.boundingRect().width()
        for node in self.nodes.values():
            node.place_text(s)
        pitch = PITCH if self.kind == "matrix" else COL_W
        place_headers(self._col_headers, s, pitch, horizontal=True)
        place_headers(self._row_headers, s, pitch, horizontal=False)
        if self._lane_text is not None:
            self._lane_text.setPos(*self._lane_text.data(0))

    # ------------------------------------------------------------------ data in
    def set_attribution(self, values: dict[str, float], deltas: dict[str, float] | None = None) -> None:
        """values: DLA of the current run per name; deltas: current - clean (None without
        interventions). The colour scale is fixed from the first clean values after a reset."""
        self._values, self._deltas = dict(values), None if deltas is None else dict(deltas)
        if not self.scale_fixed:
            clean = {n: v - (deltas or {}).get(n, 0.0) for n, v in values.items()}
            parts = [abs(v) for n, v in clean.items() if n in self.nodes and self.nodes[n].ablatable]
            self.auto_scale = nice_ceiling(max(parts or [abs(v) for v in clean.values()] or [1.0]))
            self.colour_scale, self.scale_fixed, self.scale_source = self.auto_scale, True, "fixed by the clean run"
        self._restyle_all()

    def reset_colour_scale(self) -> None:
        """The next set_attribution sets the scale (a new prompt or model); ablations never do."""
        self.scale_fixed, self.scale_source = False, ""

    def set_colour_scale(self, scale: float) -> None:
        """A scale chosen by the user (e.g. to compare two prompts on the same footing)."""
        self.colour_scale, self.scale_fixed, self.scale_source = float(scale), True, "set by hand"
        self._restyle_all()

    def _legend_menu(self, pos: QPoint) -> None:
        """Right-click on the legend: a hand-set scale (to compare prompts), or back to automatic."""
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Set colour scale…").triggered.connect(self._ask_scale)
        auto = menu.addAction(f"Automatic: ±{self.auto_scale:g} from the clean run")
        auto.triggered.connect(lambda: self._use_auto_scale())
        menu.exec(self.legend.mapToGlobal(pos))

    def _ask_scale(self) -> None:
        value, ok = QInputDialog.getDouble(self, "Colour scale", "Saturate colours at ± (logits):",
                                           self.colour_scale, 1e-3, 1e4, 3)
        if ok:
            self.set_colour_scale(value)

    def _use_auto_scale(self) -> None:
        self.colour_scale, self.scale_source = self.auto_scale, "fixed by the clean run"
        self._restyle_all()

    def set_quantity(self, quantity: str) -> None:
        """'dla' (this run's direct logit attribution) or 'delta' (its change vs the clean run)."""
        self.quantity = quantity
        self.quantity_box.setCurrentIndex(max(self.quantity_box.findData(quantity), 0))
        self._restyle_all()

    def _restyle_all(self) -> None:
        for name, node in self.nodes.items():
            node.value = self._values.get(name)
            node.delta = None if self._deltas is None else self._deltas.get(name)
            if self.quantity == "delta":
                node.shown = None if node.value is None else (node.delta or 0.0)
            else:
                node.shown = node.value
            node.restyle(self.colour_scale)
        self._update_legend()

    def _update_legend(self) -> None:
        what = ("DLA to logit diff (target − foil)" if self.quantity == "dla"
                else "change in DLA vs clean run (now − clean)")
        source = self.scale_source or "set by the next clean run"
        self.legend.set_scale(self.colour_scale, f"colour = number: {what}\n"
                                                 f"±{self.colour_scale:g}, {source} · grey = ablated")
        self.legend.setToolTip(f"Colour and the number on every node show one quantity: {what}, on a fixed\n"
                               f"symmetric scale ±{self.colour_scale:g} ({source}); a new prompt resets it, an\n"
                               "ablation does not (right-click to set it by hand). Grey dashed nodes are\n"
                               "ablated; ×f marks a scaled output.")

    def set_interventions(self, state: dict[str, tuple[str, float | None]]) -> None:
        """name -> (method, factor): 'zero'/'mean'/'resample' ablations or ('scale', factor)."""
        for name, node in self.nodes.items():
            if node.state != state.get(name):  # an edit touches a few nodes: restyle only those
                node.state = state.get(name)
                node.restyle(self.colour_scale)
        self.selection_changed_from_scene()

    def set_summary(self, html: str) -> None:
        self.summary.setText(html)

    def set_updating(self, updating: bool) -> None:
        """The nodes already show the new edit; until its numbers arrive, the numbers beside
        it are greyed and say so (nothing may look final before it is)."""
        if updating == self.updating:
            return
        self.updating = updating
        palette = self.summary.palette()  # a palette, not a style sheet: this runs on every edit
        palette.setColor(QPalette.ColorRole.WindowText, QColor(150, 150, 150) if updating else
                         self.palette().color(QPalette.ColorRole.WindowText))
        self.summary.setPalette(palette)
        self.summary.setToolTip("⟳ updating: these numbers are the previous run's" if updating else "")
        self.updating_mark.setVisible(updating)

    def set_large_text(self, large: bool) -> None:
        """Presentation mode: bigger node and header text, a bigger bin; hints out of the way."""
        self.node_font.setPointSizeF(LARGE_FONT_PT if large else FONT_PT)
        self.header_font.setPointSizeF(LARGE_FONT_PT if large else FONT_PT)
        for node in self.nodes.values():
            node.label.setFont(self.node_font)
            node.detail.setFont(self.node_font)
        for item in (*self._col_headers, *self._row_headers):
            item.setFont(self.header_font)
        if self._lane_text is not None:
            self._lane_text.setFont(self.node_font)
        legend_font = QFont(self.legend.font())
        legend_font.setPointSizeF(14.0 if large else FONT_PT + 0.5)
        self.legend.setFont(legend_font)
        self.bin.set_large(large)
        self.hint.setVisible(not large)
        if self.view.fitted:
            self.fit()
        else:
            self._on_zoom()

    # ------------------------------------------------------------------ geometry for tests and benches
    def node_scene_center(self, name: str) -> QPointF:
        return self.nodes[name].sceneBoundingRect().center()

    def bin_scene_center(self) -> QPointF:
        """Where the (unzoomed, outside-the-scene) bin's centre is, in scene coordinates."""
        global_centre = self.bin.mapToGlobal(self.bin.rect().center())
        return self.view.mapToScene(self.view.viewport().mapFromGlobal(global_centre))

    def selected_names(self) -> list[str]:
        return [n.name for n in self.nodes.values() if n.isSelected() and n.ablatable]

    # ------------------------------------------------------------------ user actions
    def drag_hover(self, screen_pos: QPointF) -> None:
        self.bin.set_hot(self.bin.contains_global(screen_pos))

    def node_dropped(self, node: NodeItem, where: QPointF, screen_pos: QPointF | None = None) -> None:
        """A drag ended: onto the bin or off the graph = ablate; anywhere else = restore."""
        self.bin.set_hot(False)
        names = self.selected_names() if node.isSelected() else [node.name]
        names = names or [node.name]
        for name in names:
            self.nodes[name].setPos(self.nodes[name].home)
        on_bin = screen_pos is not None and self.bin.contains_global(screen_pos)
        if on_bin or not self.graph_rect.contains(where):
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


def demo(n_layers: int = 2, n_heads: int = 4, seed: int = 0) -> ComponentGraph:
    """Random attributions, one head ablated and one scaled (`python -m widgets.component_graph`)."""
    rng = np.random.default_rng(seed)
    graph = ComponentGraph()
    graph.resize(800, 500)
    graph.set_shape(n_layers, n_heads)
    names = list(graph.nodes)
    values = {n: float(v) for n, v in zip(names, rng.normal(size=len(names)) * 0.6)}
    graph.set_attribution(values)
    ablated, scaled = f"L{n_layers - 1}.H{min(2, n_heads - 1)}", "L0.H1"
    graph.set_attribution({**values, ablated: 0.0}, {ablated: -values[ablated]})
    graph.set_interventions({ablated: ("zero", None), scaled: ("scale", 0.5)})
    graph.set_summary("<b>logit diff</b> 3.21 → 1.02 &nbsp; <b>P('Mary')</b> 0.83 → 0.31")
    return graph


if __name__ == "__main__":
    from .demo import run

    run(demo)
