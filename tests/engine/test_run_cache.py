"""A run with interventions resumes from the first edited layer when the same prompt's
clean run is cached, and every number it returns equals a run from the embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine, Scale

PROMPT = "When Mary and John went to the store , John gave a drink to"
WANT = ("patterns", "logit_lens", "dla", "resid")


def same(a, b) -> None:
    np.testing.assert_allclose(a.top_probs, b.top_probs, atol=1e-6)
    assert a.top_tokens == b.top_tokens
    assert a.logit_diff == pytest.approx(b.logit_diff, abs=1e-5)
    np.testing.assert_allclose(a.patterns, b.patterns, atol=1e-6)
    np.testing.assert_allclose(a.resid, b.resid, atol=1e-5)
    np.testing.assert_allclose(a.logit_lens.top_probs, b.logit_lens.top_probs, atol=1e-5)
    np.testing.assert_allclose(a.dla.contributions, b.dla.contributions, atol=1e-5)


@pytest.mark.parametrize("family", ["gpt2", "llama", "gpt_neox"])
def test_resumed_runs_equal_runs_from_the_embeddings(family: str, tmp_path) -> None:
    from training.tiny_models import save_random_family, save_random_gpt2

    words = PROMPT.split()
    folder = save_random_gpt2(tmp_path, words, n_layer=4) if family == "gpt2" else \
        save_random_family(tmp_path, words, family)
    engine = Engine(folder, device="cpu")
    last = engine.info.n_layers - 1
    cases = [
        (Ablation(f"L{last}.H1"),),
        (Ablation(f"L{last}.H0", "mean"), Scale(f"L{last}.mlp", 0.5)),
        (Ablation(f"L{last}.H2", "resample", source_prompt=PROMPT.replace("John gave", "Mary gave")),),
        (Scale(f"L{last}.H3", 2.0, positions=(3, 5)),),
    ]
    engine.run(PROMPT, want=WANT, target="Mary", foil="John")  # the clean run: cached
    for interventions in cases:
        hits = engine._clean_run.hits
        resumed = engine.run(PROMPT, interventions, want=WANT, target="Mary", foil="John")
        assert engine._clean_run.hits == hits + 1
        fresh = Engine(engine.loaded, device="cpu")  # same weights, empty cache
        same(resumed, fresh.run(PROMPT, interventions, want=WANT, target="Mary", foil="John"))


def test_no_resume_for_another_prompt_or_a_layer_0_edit() -> None:
    engine = Engine(device="cpu")
    engine.run(PROMPT, want=WANT, target="Mary", foil="John")
    engine.run(PROMPT, (Ablation("L0.H3"),), want=WANT, target="Mary", foil="John")
    engine.run(PROMPT.replace("store", "park"), (Ablation("L1.H4"),), want=WANT, target="Mary", foil="John")
    assert engine._clean_run.hits == 0
    engine.run(PROMPT, (Ablation("L1.H4"),), want=WANT, target="Mary", foil="John")
    assert engine._clean_run.hits == 1


def test_a_clean_run_too_large_to_keep_is_not_cached() -> None:
    engine = Engine(device="cpu")
    engine._clean_run.max_bytes = 1000  # far less than the demo run's captures
    engine.run(PROMPT, want=WANT, target="Mary", foil="John")
    assert engine._clean_run.store == {}
    engine.run(PROMPT, (Ablation("L1.H4"),), want=WANT, target="Mary", foil="John")
    assert engine._clean_run.hits == 0
