"""Logit lens as a table: rows are layers, columns prompt positions; each cell shows the
top-1 token and its probability, coloured by that probability (viridis). A last column
gives the target token's probability and rank at the focused position, per layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from .colors import viridis, viridis_text

Index = QModelIndex | QPersistentModelIndex
CAPTION = "Logit lens: what each layer's residual stream predicts next (top-1, coloured by probability)"
STALE_CAPTION = "Logit lens: paused while you drag (it updates when the knob rests)"


@dataclass(frozen=True)
class LensData:
    """Plain arrays for the table (what the engine's LogitLens holds, minus ids)."""

    layer_labels: tuple[str, ...]
    prompt_tokens: tuple[str, ...]  # the whole prompt
    positions: tuple[int, ...]  # the prompt positions the lens was computed at (the columns)
    top_tokens: np.ndarray  # [R, P, k] str
    top_probs: np.ndarray  # [R, P, k]
    target: str | None = None
    target_probs: np.ndarray | None = None  # [R, P]
    target_ranks: np.ndarray | None = None  # [R, P]


class LogitLensModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.data_: LensData | None = None
        self.focus = 0

    def set_data(self, data: LensData, focus: int | None = None) -> bool:
        """Show new numbers. Returns True when the table's structure changed (rows, columns
        or their labels): only then is the model reset and the columns re-measured, so a
        live ablation updating numbers in place costs a repaint, not a relayout."""
        old = self.data_
        same = (old is not None and old.layer_labels == data.layer_labels and old.positions == data.positions
                and old.prompt_tokens == data.prompt_tokens and old.target == data.target
                and (old.target_probs is None) == (data.target_probs is None))
        focus = focus if focus in data.positions else data.positions[-1]
        if same:
            self.data_, self.focus = data, focus
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
            return False
        self.beginResetModel()
        self.data_, self.focus = data, focus
        self.endResetModel()
        return True

    def column_of(self, position: int) -> int | None:
        """The column showing a prompt position, or None where the lens was not computed."""
        if self.data_ is None or position not in self.data_.positions:
            return None
        return self.data_.positions.index(position)

    def set_focus(self, position: int) -> None:
        if self.column_of(position) is not None:
            self.focus = position
            column = len(self.data_.positions)
            self.dataChanged.emit(self.index(0, column), self.index(self.rowCount() - 1, column))
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, column, column)

    def has_target(self) -> bool:
        return self.data_ is not None and self.data_.target_probs is not None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if self.data_ is None or parent.isValid() else len(self.data_.layer_labels)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802
        if self.data_ is None or parent.isValid():
            return 0
        return len(self.data_.positions) + (1 if self.has_target() else 0)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if self.data_ is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Vertical:
            return self.data_.layer_labels[section]
        if section < len(self.data_.positions):
            position = self.data_.positions[section]
            token = self.data_.prompt_tokens[position]
            return f"{position}\n{token.strip() or repr(token)}"
        return f"target {self.data_.target!r}\n@ {self.focus}"

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        d = self.data_
        if d is None or not index.isValid():
            return None
        r, c = index.row(), index.column()
        if c == len(d.positions):  # target column
            focus_col = d.positions.index(self.focus)
            prob, rank = float(d.target_probs[r, focus_col]), int(d.target_ranks[r, focus_col])
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{prob:.3f}\nrank {rank + 1}"
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{d.target!r} after position {self.focus} at {d.layer_labels[r]}: p = {prob:.4f}, rank {rank + 1}"
            return self._colour(prob, role)
        prob = float(d.top_probs[r, c, 0])
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{d.top_tokens[r, c, 0].strip() or repr(str(d.top_tokens[r, c, 0]))}\n{prob:.2f}"
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{d.layer_labels[r]}, after position {d.positions[c]} {d.prompt_tokens[d.positions[c]]!r}:"]
            lines += [f"  {str(t)!r}  {p:.3f}" for t, p in zip(d.top_tokens[r, c], d.top_probs[r, c])]
            if d.target_probs is not None:
                lines.append(f"target {d.target!r}: p = {d.target_probs[r, c]:.4f}, rank {int(d.target_ranks[r, c]) + 1}")
            return "\n".join(lines)
        return self._colour(prob, role)

    @staticmethod
    def _colour(prob: float, role: int):
        if role == Qt.ItemDataRole.BackgroundRole:
            return viridis(prob)
        if role == Qt.ItemDataRole.ForegroundRole:
            return viridis_text(prob)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class LogitLensTable(QWidget):
    """set_lens(LensData); set_focus(position); emits position_clicked(position)."""

    position_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LogitLensModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        # sized on structure changes only (see LogitLensModel.set_data), never on every update
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setWordWrap(False)
        self.table.clicked.connect(self._on_clicked)
        self.caption = QLabel(CAPTION)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.table, 1)

    def set_lens(self, data: LensData, focus: int | None = None) -> None:
        """New numbers; focus = the prompt position the target column reads (None: keep)."""
        if focus is None and self.model.data_ is not None:
            focus = self.model.focus
        if self.model.set_data(data, focus):
            self.table.resizeColumnsToContents()
            self.table.resizeRowsToContents()
        else:  # same structure: only widen columns whose new text no longer fits (never shrink: no jitter)
            for column in range(self.model.columnCount()):
                if self.table.sizeHintForColumn(column) > self.table.columnWidth(column):
                    self.table.resizeColumnToContents(column)

    def set_stale(self, stale: bool) -> None:
        """Grey out while a live drag runs without the lens; it refreshes when the drag rests."""
        self.table.setEnabled(not stale)
        self.caption.setText(STALE_CAPTION if stale else CAPTION)

    def set_focus(self, position: int) -> None:
        """Focus a prompt position: its column is selected and the target column reads it."""
        column = self.model.column_of(position)
        if column is not None:
            self.model.set_focus(position)
            self.table.selectColumn(column)
            self.table.scrollTo(self.model.index(0, column))

    def _on_clicked(self, index: QModelIndex) -> None:
        if self.model.data_ is not None and index.column() < len(self.model.data_.positions):
            position = self.model.data_.positions[index.column()]
            self.model.set_focus(position)
            self.position_clicked.emit(position)


def demo() -> LogitLensTable:
    """Random top-5 predictions for 3 layers over a short prompt."""
    rng = np.random.default_rng(0)
    tokens = tuple("<bos> When Mary and John went to the store".split())
    words = np.array(["the", "Mary", "John", "store", "to", "a"])
    shape = (3, len(tokens))
    probs = np.sort(rng.dirichlet(np.ones(6), size=shape), axis=-1)[..., ::-1][..., :5]
    table = LogitLensTable()
    table.set_lens(LensData(("embed", "L0", "L1"), tokens, tuple(range(len(tokens))), rng.choice(words, size=(*shape, 5)),
                            probs, "Mary", rng.random(shape), rng.integers(0, 50, shape)))
    table.resize(900, 300)
    return table


if __name__ == "__main__":
    from .demo import run

    run(demo)
