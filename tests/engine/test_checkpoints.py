"""Training timelines: finding checkpoints, computing with their weights, measuring them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from engine import Engine
from engine.analysis import Prompt
from engine.checkpoints import find_checkpoints, index_of, step_of, timeline_folder
from engine.errors import EngineError
from tests.conftest import TINY_WORDS
from training.tiny_models import save_random_gpt2

PROMPT = Prompt("Mary and John went to the store . John gave a drink to", "Mary", "John")


@pytest.fixture(scope="module")
def timeline(tmp_path_factory) -> Path:
    """Three 'checkpoints' of one tiny GPT-2 shape (different random weights), named as
    three conventions name them, under a model folder's checkpoints/."""
    root = tmp_path_factory.mktemp("timeline")
    model = save_random_gpt2(root / "model", TINY_WORDS, initializer_range=0.3, seed=0)
    for name, seed in (("step_00100", 1), ("step20", 2), ("checkpoint-1000", 3)):
        save_random_gpt2(model / "checkpoints" / name, TINY_WORDS, initializer_range=0.3, seed=seed)
    return model


def plain_logits(folder: Path, ids: np.ndarray) -> torch.Tensor:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").eval()
    with torch.no_grad():
        return model(input_ids=torch.as_tensor(ids)[None]).logits[0]


def test_checkpoints_are_found_by_step_whatever_the_naming(timeline) -> None:
    found = find_checkpoints(timeline)
    assert [c.step for c in found] == [20, 100, 1000]
    assert [c.path.name for c in found] == ["step20", "step_00100", "checkpoint-1000"]
    assert timeline_folder(timeline) == timeline / "checkpoints"
    assert timeline_folder(found[1].path) == timeline / "checkpoints"  # a loaded checkpoint knows its timeline
    assert index_of(found, found[2].path) == 2 and index_of(found, timeline) is None
    assert step_of("global_step42") == 42 and step_of("main") is None


def test_a_folder_without_checkpoints_or_of_two_models_is_refused_with_a_reason(timeline, tmp_path) -> None:
    with pytest.raises(EngineError, match="expected sub-folders named step_<N>"):
        find_checkpoints(tmp_path)
    mixed = tmp_path / "mixed"
    shutil.copytree(timeline / "checkpoints", mixed)
    save_random_gpt2(mixed / "step_5000", TINY_WORDS, n_layer=3)
    with pytest.raises(EngineError, match="n_layer: 3 vs 2"):
        find_checkpoints(mixed)


def test_computing_with_a_checkpoint_equals_loading_it_and_the_loaded_weights_come_back(timeline) -> None:
    engine = Engine(str(timeline), device="cpu")
    ids = engine.tokenize(PROMPT.text)
    own = engine.handle.forward(ids).logits[0]
    checkpoint = find_checkpoints(timeline)[1].path
    with engine.handle.weights_from(checkpoint):
        swapped = engine.handle.forward(ids).logits[0]
    torch.testing.assert_close(swapped, plain_logits(checkpoint, ids), atol=1e-5, rtol=0)
    assert (swapped - own).abs().max() > 0.1  # really other weights
    torch.testing.assert_close(engine.handle.forward(ids).logits[0], own, atol=0, rtol=0)


def test_a_checkpoint_that_does_not_fit_leaves_the_model_untouched(timeline, tmp_path) -> None:
    engine = Engine(str(timeline), device="cpu")
    ids = engine.tokenize(PROMPT.text)
    before = engine.handle.forward(ids).logits[0]
    wider = save_random_gpt2(tmp_path / "wider", TINY_WORDS, n_embd=48)
    with pytest.raises(EngineError, match="does not fit the loaded model"):
        with engine.handle.weights_from(wider):
            pass
    torch.testing.assert_close(engine.handle.forward(ids).logits[0], before, atol=0, rtol=0)


def test_the_timeline_measures_each_checkpoint_as_if_it_were_loaded(timeline) -> None:
    engine = Engine(str(timeline), device="cpu")
    result = engine.analyse("training_timeline", PROMPT, {"folder": str(timeline), "seg_len": 8, "n_sequences": 4})
    assert result.steps == (20, 100, 1000)
    assert result.induction.shape == (3, 2, 4) and result.copy_loss.shape == (3,)
    from engine.analyses.training_timeline import repeated_tokens

    for i, path in enumerate(result.paths):
        alone = Engine(path, device="cpu")
        scores = alone.head_scores(seg_len=8, n_sequences=4, seed=0)
        np.testing.assert_allclose(result.induction[i], scores.induction, atol=1e-6)
        np.testing.assert_allclose(result.previous_token[i], scores.previous_token, atol=1e-6)
        # copy loss by a reference loop over rows and positions (numpy, float64)
        ids = repeated_tokens(alone.handle, 8, 4, 0)
        start = len(alone.handle.special_prefix)
        first = start + 8 + 1
        losses = []
        for row in range(ids.shape[0]):
            row_logits = plain_logits(Path(path), ids[row]).double().numpy()
            for t in range(first, ids.shape[1]):
                z = row_logits[t - 1]
                losses.append(np.log(np.exp(z - z.max()).sum()) + z.max() - z[ids[row, t]])
        assert result.copy_loss[i] == pytest.approx(np.mean(losses), abs=1e-5)
        run = alone.run(PROMPT.text, want=(), target=PROMPT.target, foil=PROMPT.foil)
        assert result.logit_diff[i] == pytest.approx(run.logit_diff, abs=1e-4)
        assert result.target_prob[i] == pytest.approx(run.target_prob, abs=1e-6)
    assert set(result.curves()) == {"best induction score", "copy loss (nats)", "logit diff (target − foil)"}


def test_without_a_target_the_timeline_has_no_answer_curve(timeline) -> None:
    engine = Engine(str(timeline), device="cpu")
    result = engine.analyse("training_timeline", Prompt(PROMPT.text), {"folder": str(timeline), "seg_len": 8, "n_sequences": 2})
    assert result.logit_diff is None and "logit diff (target − foil)" not in result.curves()


def test_a_config_that_cannot_be_read_is_named(timeline, tmp_path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(timeline / "checkpoints", broken)
    (broken / "step20" / "config.json").write_text("{not json")
    with pytest.raises(EngineError, match="Cannot read .*config.json"):
        find_checkpoints(broken)
    assert json.loads((timeline / "checkpoints" / "step20" / "config.json").read_text())["n_layer"] == 2
