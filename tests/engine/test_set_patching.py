"""Patching over a prompt set (analysis 'set_patching'): each prompt's row equals the
single-prompt sweep (so the set's mean is their mean), prompts of different lengths run in
separate groups without padding, and on the demo model's IOI set the model card's IOI head
tops the mean head heatmap with a tight interval."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Engine, EngineError, activation_patching
from engine.analysis import get, params_from_dict
from engine.prompt_sets import PromptSet, SetRow, from_template
from tests.demo_facts import IOI_HEAD
from training import demo_data

TEMPLATE = "When {A} and {B} went to the {P} , {B} gave a {O} to"
SWAPPED = "When {A} and {B} went to the {P} , {A} gave a {O} to"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def ioi_set(n: int, seed: int = 0, template: str = TEMPLATE, swapped: str = SWAPPED) -> PromptSet:
    names = demo_data.NAMES[-12:]  # held-out pairs are not needed: the card's facts hold on any names
    return from_template(template, {"A": names, "B": names, "P": demo_data.PLACES, "O": demo_data.OBJECTS},
                         target=" {A}", foil=" {B}", corrupted=swapped, limit=n, seed=seed)


def run(engine: Engine, prompt_set: PromptSet, **params):
    analysis = get("set_patching")
    return analysis.run(engine.handle, prompt_set, params_from_dict(analysis.Params, params))


@pytest.mark.parametrize("sweep", ["head", "resid", "head_q", "mlp_out", "head_pos"])
def test_each_prompt_equals_its_single_prompt_sweep(demo: Engine, sweep: str) -> None:
    s = ioi_set(5, seed=1)
    result = run(demo, s, sweep=sweep, n_boot=200)
    single = np.stack([activation_patching(demo, r.prompt, r.corrupted, r.target, r.foil, sweep).values for r in s.rows])
    np.testing.assert_allclose(result.per_prompt, single, atol=1e-5)
    np.testing.assert_allclose(result.stats.mean, single.mean(0), atol=1e-5)


def test_prompts_of_other_lengths_run_apart_and_padding_never_enters(demo: Engine) -> None:
    short = ioi_set(3, seed=2)
    longer = ioi_set(3, seed=2, template="Then " + TEMPLATE, swapped="Then " + SWAPPED)
    mixed = PromptSet(short.rows + longer.rows)
    result = run(demo, mixed, sweep="head", n_boot=100, batch_tokens=64)  # small batches: many forwards
    alone = np.concatenate([run(demo, short, sweep="head", n_boot=100).per_prompt,
                            run(demo, longer, sweep="head", n_boot=100).per_prompt])
    np.testing.assert_allclose(result.per_prompt, alone, atol=1e-5)
    with pytest.raises(EngineError, match="different lengths"):
        run(demo, mixed, sweep="resid")


def test_the_ioi_head_tops_the_mean_heatmap_with_a_tight_interval(demo: Engine) -> None:
    result = run(demo, ioi_set(200, seed=3), sweep="head")
    layer, head = (int(x[1:]) for x in IOI_HEAD.split("."))
    mean = result.stats.mean
    assert np.unravel_index(np.argmax(mean), mean.shape) == (layer, head)
    assert result.stats.ci_high[layer, head] - result.stats.ci_low[layer, head] < 0.1
    assert result.stats.same_sign[layer, head] > 0.9


def test_bad_sets_say_why(demo: Engine) -> None:
    with pytest.raises(EngineError, match="needs a corrupted prompt"):
        run(demo, PromptSet((SetRow("When Mary and John went", "", " Mary", " John"),)))
    with pytest.raises(EngineError, match="position by position"):
        run(demo, PromptSet((SetRow("When Mary and John went", "When Mary went", " Mary", " John"),)))


def test_set_dla_rows_are_single_prompt_dla_and_sum_to_the_logit_difference(demo: Engine) -> None:
    s = ioi_set(6, seed=4)
    analysis = get("set_dla")
    result = analysis.run(demo.handle, s, params_from_dict(analysis.Params, {"n_boot": 100}))
    assert result.per_prompt.shape == (6, 2, 9) and result.column_labels[-1] == "MLP"
    for i, row in enumerate(s.rows):
        single = demo.run(row.prompt, want=("dla",), target=row.target, foil=row.foil)
        np.testing.assert_allclose(result.per_prompt[i, :, :8], single.dla.heads, atol=1e-5)
        np.testing.assert_allclose(result.per_prompt[i, :, 8], single.dla.mlps, atol=1e-5)
        assert result.clean_metric[i] == pytest.approx(single.logit_diff, abs=1e-4)
    np.testing.assert_allclose(result.stats.mean, result.per_prompt.mean(0))


def test_set_attribution_rows_are_single_prompt_attribution(demo: Engine) -> None:
    from engine import attribution_patching

    s = ioi_set(4, seed=5)
    analysis = get("set_attribution")
    result = analysis.run(demo.handle, s, params_from_dict(analysis.Params, {"n_boot": 100}))
    single = np.stack([attribution_patching(demo, r.prompt, r.corrupted, r.target, r.foil, "head").values for r in s.rows])
    np.testing.assert_allclose(result.per_prompt, single, atol=1e-6)
    assert result.mode == "attribution" and "estimate" in result.what


def test_the_probability_metric_normalises_p_target_per_prompt(demo: Engine) -> None:
    """metric 'prob': P(target) instead of the logit difference; a cell equals a forward by hand."""
    import torch

    s = ioi_set(3, seed=6)
    result = run(demo, s, sweep="head", metric="prob", n_boot=50)
    row = s.rows[1]
    ids_clean, ids_corrupt = demo.tokenize(row.prompt), demo.tokenize(row.corrupted)
    target = demo.handle.token_id(row.target)
    z = "blocks.0.attn.hook_z"
    clean_z = demo.handle.forward(ids_clean, capture={z})[z]

    def prob(edits=None, ids=ids_corrupt) -> float:
        return float(torch.softmax(demo.handle.forward(ids, edits).logits[0, -1].float(), -1)[target])

    def patched(act):
        out = act.clone()
        out[..., 5 * 24:6 * 24] = clean_z[..., 5 * 24:6 * 24]  # head 5 of layer 0 (d_head 24)
        return out
    expected = (prob({z: [patched]}) - prob()) / (prob(ids=ids_clean) - prob())
    assert result.per_prompt[1, 0, 5] == pytest.approx(expected, abs=1e-4)
    assert result.clean_metric[1] == pytest.approx(prob(ids=ids_clean), abs=1e-6) and "P(target)" in result.what
    with pytest.raises(EngineError, match="metric"):
        run(demo, s, metric="accuracy")
