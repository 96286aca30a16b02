"""Analysis 'feature_card': what one dictionary feature means, read over a corpus.

Every feature's statistics come from one pass over the corpus (its top activations with
where they are, a histogram, how often it fires), kept on disk per dictionary x corpus
(engine.paths.feature_cache_dir), so a second card, or the same card in a later session,
costs only the contexts' own forward. The output tokens a feature promotes and suppresses
are its decoder row through the unembedding (W_dec[f] W_U, the usual "logit weights"; the
final norm's scale is left out, as Neuronpedia does). The corpus: a .txt/.jsonl file, or
the `corpus.txt` a dictionary folder ships (the demo SAE does)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..analysis import NO_JOB, Job, register
from ..corpus import read_texts, windows_from_texts
from ..errors import EngineError
from ..handle import as_handle
from ..paths import feature_cache_dir
from .features import describe, encode_rows, opened

TOP, BINS, BATCH = 24, 24, 16


@dataclass(frozen=True)
class CardParams:
    folder: str = ""
    feature: int = 0
    corpus: str = ""  # "" = the corpus.txt beside the dictionary
    n_tokens: int = 10_240
    window: int = 128
    contexts: int = 10
    before: int = 12  # tokens of context before the activation shown
    after: int = 4


@dataclass(frozen=True)
class FeatureCard:
    feature: int
    title: str
    contexts: tuple[tuple[tuple[str, ...], tuple[float, ...]], ...]  # tokens, this feature's activation on each
    histogram: tuple[np.ndarray, np.ndarray]  # counts [BINS], edges [BINS + 1] (activations > 0)
    density: float  # fraction of corpus tokens it fires on
    promoted: tuple[tuple[str, float], ...]
    suppressed: tuple[tuple[str, float], ...]
    corpus_note: str
    n_tokens: int
    from_cache: bool
    digest: str = ""  # the dictionary's weights: labels are kept by it


def corpus_path(params: CardParams) -> Path:
    path = Path(params.corpus) if params.corpus else Path(params.folder) / "corpus.txt"
    if not path.is_file():
        raise EngineError("a feature card reads a corpus: give a .txt or .jsonl file"
                          + ("" if params.corpus else " (the dictionary folder has no corpus.txt)"))
    return path


def corpus_stats(handle, d, params: CardParams, job: Job) -> tuple[dict[str, np.ndarray], bool]:
    """Top activations, histograms and firing counts of every feature over the corpus (cached)."""
    path = corpus_path(params)
    key = hashlib.sha256(f"{d.digest}|{hashlib.sha256(path.read_bytes()).hexdigest()}|{params.n_tokens}|"
                         f"{params.window}|{handle.info.source}".encode()).hexdigest()[:24]
    cache = feature_cache_dir() / f"{key}.npz"
    if cache.is_file():
        with np.load(cache) as kept:
            return dict(kept), True
    rows = []
    for row in windows_from_texts(handle, read_texts(path), params.window):
        rows.append(row)
        if len(rows) * (params.window - len(handle.special_prefix)) >= params.n_tokens:
            break
    if not rows:
        raise EngineError(f"{path.name} is shorter than one window of {params.window} tokens")
    ids = np.stack(rows)
    first = len(handle.special_prefix)
    acts = []
    job.step(0, len(ids))
    for start in range(0, len(ids), BATCH):
        acts.append(encode_rows(handle, d, ids[start:start + BATCH])[:, first:])
        job.step(min(start + BATCH, len(ids)), len(ids))
    a = torch.cat(acts)  # [R, T, d_sae]
    flat = a.reshape(-1, a.shape[-1])
    k = min(TOP, flat.shape[0])
    top = flat.topk(k, dim=0)  # [k, d_sae]
    peak = flat.max(0).values.clamp_min(1e-12)
    scaled = (flat / peak * BINS).clamp(max=BINS - 1).long()
    counts = torch.zeros(BINS, flat.shape[1], dtype=torch.long)
    fired = flat > 0
    counts.scatter_add_(0, torch.where(fired, scaled, 0), fired.long())
    stats = {"ids": ids, "top_values": top.values.numpy(), "top_index": top.indices.numpy(),
             "peak": peak.numpy(), "counts": counts.numpy(), "fires": fired.sum(0).numpy(),
             "per_row": np.array(a.shape[1]), "corpus": np.array(path.name)}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, **stats)
    return stats, False


class FeatureCardAnalysis:
    key = "feature_card"
    Params = CardParams
    version = 1

    def run(self, handle, inputs, params: CardParams, job: Job = NO_JOB) -> FeatureCard:
        handle = as_handle(handle)
        d = opened(params.folder, handle)
        f = params.feature
        if not 0 <= f < d.d_sae:
            raise EngineError(f"feature {f} does not exist (the dictionary has {d.d_sae}: 0..{d.d_sae - 1})")
        stats, cached = corpus_stats(handle, d, params, job)
        ids, per_row, first = stats["ids"], int(stats["per_row"]), len(handle.special_prefix)
        total = ids.shape[0] * per_row
        picks = [(int(i) // per_row, int(i) % per_row + first, float(v))
                 for v, i in zip(stats["top_values"][:, f], stats["top_index"][:, f]) if v > 0][:params.contexts]
        contexts = []
        if picks:
            rows = sorted({r for r, _, _ in picks})
            feature_acts = encode_rows(handle, d, ids[rows])[..., f].numpy()
            feature_acts[:, :first] = 0.0
            for r, pos, _ in picks:
                lo, hi = max(first, pos - params.before), min(ids.shape[1], pos + params.after + 1)
                tokens = tuple(handle.decode_tokens(ids[r, lo:hi].tolist()))
                contexts.append((tokens, tuple(float(v) for v in feature_acts[rows.index(r), lo:hi])))
        direction = d.W_dec[f].float() @ handle.unembed_weight().float().to(d.W_dec.device)
        order = direction.argsort()
        words = handle.decode_tokens

        def listed(index: torch.Tensor) -> tuple[tuple[str, float], ...]:
            return tuple(zip(words(index.tolist()), (float(direction[i]) for i in index)))

        edges = np.linspace(0, float(stats["peak"][f]), BINS + 1)
        return FeatureCard(
            feature=f, title=describe(d), contexts=tuple(contexts), histogram=(stats["counts"][:, f], edges),
            density=float(stats["fires"][f]) / total, promoted=listed(order.flip(0)[:8]), suppressed=listed(order[:8]),
            corpus_note=f"{total:,} tokens of {stats['corpus']}", n_tokens=total, from_cache=cached,
            digest=d.digest)


register(FeatureCardAnalysis())
