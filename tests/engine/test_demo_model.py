"""Real circuits in the shipped demo model, measured through the engine.

Scores use random words from the model's filler pool (what its repeated segments were made
of), 37-word segments: longer than any training segment (3-30). Heads named here are the
ones resources/demo_model/README.md names; retraining must update both.

Thresholds and why (measured values in brackets):
- previous-token score > 0.45 [L0.H3: 0.51]: attention spread evenly over the causal
  window would give ~1/i (< 0.03 here); nearly half of all attention on the previous token
  at every position is that head's job. It must also be the top layer-0 head by 1.3x.
- induction score > 0.8 [L1.H4 1.00, L1.H2 0.93, L1.H7 0.97] and < 0.2 in layer 0
  (a one-layer path cannot look at "the token after the earlier copy").
- copy loss on the second copy < 0.5 nats clean (uniform over the 400-word pool: 6.0), and
  ablating the induction heads adds > 1 nat, while ablating the weakest later-layer head
  changes it by < 0.3 nats.
- IOI on held-out templates and names: accuracy > 0.9 and mean logit diff IO - S > 1."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine
from training.demo_data import POOL_IDS, ioi_examples, repeated_sequences

SEG, PREFIX = 37, 9
PREVIOUS_TOKEN_HEAD = (0, 3)  # as the model card says
INDUCTION_HEADS = ["L1.H2", "L1.H4", "L1.H7"]


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")  # the bundled demo model, through the normal loading path


@pytest.fixture(scope="module")
def scores(demo: Engine):
    return demo.head_scores(seg_len=SEG, n_sequences=32, seed=11, token_pool=POOL_IDS)


def copy_loss(engine: Engine, interventions=()) -> float:
    ids = repeated_sequences(24, SEG, np.random.default_rng(5), prefix_len=PREFIX)
    losses = engine.token_losses(ids, interventions)
    start2 = 1 + PREFIX + SEG  # first token of the second copy
    return float(losses[:, start2 : start2 + SEG - 1].mean())  # predicting tokens start2+1 ..


def test_demo_model_loads_through_the_normal_path(demo: Engine) -> None:
    assert demo.info.family == "GPT-2" and demo.info.n_ctx == 128
    assert demo.tokenize("When Mary and John")[0] == demo.tokenizer.bos_token_id


def test_previous_token_head_in_layer_0(scores) -> None:
    layer0 = scores.previous_token[0]
    l, h = PREVIOUS_TOKEN_HEAD
    assert layer0[h] > 0.45, layer0
    assert layer0[h] > 1.3 * np.sort(layer0)[-2], layer0  # clearly the previous-token head


def test_induction_heads_in_layer_1(scores) -> None:
    found = {f"L{l}.H{h}" for l, h in zip(*np.nonzero(scores.induction > 0.8))}
    assert found == set(INDUCTION_HEADS), scores.induction
    assert scores.induction[0].max() < 0.2


def test_ablating_the_induction_heads_breaks_copying(demo: Engine) -> None:
    clean = copy_loss(demo)
    ablated = copy_loss(demo, [Ablation(h) for h in INDUCTION_HEADS])
    assert clean < 0.5
    assert ablated - clean > 1.0, (clean, ablated)


def test_ablating_a_non_induction_head_changes_copying_little(demo: Engine, scores) -> None:
    later = scores.induction[1:] + scores.duplicate_token[1:]  # the duplicate-token head L1.H3 matters too
    l, h = np.unravel_index(np.argmin(later), later.shape)
    clean = copy_loss(demo)
    assert abs(copy_loss(demo, [Ablation(f"L{l + 1}.H{h}")]) - clean) < 0.3


def test_ioi_predicts_the_indirect_object_on_held_out_names_and_templates(demo: Engine) -> None:
    examples = ioi_examples(60, np.random.default_rng(7), held_out=True)
    diffs = np.array([demo.run(ex.prompt, want=(), target=ex.io, foil=ex.s).logit_diff for ex in examples])
    assert (diffs > 0).mean() > 0.9
    assert diffs.mean() > 1.0
