"""What clicking a cell of a patching heatmap applies in the component graph.

The graph runs the clean prompt; a resample ablation from the corrupted prompt is exactly
the *noising* patch of that cell (corrupted activation into the clean run), so in noise
mode the graph then shows the cell's own number. Cells that are not a component's output
(the residual stream, a query/key/value input alone) map to the nearest component, and the
returned note says so."""

from __future__ import annotations

from dataclasses import dataclass

@dataclass(frozen=True)
class CellPatch:
    names: tuple[str, ...]
    positions: tuple[int, ...] | None
    note: str


def _position(label: str) -> int:
    return int(label.split(":", 1)[0])


def cell_patch(result, row: int, col: int, n_heads: int) -> CellPatch:
    """The resample ablation(s) for one cell; ValueError with a message when there is none."""
    patch = _cell_patch(result, row, col, n_heads)
    if result.mode == "denoise" and "the cell's own patch" in patch.note:  # the graph runs the clean prompt
        note = patch.note.replace("(the cell's own patch)", "as its noising patch (the cell measured denoising)")
        return CellPatch(patch.names, patch.positions, note)
    return patch


def _cell_patch(result, row: int, col: int, n_heads: int) -> CellPatch:
    sweep, row_label, col_label = result.sweep, result.row_labels[row], result.column_labels[col]
    where = f"{row_label} × {col_label}"
    if result.method == "path":
        return CellPatch((f"{row_label}.{col_label}",), None,
                         f"Applied sender {row_label}.{col_label} (all its paths, not only the path into the receiver)")
    if sweep == "resid":
        raise ValueError(f"{where} is the residual stream, not a component: it cannot be applied in the graph")
    layer = int(row_label[1:]) if row_label.startswith("L") and "." not in row_label else None
    if sweep == "head_pos":
        return CellPatch((row_label,), (_position(col_label),), f"Applied {where} (the cell's own patch)")
    if sweep == "mlp_out":
        return CellPatch((f"L{layer}.mlp",), (_position(col_label),), f"Applied {where} (the cell's own patch)")
    if sweep == "attn_out":
        return CellPatch(tuple(f"L{layer}.H{h}" for h in range(n_heads)), (_position(col_label),),
                         f"Applied {where}: every head of the layer at that position")
    if col_label.startswith("KV"):  # grouped-query key/value head: the query heads sharing it
        kv = int(col_label[2:])
        group = n_heads // max(len(result.column_labels), 1)
        names = tuple(f"L{layer}.H{h}" for h in range(kv * group, (kv + 1) * group))
    else:
        names = (f"L{layer}.{col_label}",)
    if sweep == "head":
        return CellPatch(names, None, f"Applied {where} (the cell's own patch)")
    part = {"head_q": "query", "head_k": "key", "head_v": "value", "head_pattern": "pattern"}.get(sweep, sweep)
    return CellPatch(names, None, f"Applied the whole output of {', '.join(names)} (the cell patched its {part} only)")
