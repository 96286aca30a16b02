"""Intervention effects over a prompt set: each prompt's numbers equal an independent
single-prompt loop (a forward per answer prefix, no batching, no teacher forcing in one
pass), negative positions mean the prompt's, and the real MI fact holds: ablating the demo
model's IOI heads breaks the IOI set's accuracy, ablating an unrelated head does not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine import Ablation, Engine
from engine.errors import EngineError
from engine.live import edits_for
from engine.prompt_sets import EditedSet, PromptSet, SetRow
from tests.demo_facts import IOI_HEADS, PREVIOUS_TOKEN_HEAD
from tests.engine.test_set_patching import ioi_set


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def reference(engine: Engine, row: SetRow, interventions) -> tuple[float, float, float]:
    """(logit difference, P(target), log P(answer)) by one forward per answer prefix."""
    h = engine.handle
    p = h.tokenize(row.prompt)
    full = h.tokenize(row.prompt + row.target)
    interventions = tuple(replace(i, positions=tuple(q % len(p) for q in i.positions) if i.positions
                                  else tuple(range(len(p)))) for i in interventions)  # the prompt's positions
    logp, diff, prob = 0.0, None, None
    for k in range(len(p), len(full)):
        ids = full[:k]
        logits = h.forward(ids, edits_for(h, interventions, len(p)) if interventions else {}).logits[0, -1].float()
        if diff is None:
            t, f = full[len(p)], h.tokenize(row.prompt + row.foil)[len(p)]  # the answers' first tokens
            diff, prob = float(logits[t] - logits[f]), float(torch.softmax(logits, -1)[t])
        logp += float(torch.log_softmax(logits, -1)[full[k]])
    return diff, prob, logp


def test_each_prompt_equals_a_single_prompt_loop(demo) -> None:
    rows = ioi_set(3).rows + (SetRow("When Mary and John went to the store , John gave a drink to", "", " Mary .", " John"),)
    edits = (Ablation(IOI_HEADS[1]), Ablation("L1.mlp", positions=(-1,)))
    r = demo.analyse("set_effects", EditedSet(PromptSet(rows), edits), {"batch_tokens": 20})
    assert r.per_prompt.shape == (4, 4, 3)
    for i, row in enumerate(rows):
        for column, chosen in ((0, ()), (1, edits)):
            diff, prob, logp = reference(demo, row, chosen)
            got = r.per_prompt[i, :, column]
            np.testing.assert_allclose(got[[0, 1, 3]], [diff, prob, logp], atol=1e-4, rtol=1e-5)
            assert got[2] == float(diff > 0)
    np.testing.assert_allclose(r.per_prompt[:, :, 2], r.per_prompt[:, :, 1] - r.per_prompt[:, :, 0])
    assert len(demo.tokenize(rows[-1].prompt + rows[-1].target)) - len(demo.tokenize(rows[-1].prompt)) == 2


def test_ablating_the_ioi_heads_breaks_accuracy_and_another_head_does_not(demo) -> None:
    prompt_set = ioi_set(60, seed=3)
    ioi = demo.analyse("set_effects", EditedSet(prompt_set, tuple(Ablation(h) for h in IOI_HEADS)))
    other = demo.analyse("set_effects", EditedSet(prompt_set, (Ablation(PREVIOUS_TOKEN_HEAD),)))
    accuracy = 2
    assert ioi.stats.mean[accuracy, 0] == 1.0 and other.stats.mean[accuracy, 0] == 1.0
    assert ioi.stats.mean[accuracy, 1] < 0.5  # below chance (0.32 measured): the answer is gone
    assert other.stats.mean[accuracy, 1] > 0.9
    assert ioi.stats.mean[0, 2] < -5  # the logit difference falls by nats, in every prompt
    assert (ioi.per_prompt[:, 0, 2] < 0).all()


def test_an_answer_the_tokenizer_merges_into_the_prompt_is_refused(demo) -> None:
    rows = (SetRow("When Mary and John went to the st", "", "ore", "John"),)
    with pytest.raises(EngineError, match="prompt 1"):
        demo.analyse("set_effects", EditedSet(PromptSet(rows), ()))


def test_resampling_over_the_set_draws_each_source_from_another_prompt(demo) -> None:
    prompt_set = ioi_set(6, seed=4)
    head = IOI_HEADS[0]
    drawn = Ablation(head, "resample", source_prompt=prompt_set.rows[0].prompt, reference="the set")
    r = demo.analyse("set_effects", EditedSet(prompt_set, (drawn,)), {"seed": 3})
    fixed = demo.analyse("set_effects", EditedSet(prompt_set, (replace(drawn, reference=""),)))
    sources = [prompt_set.rows[j].prompt for j in range(6)]
    for i, row in enumerate(prompt_set.rows):  # each value is one of the other prompts as the source
        candidates = [reference(demo, row, (replace(drawn, source_prompt=s, reference=""),))[0]
                      for j, s in enumerate(sources) if j != i]
        assert min(abs(r.per_prompt[i, 0, 1] - c) for c in candidates) < 1e-4
    assert not np.allclose(r.per_prompt[:, 0, 1], fixed.per_prompt[:, 0, 1])
