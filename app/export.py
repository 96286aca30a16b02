"""Figures and data out of the window.

Figures: any panel (or the whole window) to PNG at a chosen scale, and to SVG through
QSvgGenerator, which keeps text as text (token labels stay searchable and editable).
Data: attention patterns, logit lens, direct logit attribution and the ablation summary
as CSV (long format, labelled columns) and NPZ (arrays plus label arrays)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from .atomic import atomic_write_bytes, atomic_write_text

FIGURE_FORMATS = ("png", "svg")
DATA_FORMATS = ("csv", "npz")


def widget_png(widget: QWidget, path: str | Path, scale: float = 2.0) -> QSize:
    """Render `widget` at `scale` x its size (2 = 192 dpi for a 96 dpi screen); returns the pixel size."""
    size = widget.size()
    pixmap = QPixmap(int(size.width() * scale), int(size.height() * scale))
    pixmap.fill()
    painter = QPainter(pixmap)
    painter.scale(scale, scale)
    widget.render(painter, QPoint(0, 0))
    painter.end()
    buffer = png_bytes(pixmap)
    atomic_write_bytes(path, buffer)
    return pixmap.size()


def png_bytes(pixmap: QPixmap) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pixmap.save(buffer, "PNG")
    return bytes(data)


def widget_svg(widget: QWidget, path: str | Path, title: str = "Microtome") -> None:
    """Vector export of a widget (plots, tables and the graph alike)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(widget.size())
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setTitle(title)
    generator.setDescription("Exported from Microtome")
    painter = QPainter(generator)
    widget.render(painter, QPoint(0, 0))
    painter.end()
    atomic_write_bytes(path, bytes(data))


# ---------------------------------------------------------------------- data
def _one_line(value: object) -> str:
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def _csv(rows: list[tuple], header: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def attention_tables(result) -> tuple[list[tuple], tuple[str, ...], dict[str, np.ndarray]]:
    """Every pattern weight as (layer, head, query_pos, query_token, key_pos, key_token, weight)."""
    patterns, tokens = result.patterns, list(result.tokens)
    n_layers, n_heads, seq, _ = patterns.shape
    rows = [(l, h, q, tokens[q], k, tokens[k], float(patterns[l, h, q, k]))
            for l in range(n_layers) for h in range(n_heads) for q in range(seq) for k in range(q + 1)]
    header = ("layer", "head", "query_pos", "query_token", "key_pos", "key_token", "weight")
    return rows, header, {"patterns": patterns, "tokens": np.array(tokens)}


def lens_tables(result, target: str) -> tuple[list[tuple], tuple[str, ...], dict[str, np.ndarray]]:
    lens, tokens = result.logit_lens, list(result.tokens)
    rows = []
    for r, layer in enumerate(lens.layer_labels):
        for c, pos in enumerate(lens.positions):
            for k in range(lens.top_ids.shape[-1]):
                row = (layer, int(pos), tokens[pos], k + 1, str(lens.top_tokens[r, c, k]), float(lens.top_probs[r, c, k]))
                if lens.target_probs is not None:
                    row += (float(lens.target_probs[r, c]), int(lens.target_ranks[r, c]) + 1)
                rows.append(row)
    header = ("layer", "position", "token", "rank", "predicted_token", "probability")
    arrays = {"layer_labels": np.array(lens.layer_labels), "positions": lens.positions, "tokens": np.array(tokens),
              "top_ids": lens.top_ids, "top_tokens": lens.top_tokens, "top_probs": lens.top_probs}
    if lens.target_probs is not None:
        header += (f"target_probability[{target}]", f"target_rank[{target}]")
        arrays |= {"target_probs": lens.target_probs, "target_ranks": lens.target_ranks}
    return rows, header, arrays


def dla_tables(result) -> tuple[list[tuple], tuple[str, ...], dict[str, np.ndarray]]:
    dla = result.dla
    rows = [(label, float(value)) for label, value in zip(dla.labels, dla.contributions)]
    arrays = {"labels": np.array(dla.labels), "contributions": dla.contributions, "heads": dla.heads,
              "mlps": dla.mlps, "total": np.array(dla.total), "position": np.array(dla.position)}
    return rows, ("component", "direct_logit_attribution"), arrays


def ablation_tables(result, baseline) -> tuple[list[tuple], tuple[str, ...], dict[str, np.ndarray]]:
    """The interventions in force and the numbers before (baseline) and after them."""
    rows = [(i.kind, i.component, getattr(i, "method", ""), getattr(i, "factor", ""),
             " ".join(map(str, i.positions)) if i.positions else "all") for i in result.interventions]
    summary = {"logit_diff_after": result.logit_diff, "target_prob_after": result.target_prob,
               "logit_diff_before": baseline.logit_diff if baseline is not None else None,
               "target_prob_before": baseline.target_prob if baseline is not None else None}
    rows += [("summary", key, "", "" if value is None else value, "") for key, value in summary.items()]
    arrays = {"components": np.array([i.component for i in result.interventions], dtype=str),
              **{k: np.array(np.nan if v is None else v) for k, v in summary.items()}}
    return rows, ("kind", "component", "method", "factor_or_value", "positions"), arrays


def patching_tables(done) -> tuple[list[tuple], tuple[str, ...], dict[str, np.ndarray]]:
    """One row per cell: row and column labels, the normalised effect and the logit difference
    (and the attribution estimate next to it when it was computed)."""
    main, est = done.main, done.estimate
    rows = []
    for r, row_label in enumerate(main.row_labels):
        for c, col_label in enumerate(main.column_labels):
            row = (row_label, col_label, float(main.values[r, c]),
                   float(main.raw[r, c]) if main.raw is not None else "")
            rows.append(row + ((float(est.values[r, c]),) if est is not None else ()))
    header = ("row", "column", f"{main.method}_normalised", "logit_diff") + (("attribution_normalised",) if est else ())
    arrays = {"values": main.values, "row_labels": np.array(main.row_labels), "column_labels": np.array(main.column_labels),
              "clean_metric": np.array(main.clean_metric), "corrupted_metric": np.array(main.corrupted_metric),
              "sweep": np.array(main.sweep), "method": np.array(main.method), "mode": np.array(main.mode)}
    if main.raw is not None:
        arrays["logit_diff"] = main.raw
    if est is not None:
        arrays["attribution"] = est.values
        arrays["correlation"] = np.array(np.nan if done.correlation is None else done.correlation)
    return rows, header, arrays


def export_data(result, baseline, target: str, out_dir: str | Path, formats: tuple[str, ...],
                extra: dict | None = None, provenance: dict[str, str] | None = None) -> list[Path]:
    """Write attention, logit lens, DLA (when computed) and ablation tables, plus the panels'
    own tables in `extra` ({name: (rows, header, arrays)}); returns the files. Each file
    carries `provenance` (prompt, target/foil, model, weights digest): CSVs as leading
    '# key: value' comment lines (pandas: read_csv(comment='#')), NPZs as 'meta_<key>' arrays."""
    out_dir = Path(out_dir)
    tables = {"attention": attention_tables(result) if result.patterns is not None else None,
              "logit_lens": lens_tables(result, target) if result.logit_lens is not None else None,
              "dla": dla_tables(result) if result.dla is not None else None,
              "ablation": ablation_tables(result, baseline), **(extra or {})}
    written = []
    for name, table in tables.items():
        if table is None:
            continue
        rows, header, arrays = table
        meta = provenance or {}
        if "csv" in formats:
            written.append(out_dir / f"{name}.csv")
            comments = "".join(f"# {key}: {_one_line(value)}\n" for key, value in meta.items())
            atomic_write_text(written[-1], comments + _csv(rows, header))
        if "npz" in formats:
            written.append(out_dir / f"{name}.npz")
            buffer = io.BytesIO()
            np.savez_compressed(buffer, **arrays, **{f"meta_{key}": np.array(str(value)) for key, value in meta.items()})
            atomic_write_bytes(written[-1], buffer.getvalue())
    return written
