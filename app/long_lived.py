"""Keep Python's full garbage collections off the live path.

After a model is loaded the process holds ~450k long-lived Python objects (Qt wrappers,
graph items, the model's modules). A generation-2 collection walks all of them: ~200 ms,
in whichever thread happens to allocate, so a drop or a knob move now and then took 3-4x as
long (measured on SmolLM2: one drop 296 ms instead of 110, event-loop stalls of ~200 ms).
Freezing them after each load (what CPython's gc.freeze is for) leaves only the objects made
since to be walked. Unfreezing first lets the previous model's cycles be collected."""

from __future__ import annotations

import gc


def settle_after_load() -> int:
    """Collect what the previous model left, then freeze what is alive now; returns how
    many objects were frozen."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
