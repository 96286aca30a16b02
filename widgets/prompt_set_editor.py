"""The prompt set editor: one prompt proves little, so Microtome runs an analysis over many
prompts (each with a corrupted twin, a target and a foil answer) and shows means with their
spread. This is where such a set is made, looked over and run.

A set comes from one of three sources, one tab each: a template whose {slots} are filled
from filler lists (every combination, or a seeded sample of "At most" of them), a CSV /
JSONL file the app opens and saves, or the prompts typed in this session. The app answers
each request with the set's first rows (set_preview), the rows it found problems in (a
corrupted prompt of another length, an answer that is not one token), and a one-line
summary; problem rows are tinted, their messages are their tooltip, and a check box shows
only them. A double-click opens a row (`row_opened` with its index in the set). The run
row picks an analysis and denoise / noise and asks for the run; while busy it reads Stop.
Like every view here, no setter emits anything.

Docked, the panel is often ~460 x 560 px: the source tabs sit above the preview, and only
the shown tab counts towards their height (so the File and History tabs leave the preview
more room). From WIDE_AT pixels wide (a ~900 x 420 dock) the tabs sit left of the preview,
so the table keeps its height."""

from __future__ import annotations

import random
import re

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (QAbstractItemView, QBoxLayout, QCheckBox, QComboBox, QGridLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QPushButton, QSizePolicy, QSpinBox, QStackedWidget,
                               QStyledItemDelegate, QStyleOptionViewItem, QTableWidget, QTableWidgetItem, QTabWidget,
                               QToolButton, QVBoxLayout, QWidget)

from .elided_label import ElidedLabel
from .token_text import visible_token

__all__ = ["COLUMNS", "MODES", "PromptSetEditor", "changed_part", "demo", "filler_values", "showing_text",
           "slot_name", "template_slots"]

COLUMNS = ("#", "prompt", "corrupted", "target", "foil", "label")  # the preview's columns
FIELDS = COLUMNS[1:]  # the keys a preview row carries (with "index")
MODES = (("denoise", "denoise", "Patch clean activations into the corrupted run: what restores the answer"),
         ("noise", "noise", "Patch corrupted activations into the clean run: what breaks the answer"))
DEFAULT_LIMIT, MAX_LIMIT = 1000, 10_000  # a set holds at most 10,000 prompts (engine.prompt_sets.MAX_ROWS)
MAX_SEED = 2**31 - 1
MAX_PREVIEW = 1000  # rows drawn at most (the app sends ~200)
WIDE_AT = 780  # from this width the source tabs sit left of the preview
FILLER_LINES = (4, 3)  # slot rows the fillers table shows when stacked, at least this many beside the preview
ANSWER_WIDTH = 90  # the target, foil and label columns are at most this wide (px)
CORRUPTED_WIDTH = 160  # the corrupted column (its changed words) at most this wide
COLUMN_PAD = 12  # a cell's margins
PROMPT_SHARE = 0.35  # the prompt column's least share of the table's width, while the others can shrink
WANTED_QUANTILE = 0.9  # a short column is as wide as this share of its texts
QWIDGETSIZE_MAX = (1 << 24) - 1

# the app's "problem" colours (as prompt_panel's unknown words, component_graph's bad query)
PROBLEM_TEXT = QColor("#b00020")
PROBLEM_FILL = QColor("#fde7ea")
SUMMARY_STYLE, WARNING_STYLE = "color: #444;", "color: #b00020; font-weight: bold;"
HINT_STYLE = "color: #555; background: white; border: 1px solid #d0d0d0; padding: 12px;"

NO_SET = "No set yet: make one from a template, open a file, or use this session's prompts"
NO_TEMPLATE = "Type a prompt template with {slots}, e.g. When {A} and {B} went to the {P} , {B} gave a {O} to"
NO_ANALYSES = "No analysis to run over a set: load a model first"
FILE_HINT = ("A CSV (the first line names the columns) or JSONL file (one object per line) with the columns "
             "prompt, corrupted, target, foil, label. Only prompt is needed; patching needs all but label.")
HISTORY_HINT = ("Every prompt typed in this session, as a set. They have no corrupted twins or answers: "
                "save the set and add them to patch over it.")
RUN_TIP = "Run the analysis over every prompt of the set: the mean, its spread and each prompt's value"
_SLOT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # as engine.prompt_sets reads {slots}
_SLOT_IN_TEXT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WORDS = re.compile(r"\s*\S+|\s+$")  # words with the spaces before them (and any at the end)
SAME_PROMPT = "= prompt"


# ---- plain helpers (tests read them too) ----

def slot_name(text: str) -> str | None:
    """The slot a fillers row names ('A', or '{A}' as the template writes it), or None when
    it names none (blank, or not letters, digits and _ starting with a letter or _)."""
    name = text.strip()
    if name.startswith("{") and name.endswith("}"):
        name = name[1:-1].strip()
    return name if _SLOT.fullmatch(name) else None


def filler_values(text: str) -> list[str]:
    """Comma-separated values, trimmed, blanks dropped (the template holds the spaces)."""
    return [v.strip() for v in text.split(",") if v.strip()]


def template_slots(*texts: str) -> list[str]:
    """The {slots} the texts name, in order of first use."""
    return list(dict.fromkeys(s for text in texts for s in _SLOT_IN_TEXT.findall(text)))


def showing_text(shown: int, previewed: int, total: int, problems_only: bool) -> str:
    """The counter over the preview: "showing 200 of 1,000", "showing all 12", or with the
    filter on "showing 3 of 1,000 (problems only)"."""
    if total <= 0:
        return ""
    if problems_only:
        return f"showing {shown:,} of {total:,} (problems only)"
    if previewed >= total:
        return f"showing all {total:,}"
    return f"showing {previewed:,} of {total:,}"


def cell_text(key: str, value) -> str:
    """A row's value as the preview draws it: spaces at the ends as ␣, newlines as ↵ (the
    label as it is); empty stays empty."""
    text = "" if value is None else str(value)
    if not text or key == "label":
        return text
    return visible_token(text)


def changed_part(prompt: str, corrupted: str) -> str:
    """What the corrupted prompt changes, short enough for a narrow column: the words it
    shares with the prompt at either end read '…' ("…Mary…"); the same prompt reads
    "= prompt", one sharing no end with it reads whole."""
    if not corrupted:
        return ""
    if corrupted == prompt:
        return SAME_PROMPT
    a, b = _WORDS.findall(prompt), _WORDS.findall(corrupted)
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    if not p and not s:
        return visible_token(corrupted)
    middle = "".join(b[p:len(b) - s]).strip(" ")
    return ("…" if p else "") + (visible_token(middle) if middle else "∅") + ("…" if s else "")


class _ElideMiddle(QStyledItemDelegate):
    """Draws a cell's text elided in the middle: a prompt keeps its start and its end."""

    def initStyleOption(self, option: QStyleOptionViewItem, index) -> None:  # noqa: N802 (Qt API)
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


class PromptSetEditor(QWidget):
    """set_template, set_fillers, set_preview / clear_preview, set_summary, set_analyses,
    set_busy, set_status; emits template_requested(dict), load_requested(), save_requested(),
    history_requested(), run_requested(dict), stop_requested(), row_opened(int)."""

    template_requested = Signal(dict)  # as template_params(): the fields, {slot: [values]}, limit and seed
    load_requested = Signal()
    save_requested = Signal()
    history_requested = Signal()
    run_requested = Signal(dict)  # {"analysis": key, "mode": "denoise" | "noise"}
    stop_requested = Signal()
    row_opened = Signal(int)  # the row's index in the set

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict] = []
        self._indices: list[int] = []  # the set index of each table row
        self._problems: dict[int, list[str]] = {}
        self._total = 0
        self._busy = False
        self._wide: bool | None = None
        self._filler_note = ""  # the status line, when it is ours (fillers rows left out)
        self._wanted: dict[int, tuple[int, int]] = {}  # column: (its title's width, the width it wants)

        self._build_template_page()
        self._build_file_page()
        self._build_history_page()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.template_page, "Template")
        self.tabs.addTab(self.file_page, "File")
        self.tabs.addTab(self.history_page, "History")
        self.tabs.currentChanged.connect(self._fit_tabs)
        self._build_set_section()
        self.status = ElidedLabel("")
        self.status.hide()

        self.columns = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.columns.setContentsMargins(0, 0, 0, 0)
        self.columns.addWidget(self.tabs)
        self.columns.addWidget(self.set_section, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(self.columns, 1)
        layout.addWidget(self.status)

        self._fit_tabs()
        self.clear_preview()
        self._arrange()

    # ---- building ----

    def _build_template_page(self) -> None:
        self.template_edit, self.corrupted_edit = QLineEdit(), QLineEdit()
        self.target_edit, self.foil_edit, self.label_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.template_edit.setPlaceholderText("When {A} and {B} went to the {P} , {B} gave a {O} to")
        self.template_edit.setToolTip("The clean prompt; {A} is a slot filled from the A row of the fillers")
        self.corrupted_edit.setPlaceholderText("When {A} and {B} went to the {P} , {A} gave a {O} to")
        self.corrupted_edit.setToolTip("Its corrupted twin (same token count); a slot only it names, say {C}, "
                                       "takes a value the prompt does not use")
        self.target_edit.setPlaceholderText(" {A}")
        self.target_edit.setToolTip("The answer the clean prompt should get (mind its leading space)")
        self.foil_edit.setPlaceholderText(" {B}")
        self.foil_edit.setToolTip("The answer the corrupted prompt pushes towards")
        self.label_edit.setPlaceholderText("optional")
        self.label_edit.setToolTip("A label per row to group by (may use slots, e.g. {P})")
        for edit in (self.template_edit, self.corrupted_edit, self.target_edit, self.foil_edit, self.label_edit):
            edit.returnPressed.connect(self._on_make_clicked)
        for edit in (self.target_edit, self.foil_edit, self.label_edit):
            edit.setMinimumWidth(40)

        self.fillers = QTableWidget(0, 2)
        self.fillers.setHorizontalHeaderLabels(["Slot", "Values (comma separated)"])
        self.fillers.verticalHeader().hide()
        self.fillers.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.fillers.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, self.fontMetrics().horizontalAdvance("Slot") + 44)
        header.setHighlightSections(False)
        self.fillers.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.fillers.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.fillers.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                     | QAbstractItemView.EditTrigger.SelectedClicked
                                     | QAbstractItemView.EditTrigger.EditKeyPressed
                                     | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.fillers.setToolTip("One row per slot: its name (A, or {A}) and its values, comma separated; "
                                "slots sharing a list take different values (A ≠ B)")
        self.fillers.itemChanged.connect(self._on_filler_changed)
        self.fillers.currentCellChanged.connect(lambda *_: self._sync_filler_buttons())
        self.add_slot_button = QToolButton()
        self.add_slot_button.setText("+")
        self.add_slot_button.setToolTip("Add a slot row")
        self.add_slot_button.clicked.connect(self._on_add_slot)
        self.remove_slot_button = QToolButton()
        self.remove_slot_button.setText("−")
        self.remove_slot_button.setToolTip("Remove the selected slot row")
        self.remove_slot_button.clicked.connect(self._on_remove_slot)

        self.limit_box = QSpinBox()
        self.limit_box.setRange(1, MAX_LIMIT)
        self.limit_box.setValue(DEFAULT_LIMIT)
        self.limit_box.setGroupSeparatorShown(True)
        self.limit_box.setToolTip("Every combination of the fillers, or a seeded random sample of this many")
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, MAX_SEED)
        self.seed_box.setToolTip("The sample's random seed: the same seed makes the same set")
        self.make_button = QPushButton("Make set")
        self.make_button.setToolTip("Fill the template from the fillers and check the rows against the model")
        self.make_button.clicked.connect(self._on_make_clicked)

        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        for row, (text, edit) in enumerate((("Prompt template", self.template_edit),
                                            ("Corrupted template", self.corrupted_edit))):
            label = QLabel(text)
            label.setBuddy(edit)
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1)
        answers = QHBoxLayout()
        answers.setSpacing(4)
        for text, edit in (("Target", self.target_edit), ("Foil", self.foil_edit), ("Label", self.label_edit)):
            label = QLabel(text)
            label.setBuddy(edit)
            if text != "Target":
                answers.addSpacing(4)
            answers.addWidget(label)
            answers.addWidget(edit, 1)
        grid.addLayout(answers, 2, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        slot_buttons = QVBoxLayout()
        slot_buttons.setSpacing(2)
        slot_buttons.addWidget(self.add_slot_button)
        slot_buttons.addWidget(self.remove_slot_button)
        slot_buttons.addStretch(1)
        table_row = QHBoxLayout()
        table_row.setSpacing(3)
        table_row.addWidget(self.fillers, 1)
        table_row.addLayout(slot_buttons)
        make_row = QHBoxLayout()
        make_row.setSpacing(4)
        limit_label, seed_label = QLabel("At most"), QLabel("Seed")
        limit_label.setBuddy(self.limit_box)
        seed_label.setBuddy(self.seed_box)
        make_row.addWidget(limit_label)
        make_row.addWidget(self.limit_box)
        make_row.addSpacing(6)
        make_row.addWidget(seed_label)
        make_row.addWidget(self.seed_box)
        make_row.addStretch(1)
        make_row.addWidget(self.make_button)
        self.template_page = QWidget()
        layout = QVBoxLayout(self.template_page)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(grid)
        layout.addLayout(table_row, 1)
        layout.addLayout(make_row)
        self._sync_filler_buttons()

    def _build_file_page(self) -> None:
        self.open_button = QPushButton("Open CSV / JSONL…")
        self.open_button.setToolTip("Read a set from a .csv, .tsv or .jsonl file")
        self.open_button.clicked.connect(self.load_requested)
        self.save_button = QPushButton("Save as JSONL…")
        self.save_button.clicked.connect(self.save_requested)
        self.file_hint = QLabel(FILE_HINT)
        self.file_hint.setWordWrap(True)
        self.file_hint.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        self.file_page = QWidget()
        layout = QVBoxLayout(self.file_page)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.file_hint)
        layout.addStretch(1)

    def _build_history_page(self) -> None:
        self.history_button = QPushButton("Use the prompts of this session")
        self.history_button.setToolTip("Make a set of every prompt typed in this session")
        self.history_button.clicked.connect(self.history_requested)
        self.history_hint = QLabel(HISTORY_HINT)
        self.history_hint.setWordWrap(True)
        self.history_hint.setStyleSheet("color: #555;")
        buttons = QHBoxLayout()
        buttons.addWidget(self.history_button)
        buttons.addStretch(1)
        self.history_page = QWidget()
        layout = QVBoxLayout(self.history_page)
        layout.setContentsMargins(4, 6, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.history_hint)
        layout.addStretch(1)

    def _build_set_section(self) -> None:
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet(SUMMARY_STYLE)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.hide()
        self.problems_only = QCheckBox("only rows with problems")
        self.problems_only.setToolTip("Show only the previewed rows the check found problems in")
        self.problems_only.toggled.connect(lambda _on: self._apply_filter())
        self.counter = QLabel("")
        self.counter.setStyleSheet("color: #666;")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeaderItem(COLUMNS.index("corrupted")).setToolTip(
            "What the corrupted prompt changes: … stands for the words it shares with the prompt "
            "(hover a row for the whole)")
        self.table.horizontalHeaderItem(0).setToolTip("The row's number in the set")
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._middle = _ElideMiddle(self.table)
        self.table.setItemDelegateForColumn(COLUMNS.index("prompt"), self._middle)  # names sit at both ends
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setMinimumSectionSize(24)
        self.table.setToolTip("Double-click a row to open it")
        self.table.cellDoubleClicked.connect(self._on_row_double_clicked)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for c in range(2, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
        self.table.viewport().installEventFilter(self)  # the columns share its width
        self.table.setMinimumHeight(self.table.horizontalHeader().sizeHint().height() + 3 * (
            self.fontMetrics().height() + 6) + 4)
        self.hint = QLabel(NO_SET)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet(HINT_STYLE)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.hint)

        self.analysis_label = QLabel("Analysis")
        self.analysis_box = QComboBox()
        self.analysis_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.analysis_box.setMinimumContentsLength(8)  # a long name elides instead of widening the dock
        self.analysis_box.setPlaceholderText("none yet")
        self.analysis_box.currentIndexChanged.connect(lambda _i: self._sync_enabled())
        self.analysis_label.setBuddy(self.analysis_box)
        self.mode_label = QLabel("Mode")
        self.mode_box = QComboBox()
        for i, (key, text, tip) in enumerate(MODES):
            self.mode_box.addItem(text, key)
            self.mode_box.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.mode_box.setToolTip("denoise: clean activations into the corrupted run · "
                                 "noise: corrupted activations into the clean run")
        self.mode_label.setBuddy(self.mode_box)
        self.run_button = QPushButton("Run over the set")
        self.run_button.clicked.connect(self._on_run_clicked)
        stop = QPushButton("Stop")
        self.run_button.setMinimumWidth(max(self.run_button.sizeHint().width(), stop.sizeHint().width()))
        stop.deleteLater()

        filter_row = QHBoxLayout()
        filter_row.setSpacing(6)
        filter_row.addWidget(self.problems_only)
        filter_row.addStretch(1)
        filter_row.addWidget(self.counter)
        run_row = QHBoxLayout()
        run_row.setSpacing(4)
        run_row.addWidget(self.analysis_label)
        run_row.addWidget(self.analysis_box, 1)
        run_row.addSpacing(4)
        run_row.addWidget(self.mode_label)
        run_row.addWidget(self.mode_box)
        run_row.addSpacing(4)
        run_row.addWidget(self.run_button)
        self._run_row = run_row
        self.set_section = QWidget()
        self.set_section.installEventFilter(self)  # the run row fits itself to the section's width
        layout = QVBoxLayout(self.set_section)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.summary)
        layout.addLayout(filter_row)
        layout.addWidget(self.stack, 1)
        layout.addLayout(run_row)

    # ---- setters: none of them emits a signal ----

    def set_template(self, template: str, corrupted: str, target: str, foil: str, label: str = "") -> None:
        """Fill the template fields (as given: spaces matter)."""
        for edit, text in ((self.template_edit, template), (self.corrupted_edit, corrupted),
                           (self.target_edit, target), (self.foil_edit, foil), (self.label_edit, label)):
            edit.setText(text)
            edit.setCursorPosition(0)  # a long template shows its start

    def set_fillers(self, fillers: dict[str, list[str]]) -> None:
        """One slot row per entry: the slot's name and its values, comma separated."""
        self.fillers.blockSignals(True)
        self.fillers.setRowCount(0)
        for slot, values in fillers.items():
            self._append_filler_row(str(slot), ", ".join(str(v) for v in values))
        self.fillers.blockSignals(False)
        for row in range(self.fillers.rowCount()):
            self._mark_filler_row(row)
        self._sync_filler_buttons()

    def set_preview(self, rows: list[dict], problems: dict[int, list[str]], total: int) -> None:
        """Show `rows` (dicts with "index", its place in the set, and prompt, corrupted, target,
        foil, label), those named in `problems` (by set index) tinted with their messages as
        tooltip; `total` is the set's size. No rows and no total: no set (as clear_preview)."""
        rows = list(rows)[:MAX_PREVIEW]
        if not rows and total <= 0:
            self.clear_preview()
            return
        self._rows = rows
        self._indices = [int(row.get("index", i)) for i, row in enumerate(rows)]
        self._problems = {int(k): [str(m) for m in v] for k, v in problems.items() if v}
        self._total = max(int(total), len(rows))
        table = self.table
        table.setUpdatesEnabled(False)
        table.clearContents()
        table.setRowCount(len(rows))
        bold = QFont(table.font())
        bold.setBold(True)
        for r, (row, index) in enumerate(zip(rows, self._indices)):
            messages = self._problems.get(index, [])
            number = QTableWidgetItem(f"{index + 1:,}")
            number.setData(Qt.ItemDataRole.UserRole, index)
            number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items = [number]
            for key in FIELDS:
                value = "" if row.get(key) is None else str(row.get(key))
                shown = (changed_part(str(row.get("prompt") or ""), value) if key == "corrupted"
                         else cell_text(key, value))
                item = QTableWidgetItem(shown)
                item.setToolTip(value if key in ("prompt", "corrupted") else "")
                items.append(item)
            if messages:
                tip = "\n".join(messages)
                number.setForeground(QBrush(PROBLEM_TEXT))
                number.setFont(bold)
                for item in items:
                    item.setBackground(QBrush(PROBLEM_FILL))
                    full = item.toolTip()
                    item.setToolTip(tip + (f"\n\n{full}" if full else ""))
            for c, item in enumerate(items):
                table.setItem(r, c, item)
        self._fit_columns()
        table.setUpdatesEnabled(True)
        self.stack.setCurrentWidget(table)
        self._apply_filter()
        self._sync_enabled()

    def clear_preview(self, message: str = "") -> None:
        """No set: the table's place says `message` (or how to make one); the summary goes."""
        self._rows, self._indices, self._problems, self._total = [], [], {}, 0
        self.table.clearContents()
        self.table.setRowCount(0)
        self.hint.setText(message or NO_SET)
        self.stack.setCurrentWidget(self.hint)
        self.set_summary("")
        self._apply_filter()
        self._sync_enabled()

    def set_summary(self, text: str, warning: bool = False) -> None:
        """The line over the preview ("1,000 prompts · all 15 tokens · 0 problems"), in the
        problem colour when `warning`; hidden when empty."""
        self.summary.setText(text)
        self.summary.setStyleSheet(WARNING_STYLE if warning else SUMMARY_STYLE)
        self.summary.setProperty("warning", bool(warning))
        self.summary.setVisible(bool(text))

    def set_analyses(self, items: list[tuple[str, str]], current: str | None = None) -> None:
        """The analyses a set can run, (key, label); `current` (or the one chosen before, when
        still listed) is selected."""
        keep = current if current is not None else self.analysis_box.currentData()
        self.analysis_box.blockSignals(True)
        self.analysis_box.clear()
        for key, text in items:
            self.analysis_box.addItem(str(text), str(key))
            self.analysis_box.setItemData(self.analysis_box.count() - 1, str(text), Qt.ItemDataRole.ToolTipRole)
        index = self.analysis_box.findData(keep) if keep is not None else -1
        self.analysis_box.setCurrentIndex(index if index >= 0 else 0 if items else -1)
        self.analysis_box.blockSignals(False)
        self._sync_enabled()
        self._fit_run_row()

    def set_busy(self, busy: bool) -> None:
        """While busy the run button reads Stop (a click says stop_requested) and the choices rest."""
        self._busy = bool(busy)
        self.run_button.setText("Stop" if self._busy else "Run over the set")
        self._sync_enabled()

    def set_status(self, text: str) -> None:
        """One line at the bottom: progress or an error; hidden when empty."""
        self._filler_note = ""
        self._show_status(text)

    # ---- reading the view ----

    def template_params(self) -> dict:
        """What template_requested would carry. Slot rows without a name, with one that is no
        identifier, or naming a slot again are left out, and the status line says which."""
        fillers, notes = self._read_fillers()
        note = "; ".join(notes)
        if note:
            self._filler_note = note
            self._show_status(note)
        elif self._filler_note and self.status.text() == self._filler_note:
            self.set_status("")  # the complaint went with the problem
        return {"template": self.template_edit.text(), "corrupted": self.corrupted_edit.text(),
                "target": self.target_edit.text(), "foil": self.foil_edit.text(), "label": self.label_edit.text(),
                "fillers": fillers, "limit": int(self.limit_box.value()), "seed": int(self.seed_box.value())}

    def run_params(self) -> dict:
        """What run_requested would carry: the analysis's key ("" when none) and the mode."""
        key = self.analysis_box.currentData()
        return {"analysis": "" if key is None else str(key), "mode": str(self.mode_box.currentData())}

    def shown_rows(self) -> list[int]:
        """The set indices of the rows the table shows now (after the filter), top to bottom."""
        if self.stack.currentWidget() is not self.table:
            return []
        return [index for r, index in enumerate(self._indices) if not self.table.isRowHidden(r)]

    def has_set(self) -> bool:
        return self._total > 0

    def filler_rows(self) -> list[tuple[str, str]]:
        """(slot, values) as typed in each row of the fillers table."""
        def text(row: int, column: int) -> str:
            item = self.fillers.item(row, column)
            return item.text() if item is not None else ""
        return [(text(r, 0), text(r, 1)) for r in range(self.fillers.rowCount())]

    @property
    def busy(self) -> bool:
        return self._busy

    # ---- internals ----

    def _show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _read_fillers(self) -> tuple[dict[str, list[str]], list[str]]:
        """The fillers the table names, and a note for each row left out (a row left blank is
        no complaint)."""
        fillers: dict[str, list[str]] = {}
        notes: list[str] = []
        for number, (slot_text, values_text) in enumerate(self.filler_rows(), 1):
            if not slot_text.strip() and not values_text.strip():
                continue
            name = slot_name(slot_text)
            if name is None:
                notes.append(f"slot row {number} left out: "
                             + ("no slot name" if not slot_text.strip()
                                else f"'{slot_text.strip()}' is no slot name (letters, digits, _)"))
            elif name in fillers:
                notes.append(f"slot row {number} left out: {name} is named above")
            else:
                fillers[name] = filler_values(values_text)
        return fillers, notes

    def _append_filler_row(self, slot: str, values: str) -> int:
        row = self.fillers.rowCount()
        self.fillers.insertRow(row)
        self.fillers.setItem(row, 0, QTableWidgetItem(slot))
        self.fillers.setItem(row, 1, QTableWidgetItem(values))
        return row

    def _mark_filler_row(self, row: int) -> None:
        """Tint a slot name the template could not use; a values cell's tooltip counts them."""
        slot, values = self.fillers.item(row, 0), self.fillers.item(row, 1)
        if slot is None or values is None:
            return
        self.fillers.blockSignals(True)
        bad = bool(slot.text().strip() or values.text().strip()) and slot_name(slot.text()) is None
        slot.setBackground(QBrush(PROBLEM_FILL) if bad else QBrush())
        slot.setToolTip("Not a slot name: letters, digits and _, not starting with a digit" if bad else "")
        n = len(filler_values(values.text()))
        values.setToolTip(f"{n} value{'' if n == 1 else 's'}: {values.text()}" if n else "")
        self.fillers.blockSignals(False)

    def _on_filler_changed(self, item: QTableWidgetItem) -> None:
        self._mark_filler_row(item.row())

    def _on_add_slot(self) -> None:
        """A new slot row: named after the first slot the templates use but the table lacks
        (then its values are edited), or unnamed (then its name is)."""
        named = {slot_name(s) for s, _ in self.filler_rows()}
        fields = (self.template_edit, self.corrupted_edit, self.target_edit, self.foil_edit, self.label_edit)
        missing = [s for s in template_slots(*(e.text() for e in fields)) if s not in named]
        self.fillers.blockSignals(True)
        row = self._append_filler_row(missing[0] if missing else "", "")
        self.fillers.blockSignals(False)
        column = 1 if missing else 0
        self.fillers.setCurrentCell(row, column)
        self.fillers.scrollToItem(self.fillers.item(row, column))
        self.fillers.setFocus()
        self.fillers.editItem(self.fillers.item(row, column))
        self._sync_filler_buttons()

    def _on_remove_slot(self) -> None:
        row = self.fillers.currentRow()
        if row >= 0:
            self.fillers.removeRow(row)
        self._sync_filler_buttons()

    def _sync_filler_buttons(self) -> None:
        self.remove_slot_button.setEnabled(self.fillers.currentRow() >= 0 and self.fillers.rowCount() > 0)

    def _on_make_clicked(self) -> None:
        params = self.template_params()
        if not params["template"].strip():
            self.set_status(NO_TEMPLATE)
            return
        self.template_requested.emit(params)

    def _on_run_clicked(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        elif self.run_button.isEnabled():
            self.run_requested.emit(self.run_params())

    def _on_row_double_clicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._indices):
            self.row_opened.emit(self._indices[row])

    def _apply_filter(self) -> None:
        """Hide the rows without problems while the check box says so; update the counter."""
        only = self.problems_only.isChecked()
        for r, index in enumerate(self._indices):
            self.table.setRowHidden(r, only and index not in self._problems)
        shown = len(self.shown_rows())
        self.counter.setText(showing_text(shown, len(self._rows), self._total, only))

    def _fit_columns(self) -> None:
        """Measure the columns after the rows change: what corrupted (its changed words),
        target, foil and label want (as wide as nine texts in ten, within a cap; a rare long
        one is elided) and need (their title)."""
        metrics = QFontMetrics(self.table.font())
        titles = QFontMetrics(self.table.horizontalHeader().font())
        self._wanted = {}
        for c, key in enumerate(FIELDS[1:], 2):
            texts = [self.table.item(r, c).text() for r in range(self.table.rowCount())]
            title = titles.horizontalAdvance(key) + COLUMN_PAD + 6
            cap = CORRUPTED_WIDTH if key == "corrupted" else ANSWER_WIDTH
            widths = sorted(metrics.horizontalAdvance(t) for t in texts)
            typical = widths[int(WANTED_QUANTILE * (len(widths) - 1))] + COLUMN_PAD if widths else 0
            self._wanted[c] = (title, max(title, min(typical, cap)))
        self._share_columns()

    def _share_columns(self) -> None:
        """#: as wide as its numbers; the prompt takes what is left, at least PROMPT_SHARE of
        the width when the other columns can give it up (they shrink towards their titles)."""
        header = self.table.horizontalHeader()
        if not self._wanted:
            return
        room = self.table.viewport().width() - header.sectionSize(0)
        need = sum(title for title, _ in self._wanted.values())
        want = sum(wanted for _, wanted in self._wanted.values())
        budget = max(need, min(want, room * (1.0 - PROMPT_SHARE)))
        scale = (budget - need) / (want - need) if want > need else 0.0
        for c, (title, wanted) in self._wanted.items():
            header.resizeSection(c, round(title + (wanted - title) * scale))

    def _sync_enabled(self) -> None:
        """Save and Run need a set (and Run an analysis); while busy the button stops."""
        has = self.has_set()
        self.save_button.setEnabled(has)
        self.save_button.setToolTip("Save the set shown as a JSONL file" if has else "Make or open a set first")
        self.problems_only.setVisible(has)  # no set, nothing to filter or count
        self.counter.setVisible(has)
        can_run = has and self.analysis_box.count() > 0
        self.run_button.setEnabled(self._busy or can_run)
        self.run_button.setToolTip("Stop the run (the prompts done so far are kept)" if self._busy else
                                   RUN_TIP if can_run else
                                   "Make or open a set first" if not has else NO_ANALYSES)
        for widget in (self.analysis_box, self.mode_box):
            widget.setEnabled(not self._busy)
        self.analysis_box.setToolTip(self.analysis_box.currentText() or NO_ANALYSES)

    # ---- layout ----

    def _fit_tabs(self, *_args) -> None:
        """Only the shown tab counts towards the tabs' height: the short File and History
        tabs leave the preview the room the template tab needs."""
        for i in range(self.tabs.count()):
            page = self.tabs.widget(i)
            policy = QSizePolicy.Policy.Preferred if i == self.tabs.currentIndex() else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
            page.updateGeometry()
        # the shown page never gets less than it needs (rows of the fillers table would overlap the buttons)
        current = self.tabs.currentWidget()
        need = max(current.minimumSizeHint().height(), current.layout().minimumSize().height()) if current else 0
        self.tabs.setMinimumHeight(need + self.tabs.tabBar().sizeHint().height() + 4 if current is not None else 0)
        self.tabs.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._arrange()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() == QEvent.Type.Resize:
            if watched is self.set_section:
                self._fit_run_row()
            elif watched is self.table.viewport():
                self._share_columns()
        return False

    def _fit_run_row(self) -> None:
        """The "Mode" label shows only when the analysis's name still fits beside it (the
        choice reads denoise or noise, and its tooltip says what they do)."""
        row = self._run_row
        box = self.analysis_box
        longest = max((box.fontMetrics().horizontalAdvance(box.itemText(i)) for i in range(box.count())), default=0)
        needed = (self.analysis_label.sizeHint().width() + longest + 36 + self.mode_label.sizeHint().width()
                  + self.mode_box.sizeHint().width() + self.run_button.minimumWidth() + 8 + 4 * row.spacing())
        self.mode_label.setVisible(self.set_section.width() >= needed)

    def _arrange(self) -> None:
        """Stacked below WIDE_AT pixels, the tabs beside the preview from there."""
        wide = self.width() >= WIDE_AT
        if wide == self._wide:
            return
        self._wide = wide
        if wide:
            self.fillers.setMinimumHeight(table_height(self.fillers, FILLER_LINES[1]))
            self.fillers.setMaximumHeight(QWIDGETSIZE_MAX)
            self.columns.setDirection(QBoxLayout.Direction.LeftToRight)
            self.columns.setSpacing(10)
            self.columns.setStretch(0, 2)
            self.columns.setStretch(1, 3)
        else:
            # up to FILLER_LINES[0] rows; fewer (with a scroll bar) when the dock is short, never over the buttons
            self.fillers.setMinimumHeight(table_height(self.fillers, 2))
            self.fillers.setMaximumHeight(table_height(self.fillers, FILLER_LINES[0]))
            self.columns.setDirection(QBoxLayout.Direction.TopToBottom)
            self.columns.setSpacing(6)
            self.columns.setStretch(0, 0)
            self.columns.setStretch(1, 1)
        self._fit_tabs()


def table_height(table: QTableWidget, rows: int) -> int:
    """The height showing the header and `rows` rows of a table without a scroll bar."""
    return (table.horizontalHeader().sizeHint().height() + rows * table.verticalHeader().defaultSectionSize()
            + 2 * table.frameWidth() + 1)


# ---- demo ----

DEMO_NAMES = ["Mary", "John", "Tom", "Anna", "James", "Sarah", "David", "Emma", "Hermione"]
DEMO_PLACES = ["store", "park", "office", "station", "market"]
DEMO_OBJECTS = ["drink", "book", "ring", "bag"]
DEMO_TEMPLATE = ("When {A} and {B} went to the {P} , {B} gave a {O} to",
                 "When {A} and {B} went to the {P} , {A} gave a {O} to", " {A}", " {B}", "{P}")
DEMO_ANALYSES = [("head", "Head patching (layer × head)"), ("resid", "Residual stream (layer × position)"),
                 ("attn_out", "Attention output (layer × position)"), ("mlp_out", "MLP output (layer × position)")]


def demo_set(n: int = 1000, seed: int = 0) -> tuple[list[dict], dict[int, list[str]]]:
    """A made-up IOI set: `n` rows of the demo template, and the rows where a name is two tokens
    (' Hermione', drawn rarely) named as problems."""
    rng = random.Random(seed)
    weight = {name: 0.12 if name == "Hermione" else 1.0 for name in DEMO_NAMES}
    template, corrupted, target, foil, label = DEMO_TEMPLATE
    rows: list[dict] = []
    problems: dict[int, list[str]] = {}
    for index in range(n):
        a = rng.choices(DEMO_NAMES, [weight[name] for name in DEMO_NAMES])[0]
        others = [name for name in DEMO_NAMES if name != a]
        b = rng.choices(others, [weight[name] for name in others])[0]
        values = {"A": a, "B": b, "P": rng.choice(DEMO_PLACES), "O": rng.choice(DEMO_OBJECTS)}

        def fill(text: str) -> str:
            return _SLOT_IN_TEXT.sub(lambda m: values[m.group(1)], text)

        rows.append({"index": index, "prompt": fill(template), "corrupted": fill(corrupted),
                     "target": fill(target), "foil": fill(foil), "label": fill(label)})
        found = [f"' {name}' is not one token" for name in (a, b) if name == "Hermione"]
        if found:
            found.append("the prompt has 16 tokens, the set's others 15")
            problems[index] = found
    return rows, problems


def demo() -> PromptSetEditor:
    """An IOI template with its fillers made into 1,000 prompts: the first 200 previewed, the
    rows naming Hermione (two tokens) marked, head patching chosen to run over the set."""
    editor = PromptSetEditor()
    editor.set_template(*DEMO_TEMPLATE)
    editor.set_fillers({"A": DEMO_NAMES, "B": DEMO_NAMES, "P": DEMO_PLACES, "O": DEMO_OBJECTS})
    rows, problems = demo_set()
    editor.set_preview(rows[:200], problems, len(rows))
    n = len(problems)
    editor.set_summary(f"{len(rows):,} prompts · {len(rows) - n:,} of 15 tokens, {n} of 16 · {n} problems",
                       warning=bool(n))
    editor.set_analyses(DEMO_ANALYSES, "head")
    editor.set_status("checked 1,000 prompts against gpt2 in 0.2 s")
    editor.resize(460, 560)
    return editor


if __name__ == "__main__":
    from .demo import run

    run(demo)
