"""A TopK sparse autoencoder or transcoder (Gao et al. 2024; SAELens' 'topk' architecture) and
its training step.

SAE:        pre = (x - b_dec) W_enc + b_enc, keep the k largest, ReLU; out = a W_dec + b_dec.
Transcoder: pre = x W_enc + b_enc (no b_dec on the input: it reads one place and writes
another, as SAELens' and circuit-tracer's transcoders do); out = a W_dec + b_dec [d_out].
TopK fixes L0 at k, so there is no sparsity coefficient to tune, which is what a user
training one on their own machine needs. Decoder rows are kept at unit norm."""

from __future__ import annotations

import torch
from torch import nn


class TopKSAE(nn.Module):
    def __init__(self, d_in: int, d_sae: int, k: int, mean: torch.Tensor | None = None,
                 d_out: int | None = None) -> None:
        """`mean` initialises b_dec (the output's mean); `d_out` makes it a transcoder."""
        super().__init__()
        self.k = k
        self.transcoder = d_out is not None
        d_out = d_in if d_out is None else d_out
        w = torch.randn(d_in, d_sae) / d_in ** 0.5
        w = w / w.norm(dim=0, keepdim=True)
        self.W_enc = nn.Parameter(w.clone())
        if self.transcoder:
            dec = torch.randn(d_sae, d_out)
            self.W_dec = nn.Parameter(dec / dec.norm(dim=1, keepdim=True))
        else:
            self.W_dec = nn.Parameter(w.T.clone())  # tied at init (a common, stable start)
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_out) if mean is None else mean.clone())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        pre = (x if self.transcoder else x - self.b_dec) @ self.W_enc + self.b_enc
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
