"""Every way loading can fail gives its own typed error with a useful message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import (Engine, HubUnreachableError, ModelNotFoundError, NoSafetensorsError, PromptError,
                    UnknownTokenError, UnsupportedArchitectureError)
from engine.loading import weights_digest


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        Engine(tmp_path / "nowhere")


def test_folder_without_config(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="config.json"):
        Engine(tmp_path)


def test_pickle_only_checkpoint_is_refused(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    import torch
    from transformers import GPT2LMHeadModel

    folder = tmp_path / "pickled"
    shutil.copytree(tiny_gpt2_dir, folder)
    (folder / "model.safetensors").unlink()
    model = GPT2LMHeadModel.from_pretrained(tiny_gpt2_dir)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(NoSafetensorsError, match="pickle"):
        Engine(folder)
    # the explicit opt-in loads it
    assert Engine(folder, allow_pickle=True, device="cpu").info.n_layers == 2


def test_folder_without_weights(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    shutil.copytree(tiny_gpt2_dir, folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(NoSafetensorsError, match="no weight files"):
        Engine(folder)


def test_unsupported_architecture(tmp_path: Path) -> None:
    from transformers import BertConfig

    BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=8).save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(UnsupportedArchitectureError, match="bert.*Supported: gpt2"):
        Engine(tmp_path)


def test_hub_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnreachableError, match="cannot be reached"):
        Engine("microtome-tests/no-such-model")


def test_prompt_errors(tiny_engine: Engine) -> None:
    with pytest.raises(PromptError, match="empty"):
        tiny_engine.run("   ")
    with pytest.raises(PromptError, match="at most 64"):
        tiny_engine.run("the " * 80)


def test_multi_token_target_is_rejected(tiny_engine: Engine) -> None:
    with pytest.raises(UnknownTokenError, match="2 tokens"):
        tiny_engine.run("the store", target="Mary John", foil="John")


def test_weights_digest_changes_with_the_weights(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(tiny_gpt2_dir, folder)
    assert weights_digest(folder) == weights_digest(tiny_gpt2_dir)
    data = bytearray((folder / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (folder / "model.safetensors").write_bytes(bytes(data))
    assert weights_digest(folder) != weights_digest(tiny_gpt2_dir)
