"""The model handle, the only door to the model: batching, gradients, resuming, no leftover hooks.

Every analysis goes through `TorchHandle.forward`, so a padded batch must give each row what
the row alone gives, a resumed run what the full run gives, and no forward (also one whose
edit raises) may leave a hook or a swapped layer list behind on the model."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from engine import Engine, PromptError
from engine.hooks import hook_names

PROMPTS = (
    "When Mary and John went to the store , John gave a drink to",  # 15 tokens with BOS
    "Mary gave",  # 3
    "When Mary and John went to",  # 7
)


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")  # GPT-2 with absolute positions: right padding changes no real position


# ------------------------------------------------------------------ batches
def test_tokenize_batch_right_pads_and_masks(demo: Engine) -> None:
    ids, mask = demo.handle.tokenize_batch(PROMPTS)
    rows = [demo.tokenize(p) for p in PROMPTS]
    lengths = [len(r) for r in rows]
    assert lengths == [15, 3, 7]
    assert ids.shape == mask.shape == (3, 15)
    assert ids.dtype == np.int64 and mask.dtype == np.int64
    pad = demo.tokenizer.pad_token_id if demo.tokenizer.pad_token_id is not None else 0
    for b, (row, n) in enumerate(zip(rows, lengths)):
        np.testing.assert_array_equal(ids[b, :n], row)
        assert (ids[b, n:] == pad).all()
        np.testing.assert_array_equal(mask[b], np.r_[np.ones(n, np.int64), np.zeros(15 - n, np.int64)])


def test_tokenize_batch_refuses_an_empty_prompt(demo: Engine) -> None:
    with pytest.raises(PromptError):
        demo.handle.tokenize_batch(["Mary gave", "  "])


def test_padded_batch_rows_equal_each_prompt_alone(demo: Engine) -> None:
    ids, mask = demo.handle.tokenize_batch(PROMPTS)
    batch = demo.handle.forward(ids, attention_mask=mask, logits_to_keep=0).logits
    assert batch.shape == (3, 15, demo.info.vocab_size)
    for b, prompt in enumerate(PROMPTS):
        alone = demo.handle.forward(demo.tokenize(prompt), logits_to_keep=0).logits
        n = int(mask[b].sum())
        assert alone.shape == (1, n, demo.info.vocab_size)
        torch.testing.assert_close(batch[b, :n], alone[0], rtol=0, atol=1e-4)


def test_logits_to_keep_keeps_the_last_positions(demo: Engine) -> None:
    ids = demo.tokenize(PROMPTS[0])
    full = demo.handle.forward(ids).logits
    last = demo.handle.forward(ids, logits_to_keep=1).logits
    assert last.shape == (1, 1, demo.info.vocab_size)
    torch.testing.assert_close(last[0, 0], full[0, -1], rtol=0, atol=1e-5)


# ------------------------------------------------------------------ gradients
def embed_leaf(store: dict[str, torch.Tensor]):
    """An edit making the embeddings a leaf (the weights are frozen), kept in `store`."""
    def edit(act: torch.Tensor) -> torch.Tensor:
        store["leaf"] = act.detach().requires_grad_(True)
        return store["leaf"]
    return edit


def test_grad_forward_backpropagates_like_autograd_through_the_model(demo: Engine) -> None:
    """d(logit Mary - logit John)/d(embedding) through the handle equals the model's own
    autograd from inputs_embeds (the position embedding is added after hook_embed)."""
    ids = demo.tokenize(PROMPTS[0])
    t, f = demo.token_id("Mary"), demo.token_id("John")
    store: dict[str, torch.Tensor] = {}
    logits = demo.handle.forward(ids, {"hook_embed": [embed_leaf(store)]}, grad=True).logits
    assert logits.requires_grad
    with torch.enable_grad():
        (logits[0, -1, t] - logits[0, -1, f]).backward()
    grad = store["leaf"].grad
    assert grad is not None and grad.shape == (1, 15, demo.info.d_model) and grad.abs().sum() > 0

    with torch.enable_grad():
        embeds = demo.model.get_input_embeddings()(torch.as_tensor(ids)[None]).detach().requires_grad_(True)
        own = demo.model(inputs_embeds=embeds).logits[0, -1]
        (own[t] - own[f]).backward()
    torch.testing.assert_close(grad, embeds.grad, rtol=1e-4, atol=1e-6)
    assert all(p.grad is None for p in demo.model.parameters())  # frozen weights collect nothing


def test_forward_without_grad_keeps_no_graph(demo: Engine) -> None:
    logits = demo.handle.forward(demo.tokenize(PROMPTS[1])).logits
    assert not logits.requires_grad
    assert torch.is_inference(logits)
    store: dict[str, torch.Tensor] = {}
    edited = demo.handle.forward(demo.tokenize(PROMPTS[1]), {"hook_embed": [embed_leaf(store)]}).logits
    assert not edited.requires_grad


# ------------------------------------------------------------------ resuming
@pytest.mark.parametrize("prompt", PROMPTS)
def test_start_layer_fed_the_full_runs_residual_reproduces_its_logits(demo: Engine, prompt: str) -> None:
    """blocks[s:] from resid_post[s-1] of a full run gives the full run's logits, and block
    s-1 is not run again."""
    ids = demo.tokenize(prompt)
    for s in range(1, demo.info.n_layers):
        full = demo.handle.forward(ids, capture=[f"blocks.{s - 1}.hook_resid_post"])
        entering = full[f"blocks.{s - 1}.hook_resid_post"]
        calls: list[int] = []
        counter = demo.model.transformer.h[s - 1].register_forward_hook(lambda *a: calls.append(1))
        try:
            resumed = demo.handle.forward(ids, {f"blocks.{s}.hook_resid_pre": [lambda act: entering]}, start_layer=s)
        finally:
            counter.remove()
        assert calls == []
        torch.testing.assert_close(resumed.logits, full.logits, rtol=0, atol=1e-5)


def test_start_layer_without_the_residual_is_not_the_full_run(demo: Engine) -> None:
    """Guards the test above: without the supplied residual the tail sees the embeddings."""
    ids = demo.tokenize(PROMPTS[0])
    full = demo.handle.forward(ids).logits
    tail_only = demo.handle.forward(ids, start_layer=1).logits
    assert not torch.allclose(tail_only, full, atol=1e-3)


# ------------------------------------------------------------------ no leftovers
HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs",
              "_forward_hooks_always_called", "_backward_hooks", "_backward_pre_hooks")


def model_state(model: torch.nn.Module) -> dict[str, Any]:
    """Every module's hook ids, and the identity of every submodule (a swapped layer list shows)."""
    state: dict[str, Any] = {name: tuple(tuple(getattr(m, d, {})) for d in HOOK_DICTS)
                             for name, m in model.named_modules()}
    state["__modules__"] = tuple((name, id(m)) for name, m in model.named_modules())
    state["__n_layers__"] = len(model.transformer.h)
    return state


class Boom(RuntimeError):
    """The failure an edit raises mid-forward."""


def boom(act: torch.Tensor) -> torch.Tensor:
    raise Boom("an edit failed")


def test_the_handle_never_leaves_hooks_on_the_model(demo: Engine) -> None:
    handle, model = demo.handle, demo.model
    ids = demo.tokenize(PROMPTS[0])
    before = model_state(model)
    clean = handle.forward(ids).logits.clone()
    names = hook_names(demo.adapter, demo.info.n_layers)
    handle.forward(ids, {name: [lambda act: act * 1.0] for name in names}, capture=names)
    assert model_state(model) == before
    t, f = demo.token_id("Mary"), demo.token_id("John")

    failing: list[dict[str, Any]] = [
        {"edits": {"blocks.1.hook_mlp_out": [boom]}, "capture": names},
        {"edits": {"blocks.0.attn.hook_z": [lambda a: a, boom]}},
        {"edits": {"hook_embed": [boom]}, "grad": True},
        {"edits": {"blocks.1.hook_resid_pre": [boom]}, "start_layer": 1, "capture": ["blocks.1.hook_mlp_out"]},
        {"edits": {"blocks.1.hook_resid_post": [lambda a: a[:, :2]]}},  # breaks the model itself
    ]
    for kwargs in failing:
        with pytest.raises((Boom, RuntimeError)):
            handle.forward(ids, **kwargs)
        assert model_state(model) == before, kwargs
    with pytest.raises(Boom):
        handle.metric_forward(ids, (t, f), {"blocks.0.hook_mlp_out": [boom]},
                              capture=["blocks.1.hook_mlp_out"])
    assert model_state(model) == before
    torch.testing.assert_close(handle.forward(ids).logits, clean, rtol=0, atol=0)  # and the model is unchanged


# ------------------------------------------------------------------ the cache
def test_cache_stack_takes_one_row_as_float32_on_the_cpu(demo: Engine) -> None:
    ids, mask = demo.handle.tokenize_batch(PROMPTS[:2])
    names = ["blocks.0.hook_resid_pre", "blocks.0.hook_resid_post", "blocks.1.hook_resid_post"]
    cache = demo.handle.forward(ids, capture=names, attention_mask=mask)
    assert set(names) <= set(cache.acts) and all(name in cache for name in names)
    for row in (0, 1):
        stacked = cache.stack(names, row=row)
        assert stacked.shape == (len(names), ids.shape[1], demo.info.d_model)
        assert stacked.dtype == torch.float32 and stacked.device.type == "cpu"
        for i, name in enumerate(names):
            torch.testing.assert_close(stacked[i], cache[name][row], rtol=0, atol=0)
    torch.testing.assert_close(cache.stack(names), cache.stack(names, row=0), rtol=0, atol=0)
    assert not torch.equal(cache.stack(names, row=0), cache.stack(names, row=1))
