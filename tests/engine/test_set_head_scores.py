"""Head scores on a set's own tokens: each prompt's grid equals a plain loop over its
attention patterns (read from the single-prompt run), prompts with nothing to score are left
out and named, the card's heads come out on top on repeated random tokens, and on IOI prompts
a different head is the one that looks back at the repeated name."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Engine
from engine.errors import EngineError
from engine.prompt_sets import PromptSet, SetRow
from tests.demo_facts import DUPLICATE_TOKEN_HEAD, INDUCTION_HEADS, PREVIOUS_TOKEN_HEAD
from tests.engine.test_set_patching import ioi_set


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def loop_scores(engine: Engine, prompt: str, score: str) -> np.ndarray:
    ids = engine.tokenize(prompt)
    patterns = engine.run(prompt, want=["patterns"]).patterns  # [L, H, S, S]
    skip = len(engine.handle.special_prefix)
    out = np.zeros(patterns.shape[:2])
    for l in range(patterns.shape[0]):
        for h in range(patterns.shape[1]):
            values = []
            for t in range(skip + 1, len(ids)):
                earlier = [j for j in range(skip, t) if ids[j] == ids[t]]
                if score == "previous_token":
                    values.append(patterns[l, h, t, t - 1])
                elif score == "duplicate_token" and earlier:
                    values.append(sum(patterns[l, h, t, j] for j in earlier))
                elif score == "induction" and [j for j in earlier if j + 1 < t]:
                    values.append(sum(patterns[l, h, t, j + 1] for j in earlier if j + 1 < t))
            out[l, h] = np.mean(values)
    return out


def repeated_set(engine: Engine, n: int, seed: int = 0) -> PromptSet:
    rng = np.random.default_rng(seed)
    words = [w for w in engine.handle.vocabulary() if w.isalpha() and len(w) > 2][:400]
    rows = []
    for _ in range(n):
        segment = list(rng.choice(words, 8, replace=False))
        rows.append(SetRow(" ".join(segment + segment)))
    return PromptSet(tuple(rows))


@pytest.mark.parametrize("score", ["previous_token", "duplicate_token", "induction"])
def test_each_prompt_equals_a_loop_over_its_patterns(demo, score) -> None:
    prompt_set = PromptSet(tuple(ioi_set(3).rows) + (SetRow("the cat sat on the mat the cat"),))
    r = demo.analyse("set_head_scores", prompt_set, {"score": score, "batch_tokens": 20})
    for i, row in enumerate(prompt_set.rows):
        np.testing.assert_allclose(r.per_prompt[i], loop_scores(demo, row.prompt, score), atol=1e-5)


def test_prompts_without_a_repeat_are_left_out_and_named(demo) -> None:
    prompt_set = PromptSet((SetRow("the cat sat on the mat"), SetRow("When Mary and John went to the store")))
    r = demo.analyse("set_head_scores", prompt_set, {"score": "induction"})
    assert r.n == 1 and "1 of 2" in r.what
    with pytest.raises(EngineError, match="repeated token"):
        demo.analyse("set_head_scores", PromptSet((SetRow("When Mary and John went"),)), {"score": "induction"})


def top(r, k: int) -> list[str]:
    order = np.argsort(-r.stats.mean.ravel())[:k]
    return [f"L{i // r.stats.mean.shape[1]}.H{i % r.stats.mean.shape[1]}" for i in order]


def test_the_cards_heads_come_out_on_top(demo) -> None:
    repeated = repeated_set(demo, 20)
    assert set(top(demo.analyse("set_head_scores", repeated, {"score": "induction"}), 2)) == set(INDUCTION_HEADS)
    assert top(demo.analyse("set_head_scores", repeated, {"score": "previous_token"}), 1) == [PREVIOUS_TOKEN_HEAD]
    duplicate = demo.analyse("set_head_scores", repeated, {"score": "duplicate_token"})
    assert top(duplicate, 1) == [DUPLICATE_TOKEN_HEAD]


def test_on_ioi_prompts_another_head_attends_to_the_repeated_name(demo) -> None:
    """What the set's own tokens add: the card's duplicate-token head (0.84 on repeated random
    tokens) barely looks back at the repeated name of an IOI prompt (< 0.1); L1.H6 does (~0.4)."""
    layer, head = (int(x[1:]) for x in DUPLICATE_TOKEN_HEAD.split("."))
    ioi = demo.analyse("set_head_scores", ioi_set(20), {"score": "duplicate_token"})
    assert ioi.stats.mean[layer, head] < 0.1
    assert top(ioi, 1) == ["L1.H6"] and ioi.stats.mean[1, 6] > 0.3
