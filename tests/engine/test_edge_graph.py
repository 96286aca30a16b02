"""The edge graph's bookkeeping against counts worked out by hand, and circuit picking."""

from __future__ import annotations

import numpy as np
import pytest

from engine.edge_graph import (EdgeGraph, curve_sizes, greedy, nodes_of, normalised, prune, summarise, top_n)


def test_counts_match_a_hand_count() -> None:
    g = EdgeGraph(n_layers=2, n_heads=3, n_kv=3)
    assert g.n_sources == 1 + 2 * 4 and g.n_destinations == 2 * (3 + 6 + 1) + 1
    # layer 0 attention reads embed (1 source x 9 inputs); layer 0 MLP reads embed + 3 heads;
    # layer 1 attention reads 5 sources x 9; layer 1 MLP 8 sources; logits all 9
    assert g.n_edges == 9 + 4 + 45 + 8 + 9


def test_no_edge_runs_backwards_and_names_round_trip() -> None:
    g = EdgeGraph(n_layers=3, n_heads=4, n_kv=2)
    u, v = g.edges
    assert (g.source_depth[u] < g.destination_depth[v]).all()
    for e in (0, g.n_edges // 2, g.n_edges - 1):
        assert g.edge_index(g.edge_name(e)) == e
    with pytest.raises(ValueError):
        g.edge_index("L2.H0 -> L1.H0.q")
    assert g.receivers(g.destinations.index("L1.KV1.k")) == ("L1.H2", "k", ("L1.H2", "L1.H3"))
    assert "L1.H3.k" not in g.destinations  # keys per KV group under grouped-query attention


def test_top_n_takes_the_largest_magnitudes() -> None:
    scores = np.array([0.1, -3.0, 2.0, 0.0, 1.0])
    assert top_n(scores, 2).tolist() == [False, True, True, False, False]
    assert top_n(scores, 0).sum() == 0 and top_n(scores, 99).sum() == 5


def test_greedy_only_takes_edges_into_what_it_has_reached() -> None:
    g = EdgeGraph(n_layers=2, n_heads=2, n_kv=2)
    rng = np.random.default_rng(1)
    scores = rng.normal(size=g.n_edges)
    chosen = greedy(g, scores, 12)
    u, v = g.edges
    reached = {"logits"}
    for e in np.flatnonzero(chosen):
        reached.add(g.sources[u[e]])
    for e in np.flatnonzero(chosen):  # every receiver is the logits or a sender of another chosen edge
        assert g.receivers(v[e])[0] in reached
    assert chosen.sum() == 12


def test_prune_drops_edges_that_lead_nowhere() -> None:
    g = EdgeGraph(n_layers=2, n_heads=2, n_kv=2)
    keep = np.zeros(g.n_edges, dtype=bool)
    keep[g.edge_index("embed -> L0.H0.v")] = True
    keep[g.edge_index("L0.H0 -> logits")] = True
    keep[g.edge_index("L0.H1 -> L1.H0.q")] = True  # L0.H1 is fed by nothing, L1.H0 feeds nothing
    pruned = prune(g, keep)
    assert [g.edge_name(e) for e in np.flatnonzero(pruned)] == ["embed -> L0.H0.v", "L0.H0 -> logits"]
    assert nodes_of(g, pruned) == ["embed", "L0.H0", "logits"]


def test_curve_numbers_are_trapezoid_areas() -> None:
    sizes = curve_sizes(1000)
    assert sizes[0] == 0 and sizes[-1] == 1000 and (np.diff(sizes) > 0).all()
    s = summarise(np.array([0, 500, 1000]), np.array([0.0, 1.0, 1.0]), 1000)
    assert s.area == pytest.approx(0.75) and s.cmd == pytest.approx(0.25) and s.smallest_at == 500
    assert normalised(5.0, clean=10.0, corrupt=0.0) == pytest.approx(0.5)


def test_the_counted_edges_are_the_enumerated_ones() -> None:
    for shape in [(1, 1, 1), (2, 3, 3), (5, 4, 2), (12, 12, 12), (30, 9, 3)]:
        g = EdgeGraph(*shape)
        assert g.n_edges == len(g.edges[0]) == int(g.valid.sum())
