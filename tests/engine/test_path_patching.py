"""Path patching equals an independent one-sender-at-a-time computation, and finds the
previous-token head feeding the induction head's key on the demo model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, EngineError
from engine.hooks import hooks_attached
from engine.analyses.path_patching import path_patching

from tests.demo_facts import INDUCTION_HEADS, PREVIOUS_TOKEN_HEAD

CLEAN = "When Mary and John went to the store , John gave a drink to"
CORRUPT = "When Mary and John went to the store , Mary gave a drink to"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def reference(engine: Engine, clean: str, corrupt: str, target: str, foil: str, layer: int, head: int,
              part: str) -> np.ndarray:
    """Full forwards, no batching, no resuming, no cached prefix."""
    c, x = engine.tokenize(clean), engine.tokenize(corrupt)
    t, f = engine.token_id(target), engine.token_id(foil)
    n_layers, n_heads, dh = engine.info.n_layers, engine.info.n_heads, engine.info.d_head
    z = [f"blocks.{l}.attn.hook_z" for l in range(layer)]
    receiver = f"blocks.{layer}.attn.hook_{part}"

    def run(ids, edits=None, capture=()):
        with torch.no_grad(), hooks_attached(engine.model, engine.adapter, n_layers, capture, edits or {}) as store:
            logits = engine.model(input_ids=torch.from_numpy(ids)[None]).logits[0, -1]
            return float(logits[t] - logits[f]), {k: v.clone() for k, v in store.items()}

    m_clean, clean_acts = run(c, capture=z)
    m_corrupt, corrupt_acts = run(x, capture=z)
    out = np.zeros((layer, n_heads))
    for sl in range(layer):
        for sh in range(n_heads):
            def freeze(act, name):
                new = corrupt_acts[name].clone()
                if name == z[sl]:
                    new[0, :, sh * dh:(sh + 1) * dh] = clean_acts[name][0, :, sh * dh:(sh + 1) * dh]
                return new
            _, rec = run(x, {name: [lambda a, name=name: freeze(a, name)] for name in z}, capture=[receiver])

            def put(act):
                act = act.clone()
                act[0, :, head * dh:(head + 1) * dh] = rec[receiver][0, :, head * dh:(head + 1) * dh]
                return act
            m, _ = run(x, {receiver: [put]})
            out[sl, sh] = (m - m_corrupt) / (m_clean - m_corrupt)
    return out


@pytest.mark.parametrize("part", ["q", "k", "v"])
def test_path_patching_equals_a_one_sender_at_a_time_reference(demo: Engine, part: str) -> None:
    got = path_patching(demo, CLEAN, CORRUPT, "Mary", "John", "L1.H4", part)
    np.testing.assert_allclose(got.values, reference(demo, CLEAN, CORRUPT, "Mary", "John", 1, 4, part), atol=1e-5)
    assert got.row_labels == ("L0",) and got.details == {"receiver": "L1.H4", "receiver_input": part}


def test_the_previous_token_head_feeds_the_induction_heads_key(demo: Engine) -> None:
    """Clean: a segment, then its first four words again -> the fifth by induction.
    Corrupted: the first copy of the fourth word ('reward') is another word, so no earlier
    token is preceded by 'reward'. What restores the (strongest) induction head's key is the
    previous-token head (model card: L0.H3) writing 'preceded by reward' at 'night'."""
    words = "reason cough warm reward night river loss day reason cough warm reward".split()
    corrupt = words.copy()
    corrupt[3] = "berry"
    clean_s, corrupt_s = " ".join(words), " ".join(corrupt)
    assert demo.run(clean_s, want=()).top_tokens[0] == "night"
    result = path_patching(demo, clean_s, corrupt_s, "night", "river", INDUCTION_HEADS[0], "k")
    l, h = np.unravel_index(np.argmax(result.values), result.values.shape)
    assert f"L{l}.H{h}" == PREVIOUS_TOKEN_HEAD, result.values
    others = np.delete(result.values[0], h)
    assert result.values[0, h] > 10 * np.abs(others).max(), result.values  # measured: 0.29 vs < 0.001


def test_bad_receivers_are_refused(demo: Engine) -> None:
    with pytest.raises(EngineError, match="layer 0"):
        path_patching(demo, CLEAN, CORRUPT, "Mary", "John", "L0.H1", "q")
    with pytest.raises(EngineError, match="must be a head"):
        path_patching(demo, CLEAN, CORRUPT, "Mary", "John", "L1.mlp", "q")
