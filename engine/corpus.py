"""Text a dictionary is read over (feature cards, SAE training): a .txt file (one text per
line) or .jsonl ({"text": ...} per line), cut into token windows of one length."""

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
    if path.suffix.lower() != ".jsonl":
        return [line for line in lines if line.strip()]
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


def windows_from_texts(handle, texts: list[str], window: int) -> Iterator[np.ndarray]:
    """Token id rows of exactly `window` tokens, each starting with the model's special prefix,
    cut from the texts tokenized one after another."""
    prefix = list(handle.special_prefix)
    body = window - len(prefix)
    stream: list[int] = []
    for text in texts:
        stream.extend(list(handle.tokenize(text))[len(prefix):])
        while len(stream) >= body:
            yield np.array(prefix + stream[:body], dtype=np.int64)
            del stream[:body]
