"""What the model writes after the prompt, without and with the prompt's interventions, side
by side: the behavioural check of a circuit claim ("ablate the name movers and it writes
John instead of Mary") read as text, not as a logit difference.

Each column is the prompt in grey followed by the generated tokens; from the token where the
columns first differ (`diverges_at`) to the end, the tokens are shaded in both columns, the
parting one bold and underlined, and a line under the columns says where they part. Hovering
a token tells its probability and the alternatives the model weighed at that step.

Generation streams: set_generation is called after every token (up to 512 times), so a
column's document is only appended to (or cut back to the first token drawn differently),
never rebuilt, and it follows the end while the user has not scrolled up. Like every view
here, the setters emit nothing; the Generate / Stop button is the only source of requests.

Docked, the panel is often ~500 x 300 px: the controls are one row (top-p and seed, which
only matter when sampling, sit behind a small "⋯" button), and the label of the
interventions choice shows only when there is room for it."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QColor, QFont, QHelpEvent, QMouseEvent, QResizeEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QPushButton,
                               QSpinBox, QStackedWidget, QTextBrowser, QTextEdit, QToolButton, QToolTip,
                               QVBoxLayout, QWidget)

from .elided_label import ElidedLabel
from .token_text import EMPTY, NBSP, NEWLINE, RETURN, TAB

__all__ = ["APPLY_CHOICES", "Column", "GenerationView", "demo", "prob_text", "quoted"]

WITHOUT, WITH = 0, 1
TITLES = ("Without interventions", "With interventions")
NAMES = ("without interventions", "with interventions")  # as a tooltip names a column
APPLY_CHOICES: tuple[tuple[str, str], ...] = (
    ("all", "prompt and new tokens"),
    ("prompt", "prompt only"),
    ("new", "new tokens only"),
)
NO_EDITS = "No interventions: add some to compare"
NOTHING_YET = "Press Generate to see how the model continues the prompt"
DEFAULTS = {"n_new": 24, "temperature": 0.0, "top_p": 1.0, "seed": 0, "apply_to": "all"}
MAX_NEW = 512
MAX_SEED = 2**31 - 1
AT_BOTTOM_PX = 4  # a scroll bar this close to its end follows the text as it grows

PROMPT_TEXT = QColor(125, 125, 125)
TOKEN_TEXT = QColor(0, 0, 0)
MARK_TEXT = QColor(150, 150, 150)  # the ↵ of a newline, the ∅ of an empty token
AFTER_FILL = QColor(255, 232, 204)  # the tokens after the columns part
PARTED_FILL = QColor(255, 196, 140)  # the token where they part (also bold, underlined)
HOVER_FILL = QColor(190, 215, 245)  # the hovered step, in both columns
NOTE_STYLE = "color: #777; background: #f6f6f6; border: 1px solid #d0d0d0; padding: 8px;"
GREYED_STYLE = "color: #9a9a9a;"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SHOWN = {"\n": NEWLINE, "\r": RETURN, "\t": TAB, "\xa0": NBSP}
PLAIN, AFTER, PARTED = 0, 1, 2  # how a token is drawn


@dataclass(frozen=True)
class Column:
    """One continuation: its tokens (as they read in the text, with their spaces), the
    probability of each, and the likeliest tokens at each step."""

    tokens: list[str] | tuple[str, ...]  # [n]
    probs: Sequence[float]  # [n] the probability of each chosen token
    top_tokens: Sequence[Sequence[str]]  # [n][k] the likeliest tokens at each step
    top_probs: Sequence[Sequence[float]]  # [n][k]

    def __len__(self) -> int:
        return len(self.tokens)


def prob_text(p: float) -> str:
    """A probability as written: 0.82, 0.0034, 0."""
    p = float(p)
    if p != p:
        return "nan"
    return f"{p:.2f}" if p == 0.0 or abs(p) >= 0.01 else f"{p:.2g}"


def _shown_char(c: str) -> str:
    if c in _SHOWN:
        return _SHOWN[c]
    return f"\\x{ord(c):02x}" if unicodedata.category(c) == "Cc" else c


def quoted(token: str) -> str:
    """A token in quotes as the summary and tooltips write it: ' Mary', '.↵'."""
    return "'" + "".join(_shown_char(c) for c in token) + "'"


def _text(token: str) -> str:
    """A token's characters as a document holds them: controls other than tab as \\xNN."""
    return "".join(c if c == "\t" or unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in token)


def _kinds(n: int, diverges_at: int | None) -> list[int]:
    if diverges_at is None:
        return [PLAIN] * n
    return [PLAIN if i < diverges_at else PARTED if i == diverges_at else AFTER for i in range(n)]


def _formats() -> dict[str, QTextCharFormat]:
    def make(colour: QColor, fill: QColor | None = None, strong: bool = False) -> QTextCharFormat:
        fmt = QTextCharFormat()
        fmt.setForeground(colour)
        if fill is not None:
            fmt.setBackground(fill)
        if strong:
            fmt.setFontWeight(QFont.Weight.Bold)
            fmt.setFontUnderline(True)
        return fmt

    return {"prompt": make(PROMPT_TEXT),
            f"text{PLAIN}": make(TOKEN_TEXT), f"text{AFTER}": make(TOKEN_TEXT, AFTER_FILL),
            f"text{PARTED}": make(TOKEN_TEXT, PARTED_FILL, True),
            f"mark{PLAIN}": make(MARK_TEXT), f"mark{AFTER}": make(MARK_TEXT, AFTER_FILL),
            f"mark{PARTED}": make(MARK_TEXT, PARTED_FILL, True)}


class _Drawn:
    """What one text view holds: the prompt, each token as drawn (text, kind), the document
    positions each token spans, and the marks (↵, ∅) that are not part of the text."""

    def __init__(self) -> None:
        self.prompt: str | None = None
        self.pieces: list[tuple[str, int]] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.marks: list[tuple[int, int]] = []

    def cut(self, k: int) -> None:
        """Forget tokens k.. (their text is removed from the document by the caller)."""
        if k < len(self.pieces):
            start = self.starts[k]
            self.marks = [m for m in self.marks if m[0] < start]
        del self.pieces[k:], self.starts[k:], self.ends[k:]


class _TextColumn(QTextBrowser):
    """A read-only text view that keeps no undo history and opens no links."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.document().setDocumentMargin(4)
        self.viewport().setMouseTracking(True)


class _SamplingPopup(QFrame):
    """top-p and seed: a small popup under the ⋯ button (they only matter when sampling)."""

    def __init__(self, top_p: QDoubleSpinBox, seed: QSpinBox, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        form = QFormLayout(self)
        form.setContentsMargins(8, 6, 8, 6)
        form.addRow("top-p", top_p)
        form.addRow("seed", seed)


class GenerationView(QWidget):
    """set_generation(prompt, plain, edited, diverges_at, complete), set_busy, set_status,
    set_params / params, clear; emits generate_requested(params) and stop_requested()."""

    generate_requested = Signal(dict)  # {"n_new", "temperature", "top_p", "seed", "apply_to"}
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self._prompt = ""
        self._columns: list[Column | None] = [None, None]
        self._diverges_at: int | None = None
        self._complete = False
        self._hovered: int | None = None
        self._formats = _formats()
        self._drawn = [_Drawn(), _Drawn()]

        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("Continue the prompt without and with its interventions")
        self.generate_button.clicked.connect(self._on_button)
        self.n_new = QSpinBox()
        self.n_new.setRange(1, MAX_NEW)
        self.n_new.setSuffix(" tokens")
        self.n_new.setToolTip("How many new tokens to write")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 5.0)
        self.temperature.setDecimals(1)
        self.temperature.setSingleStep(0.1)
        self.temperature.setPrefix("temp ")
        self.temperature.setSpecialValueText("greedy")
        self.temperature.setToolTip("Temperature: greedy (0) always takes the likeliest token; "
                                    "above 0 the model samples (top-p and seed under ⋯)")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.05, 1.0)
        self.top_p.setDecimals(2)
        self.top_p.setSingleStep(0.05)
        self.top_p.setToolTip("Sample only from the likeliest tokens whose probabilities add up to this")
        self.seed = QSpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setToolTip("Random seed: the same seed samples the same text (both columns share it)")
        self.sampling = _SamplingPopup(self.top_p, self.seed, self)
        self.more_button = QToolButton()
        self.more_button.setText("⋯")
        self.more_button.clicked.connect(self._show_sampling)
        self.apply_label = QLabel("Interventions on")
        self.apply_to = QComboBox()
        for key, text in APPLY_CHOICES:
            self.apply_to.addItem(text, key)
        self.apply_to.setToolTip("Apply the interventions to the prompt and the new tokens, to the prompt only "
                                 "(the new tokens run unedited), or to the new tokens only")
        self.apply_to.setMinimumWidth(90)  # shrinks (elided) in a narrow dock rather than widen it
        self.apply_label.setToolTip(self.apply_to.toolTip())
        self.apply_label.hide()  # until a resize finds room for it (shown, it would widen a narrow dock)
        self.status = ElidedLabel("")
        self.status.hide()

        self.headers = (ElidedLabel(TITLES[0], bold=True), ElidedLabel(TITLES[1], bold=True))
        self.browsers = (_TextColumn(), _TextColumn())
        self.browsers[WITHOUT].setPlaceholderText(NOTHING_YET)
        for browser in self.browsers:
            browser.viewport().installEventFilter(self)
        self.note = QLabel(NO_EDITS)
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet(NOTE_STYLE)
        self.edited_stack = QStackedWidget()
        self.edited_stack.addWidget(self.browsers[WITH])
        self.edited_stack.addWidget(self.note)
        self.summary = ElidedLabel("")

        controls = QHBoxLayout()
        controls.setSpacing(4)
        for widget in (self.generate_button, self.n_new, self.temperature, self.more_button):
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.apply_label)
        controls.addWidget(self.apply_to)
        self._controls = controls

        self.figure = QWidget()
        figure = QVBoxLayout(self.figure)
        figure.setContentsMargins(0, 0, 0, 0)
        figure.setSpacing(2)
        columns = QHBoxLayout()
        columns.setSpacing(6)
        for header, body in zip(self.headers, (self.browsers[WITHOUT], self.edited_stack)):
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(header)
            column.addWidget(body, 1)
            columns.addLayout(column, 1)
        figure.addLayout(columns, 1)
        figure.addWidget(self.summary)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.figure, 1)

        self.temperature.valueChanged.connect(self._sync_sampling)
        self.top_p.valueChanged.connect(self._sync_sampling)
        self.seed.valueChanged.connect(self._sync_sampling)
        self.set_params(DEFAULTS)
        self.set_generation("", None, None, None, False)

    # ---- setters: none of them emits anything ----

    def set_generation(self, prompt: str, plain: Column | None, edited: Column | None,
                       diverges_at: int | None, complete: bool) -> None:
        """Show the prompt and the continuations (plain None: nothing generated yet; edited
        None: no interventions); tokens from `diverges_at` on are marked in both columns."""
        self._prompt = prompt
        self._columns = [plain, edited]
        self._diverges_at = diverges_at
        self._complete = complete
        for column, data in enumerate(self._columns):
            if column == WITH and data is None and plain is not None:
                continue  # the note stands in for it
            tokens = list(data.tokens) if data is not None else []
            self._draw(column, prompt, list(zip(tokens, _kinds(len(tokens), diverges_at))))
        no_edits = plain is not None and edited is None
        self.edited_stack.setCurrentWidget(self.note if no_edits else self.browsers[WITH])
        self.headers[WITH].setStyleSheet(GREYED_STYLE if no_edits else "")
        if self._hovered is not None:
            self._set_hover(self._hovered)
        self.summary.setText(self.summary_text())

    def set_busy(self, busy: bool) -> None:
        """While busy the button reads Stop (and a click says stop_requested)."""
        self._busy = bool(busy)
        self.generate_button.setText("Stop" if self._busy else "Generate")
        self.generate_button.setToolTip("Stop writing (what is written so far stays)" if self._busy
                                        else "Continue the prompt without and with its interventions")

    def set_status(self, text: str) -> None:
        """A line for progress or errors, hidden when empty."""
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def params(self) -> dict:
        """What generate_requested would carry now."""
        return {"n_new": int(self.n_new.value()),
                "temperature": round(float(self.temperature.value()), self.temperature.decimals()),
                "top_p": round(float(self.top_p.value()), self.top_p.decimals()),
                "seed": int(self.seed.value()),
                "apply_to": str(self.apply_to.currentData())}

    def set_params(self, params: dict) -> None:
        """Put the controls at these values (missing keys keep theirs, unknown ones are ignored)."""
        if "n_new" in params:
            self.n_new.setValue(int(params["n_new"]))
        if "temperature" in params:
            self.temperature.setValue(float(params["temperature"]))
        if "top_p" in params:
            self.top_p.setValue(float(params["top_p"]))
        if "seed" in params:
            self.seed.setValue(int(params["seed"]))
        if "apply_to" in params:
            index = self.apply_to.findData(params["apply_to"])
            if index >= 0:
                self.apply_to.setCurrentIndex(index)
        self._sync_sampling()

    def clear(self, message: str = "") -> None:
        """Empty both columns and say `message` in the status line."""
        self.set_generation("", None, None, None, False)
        self.set_status(message)

    def figure_view(self) -> QWidget:
        """The two columns and the summary line: what a figure export renders."""
        return self.figure

    # ---- queries ----

    def column_text(self, column: int) -> str:
        """The text a column shows (prompt and continuation; the ↵ and ∅ marks left out)."""
        drawn, doc = self._drawn[column], self.browsers[column].document()
        cursor = QTextCursor(doc)
        end = doc.characterCount() - 1  # the document's last paragraph separator is not text
        out, at = [], 0
        for start, stop in drawn.marks + [(end, end)]:
            cursor.setPosition(at)
            cursor.setPosition(start, QTextCursor.MoveMode.KeepAnchor)
            out.append(cursor.selectedText())
            at = stop
        return "".join(out).replace("\u2028", "\n").replace("\u2029", "\n")

    def token_span(self, column: int, index: int) -> tuple[int, int]:
        """The document positions [start, end) token `index` of a column covers."""
        drawn = self._drawn[column]
        return drawn.starts[index], drawn.ends[index]

    def token_at(self, column: int, char_pos: int) -> int | None:
        """The generated token holding the character at document position `char_pos` (None: the prompt or nothing)."""
        drawn = self._drawn[column]
        i = bisect.bisect_right(drawn.starts, char_pos) - 1
        return i if i >= 0 and char_pos < drawn.ends[i] else None

    def token_at_point(self, column: int, point: QPoint) -> int | None:
        """The generated token under a point of a column's viewport, if any."""
        browser = self.browsers[column]
        if self.edited_stack.currentWidget() is self.note and column == WITH:
            return None
        pos = browser.cursorForPosition(point).position()
        cursor = QTextCursor(browser.document())
        for char in (pos - 1, pos):  # the character left or right of the nearest caret position
            if char < 0 or char >= browser.document().characterCount() - 1:
                continue
            cursor.setPosition(char)
            left = browser.cursorRect(cursor)
            cursor.setPosition(char + 1)
            right = browser.cursorRect(cursor)
            if left.top() != right.top():  # the end of a line: the character has no width to hover
                continue
            if left.left() <= point.x() < right.left() and left.top() <= point.y() <= left.bottom():
                return self.token_at(column, char)
        return None

    def marked(self, column: int) -> list[int]:
        """The token indices drawn as after the parting (shaded), read from the document."""
        return [i for i in range(len(self._drawn[column].pieces))
                if self._format_at(column, i).background().style() != Qt.BrushStyle.NoBrush]

    def parting_shown(self, column: int) -> int | None:
        """The token drawn as the parting one (bold and underlined), read from the document."""
        for i in range(len(self._drawn[column].pieces)):
            fmt = self._format_at(column, i)
            if fmt.fontUnderline() and fmt.fontWeight() >= QFont.Weight.Bold:
                return i
        return None

    def describe(self, column: int, index: int) -> str:
        """The tooltip of token `index` of a column: the token, its probability, the alternatives."""
        data = self._columns[column]
        if data is None or not 0 <= index < len(data.tokens):
            raise IndexError(f"token {index} of column {column}")
        token = data.tokens[index]
        lines = [f"token {index + 1} {NAMES[column]}: {quoted(token)}", f"p = {prob_text(data.probs[index])}"]
        tops = list(zip(data.top_tokens[index], data.top_probs[index])) if index < len(data.top_tokens) else []
        if tops:
            lines.append("top: " + ", ".join(f"{quoted(t)} {prob_text(p)}" for t, p in tops))
        other = self._columns[1 - column]
        if other is not None:
            if index >= len(other.tokens):
                lines.append(f"{NAMES[1 - column]}: had ended")
            elif other.tokens[index] != token:
                theirs = other.tokens[index]
                here = next((p for t, p in tops if t == theirs), None)
                lines.append(f"{NAMES[1 - column]}: {quoted(theirs)}"
                             + (f" (p = {prob_text(here)} here)" if here is not None else ""))
        return "\n".join(lines)

    def summary_text(self) -> str:
        """The line under the columns: where they part, or that they agree."""
        plain, edited = self._columns
        if plain is None:
            return ""
        n = len(plain.tokens)
        tokens = f"{n} token{'' if n == 1 else 's'}"
        if edited is None:
            return f"{tokens} without interventions; none to compare" if self._complete else f"Writing… {tokens}"
        i = self._diverges_at
        if i is not None:
            def at(column: Column) -> str:
                return quoted(column.tokens[i]) if i < len(column.tokens) else "the end"
            return f"The columns part at token {i + 1} ({at(plain)} vs {at(edited)})"
        if self._complete:
            return f"Identical: the interventions did not change these {tokens}"
        return f"Identical so far ({tokens})"

    @property
    def busy(self) -> bool:
        return self._busy

    # ---- internals ----

    def _draw(self, column: int, prompt: str, pieces: list[tuple[str, int]]) -> None:
        """Bring a column's document to `prompt` + `pieces`: cut it back to the first token
        drawn differently and append the rest (streaming only ever appends)."""
        browser, drawn = self.browsers[column], self._drawn[column]
        bar = browser.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - AT_BOTTOM_PX
        doc = browser.document()
        if prompt != drawn.prompt:
            doc.clear()
            self._drawn[column] = drawn = _Drawn()
            drawn.prompt = prompt
            cursor = QTextCursor(doc)
            cursor.insertText(_LINE_BREAK.sub("\u2028", _text(prompt)), self._formats["prompt"])
        k = 0
        while k < min(len(pieces), len(drawn.pieces)) and pieces[k] == drawn.pieces[k]:
            k += 1
        if k == len(pieces) == len(drawn.pieces):
            return
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        if k < len(drawn.pieces):
            cursor.setPosition(drawn.starts[k])
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            drawn.cut(k)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        for token, kind in pieces[k:]:
            self._insert(cursor, drawn, token, kind)
        cursor.endEditBlock()
        if follow:
            bar.setValue(bar.maximum())

    def _insert(self, cursor: QTextCursor, drawn: _Drawn, token: str, kind: int) -> None:
        """Append one token: its text, a ↵ before each of its line breaks, ∅ when it is empty."""
        text, mark = self._formats[f"text{kind}"], self._formats[f"mark{kind}"]
        start = cursor.position()
        if token == "":
            cursor.insertText(EMPTY, mark)
            drawn.marks.append((start, cursor.position()))
        for n, line in enumerate(_LINE_BREAK.split(token)):
            if n:
                at = cursor.position()
                cursor.insertText(NEWLINE, mark)
                drawn.marks.append((at, cursor.position()))
                cursor.insertText("\u2028", text)
            if line:
                cursor.insertText(_text(line), text)
        drawn.pieces.append((token, kind))
        drawn.starts.append(start)
        drawn.ends.append(cursor.position())

    def _format_at(self, column: int, index: int) -> QTextCharFormat:
        cursor = QTextCursor(self.browsers[column].document())
        cursor.setPosition(self._drawn[column].starts[index] + 1)  # the format of the character before
        return cursor.charFormat()

    def _set_hover(self, index: int | None) -> None:
        """Shade step `index` in both columns (the same step: what each column chose there)."""
        self._hovered = index
        for column, browser in enumerate(self.browsers):
            drawn = self._drawn[column]
            selections = []
            if index is not None and index < len(drawn.pieces):
                selection = QTextEdit.ExtraSelection()
                selection.cursor = QTextCursor(browser.document())
                selection.cursor.setPosition(drawn.starts[index])
                selection.cursor.setPosition(drawn.ends[index], QTextCursor.MoveMode.KeepAnchor)
                selection.format.setBackground(HOVER_FILL)
                selections.append(selection)
            browser.setExtraSelections(selections)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        column = next((c for c, b in enumerate(self.browsers) if b.viewport() is watched), None)
        if column is None:
            return False
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.token_at_point(column, event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.describe(column, index), watched)
            return True
        if event.type() == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            index = self.token_at_point(column, event.position().toPoint())
            if index != self._hovered:
                self._set_hover(index)
        elif event.type() == QEvent.Type.Leave and self._hovered is not None:
            self._set_hover(None)
        return False

    def _on_button(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self.generate_requested.emit(self.params())

    def _sync_sampling(self, *_args) -> None:
        sampling = self.temperature.value() > 0
        self.more_button.setEnabled(sampling)
        self.more_button.setToolTip(f"top-p {self.top_p.value():.2f}, seed {self.seed.value()}: click to change"
                                    if sampling else "top-p and seed: used when sampling (temperature above 0)")

    def _show_sampling(self) -> None:
        self.sampling.adjustSize()
        self.sampling.move(self.more_button.mapToGlobal(QPoint(0, self.more_button.height())))
        self.sampling.show()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit_controls()

    def _fit_controls(self) -> None:
        """The interventions choice keeps its label only when the row has room for it."""
        margins = self.layout().contentsMargins()
        room = self.width() - margins.left() - margins.right()
        widgets = [self._controls.itemAt(i).widget() for i in range(self._controls.count())]
        needed = sum(w.sizeHint().width() + self._controls.spacing() for w in widgets if w is not None)  # label too
        self.apply_label.setVisible(room >= needed)


# ---- demo ----

DEMO_PROMPT = "When Mary and John went to the store, John gave a drink to"
DEMO_PLAIN = [" Mary", ".", " She", " thanked", " him", " and", " they", " walked", " home", " together", ".",
              "\n", "\n", "The", " next", " day", ",", " Mary", " bought", " him", " a", " sandwich", "."]
DEMO_EDITED = [" Mary", ".", " John", " gave", " a", " drink", " to", " Mary", " &", " John", ".", "\n", "\n",
               "The", " store", " was", " closed", " when", " they", " came", " back", "."]
DEMO_FILLERS = [" the", " her", " and", ",", " a", " John", " Mary", " them", " it", "."]


def demo_column(tokens: list[str], seed: int = 0, k: int = 5) -> Column:
    """Made-up probabilities: each chosen token likeliest, k alternatives from a few fillers."""
    rng = np.random.default_rng(seed)
    probs, top_tokens, top_probs = [], [], []
    for token in tokens:
        p = float(rng.uniform(0.25, 0.95))
        others = [t for t in DEMO_FILLERS if t != token]
        chosen = list(rng.choice(len(others), size=k - 1, replace=False))
        rest = np.sort(rng.dirichlet(np.ones(k)) * (1 - p))[::-1][: k - 1]
        probs.append(p)
        top_tokens.append([token] + [others[i] for i in chosen])
        top_probs.append([p] + [float(r) for r in rest])
    return Column(tuple(tokens), probs, top_tokens, top_probs)


def demo() -> GenerationView:
    """A made-up IOI prompt continued without and with an ablation: the columns part at token 3."""
    view = GenerationView()
    plain, edited = demo_column(DEMO_PLAIN, 0), demo_column(DEMO_EDITED, 1)
    view.set_generation(DEMO_PROMPT, plain, edited, 2, True)
    view.resize(560, 320)
    return view


if __name__ == "__main__":
    from .demo import run

    run(demo)
