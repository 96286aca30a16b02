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


def test_an_edited_run_unembeds_only_the_lens_rows_its_edit_can_reach(tmp_path, monkeypatch) -> None:
    """Rows before the first edited layer are the clean run's lens; the spliced lens equals
    a lens computed in full on an engine with nothing cached."""
    import engine.analyses.logit_lens as lens_module
    from training.tiny_models import save_random_gpt2

    engine = Engine(save_random_gpt2(tmp_path, PROMPT.split(), n_layer=6), device="cpu")
    rows_computed: list[int] = []
    real = lens_module.logit_lens
    monkeypatch.setattr(lens_module, "logit_lens", lambda resid, *a, **k: (rows_computed.append(resid.shape[0]),
                                                                          real(resid, *a, **k))[1])
    engine.run(PROMPT, want=("logit_lens",), target="Mary", foil="John")
    edited = engine.run(PROMPT, (Ablation("L4.H1"),), want=("logit_lens",), target="Mary", foil="John")
    assert rows_computed == [7, 3]  # embed + 6 layers, then the residual entering L4 onwards
    full = Engine(engine.loaded, device="cpu").run(PROMPT, (Ablation("L4.H1"),), want=("logit_lens",),
                                                   target="Mary", foil="John").logit_lens
    lens = edited.logit_lens
    assert lens.layer_labels == full.layer_labels and (lens.top_ids == full.top_ids).all()
    np.testing.assert_allclose(lens.top_probs, full.top_probs, atol=1e-6)
    np.testing.assert_allclose(lens.target_probs, full.target_probs, atol=1e-6)
    assert (lens.target_ranks == full.target_ranks).all()


def test_lens_probabilities_and_ranks_equal_a_numpy_softmax(tmp_path) -> None:
    """The lens never materialises probabilities: check its top-k, target probability and
    rank against numpy on the same residual rows."""
    import torch

    engine = Engine(device="cpu")
    result = engine.run(PROMPT, want=("logit_lens", "resid"), target="Mary", foil="John")
    with torch.inference_mode():
        logits = engine.handle.lens_logits()(torch.from_numpy(result.resid.reshape(-1, result.resid.shape[-1])))
    logits = logits.double().numpy().reshape(*result.resid.shape[:2], -1)
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    lens, target = result.logit_lens, result.target_id
    np.testing.assert_allclose(lens.top_probs[..., 0], probs.max(-1), atol=1e-5)  # float32 vs float64
    np.testing.assert_allclose(lens.target_probs, probs[..., target], atol=1e-5)
    np.testing.assert_array_equal(lens.target_ranks, (logits > logits[..., target:target + 1]).sum(-1))


def test_a_superseded_lens_stops_between_chunks(monkeypatch) -> None:
    import engine.analyses.logit_lens as lens_module
    from engine.analysis import Cancelled, Job

    monkeypatch.setattr(lens_module, "CHUNK_ELEMENTS", 1)  # one row per chunk
    engine = Engine(device="cpu")
    checks: list[int] = []
    job = Job(cancelled=lambda: checks.append(1) or len(checks) >= 2)
    with pytest.raises(Cancelled):
        engine.run(PROMPT, want=("logit_lens",), target="Mary", foil="John", job=job)
    assert len(checks) == 2  # asked between the first and second chunk, and it stopped there


def test_an_edited_run_projects_only_the_heads_its_edit_can_reach(tmp_path, monkeypatch) -> None:
    """DLA of a resumed run takes the clean run's head outputs below the edited layer and
    still equals a DLA computed in full."""
    from training.tiny_models import save_random_gpt2

    engine = Engine(save_random_gpt2(tmp_path, PROMPT.split(), n_layer=6), device="cpu")
    engine.run(PROMPT, want=("dla",), target="Mary", foil="John")
    layers: list[int] = []
    real = engine.handle.head_outputs
    monkeypatch.setattr(engine.handle, "head_outputs", lambda layer, z: (layers.append(layer), real(layer, z))[1])
    edited = engine.run(PROMPT, (Ablation("L4.H1"),), want=("dla",), target="Mary", foil="John")
    assert layers == [4, 5]
    full = Engine(engine.loaded, device="cpu").run(PROMPT, (Ablation("L4.H1"),), want=("dla",), target="Mary",
                                                   foil="John")
    np.testing.assert_allclose(edited.dla.contributions, full.dla.contributions, atol=1e-6)
