"""Patching over a prompt set (analysis 'set_patching'): each prompt's row equals the
single-prompt sweep (so the set's mean is their mean) for every sweep, mode and metric,
also when the set's pairs first differ at different positions (each group computes only
the positions from its first difference on) or at position 0 (no shared prefix), on GPT-2
and on Llama (grouped-query attention, rotary positions); prompts of different lengths run
in separate groups without padding, and on the demo model's IOI set the model card's IOI
head tops the mean head heatmap with a tight interval."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, EngineError, activation_patching
from engine.analyses.patch_sweeps import sweep_shape
from engine.analysis import get, params_from_dict
from engine.prompt_sets import PromptSet, SetRow, from_template
from tests.conftest import TINY_WORDS
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


# ------------------------------------------------------------------ shared prefixes
SET_SWEEPS = ["head", "head_q", "head_k", "head_v", "resid", "attn_out", "mlp_out", "head_pos"]
SENTENCE = "When Diana and Luke went to the school , Luke gave a book to"


def mixed_set() -> PromptSet:
    """One length (15 tokens with BOS); the pairs first differ at the repeated name (10),
    the second name (4) and the first name (2)."""
    ioi = "When Lily and Eric went to the park , Eric gave a ring to"
    return PromptSet((SetRow(ioi, ioi.replace(", Eric", ", Lily"), " Lily", " Eric"),
                      SetRow(SENTENCE, SENTENCE.replace(", Luke", ", Diana"), " Diana", " Luke"),
                      SetRow(SENTENCE, SENTENCE.replace("and Luke", "and Owen"), " Diana", " Luke"),
                      SetRow(SENTENCE, SENTENCE.replace("When Diana", "When Irene"), " Diana", " Luke")))


def by_hand(engine: Engine, row: SetRow, sweep: str, mode: str, metric: str) -> np.ndarray:
    """Full forwards (one per row of the sweep, its columns side by side in the batch),
    nothing resumed or reused: the slice copied from the source run with torch.where; the
    metric from the whole last-position logits."""
    h, info = engine.handle, engine.info
    clean, corrupt = h.tokenize(row.prompt), h.tokenize(row.corrupted)
    source, base = (clean, corrupt) if mode == "denoise" else (corrupt, clean)
    target, foil = h.token_id(row.target), h.token_id(row.foil)
    shape = sweep_shape(sweep, info.n_layers, info.n_heads, h.n_kv_heads, info.d_head, ["?"] * len(clean))
    n_cols = len(shape.column_labels)

    def measure(ids: np.ndarray, edits=None) -> np.ndarray:
        last = h.forward(ids, edits).logits[:, -1].float()
        return (torch.softmax(last, -1)[:, target] if metric == "prob" else last[:, target] - last[:, foil]).numpy()

    captured = h.forward(source, capture={shape.hook(r) for r in range(len(shape.row_labels))})
    out = np.zeros((len(shape.row_labels), n_cols))
    for r in range(len(shape.row_labels)):
        src = captured[shape.hook(r)]
        mask = torch.stack([shape.mask(r, c, src.shape[-1]) for c in range(n_cols)])
        out[r] = measure(np.tile(base, (n_cols, 1)), {shape.hook(r): [lambda act, m=mask, s=src: torch.where(m, s, act)]})
    clean_m, corrupt_m = measure(clean)[0], measure(corrupt)[0]
    return (out - corrupt_m) / (clean_m - corrupt_m)


def reference(engine: Engine, prompt_set: PromptSet, sweep: str, mode: str, metric: str) -> np.ndarray:
    """Each prompt alone: the single-prompt sweep (logit difference), or by hand (P(target))."""
    if metric == "logit_diff":
        return np.stack([activation_patching(engine, r.prompt, r.corrupted, r.target, r.foil, sweep, mode).values
                         for r in prompt_set.rows])
    return np.stack([by_hand(engine, r, sweep, mode, metric) for r in prompt_set.rows])


@pytest.mark.parametrize("metric", ["logit_diff", "prob"])
@pytest.mark.parametrize("mode", ["denoise", "noise"])
@pytest.mark.parametrize("sweep", SET_SWEEPS)
def test_pairs_differing_at_different_positions_equal_each_prompt_alone(demo: Engine, sweep: str, mode: str,
                                                                        metric: str) -> None:
    s = mixed_set()
    result = run(demo, s, sweep=sweep, mode=mode, metric=metric, n_boot=20, batch_tokens=256)
    np.testing.assert_allclose(result.per_prompt, reference(demo, s, sweep, mode, metric), atol=1e-5)


def test_each_group_computes_only_the_positions_from_its_first_difference(demo: Engine, monkeypatch) -> None:
    """What makes sets fast: a variant's batch rows hold the positions from the pair's first
    difference on (15 tokens: 5, 11 and 13 computed), one group per shared prefix."""
    seen: list[tuple[int, int]] = []
    staircase = demo.handle.set_staircase

    def spy(base_ids, joins, base_resid, edits, token_ids, prefix_kv=None):
        widths = {t.shape[1] for t in base_resid.values()}
        assert len(widths) == 1 and (prefix_kv is None or prefix_kv[0][0].shape[-2] + widths.pop() == 15)
        seen.append((len(base_ids), base_resid[0].shape[1]))
        return staircase(base_ids, joins, base_resid, edits, token_ids, prefix_kv)
    monkeypatch.setattr(demo.handle, "set_staircase", spy)
    run(demo, mixed_set(), sweep="head", n_boot=20)
    assert sorted(set(seen)) == [(1, 11), (1, 13), (2, 5)]


@pytest.fixture(scope="module")
def llama(tmp_path_factory) -> Engine:
    from training.tiny_models import save_random_family

    return Engine(save_random_family(tmp_path_factory.mktemp("llama_set"), TINY_WORDS, "llama"), device="cpu")


@pytest.mark.parametrize("metric", ["logit_diff", "prob"])
def test_llama_with_grouped_query_attention_and_a_pair_differing_at_position_0(llama: Engine, metric: str,
                                                                              monkeypatch) -> None:
    """Rotary positions must continue after the cached prefix, and 4 query heads share 2
    key/value heads in the cache. Without the tokenizer's BOS, the first pair differs at 0."""
    tokenize = llama.handle.tokenize
    monkeypatch.setattr(llama.handle, "tokenize", lambda prompt: tokenize(prompt)[1:])
    q = "w1 Mary w2 John the store , John gave a drink to"
    s = PromptSet(tuple(SetRow(q, q.replace(a, b), "w31", "w88")  # the random model's top tokens: P moves
                        for a, b in (("w1", "w3"), ("w2", "w7"), ("store", "w9"), (", John", ", Mary"))))
    assert [llama.handle.shared_prefix(llama.tokenize(r.prompt), llama.tokenize(r.corrupted)) for r in s.rows] == \
        [0, 2, 5, 7]
    for sweep in SET_SWEEPS:
        for mode in ("denoise", "noise"):
            result = run(llama, s, sweep=sweep, mode=mode, metric=metric, n_boot=20, batch_tokens=128)
            np.testing.assert_allclose(result.per_prompt, reference(llama, s, sweep, mode, metric), atol=1e-5,
                                       err_msg=f"{sweep} {mode}")


@pytest.mark.real_model
def test_smollm2_set_equals_each_prompt_alone(real_engine) -> None:
    """The real model (Llama family, 3 key/value heads for 9 query heads, no BOS), two
    lengths: the IOI swap at position 9 (9 cached positions), a pair differing at 0 (none)."""
    p = "When Mary and John went to the store, John gave a drink to"
    s = PromptSet((SetRow(p, p.replace(", John", ", Mary"), " Mary", " John"),
                   SetRow("Paris is the capital city of", "Rome is the capital city of", " France", " Italy")))
    result = run(real_engine, s, sweep="head", n_boot=20)
    np.testing.assert_allclose(result.per_prompt, reference(real_engine, s, "head", "denoise", "logit_diff"), atol=1e-5)
