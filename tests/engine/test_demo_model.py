"""Real circuits in the shipped demo model, measured through the engine.

Scores use random words from the model's filler pool, 37-word segments: longer than any
training segment (3-30). Heads named here are the ones resources/demo_model/README.md names
(tests/demo_facts.py); retraining must update both.

Thresholds and why (measured values in brackets):
- previous-token score > 0.6 [L0.H3: 0.99]: attention spread evenly over the causal window
  would give ~1/i (< 0.03 here). It must also be the top layer-0 head by 1.5x [next 0.28].
- induction score > 0.8 exactly for the card's heads [L1.H0 1.00, L1.H1 0.99; no other head
  above 0.01] and < 0.2 in layer 0 (a one-layer path cannot look at "the token after the
  earlier copy"); duplicate-token head [L1.H2 0.94].
- copy loss on the second copy < 0.5 nats clean [0.13] (uniform over the pool: 6.0), and
  ablating the induction heads adds > 1 nat [6.3], while ablating the weakest later-layer
  head changes it by < 0.3 nats [L1.H5: +0.28].
- Copying works for every kind of token (issue 17): 8- and 12-token segments drawn from the
  whole vocabulary, names, template words and punctuation, and the filler pool, each < 1.3
  nats [8 tokens: 1.14, 0.59, 0.40, 1.10; 12 tokens: 0.67, 0.44, 0.30, 0.69]; ablating the
  induction heads destroys it (> 6 [6.5]), ablating as many later-layer heads that copy least
  does not (< 3 [0.97]).
- IOI on held-out templates and names: accuracy > 0.9 and mean logit diff IO - S > 1 [1.00, 18.4]."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine
from tests.demo_facts import DUPLICATE_TOKEN_HEAD, INDUCTION_HEADS, PREVIOUS_TOKEN_HEAD
from training.demo_data import POOL_IDS, ioi_examples, repeated_sequences

SEG, PREFIX = 37, 9


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")  # the bundled demo model, through the normal loading path


@pytest.fixture(scope="module")
def scores(demo: Engine):
    return demo.head_scores(seg_len=SEG, n_sequences=32, seed=11, token_pool=POOL_IDS)


def copy_loss(engine: Engine, interventions=(), token_class: str = "pool", seg: int = SEG, prefix: int = PREFIX) -> float:
    ids = repeated_sequences(24, seg, np.random.default_rng(5), prefix_len=prefix, token_class=token_class)
    losses = engine.token_losses(ids, interventions)
    start2 = 1 + prefix + seg  # first token of the second copy
    return float(losses[:, start2 : start2 + seg - 1].mean())  # predicting tokens start2+1 ..


def test_demo_model_loads_through_the_normal_path(demo: Engine) -> None:
    assert demo.info.family == "GPT-2" and demo.info.n_ctx == 128
    assert demo.tokenize("When Mary and John")[0] == demo.tokenizer.bos_token_id


def test_previous_token_head_in_layer_0(scores) -> None:
    layer0 = scores.previous_token[0]
    h = int(PREVIOUS_TOKEN_HEAD.split(".H")[1])
    assert PREVIOUS_TOKEN_HEAD.startswith("L0.")
    assert layer0[h] > 0.6, layer0
    assert layer0[h] > 1.5 * np.sort(layer0)[-2], layer0  # clearly the previous-token head


def test_duplicate_token_head_in_layer_1(scores) -> None:
    l, h = (int(x) for x in DUPLICATE_TOKEN_HEAD[1:].split(".H"))
    assert l == 1 and scores.duplicate_token[l, h] > 0.6 and scores.duplicate_token[l, h] == scores.duplicate_token.max()


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


@pytest.mark.parametrize("token_class", ["all", "names", "template", "pool"])
@pytest.mark.parametrize("seg", [8, 12])
def test_copying_works_for_every_kind_of_token(demo: Engine, token_class: str, seg: int) -> None:
    """Issue 17: well below 1.5 nats from 8-token segments on, for every kind of token."""
    assert copy_loss(demo, token_class=token_class, seg=seg, prefix=3) < 1.3


def test_ablating_the_induction_heads_breaks_whole_vocabulary_copying_and_as_many_other_heads_do_not(demo: Engine, scores) -> None:
    clean = copy_loss(demo, token_class="all", seg=12, prefix=3)
    assert copy_loss(demo, [Ablation(h) for h in INDUCTION_HEADS], token_class="all", seg=12, prefix=3) > 6.0
    # as many heads of layer 1 that copy least (lowest induction + duplicate score, not the card's heads)
    later = scores.induction[1] + scores.duplicate_token[1] + scores.previous_token[1]
    others = [f"L1.H{h}" for h in np.argsort(later) if f"L1.H{h}" not in INDUCTION_HEADS][:len(INDUCTION_HEADS)]
    assert copy_loss(demo, [Ablation(h) for h in others], token_class="all", seg=12, prefix=3) < max(3.0, clean + 1.5), others


def test_ioi_predicts_the_indirect_object_on_held_out_names_and_templates(demo: Engine) -> None:
    examples = ioi_examples(60, np.random.default_rng(7), held_out=True)
    diffs = np.array([demo.run(ex.prompt, want=(), target=ex.io, foil=ex.s).logit_diff for ex in examples])
    assert (diffs > 0).mean() > 0.9
    assert diffs.mean() > 1.0
