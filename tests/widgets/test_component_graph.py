"""The component graph: a real mouse drag onto the bin asks to ablate; double-click toggles;
the slider scales the selection; nodes show what is in force."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from widgets.component_graph import ComponentGraph


def drag(graph: ComponentGraph, start: QPointF, end: QPointF, steps: int = 8) -> None:
    """Press, move in steps, release: a real drag through the view's viewport."""
    viewport = graph.view.viewport()
    a, b = graph.view.mapFromScene(start), graph.view.mapFromScene(end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        p = a + (b - a) * (i / steps)
        QTest.mouseMove(viewport, QPoint(int(p.x()), int(p.y())))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def shown_graph(qtbot, layers: int = 2, heads: int = 4) -> ComponentGraph:
    graph = ComponentGraph()
    qtbot.addWidget(graph)
    graph.resize(800, 500)
    graph.set_shape(layers, heads)
    graph.show()
    qtbot.waitExposed(graph)
    return graph


def test_nodes_for_every_component(qtbot) -> None:
    graph = shown_graph(qtbot, 3, 5)
    assert set(graph.nodes) == {"embed", "unembed", *(f"L{l}.H{h}" for l in range(3) for h in range(5)),
                                *(f"L{l}.mlp" for l in range(3))}
    assert not graph.nodes["embed"].ablatable and graph.nodes["L2.mlp"].ablatable


def test_dragging_a_head_onto_the_bin_asks_to_ablate_it(qtbot) -> None:
    graph = shown_graph(qtbot)
    with qtbot.waitSignal(graph.ablate_requested, timeout=2000) as blocker:
        drag(graph, graph.node_scene_center("L1.H2"), graph.bin_scene_center())
    assert blocker.args == [["L1.H2"], "zero"]
    assert graph.nodes["L1.H2"].pos() == graph.nodes["L1.H2"].home  # snapped back


def test_dragging_an_ablated_node_back_restores_it_and_double_click_toggles(qtbot) -> None:
    graph = shown_graph(qtbot)
    graph.set_interventions({"L0.H1": ("mean", None)})
    assert "✕μ" in graph.nodes["L0.H1"].label.text()
    start = graph.node_scene_center("L0.H1")
    with qtbot.waitSignal(graph.restore_requested, timeout=2000) as blocker:
        drag(graph, start, start + QPointF(0, 40))
    assert blocker.args == [["L0.H1"]]
    point = graph.view.mapFromScene(graph.node_scene_center("L1.mlp"))
    with qtbot.waitSignal(graph.ablate_requested, timeout=2000) as blocker:
        QTest.mouseClick(graph.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
        QTest.mouseDClick(graph.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert blocker.args == [["L1.mlp"], "zero"]


def test_slider_scales_the_selected_nodes(qtbot) -> None:
    graph = shown_graph(qtbot)
    graph.nodes["L0.H0"].setSelected(True)
    graph.nodes["L1.H3"].setSelected(True)
    assert graph.slider.isEnabled()
    with qtbot.waitSignal(graph.scale_requested) as blocker:
        graph.slider.setValue(40)
    assert sorted(blocker.args[0]) == ["L0.H0", "L1.H3"] and blocker.args[1] == 0.4
    graph.set_interventions({"L0.H0": ("scale", 0.4), "L1.H3": ("scale", 0.4)})
    assert "×0.40" in graph.nodes["L0.H0"].label.text()


def test_colours_follow_attribution_sign(qtbot) -> None:
    graph = shown_graph(qtbot)
    graph.set_attribution({"L0.H0": 2.0, "L0.H1": -2.0, "L0.H2": 0.0}, {"L0.H0": 0.5})
    positive, negative = graph.nodes["L0.H0"].brush().color(), graph.nodes["L0.H1"].brush().color()
    assert positive.red() > positive.blue() and negative.blue() > negative.red()
    assert graph.nodes["L0.H0"].detail.text() == "+0.50"
