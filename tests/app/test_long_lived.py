"""After a load the long-lived objects are frozen out of full collections (app.long_lived)."""

from __future__ import annotations

import gc

from app.long_lived import settle_after_load


def test_objects_alive_at_a_load_are_frozen_and_a_second_load_refreezes() -> None:
    try:
        frozen = settle_after_load()
        assert frozen == gc.get_freeze_count() > 1000
        kept = [[] for _ in range(5000)]  # containers (tracked by the collector) made after the first load, alive at the second
        assert settle_after_load() >= frozen + len(kept) - 100
    finally:
        gc.unfreeze()
