"""The engine's captures and analyses agree with independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine
from tests.engine.gpt2_reference import reference_forward

PROMPT = "When Mary and John went to the store , John gave a drink to"


def test_patterns_equal_output_attentions(tiny_engine: Engine) -> None:
    result = tiny_engine.run(PROMPT, want=["patterns"])
    ids = torch.from_numpy(result.token_ids)[None]
    with torch.no_grad():
        out = tiny_engine.model(input_ids=ids, output_attentions=True)
    expected = torch.stack([a[0] for a in out.attentions]).numpy()
    assert result.patterns.shape == (2, 4, len(ids[0]), len(ids[0]))
    np.testing.assert_allclose(result.patterns, expected, atol=1e-6)
    np.testing.assert_allclose(result.patterns.sum(-1), 1.0, atol=1e-5)


def test_patterns_equal_reference_forward(tiny_engine: Engine) -> None:
    result = tiny_engine.run(PROMPT, want=["patterns"])
    ref = reference_forward(tiny_engine.model, result.token_ids.tolist())
    np.testing.assert_allclose(result.patterns, torch.stack(ref.patterns).numpy(), atol=1e-5)


def test_logit_lens_last_layer_equals_model_output(tiny_engine: Engine) -> None:
    result = tiny_engine.run(PROMPT, want=["logit_lens"], target="Mary")
    lens = result.logit_lens
    with torch.no_grad():
        logits = tiny_engine.model(input_ids=torch.from_numpy(result.token_ids)[None]).logits[0]
    probs = torch.softmax(logits, -1).numpy()
    assert lens.layer_labels == ("embed", "L0", "L1")
    top = np.sort(probs, axis=-1)[:, ::-1][:, : lens.top_probs.shape[-1]]
    np.testing.assert_allclose(lens.top_probs[-1], top, atol=1e-5)
    np.testing.assert_array_equal(lens.top_ids[-1, :, 0], probs.argmax(-1))
    target = tiny_engine.token_id("Mary")
    np.testing.assert_allclose(lens.target_probs[-1], probs[:, target], atol=1e-5)
    expected_rank = (probs > probs[:, target : target + 1]).sum(-1)
    np.testing.assert_array_equal(lens.target_ranks[-1], expected_rank)
    # the last row's last column is the run's own prediction
    assert lens.top_tokens[-1, -1, 0] == result.top_tokens[0]


def test_logit_lens_middle_rows_equal_reference(tiny_engine: Engine) -> None:
    result = tiny_engine.run(PROMPT, want=["logit_lens"])
    ref = reference_forward(tiny_engine.model, result.token_ids.tolist())
    ln_f = tiny_engine.model.transformer.ln_f
    with torch.no_grad():
        resid0 = ref.resid_post[0].float()
        probs = torch.softmax(tiny_engine.model.lm_head(ln_f(resid0)), -1).numpy()
    np.testing.assert_array_equal(result.logit_lens.top_ids[1, :, 0], probs.argmax(-1))
    np.testing.assert_allclose(result.logit_lens.top_probs[1, :, 0], probs.max(-1), atol=1e-5)


def test_dla_sums_to_logit_difference(tiny_engine: Engine) -> None:
    result = tiny_engine.run(PROMPT, want=["dla"], target="Mary", foil="John")
    dla = result.dla
    assert dla.total == pytest.approx(result.logit_diff, abs=1e-4)
    assert float(dla.contributions.sum()) == pytest.approx(result.logit_diff, abs=1e-4)
    assert dla.heads.shape == (2, 4) and dla.mlps.shape == (2,)
    assert {"embed", "pos_embed", "L0.attn_bias", "final_bias"} <= set(dla.labels)


def test_dla_of_one_head_equals_manual_computation(tiny_engine: Engine) -> None:
    result = tiny_engine.run(PROMPT, want=["dla"], target="Mary", foil="John")
    model = tiny_engine.model
    ref = reference_forward(model, result.token_ids.tolist())
    sd = {k: v.double() for k, v in model.state_dict().items()}
    last, layer, head, dh = -1, 1, 2, 8
    w_o = sd["transformer.h.1.attn.c_proj.weight"][head * dh : (head + 1) * dh]
    head_out = ref.z[layer][last, head] @ w_o
    x = ref.resid_post[-1][last]
    scale = torch.sqrt(x.var(unbiased=False) + model.config.layer_norm_epsilon)
    w_u = sd["transformer.wte.weight"]
    t, f = tiny_engine.token_id("Mary"), tiny_engine.token_id("John")
    expected = float(((head_out - head_out.mean()) / scale * sd["transformer.ln_f.weight"]) @ (w_u[t] - w_u[f]))
    assert result.dla.heads[layer, head] == pytest.approx(expected, abs=1e-5)


def test_head_scores_match_patterns_by_hand(tiny_engine: Engine) -> None:
    scores = tiny_engine.head_scores(seg_len=7, n_sequences=3, seed=1)
    rng = np.random.default_rng(1)
    pool = np.arange(2, 102)  # every ordinary token of the tiny model (0 = BOS, 1 = [UNK] are special)
    seg = np.stack([rng.choice(pool, size=7, replace=False) for _ in range(3)])
    assert all(len(set(row)) == 7 for row in seg)  # no repeats inside a segment
    ids = np.concatenate([np.zeros((3, 1), dtype=np.int64), seg, seg], axis=1)
    refs = [reference_forward(tiny_engine.model, row.tolist()) for row in ids]
    l, h = 1, 3
    pats = np.stack([r.patterns[l][h].numpy() for r in refs])  # [3, S, S]
    ind = np.mean([pats[:, q, q - 6] for q in range(8, 15)])
    prev = np.mean([pats[:, q, q - 1] for q in range(1, 15)])
    dup = np.mean([pats[:, q, q - 7] for q in range(8, 15)])
    assert scores.induction[l, h] == pytest.approx(ind, abs=1e-5)
    assert scores.previous_token[l, h] == pytest.approx(prev, abs=1e-5)
    assert scores.duplicate_token[l, h] == pytest.approx(dup, abs=1e-5)


def test_logit_lens_on_chosen_positions_equals_those_columns(tiny_engine: Engine) -> None:
    full = tiny_engine.run(PROMPT, want=["logit_lens"], target="Mary").logit_lens
    part = tiny_engine.run(PROMPT, want=["logit_lens"], target="Mary", lens_positions=(-1, 3, -1, 99)).logit_lens
    last = len(full.positions) - 1
    np.testing.assert_array_equal(part.positions, [3, last])
    np.testing.assert_allclose(part.top_probs, full.top_probs[:, [3, last]], atol=1e-6)
    np.testing.assert_array_equal(part.top_tokens, full.top_tokens[:, [3, last]])
    np.testing.assert_array_equal(part.target_ranks, full.target_ranks[:, [3, last]])


def test_logit_lens_on_a_vocabulary_smaller_than_k(tmp_path) -> None:
    from training.tiny_models import save_random_gpt2

    engine = Engine(save_random_gpt2(tmp_path / "toy", ["a", "b"]), device="cpu")  # 4 tokens with BOS and UNK
    lens = engine.run("a b a", want=["logit_lens"], lens_k=5).logit_lens
    assert lens.top_ids.shape[-1] == 4
    np.testing.assert_allclose(lens.top_probs.sum(-1), 1.0, atol=1e-5)
