"""The head-level sweeps (head x position, query, key, value, pattern) equal an independent
one-at-a-time loop, and resuming from the patched layer changes no number on any family."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

from engine import Engine
from engine.hooks import hooks_attached
from engine.analyses.patching import activation_patching

CLEAN = "When Mary and John went to the store , John gave a drink to"
CORRUPT = "When Mary and John went to the store , Mary gave a drink to"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def _metric(engine: Engine, ids: np.ndarray, edits=None) -> float:
    t, f = engine.token_id("Mary"), engine.token_id("John")
    with torch.no_grad(), hooks_attached(engine.model, engine.adapter, engine.info.n_layers, (), edits or {}):
        logits = engine.model(input_ids=torch.from_numpy(ids)[None]).logits[0, -1]
    return float(logits[t] - logits[f])


def _capture(engine: Engine, ids: np.ndarray, names: list[str]) -> dict[str, torch.Tensor]:
    with torch.no_grad(), hooks_attached(engine.model, engine.adapter, engine.info.n_layers, names) as store:
        engine.model(input_ids=torch.from_numpy(ids)[None])
    return {k: v.clone() for k, v in store.items()}


def reference(engine: Engine, hook: str, positions: slice, head: int) -> np.ndarray:
    """Denoise one head's slice of `hook` (q, k, v or z) per layer: [layers, heads]."""
    clean, corrupt = engine.tokenize(CLEAN), engine.tokenize(CORRUPT)
    m_clean, m_corrupt = _metric(engine, clean), _metric(engine, corrupt)
    dh = engine.info.d_head
    values = np.zeros(engine.info.n_layers)
    for layer in range(engine.info.n_layers):
        name = f"blocks.{layer}.attn.{hook}"
        src = _capture(engine, clean, [name])[name]

        def edit(act):
            act = act.clone()
            act[0, positions, head * dh:(head + 1) * dh] = src[0, positions, head * dh:(head + 1) * dh]
            return act
        values[layer] = (_metric(engine, corrupt, {name: [edit]}) - m_corrupt) / (m_clean - m_corrupt)
    return values


@pytest.mark.parametrize("sweep, hook", [("head_q", "hook_q"), ("head_k", "hook_k"), ("head_v", "hook_v")])
def test_query_key_value_sweeps_equal_a_loop(demo: Engine, sweep: str, hook: str) -> None:
    got = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", sweep, chunk_size=3)
    for head in range(demo.info.n_heads):
        np.testing.assert_allclose(got.values[:, head], reference(demo, hook, slice(None), head), atol=1e-5)


def test_head_by_position_equals_a_loop_and_sums_like_its_positions(demo: Engine) -> None:
    got = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head_pos")
    n_heads = demo.info.n_heads
    assert got.values.shape == (demo.info.n_layers * n_heads, len(demo.tokenize(CLEAN)))
    assert got.row_labels[n_heads + 4] == "L1.H4"
    for pos in (0, 5, 10, -1):
        ref = reference(demo, "hook_z", slice(pos, pos + 1 if pos != -1 else None), 4)
        np.testing.assert_allclose(got.values[[4, n_heads + 4], pos], ref, atol=1e-5)


def test_pattern_sweep_equals_patching_the_softmax_itself(demo: Engine) -> None:
    """Independent of the z = pattern @ v shortcut: replace the softmax output of one head
    (softmax runs once per layer, only in attention, in the demo model)."""
    got = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head_pattern")
    clean, corrupt = demo.tokenize(CLEAN), demo.tokenize(CORRUPT)
    n_layers = demo.info.n_layers
    names = [f"blocks.{l}.attn.hook_pattern" for l in range(n_layers)]
    patterns = _capture(demo, clean, names)
    m_clean, m_corrupt = _metric(demo, clean), _metric(demo, corrupt)
    real_softmax = torch.nn.functional.softmax
    for layer in range(n_layers):
        for head in range(demo.info.n_heads):
            calls = []

            def softmax(x, *args, **kwargs):
                out = real_softmax(x, *args, **kwargs)
                if len(calls) == layer:
                    out = out.clone()
                    out[0, head] = patterns[names[layer]][0, head]
                calls.append(1)
                return out
            with mock.patch("torch.nn.functional.softmax", softmax):
                m = _metric(demo, corrupt)
            assert len(calls) == n_layers
            assert got.values[layer, head] == pytest.approx((m - m_corrupt) / (m_clean - m_corrupt), abs=1e-5)


@pytest.mark.parametrize("family", ["demo", "gpt_neox", "llama", "gemma2", "opt", "gptj", "phi3"])
def test_resuming_from_the_patched_layer_changes_no_number(family: str, tmp_path) -> None:
    from training.tiny_models import save_random_family

    words = "When Mary and John went to the store , gave a drink to".split()
    engine = Engine(device="cpu") if family == "demo" else Engine(save_random_family(tmp_path, words, family), device="cpu")
    sweeps = ["resid", "attn_out", "mlp_out", "head", "head_pos"]
    if family not in ("gpt_neox", "phi3"):  # q/k/v fused head by head / unequally: no hook points for them yet
        sweeps += ["head_q", "head_k", "head_v", "head_pattern"]
    for sweep in sweeps:
        resumed = activation_patching(engine, CLEAN, CORRUPT, "Mary", "John", sweep, chunk_size=5)
        plain = activation_patching(engine, CLEAN, CORRUPT, "Mary", "John", sweep, resume=False)
        np.testing.assert_allclose(resumed.raw, plain.raw, atol=1e-4, err_msg=sweep)
        assert resumed.raw.shape == (len(resumed.row_labels), len(resumed.column_labels))


def test_grouped_query_key_value_sweeps_have_one_column_per_shared_head(tmp_path) -> None:
    from training.tiny_models import save_random_family

    words = "When Mary and John went to the store , gave a drink to".split()
    engine = Engine(save_random_family(tmp_path, words, "llama"), device="cpu")
    result = activation_patching(engine, CLEAN, CORRUPT, "Mary", "John", "head_k")
    assert result.column_labels == ("KV0", "KV1")  # 4 query heads share 2 key/value heads


def test_a_family_without_query_key_value_hooks_gets_a_clear_message(tmp_path) -> None:
    from engine import EngineError
    from engine.analyses.path_patching import path_patching
    from training.tiny_models import save_random_family

    words = "When Mary and John went to the store , gave a drink to".split()
    engine = Engine(save_random_family(tmp_path, words, "gpt_neox"), device="cpu")
    with pytest.raises(EngineError, match="GPT-NeoX models do not provide"):
        activation_patching(engine, CLEAN, CORRUPT, "Mary", "John", "head_q")
    with pytest.raises(EngineError, match="GPT-NeoX models do not provide"):
        path_patching(engine, CLEAN, CORRUPT, "Mary", "John", "L1.H0", "k")


def test_prompts_differing_only_at_the_last_or_first_token(demo: Engine) -> None:
    """The shared prefix is everything but one token, or nothing (BOS aside): resumed equals plain."""
    words = CLEAN.split()
    for pair in ((CLEAN, " ".join(words[:-1] + ["at"])), (CLEAN, " ".join(["If"] + words[1:]))):
        for sweep in ("head", "resid", "head_pos"):
            resumed = activation_patching(demo, *pair, "Mary", "John", sweep)
            plain = activation_patching(demo, *pair, "Mary", "John", sweep, resume=False)
            np.testing.assert_allclose(resumed.raw, plain.raw, atol=1e-5, rtol=1e-5, err_msg=f"{pair[1]} {sweep}")


def test_the_fused_gelu_is_only_swapped_in_for_the_sweep(demo: Engine) -> None:
    from transformers.activations import NewGELUActivation

    from engine.resume import fused_activations

    acts = [m for m in demo.model.modules() if type(m) is NewGELUActivation]
    assert acts  # GPT-2's gelu_new
    with fused_activations(demo.model):
        assert all("forward" in vars(m) for m in acts)
        x = torch.linspace(-6, 6, 101)
        np.testing.assert_allclose(acts[0](x).numpy(), NewGELUActivation.forward(acts[0], x).numpy(), atol=1e-6)
    activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head")
    assert not any("forward" in vars(m) for m in acts)  # restored after the sweep
