"""Real circuits in the shipped demo model, measured through the engine.

Thresholds and why (the model card lists the measured values):
- previous-token score > 0.5: a head attending uniformly would score ~1/i; half its
  attention on the previous token at every position is unmistakably that head.
- induction score > 0.4 on segment lengths and offsets never used in training (training
  segments: 3-30 words with gaps; here 37 words behind a 9-word prefix).
- copy loss on the second copy < 0.5 nats clean (uniform over the 400-word pool: 6.0), and
  ablating the induction heads adds > 1 nat, while ablating the weakest later-layer head
  changes it by < 0.3 nats.
- IOI on held-out templates and names: accuracy > 0.9 and mean logit diff IO - S > 1."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine
from training.demo_data import ioi_examples, repeated_sequences

SEG, PREFIX = 37, 9


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")  # the bundled demo model, through the normal loading path


@pytest.fixture(scope="module")
def scores(demo: Engine):
    return demo.head_scores(seg_len=SEG, n_sequences=16, seed=11)


def induction_heads(scores) -> list[str]:
    later = scores.induction[1:]
    return [f"L{l + 1}.H{h}" for l, h in zip(*np.nonzero(later > 0.3))]


def copy_loss(engine: Engine, interventions=()) -> float:
    ids = repeated_sequences(24, SEG, np.random.default_rng(5), prefix_len=PREFIX)
    losses = engine.token_losses(ids, interventions)
    start2 = 1 + PREFIX + SEG  # first token of the second copy
    return float(losses[:, start2 : start2 + SEG - 1].mean())  # predicting tokens start2+1 ..


def test_demo_model_loads_through_the_normal_path(demo: Engine) -> None:
    assert demo.info.family == "GPT-2" and demo.info.n_ctx == 128
    assert demo.tokenize("When Mary and John")[0] == demo.tokenizer.bos_token_id


def test_previous_token_head_in_layer_0(scores) -> None:
    assert scores.previous_token[0].max() > 0.5, scores.previous_token


def test_induction_head_in_a_later_layer(scores) -> None:
    assert scores.induction[1:].max() > 0.4, scores.induction
    assert scores.induction[0].max() < 0.2  # layer 0 cannot do induction on its own


def test_ablating_the_induction_heads_breaks_copying(demo: Engine, scores) -> None:
    heads = induction_heads(scores)
    clean = copy_loss(demo)
    ablated = copy_loss(demo, [Ablation(h) for h in heads])
    assert clean < 0.5
    assert ablated - clean > 1.0, (heads, clean, ablated)


def test_ablating_a_non_induction_head_changes_copying_little(demo: Engine, scores) -> None:
    later = scores.induction[1:]
    l, h = np.unravel_index(np.argmin(later), later.shape)
    clean = copy_loss(demo)
    assert abs(copy_loss(demo, [Ablation(f"L{l + 1}.H{h}")]) - clean) < 0.3


def test_ioi_predicts_the_indirect_object_on_held_out_names_and_templates(demo: Engine) -> None:
    examples = ioi_examples(60, np.random.default_rng(7), held_out=True)
    diffs = np.array([demo.run(ex.prompt, want=(), target=ex.io, foil=ex.s).logit_diff for ex in examples])
    assert (diffs > 0).mean() > 0.9
    assert diffs.mean() > 1.0
