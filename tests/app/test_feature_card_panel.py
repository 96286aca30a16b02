"""A feature's card from the features panel: computed over the dictionary's corpus on the
engine thread, shown in the card panel, its label kept in the session."""

from __future__ import annotations

from engine.paths import demo_model_dir
from tests.app.conftest import wait_result
from tests.demo_facts import THE_FEATURE

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")


def test_a_clicked_features_card_arrives_and_its_label_is_kept(qtbot, demo_window) -> None:
    window, c = demo_window, demo_window.controller
    features, card_panel = window.panels["features"], window.panels["feature_card"]
    with wait_result(qtbot, c, "features"):
        features.open(FOLDER)
    with wait_result(qtbot, c, "feature_card"):
        features.show_card(THE_FEATURE)
    card = card_panel.shown
    assert card.feature == THE_FEATURE and card.contexts and all("the" in tokens for tokens, _ in card.contexts)
    assert card.density > 0 and card.promoted and card.suppressed
    card_panel.widget.label_changed.emit(THE_FEATURE, "'the' before a place")
    assert list(card_panel.session_state()["labels"].values()) == ["'the' before a place"]
    restored = type(card_panel).validate_session(card_panel.session_state(), 1)
    card_panel.restore_session(None)
    assert card_panel.labels == {}
    card_panel.restore_session(restored)
    assert "'the' before a place" in card_panel.labels.values()


def test_a_label_is_kept_with_the_dictionary_and_found_by_search(qtbot, demo_window, isolated_config) -> None:
    """Written once in the card, a label is in the label file (by the weights' digest), beside
    the feature in the strip's list, and found by the features panel's search box."""
    from app.feature_labels import FeatureLabels, labels_path

    window, c = demo_window, demo_window.controller
    features, card_panel = window.panels["features"], window.panels["feature_card"]
    with wait_result(qtbot, c, "features"):
        features.open(FOLDER)
    with wait_result(qtbot, c, "feature_card"):
        features.show_card(THE_FEATURE)
    digest = card_panel.shown.digest
    assert digest == features.shown.digest and len(digest) == 64
    card_panel.widget.label_changed.emit(THE_FEATURE, "The article")
    assert labels_path().parent == isolated_config and FeatureLabels().get(digest, THE_FEATURE) == "The article"

    assert features.search("ARTICLE") is None  # answered from the labels: no job
    w = features.widget
    assert "labelled 'ARTICLE'" in w.list_title.text()
    first = w.feature_list.topLevelItem(0)
    assert w.feature_list.topLevelItemCount() == 1 and first.text(0) == f"#{THE_FEATURE}" and first.text(2) == "The article"
    assert features.search("Mary") is not None  # no label says it: the token search runs

    card_panel.widget.label_changed.emit(THE_FEATURE, "")  # an emptied label is forgotten
    assert FeatureLabels().get(digest, THE_FEATURE) == "" and FeatureLabels().search(digest, "article") == []


def test_a_session_brings_its_labels_to_a_machine_without_them(qtbot, demo_window) -> None:
    from app.feature_labels import FeatureLabels

    card_panel = demo_window.panels["feature_card"]
    data = type(card_panel).validate_session({"labels": {f"{'ab' * 32}:7": "a name", "junk": "kept in the session"}}, 1)
    card_panel.restore_session(data)
    assert FeatureLabels().get("ab" * 32, 7) == "a name" and card_panel.labels["junk"] == "kept in the session"
