"""Information-flow routes from an `InfoFlow` (engine.analyses.info_flow): the edges above a
threshold and the tree of routes into one output token. Numpy only, no torch: the UI
thread calls these on every move of the threshold slider.

Rows of the graph (positions are its columns): row 2l is the residual stream entering
layer l, row 2l+1 the stream after layer l's attention, row 2L the output (after the last
MLP). Every edge goes from one row to the next:
- attention (kind 0): (2l, key) -> (2l+1, query), summed over heads;
- residual skip (kind 1): (2l, t) -> (2l+1, t) and (2l+1, t) -> (2l+2, t);
- MLP (kind 2): (2l+1, t) -> (2l+2, t).

The threshold works as in the LLM Transparency Tool with its default "renormalize after
threshold" on (llm_transparency_tool/routes/contributions.py,
`apply_threshold_and_renormalize`): at each node, the incoming parts below the threshold are
dropped, attention per (key, head) before heads are summed, and the parts kept are scaled
to sum to 1 again; the tree is then every edge reachable backwards from the output node
(routes/graph.py, `build_paths_to_predictions`). With renormalise=False the edges are the
raw head-summed weights at or above the threshold (the tool's other mode)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ATTENTION, SKIP, MLP = 0, 1, 2
DEFAULT_THRESHOLD = 0.04  # the LLM Transparency Tool's default


@dataclass(frozen=True)
class InfoFlow:
    """Per-node shares of what flows in (Ferrando & Voita 2024's L1 proximity). At every
    node the incoming shares sum to 1: attn[l, q].sum() + attn_resid[l, q] and
    mlp[l, t] + mlp_resid[l, t]."""

    tokens: tuple[str, ...]  # S
    n_layers: int
    n_heads: int
    attn: np.ndarray  # [L, S_query, S_key] resid_pre l at key -> resid_mid l at query, all heads; 0 for key > query
    attn_heads: np.ndarray  # [L, S_query, S_key, H] the same per head (sums over H to attn)
    attn_resid: np.ndarray  # [L, S] the skip resid_pre l -> resid_mid l at the same position
    mlp: np.ndarray  # [L, S] resid_mid l -> resid_post l through the MLP
    mlp_resid: np.ndarray  # [L, S] the skip resid_mid l -> resid_post l
    prompt: str = ""  # the text it was read from (a panel shows only the flow of the prompt it asked for)


@dataclass(frozen=True)
class FlowEdges:
    """Edges of the graph, one entry per edge (row convention in the module docstring)."""

    src_row: np.ndarray
    src_pos: np.ndarray
    dst_row: np.ndarray
    dst_pos: np.ndarray
    weight: np.ndarray
    kind: np.ndarray  # ATTENTION, SKIP or MLP

    def __len__(self) -> int:
        return len(self.weight)


def row_labels(n_layers: int) -> list[str]:
    """['L0 in', 'L0 attn', 'L1 in', ..., 'out']: the 2L + 1 rows of the graph."""
    return [label for l in range(n_layers) for label in (f"L{l} in", f"L{l} attn")] + ["out"]


def renormalised(flow: InfoFlow, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(attn [L, Sq, Sk], attn_resid, mlp, mlp_resid) after the tool's renormalising threshold:
    parts below it (attention per key and head) dropped, the rest of each node scaled to
    sum to 1. A node with no part left gets no incoming weight at all."""
    heads = np.where(flow.attn_heads >= threshold, flow.attn_heads, 0.0)
    skip = np.where(flow.attn_resid >= threshold, flow.attn_resid, 0.0)
    attn, denom = heads.sum(-1), skip + heads.sum((2, 3))
    scale = np.divide(1.0, denom, out=np.zeros_like(denom), where=denom > 0)
    mlp = np.where(flow.mlp >= threshold, flow.mlp, 0.0)
    mlp_skip = np.where(flow.mlp_resid >= threshold, flow.mlp_resid, 0.0)
    denom2 = mlp + mlp_skip
    scale2 = np.divide(1.0, denom2, out=np.zeros_like(denom2), where=denom2 > 0)
    return attn * scale[..., None], skip * scale, mlp * scale2, mlp_skip * scale2


def flow_edges(flow: InfoFlow, threshold: float = DEFAULT_THRESHOLD, renormalise: bool = True) -> FlowEdges:
    """Every edge whose weight is at least `threshold` (and above 0), by layer: attention,
    then the attention skip, the MLP, the MLP skip. Renormalised weights (the default) are
    what is left of each node after dropping the parts below the threshold."""
    if renormalise:
        attn, attn_resid, mlp, mlp_resid = renormalised(flow, threshold)
    else:
        attn, attn_resid, mlp, mlp_resid = flow.attn, flow.attn_resid, flow.mlp, flow.mlp_resid
    kept = lambda w: (w >= threshold) & (w > 0)  # noqa: E731
    pieces: list[tuple[np.ndarray, ...]] = []
    for l in range(flow.n_layers):
        q, k = np.nonzero(kept(attn[l]))
        pieces.append((np.full_like(q, 2 * l), k, np.full_like(q, 2 * l + 1), q, attn[l][q, k],
                       np.full_like(q, ATTENTION)))
        for row, weights, kind in ((2 * l, attn_resid[l], SKIP), (2 * l + 1, mlp[l], MLP),
                                   (2 * l + 1, mlp_resid[l], SKIP)):
            t = np.flatnonzero(kept(weights))
            pieces.append((np.full_like(t, row), t, np.full_like(t, row + 1), t, weights[t], np.full_like(t, kind)))
    columns = [np.concatenate([p[i] for p in pieces]) for i in range(6)] if pieces else [np.zeros(0)] * 6
    ints = [c.astype(np.int32) for c in columns[:4]]
    return FlowEdges(*ints, columns[4].astype(np.float32), columns[5].astype(np.int8))


def routes_from(edges: FlowEdges, n_layers: int, position: int) -> np.ndarray:
    """Which of `edges` lie on a route into the output at `position`: reachable going
    backwards from node (2L, position). Each edge climbs one row, so one sweep down suffices."""
    n_pos = int(max(edges.src_pos.max(initial=-1), edges.dst_pos.max(initial=-1), position)) + 1
    reached = np.zeros((2 * n_layers + 1, n_pos), dtype=bool)
    reached[2 * n_layers, position] = True
    on_route = np.zeros(len(edges), dtype=bool)
    for row in range(2 * n_layers, 0, -1):
        into = np.flatnonzero(edges.dst_row == row)
        hit = into[reached[row, edges.dst_pos[into]]]
        on_route[hit] = True
        reached[row - 1, edges.src_pos[hit]] = True
    return on_route


def route_tree(flow: InfoFlow, threshold: float = DEFAULT_THRESHOLD, position: int = -1,
               renormalise: bool = True) -> np.ndarray:
    """A mask over `flow_edges(flow, threshold, renormalise)`: the edges on some route into
    the output at `position` (negative counts from the end), as the tool draws it."""
    n = len(flow.tokens)
    if not -n <= position < n:
        raise IndexError(f"position {position} is outside the prompt's {n} tokens")
    return routes_from(flow_edges(flow, threshold, renormalise), flow.n_layers, position % n)
