"""The circuit view draws only the nodes an edge touches, in-circuit edges by sign and
|attribution| and the candidates dashed; a click on an edge names it, a double-click toggles
it or a node; the slider and spin box ask for a size; node names and axis labels never
overlap, docked or full screen, on 2 or 30 layers; and no setter emits anything."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from widgets.circuit_view import (CLICK_TOLERANCE_PX, HELPS, HURTS, MAX_WIDTH, SLIDER_STEPS, CircuitView, count_text,
                                  demo_real_size, node_position, parse_node)

NODES = ["embed", *[f"L{l}.H{h}" for l in range(2) for h in range(4)], "L0.mlp", "L1.mlp", "logits"]
EDGES = [("embed", "L0.H1", "q", 0.5, True),
         ("embed", "L0.H1", "k", 0.1, False),
         ("L0.H1", "L1.H2", "v", -0.4, True),
         ("L1.H2", "logits", "", 1.0, True),
         ("L0.mlp", "logits", "", 0.05, False),
         ("embed", "L0.mlp", "", 0.2, True)]
SIGNALS = ("edge_count_changed", "edge_clicked", "edge_toggled", "node_toggled", "reset_requested", "find_requested")


def circuit(edges=EDGES) -> dict:
    index = {n: i for i, n in enumerate(NODES)}
    return {"nodes": NODES, "src": np.array([index[e[0]] for e in edges]),
            "dst": np.array([index[e[1]] for e in edges]), "ports": [e[2] for e in edges],
            "scores": np.array([e[3] for e in edges]),
            "in_circuit": np.array([e[4] for e in edges])}


def settle(qtbot) -> None:
    for _ in range(3):
        qtbot.wait(10)


@pytest.fixture
def view(qtbot) -> CircuitView:
    widget = CircuitView()
    qtbot.addWidget(widget)
    widget.set_circuit(**circuit())
    widget.set_edge_count(4, 50)
    widget.resize(700, 600)
    widget.show()
    qtbot.waitExposed(widget)
    settle(qtbot)
    return widget


def recorder(view: CircuitView) -> list:
    out: list = []
    for name in SIGNALS:
        getattr(view, name).connect(lambda *args, name=name: out.append((name, *args)))
    return out


def pixel(view: CircuitView, data_point: QPointF) -> QPoint:
    return view.view.mapFromScene(view.box.mapViewToScene(data_point))


def click(view: CircuitView, point: QPoint, double: bool = False) -> None:
    """A click, or a double-click as Qt delivers one: press, release, double-click, release
    (QTest.mouseDClick alone sends no release, where pyqtgraph reports the double-click)."""
    args = (view.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    QTest.mouseClick(*args)
    if double:
        QTest.mouseDClick(*args)
        QTest.mouseRelease(*args)


def no_overlap(rects) -> bool:
    return not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])


# ---- geometry ----

def test_node_names_and_places() -> None:
    assert parse_node("L12.H3") == ("head", 12, 3) and parse_node("L4.mlp") == ("mlp", 4, 0)
    with pytest.raises(ValueError):
        parse_node("L4.attn")
    assert node_position("L3.H2", 30, 9) == (2.0, 3.0)  # the head's column, its layer
    mlp = node_position("L3.mlp", 30, 9)
    assert mlp[0] > 8 and mlp[1] == 3.5  # right of the heads, half a layer up
    assert node_position("embed", 30, 9)[1] < 0 < 29 < node_position("logits", 30, 9)[1]
    assert [count_text(v) for v in (1, 20, 500, 2000, 10_000, 1_000_000)] == ["1", "20", "500", "2k", "10k", "1M"]


def test_only_nodes_with_edges_are_drawn(view) -> None:
    assert set(view.drawn_nodes()) == {"embed", "logits", "L0.H1", "L1.H2", "L0.mlp"}
    view.set_circuit(**circuit(EDGES[:1]))
    assert set(view.drawn_nodes()) == {"embed", "logits", "L0.H1"}  # embed and logits always


def test_the_model_shape_keeps_the_columns(view) -> None:
    names = ["embed", "L0.H1", "L1.H2", "logits"]  # the panel may name only the nodes it draws
    view.set_circuit(names, np.array([0, 1, 2]), np.array([1, 2, 3]), ["q", "k", ""], np.array([0.5, 0.3, 1.0]),
                     np.ones(3, dtype=bool), shape=(2, 9))
    assert view.shape == (2, 9) and view.node_centre("L1.H2").x() == 2.0
    assert view.head_axis.names[-1] == "MLP" and len(view.head_axis.names) == 10


def test_edges_by_sign_width_and_dashes(view) -> None:
    helps, hurts, top, candidate = view.edge_pen(0), view.edge_pen(2), view.edge_pen(3), view.edge_pen(1)
    assert helps.color().rgb() == HELPS.rgb() and hurts.color().rgb() == HURTS.rgb()
    assert top.widthF() == pytest.approx(MAX_WIDTH)  # the largest |score| shown
    assert helps.widthF() < top.widthF() and hurts.widthF() < helps.widthF()
    assert candidate.style() == Qt.PenStyle.DashLine and candidate.color().rgb() not in (HELPS.rgb(), HURTS.rgb())


def test_ports_enter_a_head_left_middle_right(view) -> None:
    q_end, k_end = view.paths[0, -1], view.paths[1, -1]  # embed -> L0.H1 by its query and by its key
    assert q_end[0] < k_end[0] == pytest.approx(view.node_centre("L0.H1").x())


# ---- the user ----

def test_click_and_double_click_an_edge(qtbot, view) -> None:
    heard = recorder(view)
    for index in (2, 3):
        point = pixel(view, view.edge_midpoint(index))
        assert view.node_at(view.view.mapToScene(point)) is None
        click(view, point)
        assert heard[-1] == ("edge_clicked", index) and view.selected_edge == index
        click(view, point, double=True)
        assert heard[-1] == ("edge_toggled", index)
    assert {h[0] for h in heard} == {"edge_clicked", "edge_toggled"}


def test_clicks_have_a_few_pixels_of_tolerance(qtbot, view) -> None:
    heard = recorder(view)
    middle = view.box.mapViewToScene(view.edge_midpoint(2))
    before = view.box.mapViewToScene(QPointF(*view.paths[2, len(view.paths[2]) // 2 - 1]))
    direction = np.array([middle.x() - before.x(), middle.y() - before.y()])
    normal = np.array([-direction[1], direction[0]]) / np.linalg.norm(direction)
    near = middle + QPointF(*(normal * (CLICK_TOLERANCE_PX - 2)))
    click(view, view.view.mapFromScene(near))
    assert heard == [("edge_clicked", 2)]
    far = middle + QPointF(*(normal * 25))
    assert view.edge_at(far) is None or view.edge_at(far) != 2


def test_double_click_a_node(qtbot, view) -> None:
    heard = recorder(view)
    click(view, pixel(view, view.node_centre("L1.H2")), double=True)
    assert heard == [("node_toggled", "L1.H2")]  # a click on a node is not one on its edges


def test_slider_and_spin_box_ask_for_a_size(qtbot, view) -> None:
    heard = recorder(view)
    view.slider.setValue(20)  # up to LINEAR_UP_TO edges, one step an edge
    assert heard == [("edge_count_changed", 20)] and view.count_box.value() == 20
    view.count_box.setValue(33)
    assert heard[-1] == ("edge_count_changed", 33) and view.slider.value() == 33
    view.set_edge_count(48, 32_768)  # log-spaced
    assert view.slider.maximum() == SLIDER_STEPS and view.count_at(view.slider.value()) in range(45, 52)
    view.slider.setValue(SLIDER_STEPS)
    assert heard[-1] == ("edge_count_changed", 32_768)
    view.slider.setValue(SLIDER_STEPS // 2)
    assert heard[-1] == ("edge_count_changed", 181)  # sqrt(32768)


def test_buttons(qtbot, view) -> None:
    heard = recorder(view)
    QTest.mouseClick(view.reset_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(view.find_button, Qt.MouseButton.LeftButton)
    assert heard == [("reset_requested",), ("find_requested",)]


def test_setters_emit_nothing(qtbot, view) -> None:
    heard = recorder(view)
    view.set_circuit(**circuit())
    view.set_edge_count(7, 900)
    view.set_edge_count(3, 40)
    view.set_curve(np.array([0, 1, 10, 100, 1000]), np.array([0, 0.2, 0.7, 1.05, 1.0]), 10, "area 0.83")
    view.set_faithfulness(0.5, pending=True, note="4 edges")
    view.set_details("<b>edge</b>")
    view.set_selected_edge(2)
    assert heard == [] and view.selected_edge == 2
    view.set_selected_edge(None)
    assert view.selected_edge is None and not len(view.selected_halo.getData()[0])


def test_nothing_to_show(qtbot, view) -> None:
    view.set_circuit([], np.zeros(0), np.zeros(0), [], np.zeros(0), np.zeros(0, dtype=bool))
    view.set_curve(np.zeros(0), np.zeros(0), None, "")
    view.set_faithfulness(None)
    assert view.drawn_nodes() == [] and view.meter_value.text() == "faithfulness —"
    assert view.edge_at(view.box.mapViewToScene(QPointF(1, 1))) is None and not view.circuit_items


def test_meter_and_curve(qtbot, view) -> None:
    view.set_faithfulness(1.12, note="47 edges · 12 nodes · your edits: +2 −1")
    assert view.meter_value.text() == "faithfulness 1.12" and view.meter_note.text().startswith("47 edges")
    assert not view.meter_state.isVisible()
    view.set_faithfulness(0.87, pending=True)
    assert view.meter_state.isVisible() and view.meter_bar.pending
    view.set_curve(np.array([0, 1, 10, 100, 1000]), np.array([0, 0.2, 0.7, 1.05, 1.0]), 10, "area 0.83 · CPR 0.91")
    assert view.curve.getAxis("bottom").logMode  # sizes span decades
    assert list(view.current_dot.getData()[0]) == [pytest.approx(1.0)]  # log10(10)
    assert view.summary.text() == "x: edges (log) · area 0.83 · CPR 0.91"
    view.set_curve(np.array([1, 2, 3, 4]), np.array([0.1, 0.5, 0.8, 0.9]), None, "")
    assert not view.curve.getAxis("bottom").logMode
    assert view.current_dot.getData()[0] is None and not view.current_line.isVisible()


# ---- legibility ----

@pytest.mark.parametrize("size", [(700, 600), (1920, 1080)])
def test_names_never_overlap_on_30_layers(qtbot, size) -> None:
    view = demo_real_size()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    settle(qtbot)
    rects = view.visible_label_rects()
    assert len(rects) >= 10 and no_overlap(rects)
    area = view.box.sceneBoundingRect()
    assert all(area.contains(r) for r in rects)  # fitted: no name cut off at the edges
    if size[0] < 1000:
        assert len(view.named_nodes()) < len(view.drawn_nodes())  # docked, some stay small boxes
    metrics = view.layer_axis.metrics()
    per_layer = abs(view._pixels_per_unit()[1])
    shown = view.layer_axis.shown
    assert len(shown) >= 4 and min(np.diff(shown)) * per_layer >= metrics.height()
    view.box.scaleBy((0.25, 0.25))  # zoomed in: more names, still apart
    settle(qtbot)
    assert no_overlap(view.visible_label_rects())


def test_fit_comes_back_after_a_zoom(qtbot, view) -> None:
    fitted = view.box.viewRange()
    view.box.scaleBy((0.5, 0.5))
    assert view.box.viewRange() != fitted
    view.fit()
    assert np.allclose(view.box.viewRange(), fitted)
