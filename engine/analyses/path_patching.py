"""Path patching (Wang et al. 2022, "Interpretability in the Wild"): the effect of each
sender head on the metric *only through* one receiver head's query, key or value input.

Step 1, per sender (batched): run the base prompt with the sender's output taken from the
source run and every other head's output frozen to its base value (MLPs recompute, as in
the paper), and record the receiver's query/key/value input. Step 2: run the base prompt
with only that receiver input replaced by the recorded one, and read the metric.
Normalised like activation patching: 1 = the clean metric, 0 = the corrupted one."""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from ..addresses import parse_address
from ..analysis import Cancelled
from ..errors import EngineError
from ..handle import ModelHandle, as_handle
from .patching import (IsCancelled, PatchingResult, Progress, chunk_rows_for, metric_of, prepare_pair,
                       require_hooks)

RECEIVER_INPUTS = ("q", "k", "v")


class _Recorded(Exception):
    """Raised by step 1 once the receiver's input is recorded: later layers are not needed."""


def path_patching(handle: ModelHandle, clean: str, corrupted: str, target: str | int, foil: str | int,
                  receiver: str, receiver_input: str = "q", mode: str = "denoise",
                  progress: Progress | None = None, cancelled: IsCancelled | None = None) -> PatchingResult:
    """Sender heads (layers before the receiver's) x heads: effect through `receiver`'s input."""
    handle = as_handle(handle)
    info = handle.info
    comp = parse_address(receiver, info.n_layers, info.n_heads)
    if comp.kind != "head":
        raise EngineError(f"The receiver must be a head such as L1.H4, not '{receiver}'")
    if receiver_input not in RECEIVER_INPUTS:
        raise EngineError("The receiver input is 'q', 'k' or 'v'")
    if comp.layer == 0:
        raise EngineError("A head in layer 0 reads only the embeddings: no head can send to it")
    require_hooks(handle, [f"blocks.{comp.layer}.attn.hook_{receiver_input}"], f"path patching into {receiver_input}")
    pair = prepare_pair(handle, clean, corrupted, target, foil)
    source_ids, base_ids = pair.source_and_base(mode)
    z_names = [f"blocks.{l}.attn.hook_z" for l in range(comp.layer)]
    resid_in = tuple(f"blocks.{l}.hook_resid_pre" for l in range(info.n_layers))
    source_m, source = metric_of(handle, source_ids, pair, tuple(z_names))
    base_m, base = metric_of(handle, base_ids, pair, (*resid_in, *z_names))
    clean_m, corrupt_m = (source_m, base_m) if mode == "denoise" else (base_m, source_m)
    if abs(clean_m - corrupt_m) < 1e-6:
        raise EngineError("The clean and corrupted prompts give the same logit difference: nothing to patch")

    prefix = handle.shared_prefix(pair.clean_ids, pair.corrupt_ids)
    prefix_kv = handle.prefix_cache(base_ids, prefix) if prefix else None
    base_resid = {l: base[f"blocks.{l}.hook_resid_pre"][:, prefix:] for l in range(info.n_layers)}
    ids = base_ids
    tokens = (pair.target_id, pair.foil_id)
    dh, kv_group = info.d_head, info.n_heads // handle.n_kv_heads
    unit = comp.head if receiver_input == "q" else comp.head // kv_group  # the key/value head it reads
    receiver_hook = f"blocks.{comp.layer}.attn.hook_{receiver_input}"

    senders = [(l, h) for l in range(comp.layer) for h in range(info.n_heads)]
    raw = np.empty((comp.layer, info.n_heads))
    per_chunk = chunk_rows_for(handle, len(base_ids) - prefix, len(base_ids), len(senders))
    with handle.sweep_mode():
        _sweep_senders(handle, senders, per_chunk, ids, base_resid, base, source, prefix, dh, receiver_hook, tokens,
                       prefix_kv, unit, comp.layer, raw, progress, cancelled)
    values = (raw - corrupt_m) / (clean_m - corrupt_m)
    return PatchingResult(
        f"path to {receiver}.{receiver_input}", values, tuple(f"L{l}" for l in range(comp.layer)),
        tuple(f"H{h}" for h in range(info.n_heads)), clean_m, corrupt_m, mode, raw, method="path",
        details={"receiver": receiver, "receiver_input": receiver_input})


def _sweep_senders(handle: ModelHandle, senders, per_chunk: int, ids, base_resid, base, source, prefix: int, dh: int,
                   receiver_hook: str, tokens, prefix_kv, unit: int, receiver_layer: int, raw: np.ndarray,
                   progress: Progress | None, cancelled: IsCancelled | None) -> None:
    """Steps 1 and 2 for chunks of senders; each sender's logit difference lands in raw."""
    if progress is not None:
        progress(0, len(senders))
    for done in range(0, len(senders), per_chunk):
        if cancelled is not None and cancelled():
            raise Cancelled("Path patching was cancelled")
        chunk = senders[done:done + per_chunk]
        joins = sorted(Counter(l for l, _ in chunk).items())
        recorded = _record_receiver_inputs(handle, ids, chunk, joins, base_resid, base, source, prefix, dh,
                                           receiver_hook, tokens, prefix_kv)
        sl = slice(unit * dh, (unit + 1) * dh)

        def replace(act: torch.Tensor) -> torch.Tensor:
            out = act.clone()
            out[..., sl] = recorded[..., sl].to(out.dtype)
            return out
        logits = handle.staircase(ids, [(receiver_layer, len(chunk))], base_resid,
                                  {receiver_hook: [replace]}, tokens, prefix_kv=prefix_kv).logits
        for (l, h), value in zip(chunk, (logits[:, 0] - logits[:, 1]).cpu().numpy()):
            raw[l, h] = value
        if progress is not None:
            progress(done + len(chunk), len(senders))


def _record_receiver_inputs(handle: ModelHandle, ids, chunk, joins, base_resid, base, source, prefix: int, dh: int,
                            receiver_hook: str, tokens, prefix_kv) -> torch.Tensor:
    """Step 1: every head frozen to the base run except row b's sender, taken from the source."""
    edits: dict[str, list] = {}
    for layer in {l for l, _ in chunk} | set(range(min(l for l, _ in chunk), int(receiver_hook.split(".")[1]))):
        name = f"blocks.{layer}.attn.hook_z"
        batch = sum(1 for l, _ in chunk if l <= layer)
        frozen = base[name][:, prefix:].expand(batch, -1, -1).clone()
        for b, (l, h) in enumerate(chunk[:batch]):
            if l == layer:
                frozen[b, :, h * dh:(h + 1) * dh] = source[name][0, prefix:, h * dh:(h + 1) * dh]
        edits[name] = [lambda act, value=frozen: value.to(act.dtype)]
    recorded: dict[str, torch.Tensor] = {}

    def record(act: torch.Tensor) -> torch.Tensor:
        recorded["value"] = act.clone()
        raise _Recorded
    edits[receiver_hook] = [record]
    try:
        handle.staircase(ids, joins, base_resid, edits, tokens, prefix_kv=prefix_kv)
    except _Recorded:
        pass  # the intended stop: the receiver's input is recorded, later layers are not needed
    return recorded["value"]
