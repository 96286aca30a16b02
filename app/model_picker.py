"""Choose a model: the bundled demo model, a recent one, a local folder, a GGUF file
(llama.cpp / Ollama / LM Studio) or a hub id."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QPushButton, QVBoxLayout, QWidget)

DEMO_ENTRY = "Demo model (bundled, offline)"
GIB_BYTES = 1024 ** 3


class ModelPicker(QDialog):
    def __init__(self, recent: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open model")
        self.list = QListWidget()
        self.list.addItems([DEMO_ENTRY, *recent])
        self.list.setCurrentRow(0)
        self.source_edit = QLineEdit()
        self.source_edit.setPlaceholderText("local folder, a .gguf file, or a Hugging Face hub id such as gpt2")
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._browse)
        browse_file = QPushButton("GGUF file…")
        browse_file.setToolTip("A llama.cpp / Ollama / LM Studio model file; its weights are dequantised to float")
        browse_file.clicked.connect(self._browse_gguf)
        self.device_box = QComboBox()
        for text, key in (("auto (CUDA when present)", "auto"), ("CPU", "cpu"), ("CUDA", "cuda"),
                          ("split across GPUs / CPU (accelerate)", "split")):
            self.device_box.addItem(text, key)
        self.dtype_box = QComboBox()
        self.dtype_box.addItems(["float32", "bfloat16", "float16"])
        self.dtype_box.setToolTip("Analyses that need float32 accuracy (lens softmax, DLA sums) upcast anyway")
        self.estimate_label = QLabel("")
        self.estimate_label.setWordWrap(True)
        self.list.currentTextChanged.connect(lambda text: self.source_edit.setText("" if text == DEMO_ENTRY else text))
        self.source_edit.textChanged.connect(self._update_estimate)
        self.dtype_box.currentTextChanged.connect(self._update_estimate)
        row = QHBoxLayout()
        row.addWidget(self.source_edit, 1)
        row.addWidget(browse)
        row.addWidget(browse_file)
        form = QFormLayout()
        form.addRow("Model", row)
        form.addRow("Device", self.device_box)
        form.addRow("Precision", self.dtype_box)
        form.addRow("Memory", self.estimate_label)
        self.allow_pickle = QCheckBox("Allow pickle checkpoints (.bin / .pt)")
        self.allow_pickle.setToolTip("Loading a pickle can run any code the file holds: only for sources you trust. "
                                     "Safetensors files never can.")
        self.allow_pickle.toggled.connect(lambda on: self.allow_pickle.setStyleSheet(
            "color: #b00020; font-weight: bold;" if on else ""))
        form.addRow("Unsafe", self.allow_pickle)
        note = QLabel("Weights load from safetensors only unless you allow pickles. Hub ids need a network connection "
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
        self.resize(600, 420)
        self._update_estimate()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder (with config.json and *.safetensors)")
        if folder:
            self.source_edit.setText(folder)

    def _browse_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "GGUF model file", "", "GGUF models (*.gguf);;All files (*)")
        if path:
            self.source_edit.setText(path)

    def _update_estimate(self) -> None:
        self.estimate_label.setText(memory_summary(self.source_edit.text().strip() or None, self.dtype_box.currentText()))

    @property
    def pickle_allowed(self) -> bool:
        return self.allow_pickle.isChecked()

    def choice(self) -> tuple[str | None, str, str]:
        """(source or None for the demo model, device, dtype)."""
        text = self.source_edit.text().strip()
        return (text or None), self.device_box.currentData(), self.dtype_box.currentText()


def memory_summary(source: str | None, dtype: str, prompt_tokens: int = 128) -> str:
    """'~0.5 GiB (124 M parameters in float32, 128-token prompt); 20.1 GiB free on CPU' for a
    local folder, from its config.json alone; a hint otherwise. Never raises."""
    from pathlib import Path

    from engine.paths import demo_model_dir

    folder = Path(source).expanduser() if source else demo_model_dir()
    if folder.is_file() and folder.suffix.lower() == ".gguf":
        size = folder.stat().st_size / GIB_BYTES
        return (f"GGUF file of {size:.2f} GiB: its weights are dequantised to {dtype} when loaded, "
                f"so expect several times that in memory")
    if not (folder / "config.json").is_file():
        return "estimated from config.json once a local folder is chosen" if source else ""
    try:
        from engine.memory import GIB, available_memory, estimate_memory

        est = estimate_memory(folder, dtype, prompt_tokens)
        free = available_memory("cpu")
    except Exception as exc:  # noqa: BLE001 - an estimate is a courtesy, never an obstacle
        return f"no estimate ({type(exc).__name__})"
    text = (f"~{est.total_bytes / GIB:.2f} GiB ({count_text(est.n_params)} parameters in {dtype}, "
            f"{prompt_tokens}-token prompt with patterns and residuals)")
    if free is not None:
        text += f"; {free / GIB:.1f} GiB free on CPU"
        if est.total_bytes > free:
            text = "⚠ does not fit: " + text
    return text


def count_text(n: int) -> str:
    """52.1 k, 124 M, 6.74 B: a parameter count at a glance."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return str(n)
