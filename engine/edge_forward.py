"""The backend of edge attribution: a forward in which every head's query, key and value
input, every MLP's input and the logits read their own copy of the residual stream.

A component's input is the residual stream plus a per-input shift δ. With δ = 0 leaves that
need gradients, one backward gives d metric / d input for every destination at once (EAP);
with δ = Σ over the edges left out (corrupted source output - this run's source output) the
forward runs a circuit with everything outside it patched from the corrupted run (EAP-IG's
evaluate). A head's own copy is normalised on its own and projected through its own slice of
W_Q (a KV group's through W_K / W_V), so the cost stays that of the projections; the norms are
applied as functions (never through the module, whose hooks would fire again).

Sequential blocks only (GPT-2, Llama and its relatives): parallel attention/MLP blocks and
norms between a head and the residual stream have another graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .adapters.base import in_out_weight
from .edge_graph import graph_of
from .errors import EngineError
from .hooks import hooks_attached, resolve_hook
from .resume import base_model

SUPPORTED = ("GPT-2", "Llama")
Delta = Callable[[str, int, int], "torch.Tensor | None"]  # (port 'q'|'k'|'v'|'mlp'|'logits', layer, sources so far)


def _norm_fn(module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The module's normalisation as a function of the last dimension (LayerNorm or RMSNorm)."""
    if isinstance(module, nn.LayerNorm):
        return lambda x: F.layer_norm(x, module.normalized_shape, module.weight, module.bias, module.eps)
    eps = float(getattr(module, "variance_epsilon", getattr(module, "eps", 1e-6)))
    weight = module.weight

    def rms(x: torch.Tensor) -> torch.Tensor:  # as HF's LlamaRMSNorm: float32 inside
        x32 = x.float()
        return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)
    return rms


@dataclass
class _Layer:
    norm1: Callable
    norm2: Callable
    proj: dict[str, tuple[torch.Tensor, torch.Tensor | None]]  # port -> (W [d, n, d_head], b [n, d_head])
    w_o: torch.Tensor  # [H, d_head, d]


class EdgeForward:
    """Per-model weights and the hooks of one edge-level forward."""

    def __init__(self, handle) -> None:
        if handle.adapter.family not in SUPPORTED or handle.adapter.ln1 is None:
            raise EngineError(f"Edge attribution needs sequential attention and MLP blocks (GPT-2, Llama); "
                              f"not {handle.adapter.family}")
        if handle.offloaded or len({p.device for p in handle.model.parameters()}) > 1:
            raise EngineError("Edge attribution needs the whole model on one device (this one is split or offloaded)")
        self.handle, self.model, self.adapter, info = handle, handle.model, handle.adapter, handle.info
        self.graph = graph_of(info.n_layers, info.n_heads, handle.n_kv_heads)
        self.d_head = info.d_head
        self.layers = [self._layer(l) for l in range(info.n_layers)]

    def _layer(self, l: int) -> _Layer:
        a, m = self.adapter, self.model
        proj = {}
        for port in ("q", "k", "v"):
            path, site = resolve_hook(a, f"blocks.{l}.attn.hook_{port}", self.handle.info.n_layers)
            module = m.get_submodule(path)
            w, b = in_out_weight(module), getattr(module, "bias", None)
            if site.third is not None:
                width = w.shape[1] // 3
                w = w[:, site.third * width:(site.third + 1) * width]
                b = None if b is None else b[site.third * width:(site.third + 1) * width]
            n = w.shape[1] // self.d_head
            proj[port] = (w.reshape(w.shape[0], n, self.d_head), None if b is None else b.reshape(n, self.d_head))
        return _Layer(_norm_fn(m.get_submodule(a.ln1.format(l=l))), _norm_fn(m.get_submodule(a.ln2.format(l=l))),
                      proj, a.o_proj_per_head(m, l, self.handle.info.n_heads))

    # ------------------------------------------------------------------ one forward
    def run(self, ids: torch.Tensor, delta: Delta | None = None, record: torch.Tensor | None = None,
            embed: torch.Tensor | None = None, grad: bool = False) -> torch.Tensor:
        """The final normalised hidden state at the last position [B, d]. `delta(port, layer,
        n_sources)` gives each input's shift ([B, S, n, d] for q/k/v, [B, S, d] for the MLP and
        logits) or None; `record` [B, S, U, d] receives every source's output as it is made;
        `embed` replaces the embeddings (integrated gradients)."""
        g, L, H = self.graph, self.handle.info.n_layers, self.handle.info.n_heads
        resid: dict[str, torch.Tensor] = {}
        delta = delta or (lambda *_: None)

        def embed_edit(x):
            x = x if embed is None else embed.to(x.dtype)
            if record is not None:
                record[:, :, 0] = x.detach()
            resid["pre"] = x
            return x

        def keep(key):
            def edit(x):
                resid[key] = x
                return x
            return edit

        def qkv(l, port):
            def edit(value):
                shift = delta(port, l, g.head_source(l, 0))
                if shift is None:
                    return value
                w, b = self.layers[l].proj[port]
                pre = resid["pre"]
                x = self.layers[l].norm1((pre.unsqueeze(2) + shift).to(pre.dtype))  # [B, S, n, d], the model's dtype
                out = torch.einsum("bsnd,dne->bsne", x, w.to(x.dtype))
                if b is not None:
                    out = out + b.to(out.dtype)
                return out.reshape(value.shape)
            return edit

        def heads_out(l):
            def edit(z):
                if record is not None:
                    B, S = z.shape[:2]
                    out = torch.einsum("bshe,hed->bshd", z.reshape(B, S, H, self.d_head), self.layers[l].w_o.to(z.dtype))
                    record[:, :, g.head_source(l, 0):g.head_source(l, 0) + H] = out.detach()
                return z
            return edit

        def mlp_in(l):
            def edit(value):
                shift = delta("mlp", l, g.mlp_source(l))
                mid = resid["mid"]
                return value if shift is None else self.layers[l].norm2((mid + shift).to(mid.dtype))
            return edit

        def mlp_out(l):
            def edit(value):
                if record is not None:
                    record[:, :, g.mlp_source(l)] = value.detach()
                return value
            return edit

        def logits_in(value):
            shift = delta("logits", L - 1, g.n_sources)
            return value if shift is None else (value + shift).to(value.dtype)

        edits: dict[str, list] = {"blocks.0.hook_resid_pre": [embed_edit]}
        for l in range(L):
            if l:
                edits[f"blocks.{l}.hook_resid_pre"] = [keep("pre")]
            for port in ("q", "k", "v"):
                edits[f"blocks.{l}.attn.hook_{port}"] = [qkv(l, port)]
            edits[f"blocks.{l}.attn.hook_z"] = [heads_out(l)]
            edits[f"blocks.{l}.hook_resid_mid"] = [keep("mid")]
            edits[f"blocks.{l}.ln2.hook_normalized"] = [mlp_in(l)]
            edits[f"blocks.{l}.hook_mlp_out"] = [mlp_out(l)]
        edits.setdefault(f"blocks.{L - 1}.hook_resid_post", []).append(logits_in)
        mode = torch.enable_grad() if grad else torch.inference_mode()
        with mode, hooks_attached(self.model, self.adapter, L, (), edits):
            hidden = base_model(self.model, self.adapter.layers)(
                input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False).last_hidden_state
        return hidden[:, -1]

    # ------------------------------------------------------------------ what the analyses ask
    def sources(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(every source's output [B, S, U, d] on these tokens, the last hidden state [B, d]),
        without gradients."""
        B, S = ids.shape
        out = torch.zeros(B, S, self.graph.n_sources, self.handle.info.d_model, device=ids.device)
        return out, self.run(ids, record=out)

    def metric(self, hidden_last: torch.Tensor, direction: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """logit(target) - logit(foil) per row: hidden [B, d] · (W_U[:, t] - W_U[:, f]) + bias difference."""
        return (hidden_last.float() * direction).sum(-1) + offset

    def gradients(self, ids: torch.Tensor, direction: torch.Tensor, offset: torch.Tensor,
                  embed: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(d metric / d input for every destination [B, S, V, d], the metric [B]) in one
        forward and one backward."""
        g, B, S, d = self.graph, *ids.shape, self.handle.info.d_model
        leaves: dict[tuple[str, int], torch.Tensor] = {}

        def delta(port, layer, _):
            n = {"q": g.n_heads, "k": g.n_kv, "v": g.n_kv}.get(port)
            leaf = torch.zeros((B, S, n, d) if n else (B, S, d), requires_grad=True, device=ids.device)
            leaves[(port, layer)] = leaf
            return leaf

        with torch.enable_grad():
            hidden = self.run(ids, delta, embed=embed, grad=True)
            m = self.metric(hidden, direction, offset)
            m.sum().backward()
        grads = torch.zeros(B, S, g.n_destinations, d, device=ids.device)
        for l in range(g.n_layers):
            q, k, v, mlp = g.layer_destinations(l)
            for port, cols in (("q", q), ("k", k), ("v", v)):
                grads[:, :, cols] = leaves[(port, l)].grad
            grads[:, :, mlp] = leaves[("mlp", l)].grad
        grads[:, :, g.logits_destination] = leaves[("logits", g.n_layers - 1)].grad
        return grads, m.detach()

    def patched(self, ids: torch.Tensor, corrupt: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
        """The final hidden state at the last position [B, d] with every edge of `missing`
        [B, U, V] (1 = left out) patched: its destination reads the corrupted run's source output
        instead of this run's. `corrupt` [B, S, U, d] are the corrupted run's sources."""
        g, (B, S) = self.graph, ids.shape
        d = corrupt.shape[-1]
        corrupt_t = corrupt.permute(0, 2, 1, 3).contiguous()  # [B, U, S, d]: a prefix of sources is one block
        current_t = torch.zeros_like(corrupt_t)
        diff_t = torch.empty_like(corrupt_t)
        done = [0]  # sources whose corrupted - current difference is in diff_t (they are made in index order)
        any_missing = (missing != 0).any(0)  # [U, V] (fractions of an edge, either sign: finite differences)

        def delta(port, layer, n_src):
            if port == "logits":
                cols = slice(g.logits_destination, g.logits_destination + 1)
            elif port == "mlp":
                m = g.layer_destinations(layer)[3]
                cols = slice(m, m + 1)
            else:
                q, k, v, _ = g.layer_destinations(layer)
                cols = {"q": q, "k": k, "v": v}[port]
            if not bool(any_missing[:n_src, cols].any()):
                return None
            if done[0] < n_src:
                diff_t[:, done[0]:n_src] = corrupt_t[:, done[0]:n_src] - current_t[:, done[0]:n_src]
                done[0] = n_src
            m = missing[:, :n_src, cols].to(diff_t.dtype)  # [B, n_src, c]
            shift = torch.bmm(m.transpose(1, 2), diff_t[:, :n_src].reshape(B, n_src, S * d))
            shift = shift.view(B, -1, S, d).permute(0, 2, 1, 3)  # [B, S, c, d]
            return shift if port in ("q", "k", "v") else shift[:, :, 0]

        return self.run(ids, delta, record=current_t.permute(0, 2, 1, 3))
