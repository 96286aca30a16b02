"""Token windows to train a dictionary on: a text or JSONL file the user gives (engine.corpus),
or, for the demo model, rows of its own training distribution (it knows no other text)."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from engine.corpus import read_texts  # noqa: F401 - re-exported


def windows_from_texts(engine, texts: list[str], window: int) -> Iterator[np.ndarray]:
    from engine.corpus import windows_from_texts as cut

    return cut(engine.handle, texts, window)


def demo_windows(seed: int) -> Iterator[np.ndarray]:
    """Endless rows of the demo model's training distribution (training.demo_data)."""
    from training import demo_data

    rng = np.random.default_rng(seed)
    while True:
        yield demo_data.training_sequence(rng)


def demo_corpus_lines(n_rows: int, seed: int) -> list[str]:
    """Held-out demo rows as text lines (BOS dropped): the corpus shipped beside the demo SAE,
    which feature cards read."""
    from training import demo_data

    words = {i: w for w, i in demo_data.VOCAB.items()}
    rows = demo_windows(seed)
    return [" ".join(words[int(t)] for t in next(rows)[1:]) for _ in range(n_rows)]
