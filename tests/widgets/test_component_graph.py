"""The component graph: a real mouse drag onto the bin asks to ablate; double-click toggles;
the slider scales the selection; nodes show what is in force. At real-model sizes (48 x 25)
the graph fits, zooms, finds, keeps a large bin and a fixed colour scale."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

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


def shown_graph(qtbot, layers: int = 2, heads: int = 4, size: tuple[int, int] = (800, 500)) -> ComponentGraph:
    graph = ComponentGraph()
    qtbot.addWidget(graph)
    graph.resize(*size)
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


def test_colours_follow_attribution_sign_and_the_number_is_the_coloured_value(qtbot) -> None:
    graph = shown_graph(qtbot)
    graph.set_attribution({"L0.H0": 2.0, "L0.H1": -2.0, "L0.H2": 0.0}, {"L0.H0": 0.5})
    positive, negative = graph.nodes["L0.H0"].brush().color(), graph.nodes["L0.H1"].brush().color()
    assert positive.red() > positive.blue() and negative.blue() > negative.red()
    assert graph.nodes["L0.H0"].detail.text() == "+2.00"  # the DLA, not the delta
    graph.set_quantity("delta")  # one switch moves colour and number together
    assert graph.nodes["L0.H0"].detail.text() == "+0.50" and graph.nodes["L0.H1"].detail.text() == "+0.00"
    assert "change in DLA" in graph.legend.text()


def rect_on_screen(graph: ComponentGraph, name: str) -> QRect:
    return graph.view.mapFromScene(graph.nodes[name].sceneBoundingRect()).boundingRect()


def big_graph(qtbot, size: tuple[int, int] = (560, 850)) -> ComponentGraph:
    return shown_graph(qtbot, 48, 25, size)


def wheel(graph: ComponentGraph, at: QPoint, steps: int) -> None:
    viewport = graph.view.viewport()
    event = QWheelEvent(QPointF(at), QPointF(viewport.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, event)


def test_a_gpt2_xl_sized_model_fits_whole_in_a_dock(qtbot) -> None:
    for size in ((560, 850), (1400, 950)):
        graph = big_graph(qtbot, size)
        assert graph.kind == "matrix" and len(graph.nodes) == 48 * 26 + 2
        viewport = graph.view.viewport().rect()
        outside = [n for n in graph.nodes if not viewport.contains(rect_on_screen(graph, n))]
        assert not outside, outside[:5]
        headers = [h for h in graph._col_headers + graph._row_headers if h.isVisible()]
        assert all(viewport.contains(h.deviceTransform(graph.view.viewportTransform()).mapRect(h.boundingRect())
                                     .toRect()) for h in headers)
    assert graph.transposed  # the wide viewport turns layers into columns: bigger cells
    assert rect_on_screen(graph, "L0.H0").width() >= 20


def test_the_wheel_zooms_at_the_pointer_and_fit_brings_everything_back(qtbot) -> None:
    graph = big_graph(qtbot)
    fitted = graph.view_scale()
    at = graph.view.mapFromScene(graph.node_scene_center("L10.H5"))
    wheel(graph, at, 3)
    assert graph.view_scale() > fitted * 1.5
    assert (graph.view.mapFromScene(graph.node_scene_center("L10.H5")) - at).manhattanLength() <= 3  # anchored
    assert graph.nodes["L10.H5"].detail.isVisible() or graph.nodes["L10.H5"].detail.text() == ""
    graph.fit()
    assert abs(graph.view_scale() - fitted) < 1e-6


def test_search_selects_centres_and_zooms_on_one_node(qtbot) -> None:
    graph = big_graph(qtbot)
    graph.set_attribution({"L23.H3": 0.42})
    fitted = graph.view_scale()
    graph.search.setText("L23.H3")
    QTest.keyClick(graph.search, Qt.Key.Key_Return)
    assert graph.selected_names() == ["L23.H3"]
    assert graph.view.viewport().rect().contains(rect_on_screen(graph, "L23.H3"))
    assert graph.view_scale() > fitted and rect_on_screen(graph, "L23.H3").width() >= 60
    node = graph.nodes["L23.H3"]
    assert node.detail.isVisible() and node.detail.text() == "+0.42" and node.label.isVisible()
    assert graph.find("l5.MLP") == ["L5.mlp"] and graph.selected_names() == ["L5.mlp"]
    assert graph.find("L60.H3") == [] and "48" in graph.hint.text()
    assert graph.find("L7") == [*(f"L7.H{h}" for h in range(25)), "L7.mlp"]


def test_the_bin_stays_large_at_any_zoom_and_in_presentation(qtbot) -> None:
    graph = big_graph(qtbot)
    centre = graph.view.viewport().rect().center()
    for steps in (0, 6, -12):
        wheel(graph, centre, steps)
        assert graph.bin.width() >= 120 and graph.bin.height() >= 60 and graph.bin.isVisible()
    small = graph.bin.size()
    graph.set_large_text(True)
    qtbot.waitUntil(lambda: graph.bin.height() > small.height())
    assert graph.bin.width() >= small.width()


def test_dragging_a_cell_of_a_zoomed_matrix_onto_the_bin_ablates_it(qtbot) -> None:
    graph = big_graph(qtbot)
    graph.find("L40.H20")
    graph.scene.clearSelection()
    with qtbot.waitSignal(graph.ablate_requested, timeout=2000) as blocker:
        drag(graph, graph.node_scene_center("L40.H20"), graph.bin_scene_center(), steps=12)
    assert blocker.args == [["L40.H20"], "zero"]
    assert graph.nodes["L40.H20"].pos() == graph.nodes["L40.H20"].home
    start = graph.node_scene_center("L40.H21")  # a short drag inside the matrix does not ablate
    with qtbot.assertNotEmitted(graph.ablate_requested):
        drag(graph, start, start + QPointF(0, 20))


def test_the_colour_scale_is_fixed_within_a_prompt_and_named_in_the_legend(qtbot) -> None:
    graph = shown_graph(qtbot)
    clean = {"L0.H0": 1.7, "L0.H1": 0.3, "L1.H2": -0.9}
    graph.set_attribution(clean)
    colour = graph.nodes["L0.H1"].brush().color().name()
    assert graph.colour_scale == 2.0
    legend = graph.legend.text()
    assert "DLA to logit diff" in legend and "±2" in legend and "clean run" in legend
    ablated = {"L0.H0": 0.0, "L0.H1": 0.3, "L1.H2": -0.2}  # the biggest head ablated: nothing rescales
    graph.set_attribution(ablated, {n: ablated[n] - clean[n] for n in clean})
    assert graph.colour_scale == 2.0 and graph.nodes["L0.H1"].brush().color().name() == colour
    graph.reset_colour_scale()  # a new prompt
    graph.set_attribution({"L0.H0": 4.5, "L0.H1": 0.3})
    assert graph.colour_scale == 5.0 and "±5" in graph.legend.text()
    assert graph.nodes["L0.H1"].brush().color().name() != colour
    graph.set_colour_scale(1.0)
    assert "set by hand" in graph.legend.text() and "±1" in graph.legend.text()
    graph._use_auto_scale()  # the legend's right-click menu: back to the clean run's scale
    assert graph.colour_scale == 5.0


def test_presentation_mode_makes_node_text_large_and_keeps_it_inside_the_nodes(qtbot) -> None:
    graph = shown_graph(qtbot, 2, 8, (900, 800))
    graph.set_attribution({"L1.H3": -1.25})
    graph.set_large_text(True)
    node = graph.nodes["L1.H3"]
    assert node.label.font().pointSizeF() >= 12 and node.detail.font().pointSizeF() >= 12
    assert graph._col_headers[0].font().pointSizeF() >= 12
    assert node.label.isVisible() and node.detail.isVisible()
    box = rect_on_screen(graph, "L1.H3").adjusted(-1, -1, 1, 1)
    for text in (node.label, node.detail):  # fixed-size text: its on-screen rect via the device transform
        on_screen = text.deviceTransform(graph.view.viewportTransform()).mapRect(text.boundingRect()).toRect()
        assert box.contains(on_screen) and on_screen.height() >= 16


def test_right_click_selects_the_node_the_menu_acts_on(qtbot) -> None:
    graph = shown_graph(qtbot)
    graph.nodes["L0.H0"].setSelected(True)
    point = graph.view.mapFromScene(graph.node_scene_center("L1.H2"))
    QTimer.singleShot(100, lambda: QApplication.activePopupWidget() and QApplication.activePopupWidget().close())
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, graph.view.viewport().mapToGlobal(point))
    QApplication.sendEvent(graph.view.viewport(), event)
    assert graph.selected_names() == ["L1.H2"]


def test_figure_view_is_the_graph_and_its_legend(qtbot) -> None:
    graph = shown_graph(qtbot)
    parts = graph.figure_view()
    assert parts == [graph.view, graph.legend]  # the colour scale travels with the figure
    for part in parts:
        for control in (graph.search, graph.bin, graph.slider):
            assert part is not control and not part.isAncestorOf(control)


def test_the_demo_builds_at_real_model_sizes(qtbot) -> None:
    from widgets.component_graph import demo

    graph = demo(30, 9)
    qtbot.addWidget(graph)
    assert graph.kind == "matrix" and graph.nodes["L29.H2"].state == ("zero", None)
    assert graph.nodes["L0.H1"].label.text().endswith("×0.50")


def test_numbers_appear_at_one_zoom_whatever_their_sign(qtbot) -> None:
    graph = big_graph(qtbot)
    graph.set_attribution({n: (0.94 if i % 2 else -0.1) for i, n in enumerate(graph.nodes)})
    cells = [n for n in graph.nodes.values() if n.ablatable]
    assert not any(n.detail.isVisible() for n in cells)  # fitted: cells too small for text
    centre = graph.view.viewport().rect().center()
    while not any(n.detail.isVisible() for n in cells):
        wheel(graph, centre, 1)
    hidden = [(n.name, n.detail.text(), n.rect().width()) for n in cells if not n.detail.isVisible()]
    assert not hidden, hidden[:5]
    assert all(n.detail.font().pointSizeF() == graph.node_font.pointSizeF() for n in cells)
