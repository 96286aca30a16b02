"""Facts about a real pretrained model (SmolLM2-135M-Instruct, Llama family, 30 x 9 heads,
grouped-query attention), measured once and asserted with margins: the engine is faithful
to plain transformers, the IOI answer is there, and the induction heads the head scores
find are the ones whose ablation breaks copying."""

from __future__ import annotations

import numpy as np
import pytest

from engine.interventions import Ablation

pytestmark = pytest.mark.real_model
IOI = "When Mary and John went to the store, John gave a drink to"


def test_real_model_shape(real_engine) -> None:
    info = real_engine.info
    assert (info.family, info.n_layers, info.n_heads, info.vocab_size) == ("Llama", 30, 9, 49152)


def test_engine_logits_match_a_plain_transformers_forward(real_engine, real_model_dir) -> None:
    """Independent of the engine's own fidelity check: a model loaded here, run plainly."""
    import torch
    from transformers import AutoModelForCausalLM

    from engine.fidelity import fidelity_check

    assert fidelity_check(real_engine).ok
    plain = AutoModelForCausalLM.from_pretrained(real_model_dir, dtype=torch.float32).eval()
    result = real_engine.run(IOI, want=(), target=" Mary", foil=" John", top_k=5)
    with torch.no_grad():
        logits = plain(torch.as_tensor(result.token_ids)[None]).logits[0, -1]
    probs = torch.softmax(logits, -1).numpy()
    np.testing.assert_allclose(result.top_probs, np.sort(probs)[::-1][:5], atol=1e-5)
    assert result.logit_diff == pytest.approx(float(logits[result.target_id] - logits[result.foil_id]), abs=1e-4)


def test_ioi_answer_on_a_name_prompt(real_engine) -> None:
    """Measured: P(' Mary') 0.92, logit difference Mary - John 6.1."""
    result = real_engine.run(IOI, want=(), target=" Mary", foil=" John")
    assert result.top_tokens[0] == " Mary"
    assert result.target_prob > 0.75
    assert result.logit_diff > 4.0


def test_head_scores_find_induction_heads_that_ablation_confirms(real_engine) -> None:
    """Measured on 8 random 20-token segments repeated once: the top induction heads sit in
    layers 17-24 (L18.H6 0.86, L17.H4 0.72, L17.H3 0.71); zero-ablating the top six raises
    the repeated half's loss from 3.5 to 11.2 nats and leaves the first half's (15.1)
    alone; six random heads raise it by ~0.3 nats (median of 8 draws)."""
    scores = real_engine.head_scores()
    order = np.argsort(scores.induction.ravel())[::-1]
    n_heads = real_engine.info.n_heads
    top = [divmod(int(i), n_heads) for i in order[:6]]
    assert scores.induction.ravel()[order[0]] > 0.6
    assert all(10 <= layer <= 27 for layer, _ in top), top  # induction needs a previous-token head first

    ids = real_engine.random_token_ids((8, 20), np.random.default_rng(1))
    sequences = np.concatenate([ids, ids], 1)

    def halves(names: list[str]) -> tuple[float, float]:
        losses = real_engine.token_losses(sequences, [Ablation(n) for n in names])
        return float(losses[:, :19].mean()), float(losses[:, -19:].mean())

    first_clean, repeat_clean = halves([])
    first_top, repeat_top = halves([f"L{l}.H{h}" for l, h in top])
    assert repeat_clean < first_clean - 8.0  # the model copies
    assert repeat_top - repeat_clean > 4.0  # ... and stops copying without its induction heads
    assert abs(first_top - first_clean) < 1.0  # ... while the first half, with nothing to copy, is untouched
    rises = []
    for seed in range(4):
        heads = np.random.default_rng(100 + seed).choice(scores.induction.size, 6, replace=False)
        rises.append(halves([f"L{int(i) // n_heads}.H{int(i) % n_heads}" for i in heads])[1] - repeat_clean)
    assert repeat_top - repeat_clean > 4 * max(float(np.median(rises)), 0.25)


def test_a_gguf_file_opens_with_the_weights_of_its_converted_folder(real_gguf_file, real_engine) -> None:
    from engine import Engine
    from engine.fidelity import fidelity_check

    engine = Engine(real_gguf_file, device="cpu")
    assert "Q4_1" in engine.info.note and "dequantised" in engine.info.note
    assert fidelity_check(engine).ok
    from_gguf = engine.run(IOI, want=(), target=" Mary", foil=" John")
    from_folder = real_engine.run(IOI, want=(), target=" Mary", foil=" John")
    np.testing.assert_array_equal(from_gguf.token_ids, from_folder.token_ids)
    assert from_gguf.logit_diff == pytest.approx(from_folder.logit_diff, abs=1e-5)


def test_a_target_typed_without_its_space_gets_a_hint(real_engine) -> None:
    """On a BPE model 'Mary' after a space is ' Mary': typed without it, P is ~0 and the
    result says which token was meant."""
    typed = real_engine.run(IOI, want=(), target="Mary", foil="John")
    assert typed.target_prob < 0.01 and "did you mean ' Mary'" in typed.answer_hint
    assert real_engine.run(IOI, want=(), target=" Mary", foil=" John").answer_hint == ""
