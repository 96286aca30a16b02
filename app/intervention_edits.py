"""Edits of the intervention list as pure functions: each returns a new tuple, so undo is
just keeping the old one. One intervention per component: a new one replaces the old."""

from __future__ import annotations

from typing import Iterable

from engine.errors import InterventionError
from engine.interventions import Ablation, Intervention, Scale


def _without(interventions: tuple[Intervention, ...], names: Iterable[str]) -> tuple[Intervention, ...]:
    drop = set(names)
    return tuple(i for i in interventions if i.component not in drop)


def ablate(interventions: tuple[Intervention, ...], names: list[str], method: str,
           corrupted_prompt: str = "", positions: tuple[int, ...] | None = None) -> tuple[Intervention, ...]:
    """Ablate `names` (at `positions`, None = all) by zero / mean / resample (resample takes
    the corrupted prompt)."""
    if method == "resample" and not corrupted_prompt.strip():
        raise InterventionError("Resample ablation takes activations from the corrupted prompt: type one first")
    source = corrupted_prompt if method == "resample" else None
    return _without(interventions, names) + tuple(Ablation(n, method, positions, source) for n in names)


def scale(interventions: tuple[Intervention, ...], names: list[str], factor: float) -> tuple[Intervention, ...]:
    """Scale the outputs of `names` by factor; 1.0 means no intervention at all."""
    kept = _without(interventions, names)
    return kept if abs(factor - 1.0) < 1e-9 else kept + tuple(Scale(n, factor) for n in names)


def restore(interventions: tuple[Intervention, ...], names: list[str]) -> tuple[Intervention, ...]:
    return _without(interventions, names)


def as_node_state(interventions: tuple[Intervention, ...]) -> dict[str, tuple[str, float | None]]:
    """What the component graph shows per node: (method, None), (method, None, reference set) or
    ('scale', factor)."""
    return {i.component: (("scale", i.factor) if isinstance(i, Scale) else
                          (i.method, None, i.reference) if getattr(i, "reference", "") else (i.method, None))
            for i in interventions if isinstance(i, (Ablation, Scale))}  # feature edits are not graph nodes


def edit_feature(interventions: tuple[Intervention, ...], component: str, folder: str, mode: str,
                 value: float = 0.0) -> tuple[Intervention, ...]:
    """Ablate, clamp or scale one dictionary feature (replacing an earlier edit of it); 'restore'
    drops it."""
    from engine.interventions import FeatureEdit

    kept = _without(interventions, [component])
    return kept if mode == "restore" else kept + (FeatureEdit(component, folder, mode, value),)


def set_steer(interventions: tuple[Intervention, ...], steer=None) -> tuple[Intervention, ...]:
    """Put `steer` (an engine.interventions.Steer) in force instead of any earlier steering
    vector; None takes steering out. One vector steers at a time: the steering panel's."""
    kept = tuple(i for i in interventions if getattr(i, "kind", "") != "steer")
    return kept if steer is None else kept + (steer,)
