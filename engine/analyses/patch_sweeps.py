"""What each activation-patching sweep patches: rows, columns, hook point and slice.

A variant is one (row, column) cell of the result: it copies one slice of one hook
point's activation from the source run into the base run. The slice is a boolean mask
over that activation's [positions, features], so every sweep shares one batched edit."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import EngineError

SWEEPS: dict[str, str] = {
    "resid": "Residual stream (layer × position)",
    "attn_out": "Attention output (layer × position)",
    "mlp_out": "MLP output (layer × position)",
    "head": "Head output, all positions (layer × head)",
    "head_pos": "Head output (head × position)",
    "head_q": "Head query (layer × head)",
    "head_k": "Head key (layer × key/value head)",
    "head_v": "Head value (layer × key/value head)",
    "head_pattern": "Head attention pattern (layer × head)",
}


@dataclass(frozen=True)
class SweepShape:
    """The grid of one sweep on one model and prompt."""

    name: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    n_layers: int
    n_heads: int
    n_kv_heads: int
    d_head: int
    seq_len: int

    def layer(self, row: int) -> int:
        """The layer whose input a row's patch first changes (where a resumed run starts)."""
        if self.name == "head_pos":
            return row // self.n_heads
        return min(row, self.n_layers - 1)

    def hook(self, row: int) -> str:
        layer = self.layer(row)
        if self.name == "resid":
            return f"blocks.{layer}.hook_resid_pre" if row < self.n_layers else f"blocks.{layer}.hook_resid_post"
        if self.name in ("attn_out", "mlp_out"):
            return f"blocks.{layer}.hook_{self.name}"
        if self.name in ("head_q", "head_k", "head_v"):
            return f"blocks.{layer}.attn.hook_{self.name[-1]}"
        return f"blocks.{layer}.attn.hook_z"  # head, head_pos, head_pattern

    def mask(self, row: int, column: int, width: int) -> torch.Tensor:
        """[S, width] bool: what this variant copies from the source run."""
        m = torch.zeros(self.seq_len, width, dtype=torch.bool)
        if self.name in ("resid", "attn_out", "mlp_out"):
            m[column] = True
        elif self.name == "head_pos":
            head = row % self.n_heads
            m[column, head * self.d_head:(head + 1) * self.d_head] = True
        else:  # a head (or key/value head) at every position
            m[:, column * self.d_head:(column + 1) * self.d_head] = True
        return m


def sweep_shape(name: str, n_layers: int, n_heads: int, n_kv_heads: int, d_head: int,
                tokens: list[str]) -> SweepShape:
    """Rows and columns of `name` with labels (layers, heads, tokens as 'i:token')."""
    if name not in SWEEPS:
        raise EngineError(f"unknown sweep '{name}' (choose from {', '.join(SWEEPS)})")
    layers = tuple(f"L{l}" for l in range(n_layers))
    positions = tuple(f"{i}:{t}" for i, t in enumerate(tokens))
    heads = tuple(f"H{h}" for h in range(n_heads))
    kv_heads = heads if n_kv_heads == n_heads else tuple(f"KV{h}" for h in range(n_kv_heads))
    rows, columns = {
        "resid": (layers + ("final",), positions),
        "attn_out": (layers, positions),
        "mlp_out": (layers, positions),
        "head": (layers, heads),
        "head_pos": (tuple(f"L{l}.H{h}" for l in range(n_layers) for h in range(n_heads)), positions),
        "head_q": (layers, heads),
        "head_k": (layers, kv_heads),
        "head_v": (layers, kv_heads),
        "head_pattern": (layers, heads),
    }[name]
    return SweepShape(name, rows, columns, n_layers, n_heads, n_kv_heads, d_head, len(tokens))
