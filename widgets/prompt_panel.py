"""The prompt: text (runs on Enter and, debounced, while typing), its tokens as chips
with positions, target and foil tokens with completion from the vocabulary, an optional
corrupted prompt, and the model's top next-token predictions."""

from __future__ import annotations

from PySide6.QtCore import QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QCompleter, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QListView, QListWidget, QListWidgetItem, QPushButton, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)
from superqt.utils import QSignalDebouncer

from .token_text import visible_token

CHIP_STYLE = """
QListWidget { background: transparent; border: none; }
QListWidget::item { border: 1px solid #9aa4b2; border-radius: 5px; padding: 1px 5px; margin: 2px;
                    background: #f3f5f8; color: #111; }
QListWidget::item:selected { background: #ff7800; color: white; border-color: #c45c00; }
"""
TYPING_DEBOUNCE_MS = 300
MAX_PROMPT_CHARS = 100_000  # far beyond any context window; pasting megabytes must not stall the UI
UNKNOWN_COLOR, UNKNOWN_BACKGROUND = "#b00020", "#fde7ea"  # a word the model cannot read


class PromptPanel(QWidget):
    """Emits prompt_changed(text) on Enter/Run and after typing pauses; target/foil/corrupted
    changes; position_clicked(position) when a token chip is clicked."""

    prompt_changed = Signal(str)
    target_changed = Signal(str)
    foil_changed = Signal(str)
    corrupted_changed = Signal(str)
    position_clicked = Signal(int)
    run_requested = Signal(str)  # Enter or Run: run now, even when the text did not change

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prompt_edit = QLineEdit()
        self.prompt_edit.setPlaceholderText("Type a prompt and press Enter")
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Run the model on the prompt (Enter)")
        self.prompt_edit.setMaxLength(MAX_PROMPT_CHARS)
        self.corrupted_edit = QLineEdit()
        self.corrupted_edit.setMaxLength(MAX_PROMPT_CHARS)
        self.corrupted_edit.setPlaceholderText("optional: a contrasting prompt of the same length (source for resample)")
        self.target_edit, self.foil_edit = QLineEdit(), QLineEdit()
        self.target_edit.setPlaceholderText("target token")
        self.foil_edit.setPlaceholderText("foil token")
        self._vocab_model = QStringListModel()
        for edit in (self.target_edit, self.foil_edit):
            completer = QCompleter(self._vocab_model, edit)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchStartsWith)
            edit.setCompleter(completer)
            edit.setMaximumWidth(180)

        self.chips = QListWidget()
        self.chips.setViewMode(QListView.ViewMode.IconMode)
        self.chips.setFlow(QListView.Flow.LeftToRight)
        self.chips.setWrapping(True)
        self.chips.setResizeMode(QListView.ResizeMode.Adjust)
        self.chips.setMovement(QListView.Movement.Static)
        self.chips.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.chips.setStyleSheet(CHIP_STYLE)
        self.chips.setMinimumHeight(84)  # two rows of chips without scrolling
        self.chips.itemClicked.connect(lambda item: self.position_clicked.emit(self.chips.row(item)))

        self.updating = False  # predictions on display are the previous run's (set_updating)
        self.predictions = QTableWidget(0, 2)
        self.predictions.setHorizontalHeaderLabels(["next token", "probability"])
        self.predictions.verticalHeader().setVisible(False)
        self.predictions.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.predictions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.predictions.setMaximumWidth(260)
        self.summary = QLabel(" ")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._debouncer = QSignalDebouncer(parent=self)
        self._debouncer.setTimeout(TYPING_DEBOUNCE_MS)
        self._debouncer.triggered.connect(self._emit_prompt)
        self.prompt_edit.textEdited.connect(self._debouncer.throttle)
        self.prompt_edit.returnPressed.connect(self._emit_prompt_now)
        self.run_button.clicked.connect(self._emit_prompt_now)
        self.target_edit.editingFinished.connect(lambda: self.target_changed.emit(self.target_edit.text()))
        self.foil_edit.editingFinished.connect(lambda: self.foil_changed.emit(self.foil_edit.text()))
        self.corrupted_edit.editingFinished.connect(lambda: self.corrupted_changed.emit(self.corrupted_edit.text()))

        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.prompt_edit, 1)
        prompt_row.addWidget(self.run_button)
        answer_row = QHBoxLayout()
        answer_row.addWidget(QLabel("target"))
        answer_row.addWidget(self.target_edit)
        answer_row.addWidget(QLabel("vs foil"))
        answer_row.addWidget(self.foil_edit)
        answer_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Prompt", prompt_row)
        form.addRow("Corrupted", self.corrupted_edit)
        form.addRow("Answer", answer_row)
        left = QVBoxLayout()
        left.addLayout(form)
        self.tokens_label = QLabel("Tokens (click one to focus its position):")
        left.addWidget(self.tokens_label)
        left.addWidget(self.chips, 1)
        left.addWidget(self.summary)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(left, 1)
        layout.addWidget(self.predictions)

    # ------------------------------------------------------------------ data in
    def set_vocabulary(self, tokens: list[str]) -> None:
        """Completion list for target and foil."""
        self._vocab_model.setStringList(sorted(set(tokens), key=str.lower))

    def set_prompt(self, text: str) -> None:
        self.prompt_edit.setText(text)

    def set_answer(self, target: str, foil: str) -> None:
        self.target_edit.setText(target)
        self.foil_edit.setText(foil)

    def set_tokens(self, tokens: list[str], unknown: dict[int, str] | None = None) -> None:
        """Token chips; rebuilt only when the tokens change (live ablation keeps the prompt).
        unknown: position -> the word typed there that the model can only read as its
        unknown token; those chips are marked in red with the word in the tooltip."""
        unknown = unknown or {}
        if (tokens, unknown) == getattr(self, "_tokens", None):
            return
        self._tokens = (list(tokens), dict(unknown))
        self.chips.clear()
        for i, token in enumerate(tokens):
            shown = visible_token(token)  # the same marks as the lens and the head detail
            item = QListWidgetItem(f"{'⚠ ' + unknown[i] if i in unknown else shown}\n{i}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            item.setToolTip(f"position {i}: {token!r}")
            if i in unknown:
                item.setForeground(QColor(UNKNOWN_COLOR))
                item.setBackground(QColor(UNKNOWN_BACKGROUND))
                item.setToolTip(f"position {i}: {unknown[i]!r} is not in the model's vocabulary (read as {token!r})")
            self.chips.addItem(item)

    def unknown_positions(self) -> list[int]:
        """Chips marked as unknown words (for tests)."""
        return sorted(getattr(self, "_tokens", ([], {}))[1])

    def focus_position(self, position: int) -> None:
        if 0 <= position < self.chips.count():
            self.chips.setCurrentRow(position)

    def set_predictions(self, tokens: list[str], probs: list[float], summary: str = "") -> None:
        self.predictions.setRowCount(len(tokens))
        for row, (token, prob) in enumerate(zip(tokens, probs)):
            self.predictions.setItem(row, 0, QTableWidgetItem(repr(token)))
            item = QTableWidgetItem(f"{prob:.3f}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.predictions.setItem(row, 1, item)
        self.summary.setText(summary or " ")

    def set_updating(self, updating: bool) -> None:
        """Grey the predictions and the summary while the run that replaces them is on its way."""
        if updating == self.updating:
            return
        self.updating = updating
        for widget, role in ((self.predictions, QPalette.ColorRole.Text), (self.summary, QPalette.ColorRole.WindowText)):
            palette = widget.palette()  # a palette, not a style sheet: this runs on every edit
            palette.setColor(role, QColor(150, 150, 150) if updating else self.palette().color(role))
            widget.setPalette(palette)
        self.summary.setToolTip("⟳ updating: these numbers are the previous run's" if updating else "")

    def set_compact(self, compact: bool) -> None:
        """Presentation layout: no token chips, a wide predictions table."""
        self.chips.setVisible(not compact)
        self.tokens_label.setVisible(not compact)
        self.predictions.setMinimumWidth(460 if compact else 0)
        self.predictions.setMaximumWidth(640 if compact else 260)

    @property
    def prompt(self) -> str:
        return self.prompt_edit.text()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(900, 220)

    # ------------------------------------------------------------------ internals
    def _emit_prompt(self) -> None:
        self.prompt_changed.emit(self.prompt_edit.text())

    def _emit_prompt_now(self) -> None:
        self._debouncer.cancel()
        self._emit_prompt()
        self.run_requested.emit(self.prompt_edit.text())


def demo() -> PromptPanel:
    """An IOI prompt with its tokens, answer and predictions."""
    panel = PromptPanel()
    panel.set_prompt("When Mary and John went to the store , John gave a drink to")
    panel.set_tokens("<|endoftext|> When Mary and John went to the store , John gave a drink to".split())
    panel.set_vocabulary(["Mary", "John", "the", "store"])
    panel.set_answer("Mary", "John")
    panel.set_predictions(["Mary", "John", "the"], [0.8, 0.1, 0.02], "logit diff 'Mary' − 'John': +3.20")
    return panel


if __name__ == "__main__":
    from .demo import run

    run(demo)

