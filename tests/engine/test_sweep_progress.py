"""Sweeps at real size: chunks sized by tokens, free memory and a minimum count, progress
that moves from the start and never shows done while the estimate still runs, and a cancel
that takes effect between chunks."""

from __future__ import annotations

import pytest

from engine import Engine
from engine.analyses.patching import MEMORY_SHARE, MIN_CHUNKS, rows_per_chunk
from engine.analysis import Cancelled, Job, PromptPair
from tests.app.conftest import CLEAN, CORRUPT


def test_chunk_rows_follow_tokens_memory_and_a_minimum_number_of_chunks() -> None:
    assert rows_per_chunk(14, 14) == 4096 // 14  # the token bound alone, as before
    assert rows_per_chunk(14, 14, n_variants=270) == -(-270 // MIN_CHUNKS)  # 270 heads: several chunks, not one
    row_bytes = 4 * 1600 * (16 * 64 + 2 * 48 * 64)  # GPT-2-XL width, 64 tokens, 48 layers
    free = 2 * 1024 ** 3
    assert rows_per_chunk(64, 64, d_model=1600, n_layers=48, free_bytes=free) == int(free * MEMORY_SHARE) // row_bytes
    assert rows_per_chunk(64, 64, d_model=1600, n_layers=48, free_bytes=1) == 1  # never zero


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(device="cpu")


def test_progress_moves_from_the_start_and_holds_back_the_estimates_share(engine) -> None:
    calls: list[tuple[int, int]] = []
    engine.analyse("patching", PromptPair(CLEAN, CORRUPT, "Mary", "John"), {"sweep": "head", "attribution": True},
                   Job(progress=lambda done, total: calls.append((done, total))))
    assert calls[0] == (0, 1) and calls[-1] == (1, 1)
    sweep = calls[1:-1]
    n_cells = 2 * 8  # the demo model's heads
    assert len(sweep) >= min(MIN_CHUNKS, n_cells) + 1  # (0, total) and one step per chunk
    assert all(done < total for done, total in sweep)  # the estimate still to come: never "done"
    assert sweep[-1][0] == n_cells and sweep[-1][1] > n_cells


def test_a_cancel_stops_the_sweep_between_chunks(engine) -> None:
    calls: list[tuple[int, int]] = []
    job = Job(progress=lambda done, total: calls.append((done, total)), cancelled=lambda: len(calls) >= 3)
    with pytest.raises(Cancelled):
        engine.analyse("patching", PromptPair(CLEAN, CORRUPT, "Mary", "John"), {"sweep": "head"}, job)
    assert len(calls) == 3  # (0, 1), (0, total), one chunk: then it stopped
