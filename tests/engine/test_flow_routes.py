"""Routes through an information-flow graph (engine.flow_routes), on a hand-made InfoFlow of
2 layers, 3 tokens and 2 heads whose edges and routes are worked out by hand below."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.flow_routes import (ATTENTION, MLP, SKIP, FlowEdges, InfoFlow, flow_edges, renormalised, route_tree,
                               row_labels)

# attention parts [layer][query] = {key: (head 0, head 1)}, and the skip; every node sums to 1
ATTN = [
    [({0: (0.5, 0.0)}, 0.5),
     ({0: (0.3, 0.01), 1: (0.02, 0.02)}, 0.65),  # key 1: 0.04 summed, but each head below 0.04
     ({0: (0.01, 0.01), 1: (0.6, 0.0), 2: (0.05, 0.03)}, 0.3)],
    [({0: (0.2, 0.2)}, 0.6),
     ({0: (0.1, 0.0), 1: (0.0, 0.0)}, 0.9),
     ({0: (0.03, 0.0), 1: (0.0, 0.5), 2: (0.07, 0.0)}, 0.4)],
]
MLP_SHARES = [[0.1, 0.5, 0.02], [0.5, 0.3, 0.9]]  # [layer][token] through the MLP; the skip takes the rest


def hand_made() -> InfoFlow:
    heads, skip = np.zeros((2, 3, 3, 2)), np.zeros((2, 3))
    for l, layer in enumerate(ATTN):
        for q, (parts, resid) in enumerate(layer):
            for k, pair in parts.items():
                heads[l, q, k] = pair
            skip[l, q] = resid
    mlp = np.array(MLP_SHARES)
    return InfoFlow(("a", "b", "c"), 2, 2, heads.sum(-1), heads, skip, mlp, 1 - mlp)


def edge_keys(e: FlowEdges) -> list[tuple[int, ...]]:
    """(src_row, src_pos, dst_row, dst_pos, kind) of each edge, in order."""
    return [tuple(int(x) for x in row) for row in zip(e.src_row, e.src_pos, e.dst_row, e.dst_pos, e.kind)]


def edge_set(flow: InfoFlow, threshold: float, renormalise: bool, mask: np.ndarray | None = None) -> set[tuple]:
    keys = edge_keys(flow_edges(flow, threshold, renormalise))
    return {key for i, key in enumerate(keys) if mask is None or mask[i]}


# by hand, raw weights >= 0.04, backwards from (row 4, token 2):
# out 2 <- L1 attn 2 (MLP 0.9, skip 0.1); L1 attn 2 <- L1 in 1 (0.5), 2 (0.07), skip 0.4 (key 0: 0.03, no);
# L1 in 1 <- L0 attn 1 (MLP 0.5, skip 0.5); L1 in 2 <- L0 attn 2 (skip 0.98; MLP 0.02, no);
# L0 attn 1 <- L0 in 0 (0.31), 1 (0.04), skip; L0 attn 2 <- L0 in 1 (0.6), 2 (0.08), skip (key 0: 0.02, no)
TREE_RAW = {
    (3, 2, 4, 2, MLP), (3, 2, 4, 2, SKIP),
    (2, 1, 3, 2, ATTENTION), (2, 2, 3, 2, ATTENTION), (2, 2, 3, 2, SKIP),
    (1, 1, 2, 1, MLP), (1, 1, 2, 1, SKIP), (1, 2, 2, 2, SKIP),
    (0, 0, 1, 1, ATTENTION), (0, 1, 1, 1, ATTENTION), (0, 1, 1, 1, SKIP),
    (0, 1, 1, 2, ATTENTION), (0, 2, 1, 2, ATTENTION), (0, 2, 1, 2, SKIP),
}
# renormalised (the tool's default): thresholds per key *and head*, so L0's key 1 -> query 1
# (two heads of 0.02) goes; everything else on the route stays
TREE_RENORMALISED = TREE_RAW - {(0, 1, 1, 1, ATTENTION)}


def test_row_labels() -> None:
    assert row_labels(2) == ["L0 in", "L0 attn", "L1 in", "L1 attn", "out"]


def test_edges_by_hand() -> None:
    flow = hand_made()
    raw = flow_edges(flow, 0.04, renormalise=False)
    assert len(raw) == len(edge_set(flow, 0.04, False))  # no edge twice
    assert (raw.weight >= 0.04).all() and set(np.unique(raw.kind)) == {ATTENTION, SKIP, MLP}
    assert (0, 1, 1, 1, ATTENTION) in edge_set(flow, 0.04, False)  # 0.02 + 0.02 summed over heads
    assert (1, 2, 2, 2, MLP) not in edge_set(flow, 0.04, False)  # 0.02
    assert {(0, 0, 1, 0, ATTENTION), (0, 0, 1, 0, SKIP)} <= edge_set(flow, 0.04, False)
    # renormalised: L0 query 2 keeps 0.6 + 0.05 + skip 0.3 = 0.95, each scaled by 1 / 0.95
    e = flow_edges(flow, 0.04)
    weight = dict(zip(edge_keys(e), e.weight.tolist()))
    assert weight[(0, 2, 1, 2, ATTENTION)] == pytest.approx(0.05 / 0.95)
    assert weight[(0, 1, 1, 2, ATTENTION)] == pytest.approx(0.6 / 0.95)
    assert weight[(0, 2, 1, 2, SKIP)] == pytest.approx(0.3 / 0.95)
    assert weight[(1, 2, 2, 2, SKIP)] == pytest.approx(1.0)  # the MLP's 0.02 dropped
    assert (0, 1, 1, 1, ATTENTION) not in weight


def test_renormalised_nodes_sum_to_one_or_have_no_inputs() -> None:
    flow = hand_made()
    for threshold in (0.0, 0.04, 0.3, 0.7):
        attn, skip, mlp, mlp_skip = renormalised(flow, threshold)
        totals = np.concatenate([(attn.sum(-1) + skip).ravel(), (mlp + mlp_skip).ravel()])
        assert np.all(np.isclose(totals, 1) | (totals == 0)), (threshold, totals)
        assert np.isfinite(flow_edges(flow, threshold).weight).all()
    attn, skip, _, _ = renormalised(flow, 0.7)  # L0 query 2: no part reaches 0.7, so no edge in
    assert attn[0, 2].sum() == 0 and skip[0, 2] == 0
    np.testing.assert_allclose(renormalised(flow, 0.0)[0], flow.attn)


@pytest.mark.parametrize("renormalise, expected", [(False, TREE_RAW), (True, TREE_RENORMALISED)])
def test_route_tree_by_hand(renormalise: bool, expected: set) -> None:
    flow = hand_made()
    mask = route_tree(flow, 0.04, 2, renormalise)
    assert edge_set(flow, 0.04, renormalise, mask) == expected
    np.testing.assert_array_equal(route_tree(flow, 0.04, -1, renormalise), mask)


def test_route_tree_into_the_first_token() -> None:
    """Token 0 sees only itself: out 0 <- L1 attn 0 (MLP 0.5, skip 0.5) <- L1 in 0 (attention 0.4,
    skip 0.6) <- L0 attn 0 (MLP 0.1, skip 0.9) <- L0 in 0 (attention 0.5, skip 0.5)."""
    flow = hand_made()
    expected = {(3, 0, 4, 0, MLP), (3, 0, 4, 0, SKIP), (2, 0, 3, 0, ATTENTION), (2, 0, 3, 0, SKIP),
                (1, 0, 2, 0, MLP), (1, 0, 2, 0, SKIP), (0, 0, 1, 0, ATTENTION), (0, 0, 1, 0, SKIP)}
    assert edge_set(flow, 0.04, True, route_tree(flow, 0.04, 0)) == expected
    assert not route_tree(flow, 0.55, 0).any()  # the output's 0.5 / 0.5: nothing reaches 0.55, no route at all
    with pytest.raises(IndexError):
        route_tree(flow, 0.04, 3)


def random_flow(seed: int, n_layers: int = 3, n: int = 6, n_heads: int = 3) -> InfoFlow:
    rng = np.random.default_rng(seed)
    heads, skip = np.zeros((n_layers, n, n, n_heads)), np.zeros((n_layers, n))
    for l in range(n_layers):
        for q in range(n):
            shares = rng.dirichlet(np.full((q + 1) * n_heads + 1, 0.3))
            heads[l, q, :q + 1] = shares[:-1].reshape(q + 1, n_heads)
            skip[l, q] = shares[-1]
    mlp = rng.uniform(size=(n_layers, n))
    return InfoFlow(tuple("abcdef"[:n]), n_layers, n_heads, heads.sum(-1), heads, skip, mlp, 1 - mlp)


@pytest.mark.parametrize("renormalise", [False, True])
def test_raising_the_threshold_only_removes_edges(renormalise: bool) -> None:
    for seed in range(5):
        flow = random_flow(seed)
        thresholds = [0.0, 0.01, 0.04, 0.1, 0.3, 0.6]
        edges = [edge_set(flow, t, renormalise) for t in thresholds]
        trees = [edge_set(flow, t, renormalise, route_tree(flow, t, 5, renormalise)) for t in thresholds]
        for lower, higher in zip(edges, edges[1:]):
            assert higher <= lower
        for lower, higher in zip(trees, trees[1:]):
            assert higher <= lower
        assert edges[-1] < edges[0] and trees[0]  # the sweep does remove something


def test_every_tree_edge_leads_to_the_output() -> None:
    """Independent reachability: follow each tree edge forwards through tree edges to (2L, position)."""
    flow = random_flow(7)
    e = flow_edges(flow, 0.04)
    mask = route_tree(flow, 0.04, 4)
    tree = list(np.flatnonzero(mask))
    out_of = {}
    for i in tree:
        out_of.setdefault((int(e.src_row[i]), int(e.src_pos[i])), []).append((int(e.dst_row[i]), int(e.dst_pos[i])))

    def leads_out(node: tuple[int, int]) -> bool:
        return node == (2 * flow.n_layers, 4) or any(leads_out(nxt) for nxt in out_of.get(node, []))

    assert tree and all(leads_out((int(e.dst_row[i]), int(e.dst_pos[i]))) for i in tree)
    # and every edge left out whose head is on the tree would have been included: none exists
    on_tree = {(int(e.src_row[i]), int(e.src_pos[i])) for i in tree} | {(2 * flow.n_layers, 4)}
    left_out = [i for i in np.flatnonzero(~mask) if (int(e.dst_row[i]), int(e.dst_pos[i])) in on_tree]
    assert not left_out


def test_flow_routes_imports_without_torch() -> None:
    """The UI thread calls it as the threshold slider moves."""
    code = "import sys, engine.flow_routes; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
