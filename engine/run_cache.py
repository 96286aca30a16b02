"""Live ablation resumes from the first edited layer, using the prompt's clean run.

An intervention at layer l cannot change layers 0..l-1. The engine keeps the captures of
the last run without interventions (one prompt) plus every layer's residual output, and a
run with interventions on the same tokens starts at the earliest edited layer: its
captures for earlier layers, and the residual entering that layer, come from the clean
run. Dragging a late head onto the bin then costs a few layers, not the whole model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch


_LAYER = re.compile(r"^blocks\.(\d+)\.")


def hook_layer(name: str) -> int | None:
    """The block a hook name belongs to; None for embeddings (before) and ln_final (after)."""
    m = _LAYER.match(name)
    return int(m.group(1)) if m else None


def before(name: str, start: int) -> bool:
    """Is hook `name` computed before block `start` (so a run starting there does not reach it)?"""
    layer = hook_layer(name)
    return layer < start if layer is not None else not name.startswith("ln_final")


@dataclass
class CleanRunCache:
    """Captures of the newest run without interventions, for one token sequence."""

    key: bytes = b""
    store: dict[str, torch.Tensor] = field(default_factory=dict)
    derived: dict[tuple, object] = field(default_factory=dict)  # readouts of this clean run (lens rows)
    hits: int = 0  # runs that resumed (tests and benchmarks read it)
    max_bytes: int = 512 * 1024 ** 2  # a clean run's captures above this are not kept (long prompts, big models)

    @staticmethod
    def resid_names(n_layers: int) -> set[str]:
        return {f"blocks.{l}.hook_resid_post" for l in range(n_layers)}

    def remember(self, ids: np.ndarray, store: dict[str, torch.Tensor]) -> None:
        size = sum(t.numel() * t.element_size() for t in store.values())
        if size > self.max_bytes:
            self.key, self.store, self.derived = b"", {}, {}  # resuming is a speed-up, never worth holding gigabytes
            return
        self.key, self.store = ids.tobytes(), dict(store)
        self.derived = {}

    def remember_derived(self, ids: np.ndarray, key: tuple, value: object) -> None:
        """A readout of the clean run of `ids` (e.g. its logit lens), for edited runs to reuse
        the rows their edits cannot reach."""
        if ids.tobytes() == self.key:
            self.derived[key] = value

    def derived_for(self, ids: np.ndarray, key: tuple) -> object | None:
        return self.derived.get(key) if ids.tobytes() == self.key else None

    def start_layer(self, ids: np.ndarray, first_edited: int, capture: set[str]) -> int:
        """Where a run whose first edit is at block `first_edited` may start (0 = from the
        embeddings, as usual)."""
        if ids.tobytes() != self.key:
            return 0
        start = first_edited
        if start == 0 or f"blocks.{start - 1}.hook_resid_post" not in self.store:
            return 0
        return start if all(n in self.store for n in capture if before(n, start)) else 0

    def entering(self, layer: int) -> torch.Tensor:
        return self.store[f"blocks.{layer - 1}.hook_resid_post"]

    def early(self, capture: set[str], start: int) -> dict[str, torch.Tensor]:
        """The clean run's captures that a run starting at `start` does not recompute."""
        return {n: self.store[n] for n in capture if before(n, start)}
