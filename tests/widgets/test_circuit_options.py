"""The circuit options: read what is chosen, restore it silently, and offer the prompt set
only when there is one (falling back to the pair)."""

from __future__ import annotations

from widgets.circuit_options import CircuitOptions


def test_options_round_trip_without_signals(qtbot) -> None:
    w = CircuitOptions()
    qtbot.addWidget(w)
    assert w.options() == {"method": "eap_ig", "data": "pair", "selection": "greedy"}
    w.set_set_available(True, "IOI · 20 prompts")
    with qtbot.assertNotEmitted(w.changed):
        w.set_options({"method": "eap", "data": "set", "selection": "top_n"})
    assert w.options() == {"method": "eap", "data": "set", "selection": "top_n"}
    with qtbot.waitSignal(w.changed):
        w.boxes["method"].setCurrentIndex(0)


def test_the_set_is_offered_only_when_there_is_one(qtbot) -> None:
    w = CircuitOptions()
    qtbot.addWidget(w)
    assert not w.boxes["data"].model().item(1).isEnabled()
    w.set_set_available(True)
    w.set_options({"data": "set"})
    w.set_set_available(False)
    assert w.options()["data"] == "pair"
