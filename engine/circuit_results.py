"""What circuit discovery hands out (no torch: the UI thread reads these and re-picks
circuits from the scores on every slider move)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .edge_graph import CurveSummary, EdgeGraph, graph_of, greedy, prune, top_n


@dataclass(frozen=True)
class CircuitDiscovery:
    n_layers: int
    n_heads: int
    n_kv: int
    scores: np.ndarray  # [E] (EdgeGraph.edges order), logit-difference units, mean over prompts
    method: str
    steps: int
    clean_metric: float  # mean logit difference, clean
    corrupt_metric: float
    n_prompts: int
    selection: str
    sizes: np.ndarray  # [K] circuit sizes (edges) of the faithfulness curve
    faithfulness: np.ndarray  # [K]
    summary: CurveSummary | None
    label: str = ""  # the pair or the set, in words
    set_digest: str = ""
    inputs: object = field(default=None, compare=False)  # the pair or set (circuit_eval runs on the same)

    @property
    def graph(self) -> EdgeGraph:
        return graph_of(self.n_layers, self.n_heads, self.n_kv)

    def circuit(self, n: int, selection: str | None = None) -> np.ndarray:
        """The pruned circuit of (at most) n edges picked from these scores, [E] bool."""
        return pick(self.graph, self.scores, n, selection or self.selection)


def pick(graph: EdgeGraph, scores: np.ndarray, n: int, selection: str) -> np.ndarray:
    chosen = greedy(graph, scores, n) if selection == "greedy" else top_n(scores, n)
    return prune(graph, chosen)


@dataclass(frozen=True)
class CircuitFaithfulness:
    circuits: tuple[tuple[int, ...], ...]
    metric: np.ndarray  # [K] mean logit difference with each circuit
    faithfulness: np.ndarray  # [K] normalised: clean 1, corrupted 0
    clean_metric: float
    corrupt_metric: float
    drop: tuple[int, ...] = ()
    drop_metric: np.ndarray = field(default_factory=lambda: np.zeros(0))  # [D] with only that edge patched

    @property
    def drop_effect(self) -> np.ndarray:
        """What patching only that edge costs the logit difference (exact, not an estimate)."""
        return self.clean_metric - self.drop_metric
