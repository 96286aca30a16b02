"""The component graph: drag heads and MLPs onto the ablation bin; colours are DLA."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from widgets.component_graph import ComponentGraph

from ..intervention_edits import as_node_state
from .base import Panel, register_panel


@register_panel
class ComponentsPanel(Panel):
    key, title, area, order, front = "graph", "Components (drag to ablate)", "right", 40, True
    beside = ("tab", "detail")
    presented = True

    def create(self) -> QWidget:
        return ComponentGraph()

    def connect(self) -> None:
        c, graph = self.controller, self.widget
        graph.ablate_requested.connect(c.ablate)
        graph.restore_requested.connect(c.restore)
        graph.scale_requested.connect(c.scale)
        graph.restore_all_requested.connect(c.restore_all)
        self.ctx.document.on("interventions", lambda items: graph.set_interventions(as_node_state(items)))
        self.ctx.results.on("baseline", lambda _: self.update_graph())
        c.result_ready.connect(self.guard(lambda _: self.update_graph()))
        c.partial_ready.connect(self.guard(lambda result: result.dla is not None and self.update_graph(result)))
        c.pending_changed.connect(lambda pending: graph.set_updating("dla" in pending or "prediction" in pending))

    def on_model_loaded(self, loaded) -> None:
        self._scale_key = None
        self.widget.set_shape(loaded.info.n_layers, loaded.info.n_heads)
        self.widget.set_interventions(as_node_state(self.controller.state.interventions))

    def selected_names(self) -> list[str]:
        return self.widget.selected_names()

    def update_graph(self, result=None) -> None:
        """Node colours = DLA of the current run (or of a progressive `result` of it); deltas
        and the summary against the baseline."""
        c = self.controller
        result, base = result or c.last_result, c.baseline
        if result is None:
            return
        after = graph_values(result)
        comparable = base is not None and (base.prompt, base.target_id, base.foil_id) == \
            (result.prompt, result.target_id, result.foil_id)
        before = graph_values(base) if comparable else None
        deltas = None
        if before is not None and result.interventions:
            deltas = {name: after.get(name, 0.0) - value for name, value in before.items()}
        key = (result.prompt, result.target_id, result.foil_id)
        if key != getattr(self, "_scale_key", None) and (comparable or not result.interventions):
            self._scale_key = key  # a new prompt: the colour scale follows its clean run; ablations keep it
            self.widget.reset_colour_scale()
        self.widget.set_attribution(after, deltas)
        self.widget.set_summary(summary_html(c.state.target, base if comparable else None, result))

    def set_presenting(self, presenting: bool) -> None:
        self.widget.set_large_text(presenting)


def graph_values(result) -> dict[str, float]:
    """Per-node values for the graph: DLA of heads, MLPs, embeddings; empty without DLA."""
    if result is None or result.dla is None:
        return {}
    parts = result.dla.as_dict()
    values = {name: value for name, value in parts.items() if name.startswith("L") and "bias" not in name}
    values["embed"] = parts.get("embed", 0.0) + parts.get("pos_embed", 0.0)
    values["unembed"] = parts.get("final_bias", 0.0)
    return values


def summary_html(target: str, before, after) -> str:
    """'logit diff 3.21 → 0.45   P(target) 0.83 → 0.12' (only 'after' without a comparable baseline)."""
    if after.logit_diff is None:
        top = after.top_tokens[0]
        return f"Top prediction <b>{top!r}</b> ({after.top_probs[0]:.2f}). Set a target and foil to colour nodes by attribution."
    if before is None or before.logit_diff is None or not after.interventions:
        return (f"<b>logit diff</b> {after.logit_diff:+.2f} &nbsp;&nbsp; <b>P({target!r})</b> {after.target_prob:.3f}"
                " &nbsp;&nbsp; <i>drag a head or MLP onto the bin to ablate it</i>")
    return (f"<b>logit diff</b> {before.logit_diff:+.2f} → <b>{after.logit_diff:+.2f}</b> &nbsp;&nbsp; "
            f"<b>P({target!r})</b> {before.target_prob:.3f} → <b>{after.target_prob:.3f}</b> &nbsp;&nbsp; "
            f"({len(after.interventions)} intervention{'s' if len(after.interventions) != 1 else ''})")
