"""A sortable table of every head and its scores: find the induction heads of a 48 x 25
model by sorting a column instead of scanning 1200 tiles.

Rows are heads (L3.H2) with their previous-token, induction, duplicate-token and DLA
scores and the last head-level patching effect. A threshold on one score column marks the
heads the head grid outlines (the same rule: widgets.head_scores.heads_above), a filter box
narrows the rows ('L2', 'H3', 'L2.H3', several at once), and clicking a row emits
head_chosen(layer, head)."""

from __future__ import annotations

import re

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget)

from .head_scores import heads_above, highlight_controls

COLUMNS = ("head", "previous-token", "induction", "duplicate-token", "DLA", "patching")
HEADERS = {"previous-token": "previous\ntoken", "duplicate-token": "duplicate\ntoken"}  # two lines: narrow docks
MARK_BACKGROUND = QColor(255, 222, 190)
_TERM = re.compile(r"^(?:L(\d+))?(?:\.?H(\d+))?$", re.IGNORECASE)


class HeadTableModel(QAbstractTableModel):
    """One row per head shown; sorting and filtering are numpy over the 1200 heads of a large
    model (a Python lessThan in a proxy model took ~100 ms per refresh; this takes a few ms)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.n_layers = self.n_heads = 0
        self.values = np.zeros((len(COLUMNS) - 1, 0))  # [score column, head], NaN where unknown
        self.marked: set[int] = set()  # heads (layer * n_heads + head) above the threshold
        self.order = np.zeros(0, dtype=int)  # the heads shown, top to bottom
        self.patching_title = "patching"
        self.sort_column, self.sort_order = COLUMNS.index("induction"), Qt.SortOrder.DescendingOrder
        self.terms: list[tuple[int | None, int | None]] = []
        self.marked_only = False

    # ---- contents
    def set_data(self, n_layers: int, n_heads: int, values: np.ndarray, marked: set[int]) -> None:
        self.beginResetModel()
        self.n_layers, self.n_heads, self.values, self.marked = n_layers, n_heads, values, marked
        self._reorder()
        self.endResetModel()

    def set_marked(self, marked: set[int]) -> None:
        if marked == self.marked:
            return
        if self.marked_only:
            self.beginResetModel()
            self.marked = marked
            self._reorder()
            self.endResetModel()
        else:
            self.marked = marked
            if self.rowCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1))

    def set_filter(self, terms: list[tuple[int | None, int | None]], marked_only: bool) -> None:
        self.beginResetModel()
        self.terms, self.marked_only = terms, marked_only
        self._reorder()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.beginResetModel()
        self.sort_column, self.sort_order = column, order
        self._reorder()
        self.endResetModel()

    def _reorder(self) -> None:
        """The rows: heads passing the filter, sorted (blanks last either way, ties by head)."""
        heads = np.arange(self.n_layers * self.n_heads)
        keep = np.ones(len(heads), dtype=bool)
        if self.terms:
            layer, head = np.divmod(heads, max(self.n_heads, 1))
            keep = np.zeros(len(heads), dtype=bool)
            for l, h in self.terms:
                keep |= (layer == l if l is not None else True) & (head == h if h is not None else True)
        if self.marked_only:
            keep &= np.isin(heads, list(self.marked))
        heads = heads[keep]
        key = heads.astype(float) if self.sort_column == 0 else self.values[self.sort_column - 1, heads]
        descending = self.sort_order == Qt.SortOrder.DescendingOrder
        self.order = heads[np.argsort(-key if descending else key, kind="stable")]  # NaN sorts last

    # ---- Qt model API
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(self.order)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def head(self, row: int) -> tuple[int, int]:
        """(layer, head) of a row on display."""
        return divmod(int(self.order[row]), self.n_heads)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN201 (Qt API)
        row, col = index.row(), index.column()
        head = int(self.order[row])
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return "L{}.H{}".format(*divmod(head, self.n_heads))
            value = self.values[col - 1, head]
            if np.isnan(value):
                return ""
            return f"{value:+.3f}" if COLUMNS[col] in ("DLA", "patching") else f"{value:.3f}"
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and head in self.marked:
            return MARK_BACKGROUND
        if role == Qt.ItemDataRole.FontRole and head in self.marked and col == 0:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802, ANN201
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            name = COLUMNS[section]
            return self.patching_title.replace(" ", "\n", 1) if name == "patching" else HEADERS.get(name, name)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return self.patching_title if COLUMNS[section] == "patching" else COLUMNS[section]
        return None


def parse_filter(text: str) -> list[tuple[int | None, int | None]] | None:
    """'L2 H3, L4.H1' -> [(2, None), (None, 3), (4, 1)] (any term matches; L2 is layer 2, not
    20); None when a term is not L<n>, H<n> or L<n>.H<n>."""
    terms = []
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        match = _TERM.match(word)
        if match is None or match.group(1) is None and match.group(2) is None:
            return None
        terms.append(tuple(None if g is None else int(g) for g in match.groups()))
    return terms


class HeadFinder(QWidget):
    """Every head in a sortable table; emits head_chosen(layer, head) on a row click."""

    head_chosen = Signal(int, int)
    score_key_changed = Signal(str)
    threshold_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scores: dict[str, np.ndarray] = {}
        self.model = HeadTableModel(self)

        self.score_box, self.threshold = highlight_controls("Mark")
        self.score_box.currentTextChanged.connect(self._on_score_key)
        self.threshold.valueChanged.connect(self._on_threshold)
        self.count_label = QLabel("")
        self.filter_box = QLineEdit()
        self.filter_box.setPlaceholderText("Filter: L2  H3  L2.H3")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.textChanged.connect(self._on_filter)
        self.marked_only = QCheckBox("marked only")
        self.marked_only.toggled.connect(lambda _: self._on_filter(self.filter_box.text()))

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setAlternatingRowColors(False)
        self.table.clicked.connect(self._on_row)
        self.table.activated.connect(self._on_row)
        self.table.sortByColumn(COLUMNS.index("induction"), Qt.SortOrder.DescendingOrder)

        top = QHBoxLayout()
        top.setSpacing(4)
        for widget in (QLabel("Mark"), self.score_box, self.threshold, self.count_label):
            top.addWidget(widget)
        top.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(self.filter_box, 1)
        second.addWidget(self.marked_only)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.table, 1)

    # ------------------------------------------------------------------ data in
    def set_scores(self, scores: dict[str, np.ndarray], n_layers: int | None = None, n_heads: int | None = None,
                   patching: np.ndarray | None = None, patching_title: str = "patching") -> None:
        """Scores per column key (each [layers, heads]; missing keys stay blank), and the last
        head-level patching effect [layers, heads] or None. The shape comes from the scores,
        or from n_layers x n_heads when there are none yet."""
        maps = {k: np.asarray(v, dtype=float) for k, v in scores.items() if v is not None and np.ndim(v) == 2}
        if patching is not None and np.ndim(patching) == 2:
            maps["patching"] = np.asarray(patching, dtype=float)
        shapes = {v.shape for v in maps.values()}
        shape = (n_layers, n_heads) if n_layers is not None and n_heads is not None else \
            max(shapes, key=lambda s: s[0] * s[1], default=(0, 0))
        self._scores = {k: v for k, v in maps.items() if v.shape == shape}
        values = np.full((len(COLUMNS) - 1, shape[0] * shape[1]), np.nan)
        for i, key in enumerate(COLUMNS[1:]):
            if key in self._scores:
                values[i] = self._scores[key].reshape(-1)
        self.model.patching_title = patching_title
        self.model.set_data(shape[0], shape[1], values, self._marked_rows(shape[1]))
        self._update_count()

    def select_score_key(self, key: str) -> None:
        self.score_box.setCurrentText(key)

    def set_threshold(self, value: float) -> None:
        self.threshold.setValue(value)

    def highlighted(self) -> list[tuple[int, int]]:
        """The marked heads: the same rule, key and threshold as HeadGrid.highlighted()."""
        key = self.score_box.currentText()
        values = self._scores.get(key)
        return heads_above(values, key, self.threshold.value()) if values is not None else []

    def shown_heads(self) -> list[tuple[int, int]]:
        """(layer, head) of the rows on display, top to bottom (after sorting and filtering)."""
        return [self.model.head(r) for r in range(self.model.rowCount())]

    # ------------------------------------------------------------------ internals
    def _marked_rows(self, n_heads: int) -> set[int]:
        return {l * n_heads + h for l, h in self.highlighted()}

    def _update_marks(self) -> None:
        self.model.set_marked(self._marked_rows(self.model.n_heads))
        self._update_count()

    def _update_count(self) -> None:
        marked, shown = len(self.model.marked), self.model.rowCount()
        self.count_label.setText(f"{marked} marked · {shown} of {self.model.n_layers * self.model.n_heads} shown")

    def _on_row(self, index: QModelIndex) -> None:
        if index.isValid():
            self.head_chosen.emit(*self.model.head(index.row()))

    def _on_filter(self, text: str) -> None:
        terms = parse_filter(text)
        ok = terms is not None
        self.model.set_filter(terms if ok else self.model.terms, self.marked_only.isChecked())
        self.filter_box.setStyleSheet("" if ok else "QLineEdit { background: #fde0e0; }")
        self.filter_box.setToolTip("" if ok else "Terms are L<layer>, H<head> or L<layer>.H<head>")
        self._update_count()

    def _on_score_key(self, key: str) -> None:
        self._update_marks()
        self.score_key_changed.emit(key)

    def _on_threshold(self, value: float) -> None:
        self._update_marks()
        self.threshold_changed.emit(value)


def demo() -> HeadFinder:
    """48 x 25 heads with random scores, marked by induction."""
    rng = np.random.default_rng(0)
    finder = HeadFinder()
    finder.set_scores({"induction": rng.random((48, 25)) ** 6, "previous-token": rng.random((48, 25)) ** 4,
                       "duplicate-token": rng.random((48, 25)) ** 8, "DLA": rng.normal(size=(48, 25))},
                      patching=rng.normal(size=(48, 25)) * 0.1, patching_title="patching (head)")
    finder.select_score_key("induction")
    finder.resize(560, 850)
    return finder


if __name__ == "__main__":
    from .demo import run

    run(demo)
