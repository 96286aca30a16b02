"""The circuit panel: find a circuit by edge attribution (analysis 'circuit': EAP or EAP-IG
on the clean/corrupted pair or the prompt set in use), see it as a layered graph with its
faithfulness curve, change its size with the slider, and edit it by hand (double-click an
edge or a node in or out) while the live meter says how faithful the edited circuit is
(analysis 'circuit_eval', on the same pair or set). A click on an edge focuses its sender
head (every head view shows its pattern) and measures what patching only that edge costs.

What the widget draws: the edges in the circuit plus the CANDIDATES best-scored edges
outside it (faint, to double-click in). Under grouped-query attention a key/value input is
read by a group of heads; its edges are drawn into the group's first head (the details
name the group)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.analysis import PromptPair
from engine.circuit_results import CircuitDiscovery
from engine.edge_graph import LOGITS, EdgeGraph, graph_of, nodes_of, summarise
from widgets.circuit_options import CircuitOptions
from widgets.circuit_view import CircuitView

from .base import Panel, register_panel

KEY, EVAL = "circuit", "circuit_eval"
CANDIDATES = 300  # best-scored edges outside the circuit drawn as candidates
SETTLE_MS = 120  # a slider drag: redraw and measure once it rests this long
MAX_SHAPE = (128, 128)  # layers, heads a session part may name (Llama-70B: 80 x 64)
MAX_DRAWN = 800  # edges of the circuit drawn at most (the strongest); the rest are counted in the note
SESSION_SCORES = 2000  # the best-scored edges a session keeps (with every edge of the circuit)
NO_PAIR = "Set a corrupted prompt with as many tokens as the prompt (prompt panel), or a prompt set, then Find circuit"


class CircuitBox(QWidget):
    """The options line over the circuit view."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.options, self.view = CircuitOptions(), CircuitView()
        layout.addWidget(self.options)
        layout.addWidget(self.view, 1)


@register_panel
class CircuitsPanel(Panel):
    key, title, area, order = "circuits", "Circuit", "left", 62
    beside = ("tab", "patching")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.found = None  # CircuitDiscovery on display
        self.inputs = None  # the pair or set it was found on (the meter runs on the same)
        self.size = 0
        self.added: set[int] = set()
        self.removed: set[int] = set()
        self.clicked: int | None = None  # an edge index in the graph
        self.drawn: np.ndarray = np.zeros(0, dtype=int)  # widget edge -> graph edge
        self.prompt_set = None
        self.last_faithfulness: float | None = None
        self._base: dict[int, np.ndarray] = {}  # size -> the found circuit of that size (picking is not free)
        self._mask: np.ndarray | None = None  # the circuit as edited, recomputed when the size or an edit changes
        self._order = np.zeros(0, dtype=int)  # edges by |score|, strongest first
        self.settle = QTimer(self.widget)  # a slider drag redraws and measures once it rests
        self.settle.setSingleShot(True)
        self.settle.setInterval(SETTLE_MS)

    def create(self) -> QWidget:
        return CircuitBox()

    @property
    def view(self) -> CircuitView:
        return self.widget.view

    def connect(self) -> None:
        v, results = self.view, self.ctx.results
        v.find_requested.connect(self.find)
        self.settle.timeout.connect(self.guard(self._settled))
        v.edge_count_changed.connect(self.guard(self.set_size))
        v.edge_toggled.connect(self.guard(self.toggle_edge))
        v.node_toggled.connect(self.guard(self.toggle_node))
        v.edge_clicked.connect(self.guard(self.click_edge))
        v.reset_requested.connect(self.guard(self.reset))
        results.on(KEY, self.guard(self.show))
        results.on(EVAL, self.guard(self.show_meter))
        results.on("prompt_set", self.guard(self._set_arrived))
        results.failed.connect(lambda key, message: key in (KEY, EVAL) and self._failed(key, message))
        results.progress.connect(lambda key, done, total: key == KEY and self.view.set_details(
            f"finding the circuit: {done:,} of {total:,}…"))
        v.set_details(html.escape(NO_PAIR))

    def on_model_loaded(self, loaded) -> None:
        self.found = self.inputs = None
        self.view.set_circuit([], np.zeros(0), np.zeros(0), [], np.zeros(0), np.zeros(0, dtype=bool))
        self.view.set_curve(np.zeros(0), np.zeros(0), None, "")
        self.view.set_faithfulness(None)
        self.view.set_details(html.escape(NO_PAIR))

    def _set_arrived(self, prompt_set) -> None:
        self.prompt_set = prompt_set
        self.widget.options.set_set_available(True, f"{prompt_set.name} · {len(prompt_set):,} prompts")

    def _failed(self, key: str, message: str) -> None:
        if key == EVAL:
            self.view.set_faithfulness(self.last_faithfulness, False, message)
        else:
            self.view.set_details(html.escape(message or "Finding the circuit failed"))

    # ------------------------------------------------------------------ finding
    def find(self) -> int | None:
        opts = self.widget.options.options()
        s = self.controller.state
        if opts["data"] == "set":
            if self.prompt_set is None:
                self.view.set_details(html.escape("Make a prompt set first (Prompt set panel)"))
                return None
            inputs = self.prompt_set
        else:
            if not s.corrupted.strip():
                self.view.set_details(html.escape(NO_PAIR))
                return None
            inputs = PromptPair(s.prompt, s.corrupted, s.target, s.foil)
        job = self.controller.analyse(KEY, inputs, {"method": opts["method"], "selection": opts["selection"]})
        if job is not None:
            self.view.set_details(html.escape("finding the circuit…"))
        return job

    def show(self, result) -> None:
        self.found, self.inputs = result, result.inputs
        self.added, self.removed, self.clicked = set(), set(), None
        self._base, self._mask = {}, None
        self._order = np.argsort(-np.abs(result.scores), kind="stable")
        s = result.summary
        self.size = s.smallest_at if s is not None and s.smallest_at else max(1, result.graph.n_edges // 100)
        self.view.set_edge_count(self.size, result.graph.n_edges)
        self.view.set_details(html.escape(
            f"{'EAP-IG (' + str(result.steps) + ' steps)' if result.method == 'eap_ig' else 'EAP'} on {result.label}: "
            f"logit difference {result.clean_metric:.2f} clean, {result.corrupt_metric:.2f} corrupted. "
            "Click an edge to see what it carries; double-click an edge or a node to take it in or out."))
        self._settled()
        self.controller.state_changed.emit()

    # ------------------------------------------------------------------ the circuit as edited
    def circuit(self) -> np.ndarray:
        """The found circuit of the chosen size with the user's additions and removals, [E] bool
        (a copy; computed once per change)."""
        if self._mask is None:
            if self.size not in self._base:
                self._base[self.size] = self.found.circuit(self.size)
            mask = self._base[self.size].copy()
            if self.added:
                mask[list(self.added)] = True
            if self.removed:
                mask[list(self.removed)] = False
            self._mask = mask
        return self._mask.copy()

    def _changed(self) -> None:
        self._mask = None

    def set_size(self, n: int) -> None:
        """A slider step: the graph and the meter follow once the drag rests."""
        if self.found is None:
            return
        self.size = int(n)
        self._changed()
        self.settle.start()

    def _settled(self) -> None:
        if self.found is not None:
            self._redraw()
            self.evaluate()

    def _edited(self) -> None:
        """An edit by hand: the circuit as edited is computed again, drawn and measured."""
        self._changed()
        self._settled()

    def toggle_edge(self, index: int) -> None:
        if self.found is None or not 0 <= index < len(self.drawn):
            return
        e = int(self.drawn[index])
        if self.circuit()[e]:
            self.added.discard(e)
            self.removed.add(e)
        else:
            self.removed.discard(e)
            self.added.add(e)
        self._edited()

    def toggle_node(self, name: str) -> None:
        """A node in the circuit leaves with every edge touching it; one outside comes in with
        its drawn candidate edges to and from the circuit's nodes."""
        if self.found is None:
            return
        g, mask = self.found.graph, self.circuit()
        touching = self._edges_touching(g, name)
        inside = touching[mask[touching]]
        if len(inside):
            self.removed |= set(inside.tolist())
            self.added -= set(inside.tolist())
        else:
            nodes = set(nodes_of(g, mask)) | {name}
            u, v = g.edges
            for e in touching[np.isin(touching, self.drawn)]:
                if g.sources[u[e]] in nodes and self._receiver(g, v[e]) in nodes:
                    self.added.add(int(e))
                    self.removed.discard(int(e))
        self._edited()

    @staticmethod
    def _receiver(g: EdgeGraph, destination: int) -> str:
        return g.receivers(destination)[0]

    def _edges_touching(self, g: EdgeGraph, name: str) -> np.ndarray:
        u, v = g.edges
        pair_dest, pair_comp = g.reader_pairs
        component = g.n_sources if name == LOGITS else g.sources.index(name)
        reads = np.zeros(g.n_destinations, dtype=bool)
        reads[pair_dest[pair_comp == component]] = True
        return np.flatnonzero((u == component) | reads[v])

    def reset(self) -> None:
        self.added, self.removed = set(), set()
        self._edited()

    def click_edge(self, index: int) -> None:
        if self.found is None or not 0 <= index < len(self.drawn):
            return
        self.clicked = int(self.drawn[index])
        g = self.found.graph
        u, v = g.edges
        sender = g.sources[u[self.clicked]]
        if sender.startswith("L") and ".H" in sender:  # every head view shows the sender's pattern
            layer, head = (int(x[1:]) for x in sender.split("."))
            self.controller.focus_head(layer, head)
        self._describe(None)
        self.evaluate()

    def _describe(self, exact: float | None) -> None:
        if self.clicked is None or self.found is None:
            return
        g, e = self.found.graph, self.clicked
        u, v = g.edges
        component, port, heads = g.receivers(v[e])
        reads = {"q": "query", "k": "key", "v": "value", "": "input"}[port]
        group = f" (read by {', '.join(heads)})" if len(heads) > 1 else ""
        effect = ("measuring what patching only this edge costs…" if exact is None else
                  f"patching only this edge (exactly) moves the logit difference by {-exact:+.3f}")
        self.view.set_details(
            f"<b>{html.escape(g.sources[u[e]])} → {html.escape(component)}</b> {reads}{html.escape(group)}: "
            f"attribution {self.found.scores[e]:+.3f} (first-order: what corrupting it costs the logit difference). "
            f"{html.escape(effect)}. The sender's pattern is in the head views.")

    # ------------------------------------------------------------------ drawing and the meter
    def _redraw(self) -> None:
        r = self.found
        g, mask = r.graph, self.circuit()
        order = self._order
        inside = order[mask[order]]
        outside = order[~mask[order]][:CANDIDATES]
        drawn = np.concatenate([inside[:MAX_DRAWN], outside])
        u, v = g.edges
        senders = [g.sources[u[e]] for e in drawn]
        receivers = [g.receivers(v[e]) for e in drawn]
        names = [n for n in g.sources if n in set(senders) | {c for c, _, _ in receivers}]
        if any(c == LOGITS for c, _, _ in receivers):
            names.append(LOGITS)
        index = {n: i for i, n in enumerate(names)}
        self.drawn = drawn
        self.view.set_circuit(names, np.array([index[s] for s in senders], dtype=int),
                              np.array([index[c] for c, _, _ in receivers], dtype=int), [p for _, p, _ in receivers],
                              r.scores[drawn], mask[drawn], shape=(r.n_layers, r.n_heads))
        where = np.flatnonzero(drawn == self.clicked) if self.clicked is not None else []
        self.view.set_selected_edge(int(where[0]) if len(where) else None)
        self.view.set_edge_count(self.size, g.n_edges)
        s = r.summary
        summary = "" if s is None else (f"CPR (area) {s.area:.2f} · CMD {s.cmd:.2f}"
                                        + (f" · 80% at {s.smallest_at:,} edges" if s.smallest_at else ""))
        self.view.set_curve(r.sizes, r.faithfulness, self.size, summary)

    def _note(self) -> str:
        mask = self.circuit()
        nodes = nodes_of(self.found.graph, mask)
        edits = f" · your edits: +{len(self.added)} −{len(self.removed)}" if self.added or self.removed else ""
        hidden = max(0, int(mask.sum()) - MAX_DRAWN)
        more = f" ({hidden:,} weakest not drawn)" if hidden else ""
        return f"{int(mask.sum()):,} edges{more} · {len(nodes)} nodes{edits}"

    def evaluate(self) -> int | None:
        if self.found is None or self.inputs is None:
            self.view.set_faithfulness(self.last_faithfulness, False, "Find the circuit again to measure it")
            return None
        edges = tuple(int(e) for e in np.flatnonzero(self.circuit()))
        drop = (self.clicked,) if self.clicked is not None else ()
        job = self.controller.analyse(EVAL, self.inputs, {"circuits": (edges,), "drop": drop})
        self.view.set_faithfulness(self.last_faithfulness, True, self._note())
        return job

    def show_meter(self, result) -> None:
        if self.found is None:
            return
        self.last_faithfulness = float(result.faithfulness[0])
        self.view.set_faithfulness(self.last_faithfulness, False, self._note())
        if self.clicked is not None and self.clicked in result.drop:
            self._describe(float(result.drop_effect[result.drop.index(self.clicked)]))

    # ------------------------------------------------------------------ sessions and exports
    def session_state(self) -> dict | None:
        r = self.found
        if r is None:
            return None
        mask = self.circuit()
        keep = np.union1d(self._order[:SESSION_SCORES], np.flatnonzero(mask))
        pair = r.inputs if isinstance(r.inputs, PromptPair) else None
        return {"shape": [r.n_layers, r.n_heads, r.n_kv], "method": r.method, "steps": r.steps,
                "selection": r.selection, "label": r.label, "set_digest": r.set_digest,
                "pair": None if pair is None else [pair.clean, pair.corrupted, pair.target, pair.foil],
                "clean_metric": r.clean_metric, "corrupt_metric": r.corrupt_metric, "n_prompts": r.n_prompts,
                "scores": {int(e): float(r.scores[e]) for e in keep}, "sizes": np.asarray(r.sizes).tolist(),
                "faithfulness": np.asarray(r.faithfulness).tolist(), "size": self.size,
                "added": sorted(self.added), "removed": sorted(self.removed),
                "base": [int(e) for e in np.flatnonzero(self._base_of(self.size))],
                "faithfulness_now": self.last_faithfulness,
                "circuit": [self.found.graph.edge_name(e) for e in np.flatnonzero(mask)]}

    def _base_of(self, size: int) -> np.ndarray:
        if size not in self._base:
            self._base[size] = self.found.circuit(size)
        return self._base[size]

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict):
            raise ValueError("circuit: expected a table of fields")
        shape = data.get("shape")
        if not (isinstance(shape, list) and len(shape) == 3 and all(isinstance(x, int) and x > 0 for x in shape)
                and shape[0] <= MAX_SHAPE[0] and shape[1] <= MAX_SHAPE[1] and shape[1] % shape[2] == 0):
            raise ValueError("circuit: 'shape' must be [layers, heads, key/value heads] of a model (heads a multiple "
                             "of key/value heads)")
        g = EdgeGraph(*shape)  # its edges are counted here, never enumerated
        try:
            scores = {int(k): float(x) for k, x in dict(data.get("scores", {})).items()}
            sizes, faith = np.asarray(data.get("sizes", []), dtype=float), np.asarray(data.get("faithfulness", []), dtype=float)
            edits = [int(e) for e in (*data.get("added", []), *data.get("removed", []), *data.get("base", []))]
            int(data.get("size", 0)), int(data.get("steps", 1)), float(data.get("clean_metric", 0.0))
            float(data.get("corrupt_metric", 0.0))
            if data.get("faithfulness_now") is not None:
                float(data["faithfulness_now"])
        except (TypeError, ValueError):
            raise ValueError("circuit: scores, sizes, faithfulness, the size and the edits must be numbers") from None
        if any(not 0 <= e < g.n_edges for e in (*scores, *edits)):
            raise ValueError(f"circuit: an edge index is outside the {g.n_edges} edges of that model")
        if sizes.shape != faith.shape:
            raise ValueError("circuit: 'sizes' and 'faithfulness' must be as long as each other")
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is None:
            return

        loaded = getattr(self.controller, "loaded", None)
        info = getattr(loaded, "info", None)
        if info is not None and (info.n_layers, info.n_heads) != tuple(data["shape"][:2]):
            self.view.set_details(html.escape(f"The session's circuit was found on a {data['shape'][0]} × "
                                              f"{data['shape'][1]} model, this one is {info.n_layers} × "
                                              f"{info.n_heads}: find the circuit again."))
            return
        g = graph_of(*data["shape"])
        scores = np.zeros(g.n_edges)
        for e, x in data["scores"].items():
            scores[int(e)] = float(x)
        sizes, faith = np.asarray(data["sizes"], dtype=int), np.asarray(data["faithfulness"], dtype=float)
        pair = data.get("pair")
        inputs = PromptPair(*pair) if isinstance(pair, list) and len(pair) == 4 else None
        if inputs is None and self.prompt_set is not None and self.prompt_set.digest == data.get("set_digest"):
            inputs = self.prompt_set
        found = CircuitDiscovery(*data["shape"], scores, data.get("method", "eap_ig"), int(data.get("steps", 1)),
                                 float(data.get("clean_metric", 0)), float(data.get("corrupt_metric", 0)),
                                 int(data.get("n_prompts", 1)), data.get("selection", "greedy"), sizes, faith,
                                 summarise(sizes, faith, g.n_edges) if len(sizes) else None, data.get("label", ""),
                                 data.get("set_digest", ""), inputs)
        self.found, self.inputs, self.clicked = found, inputs, None
        self.size = int(data.get("size", 0))
        self._base, self._mask = {}, None
        self._order = np.argsort(-np.abs(scores), kind="stable")
        if data.get("base") is not None:  # the circuit as found, not re-picked from the kept scores
            base = np.zeros(g.n_edges, dtype=bool)
            base[[int(e) for e in data["base"]]] = True
            self._base[self.size] = base
        self.added, self.removed = set(map(int, data.get("added", []))), set(map(int, data.get("removed", [])))
        self.last_faithfulness = data.get("faithfulness_now")
        self._redraw()
        self.view.set_faithfulness(self.last_faithfulness, False, self._note() + " (from the session)")
        self.view.set_details(html.escape(f"From the session: {found.label}. Find the circuit again for every "
                                          "edge's score (the session keeps the strongest)."))

    def export_tables(self) -> dict[str, Any]:
        r = self.found
        if r is None:
            return {}
        g, mask = r.graph, self.circuit()
        u, v = g.edges
        rows = [(g.sources[u[e]], g.receivers(v[e])[0], g.receivers(v[e])[1], float(r.scores[e]))
                for e in np.flatnonzero(mask)]
        return {"circuit_edges": (rows, ("sender", "receiver", "port", "score"),
                                  {"sizes": np.asarray(r.sizes), "faithfulness": np.asarray(r.faithfulness)})}

    def export_files(self, folder: Path) -> list[Path]:
        state = self.session_state()
        if state is None:
            return []
        path = Path(folder) / "circuit.json"
        keep = ("method", "steps", "selection", "label", "pair", "set_digest", "clean_metric", "corrupt_metric",
                "sizes", "faithfulness", "size", "faithfulness_now", "circuit")
        path.write_text(json.dumps({k: state[k] for k in keep}, indent=1), encoding="utf-8")
        return [path]
