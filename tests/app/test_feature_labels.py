"""The label store (app.feature_labels): labels per dictionary digest survive a restart,
an unreadable file is set aside instead of failing, and search is by substring, any case."""

from __future__ import annotations

from app.feature_labels import FeatureLabels


def test_labels_survive_a_restart_and_search_by_substring(tmp_path) -> None:
    path = tmp_path / "labels.json"
    store = FeatureLabels(path)
    store.set("d1", 5, "  Names of people ")
    store.set("d1", 9, "place names")
    store.set("d2", 5, "something else")
    again = FeatureLabels(path)
    assert again.get("d1", 5) == "Names of people" and again.of("d2") == {5: "something else"}
    assert again.search("d1", "NAMES") == [(5, "Names of people"), (9, "place names")]
    assert again.search("d1", "  ") == [] and again.search("d3", "names") == []
    again.set("d1", 5, "")
    assert FeatureLabels(path).of("d1") == {9: "place names"}


def test_an_unreadable_label_file_starts_empty_and_is_rewritten(tmp_path) -> None:
    path = tmp_path / "labels.json"
    path.write_text("{not json")
    store = FeatureLabels(path)
    assert store.of("d1") == {}
    store.set("d1", 1, "x")
    assert FeatureLabels(path).get("d1", 1) == "x"
