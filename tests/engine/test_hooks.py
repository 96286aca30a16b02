"""Hooks live only inside a run: none is left on the model, even when the run raises."""

from __future__ import annotations

import pytest
import torch

from engine import Ablation, Engine, EngineError
from engine.hooks import hook_names, hooks_attached, resolve_hook


def attached_hooks(model: torch.nn.Module) -> frozenset[tuple[str, int]]:
    """Every forward (pre-)hook on the model; transformers attaches a few of its own."""
    return frozenset((name, key) for name, m in model.named_modules()
                     for key in (*m._forward_hooks, *m._forward_pre_hooks))


def test_no_hook_left_after_runs(tiny_engine: Engine) -> None:
    before = attached_hooks(tiny_engine.model)
    tiny_engine.run("the store", [Ablation("L0.H1"), Ablation("L1.mlp", "mean")], want=["patterns", "logit_lens"])
    tiny_engine.head_scores(seg_len=5, n_sequences=2)
    assert attached_hooks(tiny_engine.model) == before


def test_no_hook_left_when_the_forward_raises(tiny_engine: Engine) -> None:
    def boom(act: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("edit failed")

    before = attached_hooks(tiny_engine.model)
    ids = torch.from_numpy(tiny_engine.tokenize("the store gave"))[None]
    names = hook_names(tiny_engine.adapter, 2)
    with pytest.raises(RuntimeError, match="edit failed"):
        with hooks_attached(tiny_engine.model, tiny_engine.adapter, 2, capture=names,
                            edits={"blocks.1.hook_mlp_out": [boom]}):
            assert len(attached_hooks(tiny_engine.model) - before) == 19  # one per (module, input|output) site:
            # per layer: block in/out, ln_2 in, c_attn out (q, k, v), c_proj in (z), attn out, mlp in, mlp out; wte, wpe, ln_f
            tiny_engine.model(input_ids=ids)
    assert attached_hooks(tiny_engine.model) == before


def test_no_hook_left_after_a_failed_engine_run(tiny_engine: Engine) -> None:
    before = attached_hooks(tiny_engine.model)
    with pytest.raises(EngineError):
        tiny_engine.run("the store", [Ablation("L0.H0", positions=(50,))])
    assert attached_hooks(tiny_engine.model) == before


def test_every_canonical_hook_captures_the_right_shape(tiny_engine: Engine) -> None:
    names = hook_names(tiny_engine.adapter, 2)
    assert "blocks.1.attn.hook_z" in names and "ln_final.hook_normalized" in names
    ids = torch.from_numpy(tiny_engine.tokenize("the store gave a drink"))[None]
    with torch.no_grad(), hooks_attached(tiny_engine.model, tiny_engine.adapter, 2, capture=names) as store:
        tiny_engine.model(input_ids=ids)
    seq = ids.shape[1]
    assert set(store) == set(names)
    assert store["blocks.0.attn.hook_pattern"].shape == (1, 4, seq, seq)
    assert store["blocks.0.attn.hook_z"].shape == (1, seq, 32)
    for name in ("blocks.1.hook_resid_pre", "blocks.1.hook_resid_mid", "blocks.1.hook_resid_post",
                 "blocks.0.hook_attn_out", "blocks.0.hook_mlp_out", "hook_embed", "hook_pos_embed"):
        assert store[name].shape == (1, seq, 32), name
    # the residual stream adds up: resid_post = resid_mid + mlp_out = resid_pre + attn_out + mlp_out
    torch.testing.assert_close(store["blocks.1.hook_resid_post"],
                               store["blocks.1.hook_resid_mid"] + store["blocks.1.hook_mlp_out"])
    torch.testing.assert_close(store["blocks.1.hook_resid_mid"],
                               store["blocks.1.hook_resid_pre"] + store["blocks.1.hook_attn_out"])
    torch.testing.assert_close(store["blocks.0.hook_resid_pre"], store["hook_embed"] + store["hook_pos_embed"])


@pytest.mark.parametrize("bad", ["blocks.2.hook_resid_pre", "blocks.0.hook_nope", "hook_everything"])
def test_unknown_hook_names_are_rejected(tiny_engine: Engine, bad: str) -> None:
    with pytest.raises(EngineError, match="unknown hook point"):
        resolve_hook(tiny_engine.adapter, bad, 2)
