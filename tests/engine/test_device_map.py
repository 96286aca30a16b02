"""device_map: passed through to from_pretrained, and hooks keep working on modules that
accelerate places elsewhere.

transformers 5 needs `accelerate` for any device_map (even 'cpu'); it is not a dependency,
so without it loading says so, and the other tests here are skipped. A CPU-only machine
cannot spread a model over two devices; the closest runnable placement is offloading one
block to disk: its weights then sit on the meta device and accelerate's own forward hook
loads them for each call, which is the same wrapping a multi-GPU split uses. What this
cannot show is activations living on two different devices at once (needs two GPUs)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from engine import Ablation, Engine
from engine.errors import EngineError
from engine.loading import load_model

PROMPT = "When Mary and John went to the store , John gave a drink to"
GPT2_BLOCKS = ["transformer.wte", "transformer.wpe", "transformer.drop", "transformer.h.0", "transformer.h.1",
               "transformer.ln_f", "lm_head"]


def test_without_accelerate_device_map_is_a_clear_error(tiny_gpt2_dir, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "accelerate" else real(name, *a))
    with pytest.raises(EngineError, match="accelerate"):
        load_model(tiny_gpt2_dir, device_map="auto")


def hooks_on(model: torch.nn.Module) -> set:
    return {(n, k) for n, m in model.named_modules() for k in (*m._forward_hooks, *m._forward_pre_hooks)}


def test_a_single_device_map_loads_the_same_model(tiny_gpt2_dir, tiny_engine) -> None:
    pytest.importorskip("accelerate")
    loaded = load_model(tiny_gpt2_dir, device_map={"": "cpu"})
    assert loaded.device == torch.device("cpu")
    mapped = Engine(loaded)
    a, b = mapped.run(PROMPT, want=["patterns"]), tiny_engine.run(PROMPT, want=["patterns"])
    np.testing.assert_array_equal(a.patterns, b.patterns)


@pytest.fixture(scope="module")
def offloaded(tmp_path_factory) -> tuple[Engine, Engine]:
    """The demo model twice: plain, and with block 1 offloaded to disk by accelerate."""
    pytest.importorskip("accelerate")
    plain = Engine(device="cpu")
    device_map = {name: "disk" if name == "transformer.h.1" else "cpu" for name in GPT2_BLOCKS}
    loaded = load_model(plain.loaded.source, device_map=device_map, offload_folder=tmp_path_factory.mktemp("offload"))
    return plain, Engine(loaded)


def test_the_offloaded_block_really_is_elsewhere(offloaded) -> None:
    _, engine = offloaded
    block = engine.model.get_submodule("transformer.h.1")
    assert block.attn.c_attn.weight.device == torch.device("meta") and hasattr(block, "_hf_hook")
    assert engine.loaded.device == torch.device("cpu")


def test_captures_and_ablations_through_an_offloaded_block(offloaded) -> None:
    plain, engine = offloaded
    before = hooks_on(engine.model)
    for interventions in ((), [Ablation("L1.H2"), Ablation("L1.mlp", "mean")]):
        a = engine.run(PROMPT, interventions, want=["patterns", "resid", "logit_lens"])
        b = plain.run(PROMPT, interventions, want=["patterns", "resid", "logit_lens"])
        np.testing.assert_allclose(a.patterns, b.patterns, atol=1e-6)
        np.testing.assert_allclose(a.resid, b.resid, atol=1e-5)
        np.testing.assert_allclose(a.top_probs, b.top_probs, atol=1e-6)
    ids = torch.from_numpy(engine.tokenize(PROMPT))[None]
    _, store = engine._forward(ids, (), ["blocks.1.attn.hook_z", "blocks.1.hook_mlp_out"])
    assert all(t.device == torch.device("cpu") for t in store.values())  # where the block ran
    assert hooks_on(engine.model) == before  # ours are gone; accelerate's own wrapping is not a hook


def test_dla_with_an_offloaded_block(offloaded) -> None:
    """DLA reads W_O from the module: for an offloaded block the engine brings its weights
    back for that read (accelerate keeps them on the meta device between calls)."""
    plain, engine = offloaded
    a = engine.run(PROMPT, want=["dla"], target="Mary", foil="John")
    assert a.dla.total == pytest.approx(plain.run(PROMPT, want=["dla"], target="Mary", foil="John").dla.total, abs=1e-4)
