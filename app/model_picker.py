"""Choose a model: the bundled demo model, a recent one, a local folder or a hub id."""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget)

DEMO_ENTRY = "Demo model (bundled, offline)"


class ModelPicker(QDialog):
    def __init__(self, recent: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open model")
        self.list = QListWidget()
        self.list.addItems([DEMO_ENTRY, *recent])
        self.list.setCurrentRow(0)
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("local folder, or a Hugging Face hub id such as gpt2")
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._browse)
        self.device_box = QComboBox()
        self.device_box.addItems(["auto", "cpu", "cuda"])
        self.list.currentTextChanged.connect(lambda text: self.source_edit.setText("" if text == DEMO_ENTRY else text))
        row = QHBoxLayout()
        row.addWidget(self.source_edit, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Model", row)
        form.addRow("Device", self.device_box)
        note = QLabel("Weights load from safetensors only. Hub ids need a network connection "
                      "(or a local Hugging Face cache); offline, you get a message, not a hang.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Demo and recent models:"))
        layout.addWidget(self.list)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(560, 380)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder (with config.json and *.safetensors)")
        if folder:
            self.source_edit.setText(folder)

    def choice(self) -> tuple[str | None, str]:
        """(source or None for the demo model, device)."""
        text = self.source_edit.text().strip()
        return (text or None), self.device_box.currentText()
