"""A model's training timeline: the checkpoints of one architecture, ordered by step.

A timeline is a folder whose sub-folders are complete model folders (config.json and
safetensors weights) named by their training step: `step_02500` (what training/ writes),
`step2500` or `step-2500` (Pythia's revisions saved locally), `checkpoint-2500` (the HF
Trainer), `global_step2500`. A model folder with a `checkpoints/` sub-folder carries its
own timeline (the demo model does)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineError

STEP_NAME = re.compile(r"^(?:global_step|step|checkpoint|iter)[-_]?(\d+)$", re.IGNORECASE)
# what must agree between checkpoints for them to be one model's timeline
SHAPE_KEYS = ("model_type", "vocab_size", "n_layer", "num_hidden_layers", "n_head", "num_attention_heads",
              "n_embd", "hidden_size", "num_key_value_heads")


@dataclass(frozen=True)
class Checkpoint:
    step: int
    path: Path

    @property
    def label(self) -> str:
        return f"step {self.step:,}"


def step_of(name: str) -> int | None:
    match = STEP_NAME.match(name)
    return int(match.group(1)) if match else None


def _is_model_folder(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def find_checkpoints(folder: str | os.PathLike) -> list[Checkpoint]:
    """The checkpoints under `folder` (or under its `checkpoints/`), in step order; raises
    EngineError saying what was expected when there are none or they are not one model."""
    root = Path(folder).expanduser()
    if (root / "checkpoints").is_dir():
        root = root / "checkpoints"
    if not root.is_dir():
        raise EngineError(f"{root} is not a folder")
    found = sorted((Checkpoint(step, sub) for sub in root.iterdir()
                    if sub.is_dir() and (step := step_of(sub.name)) is not None and _is_model_folder(sub)),
                   key=lambda c: c.step)
    if not found:
        raise EngineError(f"No checkpoints in {root}: expected sub-folders named step_<N> (or step<N>, "
                          "checkpoint-<N>), each with config.json and safetensors weights")
    first = _shape(found[0].path)
    for checkpoint in found[1:]:
        if (shape := _shape(checkpoint.path)) != first:
            odd = next(k for k in SHAPE_KEYS if shape.get(k) != first.get(k))
            raise EngineError(f"{checkpoint.path.name} is not the same model as {found[0].path.name} "
                              f"({odd}: {shape.get(odd)} vs {first.get(odd)}): a timeline needs one architecture")
    return found


def _shape(folder: Path) -> dict:
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise EngineError(f"Cannot read {folder / 'config.json'}: {exc}") from exc
    return {key: config.get(key) for key in SHAPE_KEYS}


def timeline_folder(model_source: str | os.PathLike) -> Path | None:
    """The timeline a loaded model belongs to: its own `checkpoints/`, or the folder it sits
    in when it is itself one of several checkpoints; None when it has none."""
    source = Path(model_source).expanduser()
    if (source / "checkpoints").is_dir():
        return source / "checkpoints"
    parent = source.parent
    if step_of(source.name) is not None and sum(step_of(p.name) is not None for p in parent.iterdir()) > 1:
        return parent
    return None


def index_of(checkpoints: list[Checkpoint], model_source: str | os.PathLike) -> int | None:
    """Which checkpoint the loaded model is (by folder), or None."""
    try:
        source = Path(model_source).expanduser().resolve()
    except OSError:
        return None
    return next((i for i, c in enumerate(checkpoints) if c.path.resolve() == source), None)
