"""Every widget runs alone on numpy data: each module's demo() builds a populated widget."""

from __future__ import annotations

import importlib

import pytest

MODULES = ["head_grid", "head_detail", "logit_lens_heatmap", "prompt_panel", "patching_heatmap", "patching_panel",
           "training_timeline", "feature_strip", "feature_card", "generation_view", "steering_view",
           "prompt_set_editor", "set_results_view", "probe_view", "circuit_view", "info_flow_view"]


@pytest.mark.parametrize("name", MODULES)
def test_demo_builds_a_populated_widget(qtbot, name: str) -> None:
    widget = importlib.import_module(f"widgets.{name}").demo()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    populated = {
        "head_grid": lambda w: w.grid_shape == (4, 8),
        "head_detail": lambda w: w.image.image is not None and w.title.text().startswith("L1.H2"),
        "logit_lens_heatmap": lambda w: w.values is not None and w.values.shape == (13, 16),
        "prompt_panel": lambda w: w.chips.count() == 15,
        "patching_heatmap": lambda w: w.image.image is not None and w.values.shape == (2, 8),
        "patching_panel": lambda w: w.main.values is not None and w.estimate.isVisible() and "r = " in w.summary.text(),
        "training_timeline": lambda w: len(w.plots) == 3 and w.current == 5 and len(w.steps) == 9,
        "feature_strip": lambda w: len(w.listed()) > 0 and w.figure_view() is not None,
        "feature_card": lambda w: len(w.contexts.tokens) == 8 and w.figure_view() is not None,
        "generation_view": lambda w: w.column_text(0) != w.column_text(1) and "part" in w.summary_text(),
        "steering_view": lambda w: w.figure_view() is not None and w.strength() != 0.0,
        "prompt_set_editor": lambda w: len(w.shown_rows()) > 0,
        "set_results_view": lambda w: len(w.listed()) > 0 and w.figure_view() is not None,
        "probe_view": lambda w: w.chosen() is not None and w.figure_view() is not None,
        "circuit_view": lambda w: "L1.H0" in w.drawn_nodes() and w.in_circuit.any() and w.figure_view() is not None,
        "info_flow_view": lambda w: w.on_route.any() and w.position() == 11 and w.figure_view() is not None,
    }[name]
    assert populated(widget)
