"""Analyses 'circuit' and 'circuit_eval': find a circuit by edge attribution (EAP, EAP-IG) on
a clean/corrupted pair or a prompt set, and say how faithful a circuit is.

An edge's score is a first-order estimate of how much the answer needs it:
    score(u -> v) = Σ_positions (a_u(clean) - a_u(corrupted)) · d metric / d input_v
where the metric is logit(target) - logit(foil) at the last position and the gradient is
taken on the clean run (EAP, Syed et al. 2023) or averaged over `steps` runs whose input
embeddings go from the corrupted to the clean ones (EAP-IG, Hanna et al. 2024; step k of m
sits at k/m, so m = 1 is EAP). Positive: corrupting the edge alone lowers the logit
difference by about that much (the edge helps the answer); negative: it hurts it. Over a
set, the mean over prompts.

A circuit is evaluated on the clean run with every edge outside it patched from the
corrupted run (its destination reads the corrupted source output instead of this run's);
faithfulness = (m(circuit) - m(corrupted)) / (m(clean) - m(corrupted)) on the set's mean
metrics: the full model 1, the empty circuit 0 (exactly: the residual stream is the sum of
its sources and of constants both runs share)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import NO_JOB, Job, PromptPair, register
from ..circuit_results import CircuitDiscovery, CircuitFaithfulness, pick
from ..edge_graph import curve_sizes, normalised, summarise
from ..errors import EngineError
from ..handle import as_handle
from ..prompt_sets import PromptSet

METHODS = ("eap", "eap_ig")
SELECTIONS = ("greedy", "top_n")


@dataclass
class _Group:
    """Prompts of one length, tokenised, with their logit-difference directions."""

    clean: torch.Tensor  # [P, S]
    corrupt: torch.Tensor
    direction: torch.Tensor  # [P, d] W_U[:, target] - W_U[:, foil]
    offset: torch.Tensor  # [P] the unembedding bias difference


def _groups(handle, inputs) -> list[_Group]:
    if isinstance(inputs, PromptPair):
        rows = [(inputs.clean, inputs.corrupted, inputs.target, inputs.foil)]
    elif isinstance(inputs, PromptSet):
        rows = [(r.prompt, r.corrupted, r.target, r.foil) for r in inputs.rows]
    else:
        raise EngineError("circuits run on a clean/corrupted pair or a prompt set")
    by_length: dict[int, list] = {}
    for i, (clean, corrupt, target, foil) in enumerate(rows):
        if not (clean or "").strip() or not (corrupt or "").strip() or not target or not foil:
            raise EngineError(f"prompt {i + 1}: a circuit needs a clean and a corrupted prompt, a target and a foil")
        a, b = handle.tokenize(clean), handle.tokenize(corrupt)
        if len(a) != len(b):
            raise EngineError(f"prompt {i + 1}: the corrupted prompt has {len(b)} tokens, the clean one {len(a)} "
                              "(edges are patched position by position)")
        direction, offset = handle.logit_direction(handle.token_id(target), handle.token_id(foil))
        by_length.setdefault(len(a), []).append((a, b, direction.detach().float(), offset))
    device = handle.unembed_device()
    return [_Group(torch.as_tensor(np.stack([r[0] for r in g]), dtype=torch.long, device=device),
                   torch.as_tensor(np.stack([r[1] for r in g]), dtype=torch.long, device=device),
                   torch.stack([r[2] for r in g]).to(device), torch.tensor([r[3] for r in g], device=device))
            for g in by_length.values()]


def _chunks(group: _Group, per_row: int, budget: int):
    """Row slices of a group that keep [rows, S, max(U, V), d] within the float budget."""
    rows = max(1, budget // max(per_row * group.clean.shape[1], 1))
    for start in range(0, group.clean.shape[0], rows):
        sl = slice(start, start + rows)
        yield _Group(group.clean[sl], group.corrupt[sl], group.direction[sl], group.offset[sl])


@dataclass(frozen=True)
class CircuitParams:
    method: str = "eap_ig"
    steps: int = 5  # EAP-IG's integration steps
    selection: str = "greedy"  # how a circuit of n edges is picked for the curve: greedy from the logits, or top_n
    curve: bool = True  # evaluate circuits of growing size (MIB's sizes)
    batch_floats: int = 1 << 25  # activations (and gradients) per chunk, in floats


def _integrated_gradients(ef, chunk: _Group, start: torch.Tensor, end: torch.Tensor, steps: int,
                          budget: int) -> torch.Tensor:
    """The mean over k = 1..steps of the gradients with the embeddings at start + k/steps (end -
    start): every step a row of one batched forward and backward (larger matrix products), or
    one step at a time when the steps' gradients would not fit the float budget together."""
    B, S = chunk.clean.shape
    alphas = torch.arange(1, steps + 1, dtype=start.dtype, device=start.device) / steps
    if steps * B * S * ef.graph.n_destinations * ef.handle.info.d_model > budget:
        total = None
        for alpha in alphas:
            grads, _ = ef.gradients(chunk.clean, chunk.direction, chunk.offset, embed=start + alpha * (end - start))
            total = grads if total is None else total.add_(grads)
        return total / steps
    embed = (start[None] + alphas[:, None, None, None] * (end - start)[None]).flatten(0, 1)  # [steps * B, S, d]
    grads, _ = ef.gradients(chunk.clean.repeat(steps, 1), chunk.direction.repeat(steps, 1), chunk.offset.repeat(steps),
                            embed=embed)
    return grads.view(steps, B, *grads.shape[1:]).mean(0)


def edge_scores(handle, groups: list[_Group], method: str, steps: int, budget: int,
                job: Job = NO_JOB) -> tuple[np.ndarray, float, float, int]:
    """(scores [E], mean clean metric, mean corrupted metric, prompts) by EAP / EAP-IG."""
    ef = handle.edges()
    g = ef.graph
    total = np.zeros((g.n_sources, g.n_destinations))
    clean_sum = corrupt_sum = 0.0
    n = 0
    per_row = max(g.n_sources, g.n_destinations) * handle.info.d_model * (steps if method == "eap_ig" else 1)
    chunks = [chunk for group in groups for chunk in _chunks(group, per_row, budget)]
    for i, chunk in enumerate(chunks):
        job.step(i, len(chunks))
        clean_src, clean_h = ef.sources(chunk.clean)
        corrupt_src, corrupt_h = ef.sources(chunk.corrupt)
        diff = (clean_src - corrupt_src).float()
        if method == "eap":
            grads, _ = ef.gradients(chunk.clean, chunk.direction, chunk.offset)
        else:
            grads = _integrated_gradients(ef, chunk, corrupt_src[:, :, 0], clean_src[:, :, 0], steps, budget)
        B, S, U, d = diff.shape
        total += (diff.permute(2, 0, 1, 3).reshape(U, -1) @ grads.permute(2, 0, 1, 3).reshape(g.n_destinations, -1).T
                  ).double().cpu().numpy()
        clean_sum += float(ef.metric(clean_h, chunk.direction, chunk.offset).sum())
        corrupt_sum += float(ef.metric(corrupt_h, chunk.direction, chunk.offset).sum())
        n += B
    u, v = g.edges
    return total[u, v] / n, clean_sum / n, corrupt_sum / n, n


def circuit_metrics(handle, groups: list[_Group], masks: list[np.ndarray], budget: int,
                    job: Job = NO_JOB) -> tuple[np.ndarray, float, float]:
    """(mean metric per circuit [K], mean clean metric, mean corrupted metric): each circuit run
    on the clean prompts with the edges outside it patched from the corrupted run."""
    ef = handle.edges()
    g = ef.graph
    missing_all = [torch.as_tensor(g.missing_matrix(m)) for m in masks]
    sums, clean_sum, corrupt_sum, n = np.zeros(len(masks)), 0.0, 0.0, 0
    per_row = g.n_sources * handle.info.d_model
    chunks = [chunk for group in groups for chunk in _chunks(group, per_row * 2, budget)]
    for c, chunk in enumerate(chunks):
        corrupt_src, corrupt_h = ef.sources(chunk.corrupt)
        _, clean_h = ef.sources(chunk.clean)
        P = chunk.clean.shape[0]
        for k, missing in enumerate(missing_all):
            job.step(c * len(masks) + k, len(chunks) * len(masks))
            hidden = ef.patched(chunk.clean, corrupt_src, missing.to(corrupt_src.device).expand(P, -1, -1))
            sums[k] += float(ef.metric(hidden, chunk.direction, chunk.offset).sum())
        clean_sum += float(ef.metric(clean_h, chunk.direction, chunk.offset).sum())
        corrupt_sum += float(ef.metric(corrupt_h, chunk.direction, chunk.offset).sum())
        n += P
    return sums / n, clean_sum / n, corrupt_sum / n


def _label(inputs) -> tuple[str, str]:
    if isinstance(inputs, PromptSet):
        return f"{len(inputs)} prompts", inputs.digest
    return f"{inputs.clean!r} vs {inputs.corrupted!r}", ""


class CircuitAnalysis:
    """Scores every edge and (with `curve`) measures circuits of MIB's sizes."""

    key = "circuit"
    Params = CircuitParams
    version = 1

    def run(self, handle, inputs, params: CircuitParams, job: Job = NO_JOB) -> CircuitDiscovery:
        handle = as_handle(handle)
        if params.method not in METHODS:
            raise EngineError(f"method is one of {', '.join(METHODS)}")
        if params.selection not in SELECTIONS:
            raise EngineError(f"selection is one of {', '.join(SELECTIONS)}")
        if params.method == "eap_ig" and not 1 <= params.steps <= 100:
            raise EngineError("EAP-IG takes 1 to 100 steps")
        groups = _groups(handle, inputs)
        scores, clean, corrupt, n = edge_scores(handle, groups, params.method, params.steps, params.batch_floats, job)
        if abs(clean - corrupt) < 1e-6:
            raise EngineError("The clean and corrupted prompts give the same logit difference: nothing to find")
        graph = handle.edges().graph
        sizes, faith, summary = np.zeros(0, dtype=int), np.zeros(0), None
        if params.curve:
            sizes = curve_sizes(graph.n_edges)
            masks = []
            for k in sizes:  # picking at GPT-2-XL size takes a second each: cancellable between them
                job.step(len(masks), len(sizes))
                masks.append(pick(graph, scores, int(k), params.selection))
            metrics, clean_e, corrupt_e = circuit_metrics(handle, groups, masks, params.batch_floats, job)
            faith = normalised(metrics, clean_e, corrupt_e)
            summary = summarise(sizes, faith, graph.n_edges)
        label, digest = _label(inputs)
        return CircuitDiscovery(graph.n_layers, graph.n_heads, graph.n_kv, scores, params.method,
                                params.steps if params.method == "eap_ig" else 1, clean, corrupt, n, params.selection,
                                sizes, faith, summary, label, digest, inputs)


@dataclass(frozen=True)
class CircuitEvalParams:
    circuits: tuple[tuple[int, ...], ...] = ()  # each circuit as its edges' indices (EdgeGraph.edges order)
    drop: tuple[int, ...] = ()  # edges whose effect alone is asked: the full model with only that edge patched
    batch_floats: int = 1 << 25


class CircuitEvalAnalysis:
    """Faithfulness of given circuits (the live meter while a circuit is edited by hand), and
    the exact effect of single edges (what a clicked edge carries)."""

    key = "circuit_eval"
    Params = CircuitEvalParams
    version = 1

    def run(self, handle, inputs, params: CircuitEvalParams, job: Job = NO_JOB) -> CircuitFaithfulness:
        handle = as_handle(handle)
        graph = handle.edges().graph
        masks = []
        for edges in (*params.circuits, *((e,) for e in params.drop)):
            if any(not 0 <= e < graph.n_edges for e in edges):
                raise EngineError(f"an edge index is outside this model's {graph.n_edges} edges")
            mask = np.zeros(graph.n_edges, dtype=bool)
            mask[list(edges)] = True
            masks.append(mask)
        for k in range(len(params.circuits), len(masks)):
            masks[k] = ~masks[k]
        metrics, clean, corrupt = circuit_metrics(handle, _groups(handle, inputs), masks, params.batch_floats, job)
        if abs(clean - corrupt) < 1e-6:
            raise EngineError("The clean and corrupted prompts give the same logit difference")
        k = len(params.circuits)
        return CircuitFaithfulness(params.circuits, metrics[:k], normalised(metrics[:k], clean, corrupt), clean, corrupt,
                                   params.drop, metrics[k:])


register(CircuitAnalysis())
register(CircuitEvalAnalysis())
