"""The computational graph of edge attribution (EAP, EAP-IG; Syed et al. 2023, Hanna et al.
2024): which outputs can reach which inputs through the residual stream, circuits picked
from scored edges, and their faithfulness numbers. No torch: the UI thread recomputes a
circuit on every slider move with these functions.

Sources (senders) write into the residual stream: the embeddings, every head's output, every
MLP's output. Destinations (receivers) read it: every head's query, key and value input
(keys and values per KV group under grouped-query attention: that is what a key/value
projection reads), every MLP's input, and the logits. An edge joins a source to every
destination after it; an edge's score says how much the answer needs it."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

EMBED, LOGITS = "embed", "logits"


@dataclass(frozen=True)
class EdgeGraph:
    n_layers: int
    n_heads: int
    n_kv: int  # key/value heads (== n_heads without grouped-query attention)

    # ---- indices: sources [U], destinations [V] -----------------------------------------
    @property
    def per_layer_sources(self) -> int:
        return self.n_heads + 1  # the heads, then the MLP

    @property
    def per_layer_destinations(self) -> int:
        return self.n_heads + 2 * self.n_kv + 1  # q per head, k and v per KV group, the MLP input

    @property
    def n_sources(self) -> int:
        return 1 + self.n_layers * self.per_layer_sources

    @property
    def n_destinations(self) -> int:
        return self.n_layers * self.per_layer_destinations + 1

    def head_source(self, layer: int, head: int) -> int:
        return 1 + layer * self.per_layer_sources + head

    def mlp_source(self, layer: int) -> int:
        return 1 + layer * self.per_layer_sources + self.n_heads

    def layer_destinations(self, layer: int) -> tuple[slice, slice, slice, int]:
        """(q, k, v, mlp) destination indices of one layer."""
        base = layer * self.per_layer_destinations
        q = slice(base, base + self.n_heads)
        k = slice(q.stop, q.stop + self.n_kv)
        v = slice(k.stop, k.stop + self.n_kv)
        return q, k, v, v.stop

    @property
    def logits_destination(self) -> int:
        return self.n_destinations - 1

    # ---- names ------------------------------------------------------------------------
    @cached_property
    def sources(self) -> tuple[str, ...]:
        names = [EMBED]
        for l in range(self.n_layers):
            names += [f"L{l}.H{h}" for h in range(self.n_heads)] + [f"L{l}.mlp"]
        return tuple(names)

    def _kv_name(self, layer: int, group: int) -> str:
        return f"L{layer}.H{group}" if self.n_kv == self.n_heads else f"L{layer}.KV{group}"

    @cached_property
    def destinations(self) -> tuple[str, ...]:
        names = []
        for l in range(self.n_layers):
            names += [f"L{l}.H{h}.q" for h in range(self.n_heads)]
            names += [f"{self._kv_name(l, g)}.k" for g in range(self.n_kv)]
            names += [f"{self._kv_name(l, g)}.v" for g in range(self.n_kv)]
            names.append(f"L{l}.mlp")
        return tuple(names + [LOGITS])

    def receivers(self, destination: int) -> tuple[str, str, tuple[str, ...]]:
        """(the component it is an input of, the port 'q'|'k'|'v'|'', every head that reads it):
        a key/value input under grouped-query attention is read by its group's heads."""
        name = self.destinations[destination]
        if name == LOGITS:
            return LOGITS, "", ()
        if name.endswith(".mlp"):
            return name, "", ()
        base, port = name.rsplit(".", 1)
        layer = int(base.split(".")[0][1:])
        if ".KV" in base:
            group = int(base.rsplit("KV", 1)[1])
            size = self.n_heads // self.n_kv
            heads = tuple(f"L{layer}.H{h}" for h in range(group * size, (group + 1) * size))
            return heads[0], port, heads
        return base, port, (base,)

    # ---- which edges exist ------------------------------------------------------------
    @cached_property
    def source_depth(self) -> np.ndarray:
        """Where each source writes: embed -1, layer l's heads 2l, its MLP 2l + 1."""
        depth = np.full(self.n_sources, -1)
        for l in range(self.n_layers):
            depth[self.head_source(l, 0):self.head_source(l, 0) + self.n_heads] = 2 * l
            depth[self.mlp_source(l)] = 2 * l + 1
        return depth

    @cached_property
    def destination_depth(self) -> np.ndarray:
        """Where each destination reads: layer l's attention 2l, its MLP 2l + 1, the logits last."""
        depth = np.full(self.n_destinations, 2 * self.n_layers)
        for l in range(self.n_layers):
            q, _, v, mlp = self.layer_destinations(l)
            depth[q.start:v.stop] = 2 * l
            depth[mlp] = 2 * l + 1
        return depth

    @cached_property
    def valid(self) -> np.ndarray:
        """[U, V] bool: the source writes before the destination reads."""
        return self.source_depth[:, None] < self.destination_depth[None, :]

    @cached_property
    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """(source index [E], destination index [E]) of every edge, in a fixed order."""
        u, v = np.nonzero(self.valid)
        return u, v

    @property
    def n_edges(self) -> int:
        """Counted, not enumerated: a session's shape is checked before any index is built."""
        per_layer = self.per_layer_sources
        total = self.n_sources  # into the logits
        for l in range(self.n_layers):
            before = 1 + l * per_layer  # sources written before layer l's attention reads
            total += (self.n_heads + 2 * self.n_kv) * before + before + self.n_heads
        return total

    def edge_name(self, e: int) -> str:
        u, v = self.edges[0][e], self.edges[1][e]
        return f"{self.sources[u]} -> {self.destinations[v]}"

    def edge_index(self, name: str) -> int:
        """The index of 'L0.H3 -> L1.H0.k' (ValueError for an unknown edge)."""
        sender, receiver = (part.strip() for part in name.split("->"))
        u, v = self.sources.index(sender), self.destinations.index(receiver)
        hits = np.flatnonzero((self.edges[0] == u) & (self.edges[1] == v))
        if not len(hits):
            raise ValueError(f"{sender} does not reach {receiver}")
        return int(hits[0])

    @cached_property
    def reader_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(destination, component) for every component that reads a destination: a head its
        q, its group's k and v, an MLP its input, the logits (component n_sources) theirs."""
        index = {name: i for i, name in enumerate(self.sources)}
        dest, comp = [], []
        for d in range(self.n_destinations):
            component, _, heads = self.receivers(d)
            for name in heads or (component,):
                dest.append(d)
                comp.append(self.n_sources if name == LOGITS else index[name])
        return np.array(dest), np.array(comp)

    @cached_property
    def edges_by_reader(self) -> dict[str, np.ndarray]:
        """Component name -> the edges into an input it reads (greedy opens them when it is reached)."""
        pair_dest, pair_comp = self.reader_pairs
        names = list(self.sources) + [LOGITS]
        order = np.argsort(self.edges[1], kind="stable")
        starts = np.searchsorted(self.edges[1][order], np.arange(self.n_destinations + 1))
        out: dict[str, list] = {}
        for d, c in zip(pair_dest.tolist(), pair_comp.tolist()):
            out.setdefault(names[c], []).append(order[starts[d]:starts[d + 1]])
        return {name: np.concatenate(parts) for name, parts in out.items()}

    def missing_matrix(self, in_circuit: np.ndarray) -> np.ndarray:
        """[U, V] float: 1 where an edge exists and is left out of the circuit (patched from the
        corrupted run), 0 elsewhere."""
        missing = np.zeros((self.n_sources, self.n_destinations), dtype=np.float32)
        u, v = self.edges
        missing[u, v] = ~np.asarray(in_circuit, dtype=bool)
        return missing


@lru_cache(maxsize=8)
def graph_of(n_layers: int, n_heads: int, n_kv: int) -> EdgeGraph:
    """One graph per shape, so its cached indices are built once (2M edges for GPT-2-XL)."""
    return EdgeGraph(n_layers, n_heads, n_kv)


# ---- circuits from scores --------------------------------------------------------------
def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """The n edges with the largest |score| (EAP-IG's apply_topn), as a bool mask [E]."""
    mask = np.zeros(len(scores), dtype=bool)
    n = int(np.clip(n, 0, len(scores)))
    if n:
        mask[np.argsort(-np.abs(scores), kind="stable")[:n]] = True
    return mask


def greedy(graph: EdgeGraph, scores: np.ndarray, n: int) -> np.ndarray:
    """Grow the circuit back from the logits (EAP-IG's apply_greedy): take the best |score|
    edge into a component already in the circuit, which brings its sender in, n times."""
    u, _ = graph.edges
    by_reader = graph.edges_by_reader
    magnitude = -np.abs(np.asarray(scores, dtype=float))
    in_circuit = np.zeros(len(scores), dtype=bool)
    reached: set[str] = set()
    heap: list[tuple[float, int]] = []

    def reach(component: str) -> None:
        if component not in reached:
            reached.add(component)
            edges = by_reader.get(component)
            if edges is not None and len(edges):
                push = heapq.heappush
                for item in zip(magnitude[edges].tolist(), edges.tolist()):
                    push(heap, item)

    reach(LOGITS)
    taken = 0
    while heap and taken < n:
        _, e = heapq.heappop(heap)
        if in_circuit[e]:
            continue
        in_circuit[e] = True
        taken += 1
        reach(graph.sources[u[e]])
    return in_circuit


def prune(graph: EdgeGraph, in_circuit: np.ndarray) -> np.ndarray:
    """Drop edges that lead nowhere: a sender with no way to the logits through the circuit, a
    receiver the embeddings cannot reach through it (EAP-IG's prune), until nothing changes.
    Vectorised over edges (components are numbered as sources, the logits last)."""
    u, v = graph.edges
    pair_dest, pair_comp = graph.reader_pairs
    keep = np.asarray(in_circuit, dtype=bool).copy()
    while True:
        sends = np.zeros(graph.n_sources + 1, dtype=bool)
        sends[u[keep]] = True
        kept_dest = np.zeros(graph.n_destinations, dtype=bool)
        kept_dest[v[keep]] = True
        fed = np.zeros(graph.n_sources + 1, dtype=bool)
        fed[0] = True  # the embeddings
        fed[pair_comp[kept_dest[pair_dest]]] = True
        reader_sends = np.zeros(graph.n_destinations, dtype=bool)
        reader_sends[pair_dest[sends[pair_comp]]] = True
        reader_sends[graph.logits_destination] = True  # the logits need no sender after them
        new = keep & fed[u] & reader_sends[v]
        if (new == keep).all():
            return keep
        keep = new


def nodes_of(graph: EdgeGraph, in_circuit: np.ndarray) -> list[str]:
    """Every component an in-circuit edge touches, in source order, the logits last."""
    u, v = graph.edges
    pair_dest, pair_comp = graph.reader_pairs
    touched = np.zeros(graph.n_sources + 1, dtype=bool)
    touched[u[in_circuit]] = True
    kept_dest = np.zeros(graph.n_destinations, dtype=bool)
    kept_dest[v[in_circuit]] = True
    touched[pair_comp[kept_dest[pair_dest]]] = True
    return [s for i, s in enumerate(graph.sources) if touched[i]] + ([LOGITS] if touched[-1] else [])


# ---- faithfulness numbers --------------------------------------------------------------
CURVE_FRACTIONS = (0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)  # MIB's circuit sizes


def curve_sizes(n_edges: int, fractions=CURVE_FRACTIONS) -> np.ndarray:
    """Circuit sizes (edge counts) for a faithfulness curve: the fractions of all edges, each at
    least one edge more than the one before while edges last."""
    sizes = sorted({int(round(f * n_edges)) for f in fractions} | {0, n_edges})
    return np.array(sizes)


@dataclass(frozen=True)
class CurveSummary:
    area: float  # MIB's CPR: the area under faithfulness over the share of edges (higher: better)
    cmd: float  # MIB's CMD: the area under |1 - faithfulness| (lower: better)
    smallest_at: int | None  # the fewest edges reaching `level`, or None
    level: float = 0.8


def summarise(sizes: np.ndarray, faithfulness: np.ndarray, n_edges: int, level: float = 0.8) -> CurveSummary:
    """Trapezoid areas over the share of edges in the circuit (MIB, arXiv 2504.13151)."""
    x = np.asarray(sizes, dtype=float) / max(n_edges, 1)
    f = np.asarray(faithfulness, dtype=float)
    reach = np.flatnonzero(f >= level)
    return CurveSummary(float(np.trapezoid(f, x)), float(np.trapezoid(np.abs(1 - f), x)),
                        int(sizes[reach[0]]) if len(reach) else None, level)


def normalised(metric: np.ndarray | float, clean: float, corrupt: float) -> np.ndarray:
    """Faithfulness: the full model 1, the empty circuit (everything corrupted) 0."""
    return (np.asarray(metric, dtype=float) - corrupt) / (clean - corrupt)
