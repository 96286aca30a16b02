"""The set results panel: the mean effect of a sweep over a prompt set with its spread
(standard deviation, a bootstrap interval, how many prompts agree in sign), and the
drill-down: a cell's values over the prompts, and any prompt opened in the single-prompt
views. It shows whatever 'set_patching' result arrives (the prompt set panel asks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from PySide6.QtWidgets import QWidget

from widgets.set_results_view import SetResultsView

from .base import Panel, register_panel

KEY = "set_patching"
KEYS = (KEY, "set_dla", "set_attribution", "set_effects", "set_head_scores")  # every analysis over a set whose result has per-prompt cells and their spread


@register_panel
class SetResultsPanel(Panel):
    key, title, area, order = "set_results", "Set results", "bottom", 39
    beside = ("tab", "lens")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.shown = None  # the SetPatching on display
        self.cell: tuple[int, int] | None = None
        self.transposed = False  # heads across, layers down -> layers across

    def create(self) -> QWidget:
        return SetResultsView()

    def connect(self) -> None:
        w, results = self.widget, self.ctx.results
        for key in KEYS:
            results.on(key, self.guard(self.show))
        results.failed.connect(lambda key, message: key in KEYS and w.set_status(message))
        w.cell_chosen.connect(self.guard(self.drill))
        w.prompt_opened.connect(self.guard(self.open_prompt))
        w.clear("Run an analysis over a prompt set (Prompt set panel) to see its mean and spread here")

    def show(self, result) -> None:
        self.shown = result
        s = result.stats
        # a tall grid (30 layers x 9 heads) lies on its side: a docked heatmap is wide and short
        self.transposed = len(result.row_labels) > 2 * len(result.column_labels)
        stats = {"mean": s.mean, "std": s.std, "ci_low": s.ci_low, "ci_high": s.ci_high, "same_sign": s.same_sign}
        rows, columns = result.row_labels, result.column_labels
        if self.transposed:
            stats, rows, columns = {k: v.T for k, v in stats.items()}, columns, rows
        self.widget.set_status("")
        what = getattr(result, "what", "") or f"{result.sweep} patching ({result.mode})"
        self.widget.set_result(stats, rows, columns, result.n, f"{what} over {result.n:,} prompts",
                               per_row=getattr(result, "per_row_scale", False))
        flat = abs(s.mean).argmax()
        self.drill(*self._shown_cell(*divmod(int(flat), s.mean.shape[1])))  # start on the strongest cell

    def _shown_cell(self, row: int, col: int) -> tuple[int, int]:
        """A cell of the result as the heatmap shows it (and back: the map is its own inverse)."""
        return (col, row) if self.transposed else (row, col)

    def drill(self, row: int, col: int) -> None:
        """A heatmap cell (as shown) -> its values over the prompts."""
        if self.shown is None:
            return
        r, c = self._shown_cell(row, col)
        self.cell = (r, c)  # in the result's own rows and columns
        self.widget.show_cell(row, col, self.shown.per_prompt[:, r, c], list(self.shown.prompts))

    def open_prompt(self, index: int) -> None:
        """The prompt (its corrupted twin and answers) becomes the one every single-prompt view shows."""
        if self.shown is None or self.shown.prompt_set is None:
            return
        row = self.shown.prompt_set.rows[index]
        c = self.controller
        c.set_prompt(row.prompt)
        c.set_target(row.target)
        c.set_foil(row.foil)
        c.set_corrupted(row.corrupted)
        self.ctx.show_status(f"opened prompt {index + 1} of the set", 5000)

    # ------------------------------------------------------------------ sessions and export
    STATS = ("mean", "std", "ci_low", "ci_high", "same_sign")

    def session_state(self) -> dict | None:
        """The summary (every statistic per cell), not each prompt's values: a session stays small;
        the drill-down needs the set run again."""
        r = self.shown
        if r is None:
            return None
        return {"sweep": r.sweep, "mode": r.mode, "rows": list(r.row_labels), "columns": list(r.column_labels),
                "n": r.n, "set_digest": r.set_digest,
                **{name: np.asarray(getattr(r.stats, name)).tolist() for name in self.STATS}}

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not isinstance(data.get("columns"), list):
            raise ValueError("set results: expected rows, columns and statistics")
        shape = (len(data["rows"]), len(data["columns"]))
        for name in cls.STATS:
            try:
                if np.asarray(data.get(name), dtype=float).shape != shape:
                    raise ValueError
            except (TypeError, ValueError):
                raise ValueError(f"set results: '{name}' must be a {shape[0]} x {shape[1]} table of numbers") from None
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is None:
            return
        stats = {name: np.asarray(data[name], dtype=float) for name in self.STATS}
        self.widget.set_result(stats, tuple(data["rows"]), tuple(data["columns"]), int(data.get("n", 0)),
                               f"{data.get('sweep', '')} patching ({data.get('mode', '')}) over {int(data.get('n', 0)):,} "
                               "prompts (from the session)", per_row=data.get("sweep") == "effects")
        self.widget.set_status("From the session: run the set again for each prompt's values")

    def export_tables(self) -> dict[str, Any]:
        r = self.shown
        if r is None:
            return {}
        s = r.stats
        rows = [(r.row_labels[i], r.column_labels[j], float(s.mean[i, j]), float(s.std[i, j]), float(s.ci_low[i, j]),
                 float(s.ci_high[i, j]), float(s.same_sign[i, j]), r.n)
                for i in range(len(r.row_labels)) for j in range(len(r.column_labels))]
        arrays = {"per_prompt": r.per_prompt, "mean": s.mean, "std": s.std, "ci_low": s.ci_low, "ci_high": s.ci_high,
                  "same_sign": s.same_sign, "clean_metric": r.clean_metric, "corrupt_metric": r.corrupt_metric}
        name = {"dla": "set_dla", "effects": "set_effects", "head_scores": "set_head_scores"}.get(r.sweep, "set_attribution" if r.mode == "attribution" else "set_patching")
        return {name: (rows, ("row", "column", "mean", "std", "ci_low", "ci_high", "same_sign", "n"), arrays)}
