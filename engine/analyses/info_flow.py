"""Readout 'info_flow': the information-flow graph of Ferrando & Voita 2024 (arXiv
2403.00824), as the LLM Transparency Tool computes it (llm_transparency_tool/routes/).

Each residual node is a sum of parts; a part's share is its L1 proximity to the whole,
max(eps, ||whole||_1 - ||whole - part||_1), normalised over the node's parts to sum to 1.
- After attention in layer l at query q the whole is resid_mid[q], the parts are
  resid_pre[q] (the skip) and, for every key k <= q and head h, A_h[q, k] v_{k, g(h)} W_O_h
  (g(h): the head's key/value group under grouped-query attention; v as captured, its bias
  counted once: the tool adds TransformerLens's b_V to hook_v, which already holds it).
- After the MLP the whole is resid_post[t], the parts resid_mid[t] and mlp_out[t].
Like the tool, the whole is the stream as the model has it, so the attention output bias
b_O (GPT-2, OPT) is in the whole but is no part: nobody is credited with it. Unlike the
tool, keys after the query are no parts (the tool gives each of them eps); their share is 0.
An edit of the residual stream (steering) is likewise in the whole and no part; an edit of a
head or an attention output is refused (the split by key would not add up to it).
Computed in float64 (float32 on MPS): in float32 SmolLM2's large residual norms cost ~1e-4.

The graph's routes (threshold, tree into an output token) are engine.flow_routes, numpy
only, so the UI recomputes them as the threshold slider moves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..addresses import parse_address
from ..analysis import Prompt, ReadContext, Readout, register
from ..errors import EngineError
from ..flow_routes import InfoFlow

EPS = 1e-5  # the tool's floor on a part's unnormalised share
BLOCK = 1 << 19  # elements of one [queries, keys, heads, d_model] block of parts: 4 MB in float64
# (cache-sized blocks were fastest: 0.028 s per SmolLM2 layer at 64 tokens, one thread; 32 MB: 0.054 s)


@dataclass(frozen=True)
class InfoFlowParams:
    distance_norm: int = 1  # the p of the proximity's norm (the method's and the tool's default: 1)


def proximity(whole: torch.Tensor, parts: torch.Tensor, p: int) -> torch.Tensor:
    """max(EPS, ||whole||_p - ||whole - part||_p) over the last axis; `whole` broadcasts to `parts`."""
    return (torch.linalg.vector_norm(whole, p, -1) - _norm(whole - parts, p)).clamp_min(EPS)


def _norm(x: torch.Tensor, p: int) -> torch.Tensor:
    """||x||_p over the last axis; for p = 1 in place (x is scratch then)."""
    return x.abs_().sum(-1) if p == 1 else torch.linalg.vector_norm(x, p, -1)


def attention_shares(resid_pre: torch.Tensor, resid_mid: torch.Tensor, pattern: torch.Tensor,
                     head_values: torch.Tensor, p: int, block: int = BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer's attention node shares: ([S_q, S_k, H] per key and head, [S] the skip).

    pattern [H, S, S]; head_values [S, H, d] is v_k W_O for each key and head (what the head
    writes per unit of attention). Parts are built block by block (queries x keys), never
    all of [S, S, H, d] at once."""
    n, n_heads, d = head_values.shape
    raw = torch.zeros(n, n, n_heads, dtype=resid_mid.dtype, device=resid_mid.device)
    whole = torch.linalg.vector_norm(resid_mid, p, -1)
    keys = max(1, min(n, block // (n_heads * d)))
    queries = max(1, block // (keys * n_heads * d))
    for q0 in range(0, n, queries):
        q1 = min(n, q0 + queries)
        for k0 in range(0, q1, keys):  # causal: no key after the block's last query
            k1 = min(q1, k0 + keys)
            parts = pattern[:, q0:q1, k0:k1].permute(1, 2, 0)[..., None] * head_values[None, k0:k1]
            distance = _norm(torch.sub(resid_mid[q0:q1, None, None], parts, out=parts), p)  # no second block
            raw[q0:q1, k0:k1] = (whole[q0:q1, None, None] - distance).clamp_min(EPS)
    raw *= torch.ones(n, n, dtype=torch.bool, device=raw.device).tril()[..., None]
    skip = proximity(resid_mid, resid_pre, p)
    total = raw.sum((1, 2)) + skip
    return raw / total[:, None, None], skip / total


def mlp_shares(resid_mid: torch.Tensor, resid_post: torch.Tensor, mlp_out: torch.Tensor,
               p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One layer's MLP node shares: ([S] through the MLP, [S] the skip)."""
    mlp, skip = proximity(resid_post, mlp_out, p), proximity(resid_post, resid_mid, p)
    return mlp / (mlp + skip), skip / (mlp + skip)


def _names(layer: int) -> dict[str, str]:
    return {"pre": f"blocks.{layer}.hook_resid_pre", "mid": f"blocks.{layer}.hook_resid_mid",
            "post": f"blocks.{layer}.hook_resid_post", "pattern": f"blocks.{layer}.attn.hook_pattern",
            "v": f"blocks.{layer}.attn.hook_v", "mlp": f"blocks.{layer}.hook_mlp_out"}


class InfoFlowReadout(Readout):
    """Readout 'info_flow': every node's incoming shares (an InfoFlow), one layer at a time.
    As a readout it honours the prompt's interventions and resumes from the cached clean run."""

    key, Params, order = "info_flow", InfoFlowParams, 6  # after every other readout: the costliest

    def needs(self, params: InfoFlowParams, handle, prompt: Prompt) -> set[str]:
        if not isinstance(params.distance_norm, int) or params.distance_norm < 1:
            raise EngineError(f"distance_norm must be a whole number >= 1, got {params.distance_norm!r}")
        if not handle.per_head_dla_additive:
            raise EngineError(f"the information-flow graph needs heads that add up to the attention output; "
                              f"{handle.info.family} normalises their sum after the heads, so it is not offered")
        for edit in prompt.interventions:  # a head's output edited: its split by key no longer adds up to it
            if parse_address(edit.component).kind in ("head", "attn_out"):
                raise EngineError(f"the information-flow graph splits each head's output by key, which an edit of "
                                  f"{edit.component} breaks: remove that edit to see the graph")
        names = [name for l in range(handle.info.n_layers) for name in _names(l).values()]
        if missing := sorted({n.split(".", 2)[2] for n in names if not handle.has_hook(n)}):
            raise EngineError(f"the information-flow graph needs {', '.join(missing)}, which {handle.info.family} "
                              f"does not have (parallel attention and MLP, or fused q/k/v)")
        return set(names)

    def read(self, ctx: ReadContext, params: InfoFlowParams) -> InfoFlow:
        handle, store, p = ctx.handle, ctx.cache, params.distance_norm
        n_layers, n_heads, n = handle.info.n_layers, handle.info.n_heads, len(ctx.ids)
        group = n_heads // handle.n_kv_heads
        attn_heads = np.zeros((n_layers, n, n, n_heads), dtype=np.float32)
        attn_sum = np.zeros((n_layers, n, n), dtype=np.float32)
        attn_resid, mlp, mlp_resid = (np.zeros((n_layers, n), dtype=np.float32) for _ in range(3))
        for l in range(n_layers):
            ctx.job.step(l, n_layers)
            w_o = handle.head_out_weights(l)  # [H, dh, d]
            dtype = torch.float32 if w_o.device.type == "mps" else torch.float64  # MPS has no float64
            with torch.inference_mode():
                at = {key: store[name][0].to(w_o.device, dtype) for key, name in _names(l).items()}
                values = at["v"].reshape(n, -1, w_o.shape[1]).repeat_interleave(group, dim=1)  # [S, H, dh]
                head_values = torch.einsum("khe,hed->khd", values, w_o.to(dtype))
                heads, skip = attention_shares(at["pre"], at["mid"], at["pattern"], head_values, p)
                through, kept = mlp_shares(at["mid"], at["post"], at["mlp"], p)
            attn_heads[l], attn_sum[l] = heads.cpu().numpy(), heads.sum(-1).cpu().numpy()
            attn_resid[l], mlp[l], mlp_resid[l] = skip.cpu().numpy(), through.cpu().numpy(), kept.cpu().numpy()
        return InfoFlow(ctx.tokens, n_layers, n_heads, attn_sum, attn_heads, attn_resid, mlp, mlp_resid,
                        ctx.prompt.text)


register(InfoFlowReadout())
