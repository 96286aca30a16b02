"""Analysis 'feature_search': which features fire on a token ("which features fire on ' Paris'?").

The token's occurrences in the dictionary's corpus (the windows feature cards read, cached
with their statistics) are run again and encoded; features are ranked by their mean
activation over those occurrences, with the share of occurrences each fires on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from .feature_card import CardParams, corpus_stats
from .features import encode_rows, opened

MAX_ROWS = 32  # windows run again for the search (occurrences beyond them are not averaged)


@dataclass(frozen=True)
class SearchParams:
    folder: str = ""
    token: str = ""
    corpus: str = ""
    n_tokens: int = 10_240
    window: int = 128
    top: int = 12


@dataclass(frozen=True)
class FeatureSearch:
    token: str
    occurrences: int  # in the corpus windows read
    averaged: int  # occurrences the means are over (those in the first MAX_ROWS windows holding it)
    feature_ids: np.ndarray  # [top] by mean activation on the token
    means: np.ndarray  # [top]
    fires: np.ndarray  # [top] share of the averaged occurrences each fires on


class FeatureSearchAnalysis:
    key = "feature_search"
    Params = SearchParams
    version = 1

    def run(self, handle, inputs, params: SearchParams, job: Job = NO_JOB) -> FeatureSearch:
        handle = as_handle(handle)
        d = opened(params.folder, handle)
        token_id = handle.token_id(params.token)  # an unknown word says so, with the nearest tokens
        card = CardParams(folder=params.folder, corpus=params.corpus, n_tokens=params.n_tokens, window=params.window)
        stats, _ = corpus_stats(handle, d, card, job)
        ids, first = stats["ids"], len(handle.special_prefix)
        rows, cols = np.nonzero(ids[:, first:] == token_id)
        if len(rows) == 0:
            raise EngineError(f"{params.token!r} does not occur in the {ids.shape[0] * (ids.shape[1] - first):,} "
                              f"tokens of {stats['corpus']} read for this dictionary")
        kept = np.unique(rows)[:MAX_ROWS]
        acts = encode_rows(handle, d, ids[kept]).numpy()
        kept_rows = set(kept.tolist())
        where = [(np.searchsorted(kept, r), c + first) for r, c in zip(rows, cols) if r in kept_rows]
        on_token = np.stack([acts[i, c] for i, c in where])  # [occurrences, d_sae]
        means = on_token.mean(0)
        top = np.argsort(-means)[: params.top]
        top = top[means[top] > 0]
        return FeatureSearch(token=params.token, occurrences=len(rows), averaged=len(where), feature_ids=top,
                             means=means[top], fires=(on_token[:, top] > 0).mean(0))


register(FeatureSearchAnalysis())
