"""Mean ablation over a prompt set: the means equal an independent average of each prompt's
own captures (per position when the prompts align, over positions otherwise), an ablation
naming the set puts exactly that mean in place, an unknown set is a clear message, and the
MI fact: mean-ablating the IOI heads over the IOI set itself (names averaged away) breaks
the answer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Ablation, Engine
from engine.errors import EngineError
from engine.prompt_sets import EditedSet, PromptSet, SetRow
from tests.demo_facts import IOI_HEADS
from tests.engine.test_set_patching import ioi_set

HOOK = "blocks.0.attn.hook_z"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def captures(engine: Engine, prompts) -> list[np.ndarray]:
    return [engine.handle.forward(engine.tokenize(p), capture=[HOOK]).acts[HOOK][0].double().numpy() for p in prompts]


def test_aligned_sets_mean_per_position_and_others_over_positions(demo) -> None:
    aligned = ioi_set(12, seed=5)
    r = demo.analyse("set_reference", aligned)
    assert r.per_position and r.n_prompts == 12
    expected = np.mean(captures(demo, [row.prompt for row in aligned.rows]), 0)
    got = demo.handle.ablation_values._set_means[r.name][HOOK].double().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    mixed = PromptSet((SetRow("When Mary and John went to the store"), SetRow("The cat sat on the mat and then slept")))
    m = demo.analyse("set_reference", mixed)
    skip = len(demo.handle.special_prefix)
    rows = np.concatenate([c[skip:] for c in captures(demo, [row.prompt for row in mixed.rows])])
    assert not m.per_position
    np.testing.assert_allclose(demo.handle.ablation_values._set_means[m.name][HOOK].double().numpy(), rows.mean(0),
                               atol=1e-5)


def test_an_ablation_naming_the_set_puts_its_mean_in_place(demo) -> None:
    prompt_set = ioi_set(12, seed=5)
    name = demo.analyse("set_reference", prompt_set).name
    prompt = prompt_set.rows[0].prompt
    result = demo.run(prompt, [Ablation("L0.H5", "mean", reference=name)], want=[], target="Mary", foil="John")
    mean = torch.as_tensor(np.mean(captures(demo, [r.prompt for r in prompt_set.rows]), 0), dtype=torch.float32)
    h = demo.handle
    d = h.info.d_head

    def put_mean(z):
        z = z.clone()
        z[0, :, 5 * d:6 * d] = mean[:, 5 * d:6 * d]
        return z
    logits = h.forward(demo.tokenize(prompt), {HOOK: [put_mean]}).logits[0, -1]
    expected = float(logits[demo.token_id("Mary")] - logits[demo.token_id("John")])
    assert result.logit_diff == pytest.approx(expected, abs=1e-4)


def test_an_unknown_set_says_what_to_do(demo) -> None:
    with pytest.raises(EngineError, match="Make it the reference"):
        demo.run("When Mary and John went to the store", [Ablation("L0.H5", "mean", reference="nowhere")], want=[])
    with pytest.raises(Exception, match="no reference"):
        Ablation("L0.H5", "zero", reference="x")


def test_mean_ablating_the_ioi_heads_over_the_ioi_set_breaks_the_answer(demo) -> None:
    prompt_set = ioi_set(60, seed=7)
    name = demo.analyse("set_reference", prompt_set).name
    effects = demo.analyse("set_effects", EditedSet(prompt_set, tuple(Ablation(h, "mean", reference=name)
                                                                      for h in IOI_HEADS)))
    accuracy = 2
    assert effects.stats.mean[accuracy, 0] == 1.0 and effects.stats.mean[accuracy, 1] < 0.75
    assert effects.stats.mean[0, 2] < -5
