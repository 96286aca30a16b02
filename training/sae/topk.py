"""A TopK sparse autoencoder (Gao et al. 2024; SAELens' 'topk' architecture) and its training step.

encode: pre = (x - b_dec) W_enc + b_enc, keep the k largest, ReLU; decode: a W_dec + b_dec.
TopK fixes L0 at k, so there is no sparsity coefficient to tune, which is what a user
training one on their own machine needs. Decoder rows are kept at unit norm."""

from __future__ import annotations

import torch
from torch import nn


class TopKSAE(nn.Module):
    def __init__(self, d_in: int, d_sae: int, k: int, mean: torch.Tensor | None = None) -> None:
        super().__init__()
        self.k = k
        w = torch.randn(d_in, d_sae) / d_in ** 0.5
        w = w / w.norm(dim=0, keepdim=True)
        self.W_enc = nn.Parameter(w.clone())
        self.W_dec = nn.Parameter(w.T.clone())  # tied at init (a common, stable start)
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_in) if mean is None else mean.clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = (x - self.b_dec) @ self.W_enc + self.b_enc
        top = pre.topk(self.k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, top.indices, top.values.relu())

    def decode(self, acts: torch.Tensor) -> torch.Tensor:
        return acts @ self.W_dec + self.b_dec

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        acts = self.encode(x)
        return self.decode(acts), acts

    @torch.no_grad()
    def normalise_decoder(self) -> None:
        self.W_dec.div_(self.W_dec.norm(dim=1, keepdim=True).clamp_min(1e-8))


def explained_variance(x: torch.Tensor, recon: torch.Tensor) -> float:
    """1 - |x - x̂|² / |x - mean(x)|², over all rows."""
    return float(1 - (x - recon).pow(2).sum() / (x - x.mean(0)).pow(2).sum())
