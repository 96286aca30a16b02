"""Steering a real model (SmolLM2-135M, from `make real-model`): a sentiment vector from
contrast pairs moves what the model writes towards positive or negative words, by the sign
of its strength. Measured once (layer 15, strength ±2; see the closing note of issue 20):
the mean over three prompts of log P(positive words) - log P(negative words) along 20
greedy tokens was -0.10 (−2), 3.67 (0), 5.13 (+2); asserted with margins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.analysis import Prompt, get, params_from_dict
from engine.generation import Sampling, stream
from engine.interventions import Steer
from engine.live import edits_for

pytestmark = pytest.mark.real_model

POSITIVE = ["I loved this movie. It was wonderful.", "What a great day, I am so happy.",
            "The food was delicious and the staff were kind.", "This is the best book I have read."]
NEGATIVE = ["I hated this movie. It was awful.", "What a terrible day, I am so sad.",
            "The food was disgusting and the staff were rude.", "This is the worst book I have read."]
POS_WORDS = [" good", " great", " wonderful", " happy", " love", " best", " beautiful", " amazing"]
NEG_WORDS = [" bad", " terrible", " awful", " sad", " hate", " worst", " boring", " horrible"]
PROMPTS = ["I watched the film last night. Honestly, I thought it was", "My weekend was",
           "The restaurant down the street is"]


def sentiment_of_generation(engine, steer: Steer) -> float:
    """Mean over prompts and generated positions of the steered model's log P(positive words)
    - log P(negative words) along its own greedy continuation."""
    handle = engine.handle
    pos, neg = [handle.token_id(w) for w in POS_WORDS], [handle.token_id(w) for w in NEG_WORDS]
    scores = []
    for prompt in PROMPTS:
        ids = list(engine.tokenize(prompt))
        new = [s.token for s in stream(handle, np.array(ids), (steer,), Sampling(n_new=20))]
        text = ids + new
        logp = torch.log_softmax(handle.forward(np.array(text), edits_for(handle, (steer,), len(text))).logits[0].float(), -1)
        rows = logp[len(ids) - 1:-1]
        scores.append(float((torch.logsumexp(rows[:, pos], -1) - torch.logsumexp(rows[:, neg], -1)).mean()))
    return float(np.mean(scores))


def test_a_sentiment_vector_moves_the_generated_text_by_its_sign(real_engine) -> None:
    analysis = get("steering_vector")
    vector = analysis.run(real_engine.handle, Prompt(PROMPTS[0]), params_from_dict(
        analysis.Params, {"component": "L15.resid_pre", "positives": POSITIVE, "negatives": NEGATIVE}))
    steer = Steer("L15.resid_pre", tuple(vector.vector.tolist()))
    minus, zero, plus = (sentiment_of_generation(real_engine, steer.with_strength(s)) for s in (-2.0, 0.0, 2.0))
    assert plus > zero + 0.5 and zero > minus + 1.5, (minus, zero, plus)


def test_a_tracked_word_typed_without_its_space_is_read_with_it(real_engine) -> None:
    """'awful' alone is two tokens for SmolLM2; inside text it is the one token ' awful'."""
    from engine.analyses.steering import _word_id
    from engine.errors import EngineError

    handle = real_engine.handle
    with pytest.raises(EngineError):
        handle.token_id("awful")
    assert _word_id(handle, "awful") == handle.token_id(" awful")
