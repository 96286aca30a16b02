"""Readout 'features': which features of a dictionary (SAE) are active on each token.

Read from the live run's own forward: the dictionary's input site is captured with the rest,
so the strip follows every edit at no extra forward. A dictionary is opened once per folder
(and again only if its weights file changes), checked against the model (engine.dictionaries.fits)
and moved to the model's device. The special prefix (BOS) is left out: dictionaries are trained
without it (its norm is huge and constant), so its 'features' would mean nothing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import ReadContext, Readout, register
from ..dictionaries import Dictionary, fits
from ..dictionaries.open_cache import open_dictionary


@dataclass(frozen=True)
class FeatureParams:
    folder: str = ""
    k: int = 10  # features listed per position
    shown: int = 16  # features in the strip: the most active anywhere on the prompt


@dataclass(frozen=True)
class FeatureActivations:
    folder: str
    label: str  # "TopK SAE · blocks.0.hook_resid_post · 1536 features"
    site: str  # where the dictionary reads
    d_sae: int
    digest: str
    tokens: tuple[str, ...]
    first: int  # the first position with features (after the special prefix)
    top_ids: np.ndarray  # [S, k] features by activation at each position (-1 = none)
    top_values: np.ndarray  # [S, k]
    shown_ids: np.ndarray  # [F]
    shown_values: np.ndarray  # [S, F]
    l0: np.ndarray  # [S] active features per position
    site_out: str = ""  # where it writes: its features are edited there (= site for an SAE)


def opened(folder: str, handle) -> Dictionary:
    """The dictionary in `folder` (opened once per weights version), checked against the model."""
    dictionary = open_dictionary(folder)
    fits(dictionary, handle)
    return dictionary


def encode_rows(handle, d: Dictionary, ids: np.ndarray) -> torch.Tensor:
    """Every feature at every position of token rows ids [B, S]: [B, S, d_sae] (CPU)."""
    x = handle.forward(ids, capture={d.site_in}, logits_to_keep=1)[d.site_in].float()
    with torch.no_grad():
        return d.to(device=x.device).encode(x).cpu()


def describe(d: Dictionary) -> str:
    kind = {"topk": f"TopK (k {d.k})", "jumprelu": "JumpReLU", "gated": "gated", "standard": "ReLU"}[d.architecture]
    return f"{kind} {'SAE' if d.kind == 'sae' else 'transcoder'} · {d.site_in} · {d.d_sae:,} features"


def strip_features(acts: torch.Tensor, shown: int) -> torch.Tensor:
    """The strip's rows: each position's strongest feature first (so no column is empty while
    something fires there), then the most active anywhere, up to `shown`; never a silent one."""
    a = acts.numpy()
    peak = a.max(0)
    best, best_value = a.argmax(-1), a.max(-1)
    firsts = best[best_value > 0]
    _, first_seen = np.unique(firsts, return_index=True)
    order = list(firsts[np.sort(first_seen)][:shown])
    if len(order) < shown:
        taken = set(order)
        for i in np.argsort(-peak)[: shown + len(order)]:
            if len(order) >= shown or peak[i] <= 0:
                break
            if i not in taken:
                order.append(i)
    order = np.array(order, dtype=np.int64)
    return torch.from_numpy(order[np.argsort(-peak[order], kind="stable")]) if len(order) else torch.zeros(0, dtype=torch.long)


class FeaturesReadout(Readout):
    key, order = "features", 3
    Params = FeatureParams

    def needs(self, params: FeatureParams, handle, prompt) -> set[str]:
        return {opened(params.folder, handle).site_in}

    def read(self, ctx: ReadContext, params: FeatureParams) -> FeatureActivations:
        d = opened(params.folder, ctx.handle)
        x = ctx.cache[d.site_in][0].float()
        with torch.no_grad():
            acts = d.to(device=x.device).encode(x).cpu()  # [S, d_sae]
        first = len(ctx.handle.special_prefix)
        acts[:first] = 0.0
        k = min(params.k, d.d_sae)
        top = acts.topk(k, dim=-1)
        top_ids = torch.where(top.values > 0, top.indices, torch.full_like(top.indices, -1))
        shown_ids = strip_features(acts, min(params.shown, d.d_sae))
        return FeatureActivations(
            folder=params.folder, label=describe(d), site=d.site_in, d_sae=d.d_sae, digest=d.digest,
            tokens=ctx.tokens, first=first, top_ids=top_ids.numpy(), top_values=top.values.clamp_min(0).numpy(),
            shown_ids=shown_ids.numpy(), shown_values=acts[:, shown_ids].numpy(), l0=(acts > 0).sum(-1).numpy(),
            site_out=d.site_out)


register(FeaturesReadout())
