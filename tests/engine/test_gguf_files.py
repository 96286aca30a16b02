"""GGUF files the engine cannot use get a message saying why, before any weight is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.errors import EngineError, UnsupportedArchitectureError
from engine.loading import load_model


def write_gguf(path: Path, architecture: str) -> Path:
    import gguf

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_name("tiny test file")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_header_names_architecture_and_quantisation(tmp_path: Path) -> None:
    from engine.gguf_files import is_gguf, read_header

    path = write_gguf(tmp_path / "m.gguf", "llama")
    header = read_header(path)
    assert (header.architecture, header.name, header.quantisation) == ("llama", "tiny test file", "F16")
    assert "F16" in header.note and "dequantised" in header.note
    assert is_gguf(path) and not is_gguf(tmp_path)


def test_architecture_transformers_cannot_read_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedArchitectureError, match="'rwkv' model, which transformers cannot read"):
        load_model(write_gguf(tmp_path / "rwkv.gguf", "rwkv"), device="cpu")


def test_architecture_without_an_adapter_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedArchitectureError, match="'mamba' model; Microtome has no adapter"):
        load_model(write_gguf(tmp_path / "mamba.gguf", "mamba"), device="cpu")


def test_a_file_that_is_not_gguf_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.gguf"
    path.write_text("hello")
    with pytest.raises(EngineError, match="not a GGUF model file"):
        load_model(path, device="cpu")


def test_a_damaged_gguf_file_is_named(tmp_path: Path) -> None:
    good = write_gguf(tmp_path / "good.gguf", "llama").read_bytes()
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(good[:40])
    with pytest.raises(EngineError, match="not a readable GGUF file"):
        load_model(damaged, device="cpu")
