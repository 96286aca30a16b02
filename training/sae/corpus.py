"""Token windows to train a dictionary on: a text or JSONL file the user gives, or, for the
demo model, rows of its own training distribution (it knows no other text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np


def read_texts(path: str | Path) -> list[str]:
    """Lines of a .txt file, or the 'text' field of each line of a .jsonl file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no corpus file at {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix.lower() == ".jsonl":
        texts = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path.name} line {number}: not JSON ({exc})") from exc
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path.name} line {number}: expected an object with a 'text' string")
            texts.append(row["text"])
        return texts
    return [line for line in lines if line.strip()]


def windows_from_texts(engine, texts: list[str], window: int) -> Iterator[np.ndarray]:
    """Token id rows of exactly `window` tokens (each starting with the model's special
    prefix), made by tokenizing the texts one after another and cutting the stream."""
    prefix = list(engine.handle.special_prefix)
    body = window - len(prefix)
    stream: list[int] = []
    for text in texts:
        ids = list(engine.tokenize(text))[len(prefix):]
        stream.extend(ids)
        while len(stream) >= body:
            yield np.array(prefix + stream[:body], dtype=np.int64)
            del stream[:body]


def demo_windows(seed: int) -> Iterator[np.ndarray]:
    """Endless rows of the demo model's training distribution (training.demo_data)."""
    from training import demo_data

    rng = np.random.default_rng(seed)
    while True:
        yield demo_data.training_sequence(rng)
