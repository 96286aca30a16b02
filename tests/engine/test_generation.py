"""Generation (engine/generation.py): greedy with the KV cache equals transformers'
`generate` token for token; interventions on new tokens act at every step (checked against a
reference that re-runs the whole text without a cache); sampling repeats with its seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Ablation, Engine
from engine.generation import Sampling, stream
from engine.interventions import Scale, Steer
from engine.live import edits_for
from tests.conftest import TINY_WORDS
from tests.demo_facts import INDUCTION_HEADS
from training.tiny_models import save_random_family

PROMPT = "When Mary and John went to the store , John gave a drink to"
FAMILIES = ["gpt2", "gpt_neox", "llama", "gemma", "gemma2", "opt", "phi3", "gptj"]


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def generated(engine: Engine, prompt: str, interventions=(), **kw) -> list[int]:
    return [s.token for s in stream(engine.handle, engine.tokenize(prompt), interventions, Sampling(**kw))]


def hf_greedy(engine: Engine, prompt: str, n: int) -> list[int]:
    """transformers' own greedy search, stopping at the tokenizer's end-of-text token."""
    ids = torch.as_tensor(engine.tokenize(prompt))[None]
    end = engine.handle.tokenizer.eos_token_id
    out = engine.handle.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n, do_sample=False,
                                       eos_token_id=end, pad_token_id=end)[0, ids.shape[1]:].tolist()
    return out[:out.index(end) + 1] if end in out else out


def test_greedy_equals_transformers_generate_on_the_demo_model(demo: Engine) -> None:
    for prompt in (PROMPT, "the cat sat on the mat . the cat"):
        assert generated(demo, prompt, n_new=20) == hf_greedy(demo, prompt, 20)


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_equals_transformers_generate_on_every_family(family: str, tmp_path) -> None:
    if family == "gpt2":
        from training.tiny_models import save_random_gpt2

        folder = save_random_gpt2(tmp_path, TINY_WORDS, initializer_range=0.3)
    else:
        folder = save_random_family(tmp_path, TINY_WORDS, family)
    engine = Engine(folder, device="cpu")
    prompt = "When Mary and John went to the store"
    assert generated(engine, prompt, n_new=12) == hf_greedy(engine, prompt, 12)


def reference(engine: Engine, prompt: str, interventions, n: int, apply_to: str) -> list[int]:
    """No cache: each step re-runs the whole text, edited at the positions apply_to names."""
    ids = list(engine.tokenize(prompt))
    p = len(ids)
    out = []
    for _ in range(n):
        wanted = {"prompt": range(p), "new": range(p, len(ids)), "all": range(len(ids))}[apply_to]
        if apply_to == "new" and not len(wanted):
            edits = {}
        else:
            chosen = tuple(interventions_at(i, tuple(wanted)) for i in interventions)
            edits = edits_for(engine.handle, chosen, len(ids))
        logits = engine.handle.forward(np.array(ids), edits).logits[0, -1]
        token = int(logits.argmax())
        out.append(token)
        ids.append(token)
    return out


def interventions_at(intervention, positions: tuple[int, ...]):
    from dataclasses import replace

    return replace(intervention, positions=positions)


@pytest.mark.parametrize("apply_to", ["prompt", "new", "all"])
def test_interventions_act_where_asked_at_every_step(demo: Engine, apply_to: str) -> None:
    interventions = [Ablation(h) for h in INDUCTION_HEADS] + [Scale("L0.mlp", 3.0)]
    prompt = "the cat sat on the mat . the cat sat"
    got = generated(demo, prompt, interventions, n_new=10, apply_to=apply_to, stop_at_end=False)
    assert got == reference(demo, prompt, interventions, 10, apply_to)
    assert got != generated(demo, prompt, n_new=10, stop_at_end=False)  # the edit mattered


def test_a_steering_vector_on_new_tokens_matches_the_uncached_reference(demo: Engine) -> None:
    rng = np.random.default_rng(0)
    steer = Steer("L0.resid_post", tuple(rng.normal(size=192) * 3), strength=1.0)
    prompt = "When Mary and John went to the store"
    got = generated(demo, prompt, [steer], n_new=8, apply_to="new", stop_at_end=False)
    assert got == reference(demo, prompt, [steer], 8, "new")


def test_sampling_repeats_with_its_seed_and_differs_with_another(demo: Engine) -> None:
    a = generated(demo, PROMPT, n_new=16, temperature=1.5, seed=1, stop_at_end=False)
    assert a == generated(demo, PROMPT, n_new=16, temperature=1.5, seed=1, stop_at_end=False)
    assert a != generated(demo, PROMPT, n_new=16, temperature=1.5, seed=2, stop_at_end=False)


def test_top_p_keeps_only_the_nucleus() -> None:
    from engine.generation import choose

    logits = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    rng = torch.Generator().manual_seed(0)
    picks = {choose(logits, Sampling(temperature=1.0, top_p=0.75), rng) for _ in range(300)}
    assert picks == {0, 1}


def test_each_step_reports_the_models_probability_of_its_token(demo: Engine) -> None:
    steps = list(stream(demo.handle, demo.tokenize(PROMPT), (), Sampling(n_new=3)))
    logits = demo.handle.forward(demo.tokenize(PROMPT)).logits[0, -1]
    probs = torch.softmax(logits.float(), -1)
    assert steps[0].token == int(probs.argmax()) and steps[0].prob == pytest.approx(float(probs.max()), abs=1e-5)
    assert steps[0].top_ids[0] == steps[0].token and np.all(np.diff(steps[0].top_probs) <= 0)


def test_the_analysis_streams_both_columns_and_marks_where_they_part(demo: Engine) -> None:
    from engine.analysis import Job, Prompt, get, params_from_dict

    partial = []
    analysis = get("generation")
    edited = tuple(Ablation(h) for h in INDUCTION_HEADS)
    prompt = "the cat sat on the mat . the cat sat"
    result = analysis.run(demo.handle, Prompt(prompt, interventions=edited),
                          params_from_dict(analysis.Params, {"n_new": 8, "stop_at_end": False}),
                          Job(emit=lambda key, value: partial.append(value)))
    assert len(partial) == 7 and [len(p.plain.tokens) for p in partial] == list(range(1, 8))
    assert all(not p.complete for p in partial) and result.complete
    assert result.plain.token_ids.tolist() == generated(demo, prompt, n_new=8, stop_at_end=False)
    assert result.edited.token_ids.tolist() == generated(demo, prompt, edited, n_new=8, stop_at_end=False)
    at = result.diverges_at
    assert at is not None and result.plain.token_ids[at] != result.edited.token_ids[at]
    assert (result.plain.token_ids[:at] == result.edited.token_ids[:at]).all()
    ids = demo.tokenize(prompt).tolist()
    decode = demo.handle.tokenizer.decode
    before = decode(ids, skip_special_tokens=True)
    assert before + result.plain.text == decode(ids + result.plain.token_ids.tolist(), skip_special_tokens=True)
    assert result.plain.tokens[0].startswith(" ")  # the word-level tokenizer's space before the first new word
    exported = result.to_json()
    assert exported["interventions"][0]["component"] == INDUCTION_HEADS[0] and exported["diverges_at"] == at
    alone = analysis.run(demo.handle, Prompt(prompt), params_from_dict(analysis.Params, {"n_new": 3}))
    assert alone.edited is None and alone.diverges_at is None
