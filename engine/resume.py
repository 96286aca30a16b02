"""Forward passes that start at a layer and stop at the metric.

A patch at layer l cannot change anything before layer l, so a patched variant can start
from the unpatched run's residual stream entering layer l instead of recomputing layers
0..l-1. The model's own block loop is reused (no per-family forward code): for the length
of one call the decoder's ModuleList is swapped for its tail, and the cached residual
replaces what enters the first remaining block. The metric reads two logits at the last
position, so the vocabulary-sized unembedding is skipped: the base model's final hidden
state is dotted with the two unembedding columns.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Mapping

import torch
from torch import nn

from .hooks import EditFn, hooks_attached


@contextmanager
def layers_from(model: nn.Module, layers_path: str, start: int) -> Iterator[None]:
    """Let the model's block loop see only blocks[start:]; always restored.

    Per-layer config lists (Gemma2's `layer_types`: sliding or full attention) are sliced
    alike, so every remaining block keeps its own kind of mask."""
    if start == 0:
        yield
        return
    parent_path, attr = layers_path.rsplit(".", 1)
    parent = model.get_submodule(parent_path)
    full = getattr(parent, attr)
    config = model.config
    layer_types = getattr(config, "layer_types", None)
    parent._modules[attr] = nn.ModuleList(list(full)[start:])  # no re-registration of parameters
    if isinstance(layer_types, list):
        config.layer_types = layer_types[start:]
    try:
        yield
    finally:
        parent._modules[attr] = full
        if isinstance(layer_types, list):
            config.layer_types = layer_types


def base_model(model: nn.Module, layers_path: str) -> nn.Module:
    """The decoder without the LM head (GPT2Model, LlamaModel, ...): the owner of the layers."""
    return model.get_submodule(layers_path.rsplit(".", 1)[0])


def two_logits(model: nn.Module, unembed_weight: torch.Tensor, unembed_bias: torch.Tensor | None,
               hidden_last: torch.Tensor, token_ids: tuple[int, int]) -> torch.Tensor:
    """Logits of two tokens from the final (normalised) hidden state, [B, 2], float32.
    Applies Gemma-2-style final soft-capping when the config asks for it."""
    cols = torch.tensor(token_ids, device=unembed_weight.device)
    logits = hidden_last.float() @ unembed_weight[:, cols].float()
    if unembed_bias is not None:
        logits = logits + unembed_bias[cols].float()
    cap = getattr(model.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return logits


def resumed_logits(engine, base_ids: torch.Tensor, start: int, start_resid: torch.Tensor | None,
                   edits: Mapping[str, list[EditFn]], token_ids: tuple[int, int],
                   capture: tuple[str, ...] = ()) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run base_ids [B, S] from layer `start` (whose input is start_resid [1, S, d], the
    unpatched run's) with `edits`; return the two tokens' last-position logits [B, 2]."""
    adapter, model = engine.adapter, engine.model
    edits = {name: list(fns) for name, fns in edits.items()}
    if start > 0:
        batch = base_ids.shape[0]

        def inject(act: torch.Tensor) -> torch.Tensor:
            return start_resid.to(act.dtype).expand(batch, -1, -1).contiguous()
        name = f"blocks.{start}.hook_resid_pre"
        edits[name] = [inject, *edits.get(name, [])]
    ids = base_ids.to(engine.loaded.device)
    with torch.inference_mode(), hooks_attached(model, adapter, engine.info.n_layers, capture, edits) as store, \
            layers_from(model, adapter.layers, start):
        hidden = base_model(model, adapter.layers)(input_ids=ids, attention_mask=torch.ones_like(ids),
                                                   use_cache=False).last_hidden_state
        logits = two_logits(model, adapter.unembed_weight(model), adapter.unembed_bias(model), hidden[:, -1], token_ids)
    return logits, store
