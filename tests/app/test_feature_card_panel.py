"""A feature's card from the features panel: computed over the dictionary's corpus on the
engine thread, shown in the card panel, its label kept in the session."""

from __future__ import annotations

from engine.paths import demo_model_dir
from tests.app.conftest import wait_result

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")


def test_a_clicked_features_card_arrives_and_its_label_is_kept(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    features, card_panel = window.panels["features"], window.panels["feature_card"]
    with wait_result(qtbot, c, "features"):
        features.open(FOLDER)
    with wait_result(qtbot, c, "feature_card"):
        features.show_card(1199)
    card = card_panel.shown
    assert card.feature == 1199 and card.contexts and all("the" in tokens for tokens, _ in card.contexts)
    assert card.density > 0 and card.promoted and card.suppressed
    card_panel.widget.label_changed.emit(1199, "'the' before a place")
    assert list(card_panel.session_state()["labels"].values()) == ["'the' before a place"]
    restored = type(card_panel).validate_session(card_panel.session_state(), 1)
    card_panel.restore_session(None)
    assert card_panel.labels == {}
    card_panel.restore_session(restored)
    assert "'the' before a place" in card_panel.labels.values()
