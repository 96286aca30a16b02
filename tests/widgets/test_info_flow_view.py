"""The information-flow view draws the route tree in the route colour and everything else
grey, marks the route's nodes, names the node clicked and the output position chosen (in
the combo box or on the top row), asks for the threshold set, shows tokens as the model saw
them, thins token and row labels so they never overlap (2 layers x 12 tokens, 30 x 16 docked
and full screen), and says nothing when the app sets it up."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtTest import QTest

from widgets.info_flow_view import (ATTENTION, MLP, RESIDUAL, ROUTE, InfoFlowView, demo_flow, demo_real_size,
                                    route_tree)

TOKENS = ["<s>", "When", " Mary", "\n"]
ROWS = ["L0 in", "L0 attn", "L1 in", "L1 attn", "out"]
#         src_row src_pos dst_row dst_pos weight kind on_route
EDGES = [(0, 1, 1, 3, 0.30, ATTENTION, True),
         (0, 3, 1, 3, 0.70, RESIDUAL, True),
         (1, 3, 2, 3, 0.20, MLP, True),
         (1, 3, 2, 3, 0.80, RESIDUAL, True),
         (2, 2, 3, 3, 0.02, ATTENTION, False),
         (2, 0, 3, 1, 0.40, ATTENTION, False),
         (2, 3, 3, 3, 0.90, RESIDUAL, True),
         (3, 3, 4, 3, 0.95, RESIDUAL, True),
         (3, 1, 4, 1, 0.60, RESIDUAL, False)]
SIGNALS = ("threshold_changed", "node_clicked", "position_changed")


def graph(edges=EDGES, tokens=TOKENS, rows=ROWS) -> dict:
    columns = list(zip(*edges))
    return {"tokens": tokens, "row_labels": rows, "src_row": np.array(columns[0]), "src_pos": np.array(columns[1]),
            "dst_row": np.array(columns[2]), "dst_pos": np.array(columns[3]), "weights": np.array(columns[4]),
            "kinds": np.array(columns[5]), "on_route": np.array(columns[6])}


def settle(qtbot) -> None:
    for _ in range(3):
        qtbot.wait(10)


def shown(qtbot, view: InfoFlowView, size: tuple[int, int]) -> InfoFlowView:
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    settle(qtbot)
    return view


@pytest.fixture
def view(qtbot) -> InfoFlowView:
    widget = InfoFlowView()
    widget.set_graph(**graph())
    return shown(qtbot, widget, (700, 600))


def recorder(view: InfoFlowView) -> list:
    out: list = []
    for name in SIGNALS:
        getattr(view, name).connect(lambda *args, name=name: out.append((name, *args)))
    return out


def pixel(view: InfoFlowView, row: int, pos: int) -> QPoint:
    return view.view.mapFromScene(view.node_scene_pos(row, pos))


def click(view: InfoFlowView, point: QPoint) -> None:
    QTest.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def token_rects(view: InfoFlowView) -> list[QRectF]:
    metrics = view.token_axis.metrics()
    rects = []
    for i in view.shown_token_labels():
        x, width = view.node_scene_pos(0, i).x(), metrics.horizontalAdvance(view.token_text(i))
        rects.append(QRectF(x - width / 2, 0, width, 10))
    return rects


# ---- drawing ----

def test_route_in_the_route_colour_and_the_rest_not(view) -> None:
    for index, edge in enumerate(EDGES):
        same = view.edge_colour(index).rgb() == ROUTE.rgb()
        assert same == edge[6], (index, edge)
    assert view.route_nodes() == {(0, 1), (0, 3), (1, 3), (2, 3), (3, 3), (4, 3)}
    sizes = dict(zip(zip(view.nodes.data["y"].astype(int), view.nodes.data["x"].astype(int)), view.nodes.data["size"]))
    assert sizes[(2, 3)] > sizes[(2, 0)]  # the route's nodes stand out


def test_heavier_edges_are_wider(view) -> None:
    pens = {i: next(item.opts["pen"] for item in view.edge_items if i in item.edges) for i in range(len(EDGES))}
    assert pens[7].widthF() > pens[0].widthF()  # both on the route: 0.95 against 0.30
    assert pens[5].widthF() > pens[4].widthF() and pens[5].color().alpha() > pens[4].color().alpha()


def test_mlp_edges_go_through_a_square(view) -> None:
    squares = view.squares.data
    assert len(squares) == 1 and squares["x"][0] > 3 and squares["y"][0] == pytest.approx(1.5)


def test_tokens_as_the_model_saw_them(view) -> None:
    assert view.token_axis.names == ["<s>", "When", "␣Mary", "↵"]
    assert [view.position_box.itemText(i) for i in range(4)] == ["0: <s>", "1: When", "2: ␣Mary", "3: ↵"]
    assert view.position() == 3  # the last token by default


# ---- the user ----

def test_click_a_node(qtbot, view) -> None:
    heard = recorder(view)
    click(view, pixel(view, 2, 1))
    assert heard == [("node_clicked", 2, 1)]
    click(view, pixel(view, 1, 3) + QPoint(3, 2))  # a few pixels off still counts
    assert heard[-1] == ("node_clicked", 1, 3)


def test_a_top_row_node_routes_from_its_position(qtbot, view) -> None:
    heard = recorder(view)
    click(view, pixel(view, 4, 1))
    assert heard == [("node_clicked", 4, 1), ("position_changed", 1)]
    assert view.position() == 1 and view.position_box.currentData() == 1


def test_the_combo_box_routes_from_a_position(qtbot, view) -> None:
    heard = recorder(view)
    view.position_box.setCurrentIndex(2)
    view.position_box.activated.emit(2)  # what a choice in the drop-down sends
    assert heard == [("position_changed", 2)]


def test_threshold_slider(qtbot, view) -> None:
    heard = recorder(view)
    view.slider.setValue(7)
    assert heard == [("threshold_changed", pytest.approx(0.07))]
    assert view.threshold_label.text() == "threshold 0.07"
    assert view.slider.maximum() == 30  # 0 - 0.3 in steps of 0.01


def test_setters_emit_nothing(qtbot, view) -> None:
    heard = recorder(view)
    view.set_graph(**graph())
    view.set_threshold(0.12)
    view.set_position(1)
    view.set_selected(2, 3)
    view.set_details("<b>L1 in · 3 ↵</b> reads as: Mary 0.4")
    view.set_graph(**graph(tokens=["<s>", "A", " B", " C", " D"], edges=EDGES[:2]))
    assert heard == []
    assert view.threshold_label.text() == "threshold 0.12"
    assert view.position() == 4  # a new prompt starts from its last token


def test_the_node_read_is_ringed(view) -> None:
    view.set_selected(2, 3)
    assert list(view.ring.data["x"]) == [3] and list(view.ring.data["y"]) == [2]
    view.set_selected(None)
    assert len(view.ring.data) == 0


# ---- legibility ----

@pytest.mark.parametrize("size", [(700, 600), (1920, 1080)])
def test_labels_never_overlap_on_30_layers(qtbot, size) -> None:
    view = shown(qtbot, demo_real_size(), size)
    labels = view.shown_token_labels()
    assert 15 in labels and len(labels) >= 4  # the last token is always named
    rects = token_rects(view)
    assert not any(a.adjusted(-2, 0, 2, 0).intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    rows = view.shown_row_labels()
    per_row = abs(view.node_scene_pos(1, 0).y() - view.node_scene_pos(0, 0).y())
    assert len(rows) >= 6 and 60 in rows and min(np.diff(rows)) * per_row >= view.row_axis.metrics().height()
    if size[1] < 1000:
        assert len(rows) < 61 and len(labels) < 16  # thinned docked


def test_two_layers_name_every_row(qtbot) -> None:
    tokens = ["<|endoftext|>", "When", " Mr", " Harry", " Potter", " met", " the", " owl", ",", " old", " Mr", " Harry"]
    view = InfoFlowView()
    view.set_graph(**demo_flow(tokens, 2, {(1, 11): 4}, seed=3))
    shown(qtbot, view, (700, 600))
    assert view.shown_row_labels() == [0, 1, 2, 3, 4]
    assert len(view.shown_token_labels()) >= 8 and not any(
        a.intersects(b) for i, a in enumerate(token_rects(view)) for b in token_rects(view)[i + 1:])


def test_route_tree_walks_down_from_the_output() -> None:
    g = graph()
    on = route_tree(g["src_row"], g["src_pos"], g["dst_row"], g["dst_pos"], g["weights"], 4, 3, threshold=0.04)
    assert list(on) == [e[6] for e in EDGES]
