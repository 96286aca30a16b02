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


@contextmanager
def fused_activations(model: nn.Module) -> Iterator[None]:
    """GPT-2's "gelu_new" as one fused kernel for the length of a sweep.

    transformers' NewGELUActivation spells the tanh approximation out in five elementwise
    ops; torch's gelu(approximate="tanh") is the same function in one (transformers'
    own "gelu_pytorch_tanh"; measured difference ≤ 5e-7). In a patching sweep those ops
    were a third of the time. Only the instances' forward is swapped, and always restored."""
    from transformers.activations import NewGELUActivation

    swapped = [m for m in model.modules() if type(m) is NewGELUActivation]
    for module in swapped:
        module.forward = _gelu_tanh
    try:
        yield
    finally:
        for module in swapped:
            del module.forward


def _gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.gelu(x, approximate="tanh")


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


def shared_prefix(engine, ids_a, ids_b) -> int:
    """How many leading tokens two prompts share, when their keys/values can be reused:
    not with sliding-window attention over a longer prompt (the cache would be cropped)."""
    window = getattr(engine.model.config, "sliding_window", None)
    if window and len(ids_a) > window:
        return 0
    same = 0
    for a, b in zip(ids_a, ids_b):
        if a != b:
            break
        same += 1
    return min(same, len(ids_a) - 1)  # at least the last position is always computed


def prefix_cache(engine, ids: torch.Tensor, prefix: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Keys and values of every layer for the first `prefix` tokens (one row)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=engine.model.config)
    ids = ids[:, :prefix].to(engine.loaded.device)
    with torch.inference_mode():
        base_model(engine.model, engine.adapter.layers)(input_ids=ids, attention_mask=torch.ones_like(ids),
                                                        use_cache=True, cache=cache)
    return [(layer.keys, layer.values) for layer in cache.layers]


def _grown_cache(engine, kv: list[tuple[torch.Tensor, torch.Tensor]], rows_at: list[int]):
    """A cache whose layer l holds the prefix's keys/values for the rows present at l: one
    prompt's ([1, ...]) expanded, or R prompts' ([R, ...]) repeated once per variant."""
    from transformers import DynamicCache

    return DynamicCache(ddp_cache_data=[(_per_variant(k, n), _per_variant(v, n)) for (k, v), n in zip(kv, rows_at)],
                        config=engine.model.config)


def _per_variant(t: torch.Tensor, rows: int) -> torch.Tensor:
    """`rows` rows of a per-prompt tensor [R, ...]: R = 1 expanded (no copy), else repeated."""
    if t.shape[0] == 1:
        return t.expand(rows, *t.shape[1:])
    if rows == t.shape[0]:
        return t
    return t.repeat(rows // t.shape[0], *(1,) * (t.dim() - 1))


def resumed_logits(engine, base_ids: torch.Tensor, joins: list[tuple[int, int]],
                   base_resid: Mapping[int, torch.Tensor], edits: Mapping[str, list[EditFn]],
                   token_ids: tuple[int, int], capture: tuple[str, ...] = (),
                   prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A "staircase" forward of one prompt, base_ids [1, S]: `joins` lists (layer, n) in
    layer order; n rows join the batch at that layer, each starting from base_resid[layer]
    ([1, S, d], the unpatched run's residual entering the layer), so row b of the output
    is the b-th row to join. Rows that join late skip the early layers entirely, and every
    layer runs once on all the rows present. `edits` see the batch as it is at their layer.
    Returns the two tokens' last-position logits [rows, 2] (float32) and the captures.

    Joins with n=1 at layer 0 and no base_resid is a plain forward of the prompt.

    prefix_kv (from prefix_cache): the first P tokens are the same in every row and no edit
    touches them, so only the other S - P positions are computed, attending to the cached
    keys/values; base_resid and the edits then see [.., S - P, ..] activations."""
    adapter, model = engine.adapter, engine.model
    hidden, store = resumed_hidden(engine, base_ids, joins, base_resid, edits, capture, prefix_kv)
    with torch.inference_mode():
        logits = two_logits(model, adapter.unembed_weight(model), adapter.unembed_bias(model), hidden, token_ids)
    return logits, store


def resumed_hidden(engine, base_ids: torch.Tensor, joins: list[tuple[int, int]],
                   base_resid: Mapping[int, torch.Tensor], edits: Mapping[str, list[EditFn]],
                   capture: tuple[str, ...] = (), prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None
                   ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The staircase of resumed_logits up to the final norm: the last position's hidden
    state [rows, d] and the captures.

    base_ids may also be R prompts of one length, [R, S] (a prompt set's pairs, each with
    its own base run): base_resid[layer] and prefix_kv then hold R rows, a join (layer, n)
    adds n variants of R rows each, and output row v * R + r is variant v on prompt r.
    Every join then starts from base_resid (layer 0 included: one batch row goes in)."""
    adapter, model = engine.adapter, engine.model
    n_prompts = base_ids.shape[0]
    edits = {name: list(fns) for name, fns in edits.items()}
    start = joins[0][0]
    for layer, n in joins:
        if layer == 0 and n == 1 and n_prompts == 1:
            continue  # the prompt's own embedding is that row's input

        def join(act: torch.Tensor, layer: int = layer, n: int = n) -> torch.Tensor:
            rows = _per_variant(base_resid[layer].to(act.device, act.dtype), n * n_prompts)
            return rows.contiguous() if layer == start else torch.cat([act, rows], dim=0)
        name = f"blocks.{layer}.hook_resid_pre"
        edits[name] = [join, *edits.get(name, [])]
    ids = base_ids[:1].to(engine.loaded.device)
    extra: dict = {"use_cache": False}
    if prefix_kv:
        prefix = prefix_kv[0][0].shape[-2]
        rows_at, present = [], 0
        for layer in range(engine.info.n_layers):
            present += sum(n for l, n in joins if l == layer) * n_prompts
            rows_at.append(max(present, n_prompts))  # layers before the first join: never run, never empty
        extra = {"use_cache": True, "cache": _grown_cache(engine, prefix_kv, rows_at)}
        ids = ids[:, prefix:]
    mask = torch.ones(ids.shape[0], base_ids.shape[1], dtype=torch.long, device=ids.device)
    with torch.inference_mode(), hooks_attached(model, adapter, engine.info.n_layers, capture, edits) as store, \
            layers_from(model, adapter.layers, start):
        # batch 1 in: the causal mask and rotary tables are then shared by any number of rows
        hidden = base_model(model, adapter.layers)(input_ids=ids, attention_mask=mask, **extra).last_hidden_state
    return hidden[:, -1], store


def after_prefix_hidden(engine, ids: torch.Tensor, prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None,
                        capture: tuple[str, ...] = ()) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """A plain forward of R prompts ids [R, S] whose first P positions' keys/values are
    prefix_kv (prefix_cache of any prompts sharing those tokens; None: P = 0): only
    positions P.. are computed, and the captures hold those. The last position's hidden
    state [R, d] (after the final norm) and the captures."""
    adapter, model = engine.adapter, engine.model
    ids = ids.to(engine.loaded.device)
    extra: dict = {"use_cache": False}
    if prefix_kv:
        extra = {"use_cache": True, "cache": _grown_cache(engine, prefix_kv, [ids.shape[0]] * engine.info.n_layers)}
    new = ids[:, prefix_kv[0][0].shape[-2]:] if prefix_kv else ids
    with torch.inference_mode(), hooks_attached(model, adapter, engine.info.n_layers, capture, {}) as store:
        hidden = base_model(model, adapter.layers)(input_ids=new, attention_mask=torch.ones_like(ids),
                                                   **extra).last_hidden_state
    return hidden[:, -1], store


def row_logits(engine, hidden_last: torch.Tensor, token_ids: torch.Tensor | None) -> torch.Tensor:
    """Logits from final hidden states [rows, d] as the model's head computes them (bias,
    soft-capping), float32: each row's own tokens (token_ids [rows, k] -> [rows, k]), or
    the whole vocabulary (None -> [rows, V])."""
    adapter, model = engine.adapter, engine.model
    with torch.inference_mode():
        weight, bias = adapter.unembed_weight(model), adapter.unembed_bias(model)
        hidden_last = hidden_last.to(weight.device)
        if token_ids is None:
            return adapter.unembed_fn(model)(hidden_last).float()
        cols = token_ids.to(weight.device)
        logits = torch.einsum("rd,rkd->rk", hidden_last.float(), weight.T[cols].float())
        if bias is not None:
            logits = logits + bias[cols].float()
        cap = getattr(model.config, "final_logit_softcapping", None)
        return torch.tanh(logits / cap) * cap if cap else logits
