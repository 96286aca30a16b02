"""The feature panels export figures like every panel: PNG and SVG of their figure views."""

from __future__ import annotations

from app.figures import figure_png, figure_svg, header_for
from engine.paths import demo_model_dir
from tests.app.conftest import wait_result
from tests.demo_facts import THE_FEATURE

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")


def test_the_feature_strip_and_card_export_png_and_svg(qtbot, demo_window, tmp_path) -> None:
    window, c = demo_window, demo_window.controller
    with wait_result(qtbot, c, "features"):
        window.panels["features"].open(FOLDER)
    with wait_result(qtbot, c, "feature_card"):
        window.panels["features"].show_card(THE_FEATURE)
    for key in ("features", "feature_card"):
        window.docks[key].raise_()
        qtbot.waitExposed(window.view(key))
        header = header_for(window.panels[key].title, "demo", c.state.prompt, "Mary", "John")
        w, h = figure_png(window.view(key), header, tmp_path / f"{key}.png")
        figure_svg(window.view(key), header, tmp_path / f"{key}.svg")
        assert w > 200 and h > 100 and (tmp_path / f"{key}.png").stat().st_size > 5000
        assert "<svg" in (tmp_path / f"{key}.svg").read_text()[:2000]
