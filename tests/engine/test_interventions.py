"""Interventions are frozen data that round-trip through plain dicts."""

from __future__ import annotations

import json

import pytest

from engine import Ablation, InterventionError, Scale, intervention_from_dict


@pytest.mark.parametrize("item", [
    Ablation("L0.H1"),
    Ablation("L3.mlp", "mean", positions=(1, 4)),
    Ablation("L2.H0", "resample", source_prompt="When John and Mary"),
    Scale("L1.H3", 0.25),
    Scale("L0.mlp", 2.0, positions=(0,)),
])
def test_round_trip_through_json(item) -> None:
    data = json.loads(json.dumps(item.to_dict()))
    assert intervention_from_dict(data) == item


def test_frozen() -> None:
    with pytest.raises(AttributeError):
        Ablation("L0.H1").method = "mean"  # type: ignore[misc]


@pytest.mark.parametrize("data", [
    None, [], {"kind": "nope"}, {"kind": "ablation"}, {"kind": "ablation", "component": "X"},
    {"kind": "ablation", "component": "L0.H1", "method": "melt"},
    {"kind": "ablation", "component": "L0.H1", "method": "resample"},
    {"kind": "ablation", "component": "L0.H1", "positions": []},
    {"kind": "ablation", "component": "L0.H1", "positions": ["a"]},
    {"kind": "ablation", "component": "L0.H1", "extra": 1},
    {"kind": "scale", "component": "L0.H1", "factor": "big"},
])
def test_malformed_dicts_raise_intervention_error(data) -> None:
    with pytest.raises(InterventionError):
        intervention_from_dict(data)
