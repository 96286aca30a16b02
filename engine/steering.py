"""Steering: the 'steer' edit (engine.interventions.Steer) and where steering vectors come from.

The edit, on the residual x [.., d] at the intervention's positions, with u = v / |v|:
    add     x + strength * v
    remove  x - (x·u) u                     (nothing of the direction is left)
    cap     x - max(x·u - strength, 0) u    (the projection is at most `strength`)
Vectors: the mean difference of the residual over contrast pairs (contrastive activation
addition, Rimsky et al. 2024) at a layer's last or mean position, one pair's difference, a
dictionary feature's decoder row, or a file (safetensors or .npy, never a pickle)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .addresses import Address, parse_address
from .errors import EngineError, InterventionError
from .hooks import EditFn
from .intervening import EditContext, _slice_edit, edit_compiler

POSITION_CHOICES = ("last", "mean")


def steered(x: torch.Tensor, vector: torch.Tensor, strength: float, mode: str) -> torch.Tensor:
    """The steering rule above, in float32 (callers cast back)."""
    x = x.float()
    v = vector.to(device=x.device, dtype=torch.float32)
    if mode == "add":
        return x + strength * v
    u = v / v.norm()
    along = x @ u
    if mode == "remove":
        return x - along[..., None] * u
    return x - (along - strength).clamp_min(0)[..., None] * u


@functools.lru_cache(maxsize=16)
def _tensor(vector: tuple[float, ...]) -> torch.Tensor:
    """A vector's tensor, made once: generation compiles the edit again at every step."""
    return torch.tensor(vector, dtype=torch.float32)


@edit_compiler("steer")
def _steer(intervention, address: Address, ctx: EditContext) -> EditFn:
    vector = _tensor(intervention.vector)
    strength, mode = intervention.strength, intervention.mode

    def new(old: torch.Tensor, index, width: int) -> torch.Tensor:
        if old.shape[-1] != vector.shape[0]:
            raise InterventionError(f"{intervention.component}: the steering vector has {vector.shape[0]} numbers, "
                                    f"the residual stream {old.shape[-1]}")
        return steered(old, vector, strength, mode).to(old.dtype)

    return _slice_edit(intervention, address, ctx, new)


# ------------------------------------------------------------------ vectors
def residual_at(handle, prompts: Sequence[str], component: str, position: str = "last") -> torch.Tensor:
    """[len(prompts), d] the residual at `component` for each prompt, at its last token or
    averaged over its tokens after the special prefix (float32)."""
    if position not in POSITION_CHOICES:
        raise EngineError(f"position must be one of {POSITION_CHOICES}, got {position!r}")
    address = parse_address(component, handle.info.n_layers, handle.info.n_heads)
    if address.kind not in ("resid_pre", "resid_mid", "resid_post"):
        raise EngineError(f"'{component}' is not a place on the residual stream")
    skip = len(handle.special_prefix)
    rows = []
    for text in prompts:
        ids = handle.tokenize(text)
        x = handle.forward(ids, capture={address.hook}, logits_to_keep=1)[address.hook][0].float()
        rows.append(x[-1] if position == "last" else x[skip:].mean(0) if len(ids) > skip else x[-1])
    return torch.stack(rows)


def contrast_vector(handle, pairs: Sequence[tuple[str, str]], component: str, position: str = "last") -> np.ndarray:
    """Mean over pairs of residual(positive) - residual(negative): the direction from the
    second prompt of each pair towards the first."""
    if not pairs:
        raise EngineError("give at least one pair of prompts (one with the behaviour, one without)")
    positive = residual_at(handle, [p for p, _ in pairs], component, position)
    negative = residual_at(handle, [n for _, n in pairs], component, position)
    return (positive - negative).mean(0).numpy()


def vector_from_file(path: str | Path, d_model: int) -> np.ndarray:
    """A [d_model] vector from .safetensors (the only tensor, or the one named 'vector') or
    .npy (loaded without pickles). Anything else, or the wrong size, is refused by name."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".safetensors":
            from safetensors.numpy import load_file

            tensors = load_file(str(path))
            if "vector" in tensors:
                array = tensors["vector"]
            elif len(tensors) == 1:
                array = next(iter(tensors.values()))
            else:
                raise EngineError(f"{path.name} holds {len(tensors)} tensors; name the steering vector 'vector'")
        elif suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        else:
            raise EngineError(f"{path.name}: a steering vector is read from .safetensors or .npy")
    except EngineError:
        raise
    except FileNotFoundError:
        raise EngineError(f"no file {path}") from None
    except Exception as exc:  # corrupt files, pickled arrays (allow_pickle=False raises ValueError)
        raise EngineError(f"{path.name} could not be read as a vector: {exc}") from None
    array = np.asarray(array, dtype=np.float32)
    if array.size != d_model or array.ndim > 2:  # [d] or [1, d]
        raise EngineError(f"{path.name}: the vector must have {d_model} numbers (the model's width)")
    if not np.isfinite(array).all():
        raise EngineError(f"{path.name}: the vector holds NaN or infinite numbers")
    return array.reshape(-1)


def save_vector(path: str | Path, vector: np.ndarray, metadata: dict[str, str] | None = None) -> None:
    """Write a steering vector as safetensors (key 'vector'), with where it came from."""
    from safetensors.numpy import save_file

    save_file({"vector": np.ascontiguousarray(vector, dtype=np.float32)}, str(path),
              metadata={k: str(v) for k, v in (metadata or {}).items()})
