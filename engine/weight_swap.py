"""Computing with another checkpoint's weights for a while (a training timeline).

Checkpoints of one architecture differ only in their numbers, so a timeline is measured by
copying each checkpoint's tensors into the loaded model in place, instead of loading a new
model (and its tokenizer, adapter and hooks) per checkpoint. The loaded weights are kept
and always put back."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import torch

from .errors import EngineError


def read_state(folder: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a model folder's safetensors files (never a pickle)."""
    from safetensors.torch import load_file

    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        raise EngineError(f"{folder} has no safetensors weights")
    state: dict[str, torch.Tensor] = {}
    for file in files:
        try:
            state.update(load_file(str(file)))
        except Exception as exc:  # noqa: BLE001 - a corrupt file is the user's input: say which
            raise EngineError(f"Cannot read {file.name}: {exc}") from exc
    return state


@contextmanager
def weights_swapped(model: torch.nn.Module, folder: Path) -> Iterator[None]:
    """For the length of the block `model` computes with `folder`'s weights."""
    state, own = read_state(folder), model.state_dict()
    missing = [k for k in own if k not in state and not _tied_to_present(own, k, state)]
    if missing:
        raise EngineError(f"{Path(folder).name} does not fit the loaded model: it lacks {missing[0]}"
                          f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}")
    for key, tensor in state.items():
        if key in own and own[key].shape != tensor.shape:
            raise EngineError(f"{Path(folder).name} does not fit the loaded model: {key} is "
                              f"{tuple(tensor.shape)}, the model's is {tuple(own[key].shape)}")
    kept = {k: v.detach().clone() for k, v in own.items()}
    try:
        with torch.no_grad():
            for key, tensor in state.items():
                if key in own:
                    own[key].copy_(tensor)
        yield
    finally:
        with torch.no_grad():
            for key, tensor in kept.items():
                own[key].copy_(tensor)


def _tied_to_present(own: dict[str, torch.Tensor], key: str, state: dict[str, torch.Tensor]) -> bool:
    """A tied weight (GPT-2's lm_head = wte) is saved once: it arrives through its twin.
    Buffers the model computes itself (rotary tables, masks) are not saved either."""
    ptr = own[key].data_ptr()
    return any(k in state and v.data_ptr() == ptr for k, v in own.items() if k != key) or not own[key].is_floating_point() \
        or key.endswith(("inv_freq", "attn.bias", "attn.masked_bias"))
