"""Each architecture adapter gives the same guarantees as GPT-2's, on tiny random models
built locally: lens = logits, DLA sums to the logit difference, patterns = output_attentions,
head ablation = zeroing that head's input columns of the output projection, no hook left."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from engine import Ablation, Engine
from tests.conftest import TINY_WORDS
from training.tiny_models import save_random_family

PROMPT = "When Mary and John went to the store , John gave a drink to"
FAMILIES = ["gpt_neox", "llama"]
O_PROJ = {"gpt_neox": "gpt_neox.layers.{l}.attention.dense", "llama": "model.layers.{l}.self_attn.o_proj",
          "gemma": "model.layers.{l}.self_attn.o_proj", "gemma2": "model.layers.{l}.self_attn.o_proj",
          "opt": "model.decoder.layers.{l}.self_attn.out_proj", "phi3": "model.layers.{l}.self_attn.o_proj",
          "gptj": "transformer.h.{l}.attn.out_proj"}  # test_adapters_more runs two of these tests on the rest


@pytest.fixture(scope="module", params=FAMILIES)
def family_engine(request, tmp_path_factory) -> tuple[str, Engine]:
    folder = save_random_family(tmp_path_factory.mktemp(request.param), TINY_WORDS, request.param)
    return request.param, Engine(folder, device="cpu")


def full_logits(engine: Engine, ids: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return engine.model(input_ids=torch.from_numpy(ids)[None]).logits[0]


def test_logit_lens_last_layer_equals_the_model_output(family_engine) -> None:
    _, engine = family_engine
    result = engine.run(PROMPT, want=["logit_lens"])
    probs = torch.softmax(full_logits(engine, result.token_ids), -1).numpy()
    np.testing.assert_allclose(result.logit_lens.top_probs[-1, :, 0], probs.max(-1), atol=1e-5)
    chosen = probs[np.arange(len(probs)), result.logit_lens.top_ids[-1, :, 0]]  # ties allowed (random init)
    np.testing.assert_allclose(chosen, probs.max(-1), atol=1e-6)


def test_dla_sums_to_the_logit_difference(family_engine) -> None:
    _, engine = family_engine
    result = engine.run(PROMPT, want=["dla"], target="Mary", foil="John")
    assert result.dla.total == pytest.approx(result.logit_diff, abs=1e-4)
    assert "pos_embed" not in result.dla.labels  # rotary models have no position embedding


def test_patterns_equal_output_attentions(family_engine) -> None:
    _, engine = family_engine
    result = engine.run(PROMPT, want=["patterns"])
    with torch.no_grad():
        out = engine.model(input_ids=torch.from_numpy(result.token_ids)[None], output_attentions=True)
    np.testing.assert_allclose(result.patterns, torch.stack([a[0] for a in out.attentions]).numpy(), atol=1e-6)
    np.testing.assert_allclose(result.patterns.sum(-1), 1.0, atol=1e-5)


def test_head_ablation_equals_zeroing_the_output_projection_columns(family_engine) -> None:
    family, engine = family_engine
    ids = engine.tokenize(PROMPT)
    logits, _ = engine._forward(torch.from_numpy(ids)[None], [Ablation("L1.H2")], ())
    model = copy.deepcopy(engine.model)
    dh = engine.info.d_head
    with torch.no_grad():
        model.get_submodule(O_PROJ[family].format(l=1)).weight[:, 2 * dh:3 * dh] = 0
        expected = model(input_ids=torch.from_numpy(ids)[None]).logits[0]
    np.testing.assert_allclose(logits[0].numpy(), expected.numpy(), atol=1e-5)
    assert not np.allclose(expected.numpy(), full_logits(engine, ids).numpy(), atol=1e-4)


def test_no_hook_is_left_and_head_scores_run(family_engine) -> None:
    _, engine = family_engine
    before = {(n, k) for n, m in engine.model.named_modules() for k in (*m._forward_hooks, *m._forward_pre_hooks)}
    engine.run(PROMPT, [Ablation("L0.mlp", "mean")], want=["patterns", "logit_lens", "dla"], target="Mary", foil="John")
    scores = engine.head_scores(seg_len=8, n_sequences=4)
    after = {(n, k) for n, m in engine.model.named_modules() for k in (*m._forward_hooks, *m._forward_pre_hooks)}
    assert before == after and scores.induction.shape == (2, 4)
