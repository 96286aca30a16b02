"""estimate_memory counts parameters from the config alone: exactly the real model's
sum(p.numel()) for every tiny family, the demo model and full-size shapes (built on the
meta device, so no memory), and sizes captures and free memory sensibly."""

from __future__ import annotations

import re
import sys

import pytest
import torch

from engine import memory
from engine.memory import (
    MemoryEstimate,
    available_memory,
    count_parameters,
    estimate_memory,
    fit_message,
)
from engine.paths import demo_model_dir
from tests.conftest import TINY_WORDS
from training.tiny_models import save_random_family

FAMILIES = ["gpt_neox", "llama", "gemma", "gemma2", "opt", "phi3", "gptj"]


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # tied weights counted once, as loading holds them


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_family_count_is_exact(family: str, tmp_path) -> None:
    from transformers import AutoModelForCausalLM

    folder = save_random_family(tmp_path, TINY_WORDS, family)
    estimate = estimate_memory(folder, "float32", 16)
    assert estimate.exact and estimate.n_params == n_params(AutoModelForCausalLM.from_pretrained(folder))
    assert estimate.weight_bytes == 4 * estimate.n_params


def test_tiny_gpt2_and_the_demo_model_counts_are_exact(tiny_engine) -> None:
    from engine import Engine

    assert estimate_memory(tiny_engine.model.config).n_params == n_params(tiny_engine.model)
    demo = Engine(device="cpu")
    assert estimate_memory(demo_model_dir()).n_params == n_params(demo.model)


def _full_size_configs() -> list:
    import transformers as tf

    return [tf.GPT2Config(), tf.GPTNeoXConfig(attention_bias=False, tie_word_embeddings=True),
            tf.LlamaConfig(num_key_value_heads=8), tf.LlamaConfig(attention_bias=True, mlp_bias=True),
            tf.MistralConfig(), tf.Qwen2Config(), tf.GemmaConfig(), tf.Gemma2Config(), tf.OPTConfig(),
            tf.OPTConfig(hidden_size=1024, word_embed_proj_dim=512, do_layer_norm_before=False, ffn_dim=4096,
                         num_attention_heads=16, num_hidden_layers=24),  # opt-350m's shape: projections, post-LN
            tf.Phi3Config(num_key_value_heads=8), tf.GPTJConfig()]


def test_full_size_shapes_are_exact_on_the_meta_device() -> None:
    """Default configs are real checkpoints' shapes (Gemma-7B, Gemma-2-2B, GPT-J-6B, ...),
    plus grouped-query, bias and projection variants."""
    from transformers import AutoModelForCausalLM

    for config in _full_size_configs():
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config)
        assert count_parameters(config) == (n_params(model), True), config.model_type


def test_gemma_2_2b_is_about_2_6_billion_and_bf16_halves_the_weights() -> None:
    from transformers import Gemma2Config

    f32, bf16 = estimate_memory(Gemma2Config(), "float32", 1), estimate_memory(Gemma2Config(), "bfloat16", 1)
    assert 2.6e9 < f32.n_params < 2.62e9
    assert bf16.weight_bytes * 2 == f32.weight_bytes


def test_captures_are_sized_as_the_panels_hold_them(tiny_engine) -> None:
    cfg = tiny_engine.model.config  # 2 layers, 4 heads, d 32
    est = estimate_memory(cfg, "float32", 10, captures=("patterns", "resid", "dla", "logit_lens"))
    assert est.capture_bytes["patterns"] == 2 * 4 * 10 * 10 * 4
    assert est.capture_bytes["resid"] == 3 * 10 * 32 * 4
    assert est.capture_bytes["logit_lens"] > est.capture_bytes["resid"]
    result = tiny_engine.run(" ".join(["Mary"] * 9), want=["patterns", "resid"])  # BOS + 9 = 10 tokens
    assert result.patterns.nbytes == est.capture_bytes["patterns"] and result.resid.nbytes == est.capture_bytes["resid"]
    longer = estimate_memory(cfg, "float32", 20, captures=("patterns",))
    assert longer.capture_bytes["patterns"] == 4 * est.capture_bytes["patterns"]  # quadratic in the prompt
    assert est.total_bytes == est.weight_bytes + sum(est.capture_bytes.values()) + est.workspace_bytes
    with pytest.raises(ValueError, match="unknown captures"):
        estimate_memory(cfg, "float32", 10, captures=("everything",))


def test_a_config_dict_and_an_unknown_family() -> None:
    from transformers import GPT2Config

    as_dict = GPT2Config(n_layer=2).to_dict()
    assert estimate_memory(as_dict).n_params == count_parameters(GPT2Config(n_layer=2))[0]
    unknown = {"model_type": "not_a_model", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1,
               "num_attention_heads": 2, "intermediate_size": 16}
    assert not estimate_memory(unknown).exact


def test_available_memory_reads_meminfo_and_falls_back(monkeypatch, tmp_path) -> None:
    free = available_memory("cpu")
    with open("/proc/meminfo") as fh:
        kb = int(re.search(r"MemAvailable:\s+(\d+)", fh.read()).group(1))
    assert free is not None and abs(free - kb * 1024) < 2 ** 30  # it moves a little between the two reads
    monkeypatch.setattr(memory, "MEMINFO", str(tmp_path / "missing"))
    monkeypatch.setitem(sys.modules, "psutil", None)  # not installed: no number rather than a wrong one
    assert available_memory("cpu") is None
    if not torch.cuda.is_available():
        assert available_memory("cuda") is None


def test_fit_message_says_what_is_needed_and_what_is_free() -> None:
    est = MemoryEstimate(1_000_000_000, True, 4 * 2 ** 30, {"patterns": 2 ** 30}, 0, "float32", 128)
    message = fit_message(est, 3 * 2 ** 30)
    assert message is not None and re.search(r"needs ~5\.0 GiB.*3\.0 GiB free", message)
    assert fit_message(est, 6 * 2 ** 30) is None and fit_message(est, None) is None
