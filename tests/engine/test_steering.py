"""Steering (engine/steering.py, analyses 'steering_vector' and 'steering_sweep'): the three
rules against numpy, vectors from pairs / files / features against independent computations,
a vector from the IOI pair flipping the demo model's answer, and bad vectors refused."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, EngineError, InterventionError
from engine.analysis import Prompt, get, params_from_dict
from engine.interventions import Steer, intervention_from_dict
from engine.steering import save_vector, steered, vector_from_file

CLEAN = "When Mary and John went to the store , John gave a drink to"
SWAPPED = "When Mary and John went to the store , Mary gave a drink to"
SITE = "blocks.1.hook_resid_pre"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def run(key: str, engine: Engine, inputs, **params):
    analysis = get(key)
    return analysis.run(engine.handle, inputs, params_from_dict(analysis.Params, params))


def test_the_rules_match_numpy() -> None:
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(5, 16)), rng.normal(size=16) * 3
    u = v / np.linalg.norm(v)
    X, V = torch.from_numpy(x), torch.from_numpy(v)
    np.testing.assert_allclose(steered(X, V, 2.5, "add").numpy(), x + 2.5 * v, atol=1e-5)
    removed = steered(X, V, 0.0, "remove").numpy()
    np.testing.assert_allclose(removed, x - np.outer(x @ u, u), atol=1e-5)
    assert np.abs(removed @ u).max() < 1e-5  # nothing of the direction is left
    capped = steered(X, V, 0.3, "cap").numpy()
    np.testing.assert_allclose(capped @ u, np.minimum(x @ u, 0.3), atol=1e-5)
    np.testing.assert_allclose(capped - np.outer(capped @ u, u), x - np.outer(x @ u, u), atol=1e-5)  # only along u


def test_removal_in_the_model_leaves_no_component_along_the_direction(demo: Engine) -> None:
    rng = np.random.default_rng(1)
    v = rng.normal(size=192)
    steer = Steer("L1.resid_pre", tuple(v), mode="remove")
    from engine.live import edits_for

    ids = demo.tokenize(CLEAN)
    x = demo.handle.forward(ids, edits_for(demo.handle, (steer,), len(ids)), capture={SITE})[SITE][0].double().numpy()
    assert np.abs(x @ (v / np.linalg.norm(v))).max() < 1e-5
    clean = demo.handle.forward(ids, capture={SITE})[SITE][0].double().numpy()
    assert np.abs(clean @ (v / np.linalg.norm(v))).max() > 0.1  # there was something to remove


def test_a_steer_in_the_live_run_equals_adding_by_hand(demo: Engine) -> None:
    v = np.random.default_rng(2).normal(size=192).astype(np.float32)
    steer = Steer("L1.resid_pre", tuple(v.tolist()), strength=3.0, positions=(-1,))
    live = demo.run(CLEAN, [steer], want=(), target="Mary", foil="John")
    ids = demo.tokenize(CLEAN)

    def by_hand(act):
        out = act.clone()
        out[0, -1] += 3.0 * torch.from_numpy(v)
        return out
    logits = demo.handle.forward(ids, {SITE: [by_hand]}).logits[0, -1]
    mary, john = demo.handle.token_id("Mary"), demo.handle.token_id("John")
    assert live.logit_diff == pytest.approx(float(logits[mary] - logits[john]), abs=1e-4)


def test_a_contrast_vector_is_the_mean_residual_difference(demo: Engine) -> None:
    pairs = [(SWAPPED, CLEAN), ("the cat sat on the mat", "the dog sat on the mat")]
    got = run("steering_vector", demo, None, component="L1.resid_pre", positives=[a for a, _ in pairs],
              negatives=[b for _, b in pairs])

    def last(text):
        return demo.handle.forward(demo.tokenize(text), capture={SITE})[SITE][0, -1].double().numpy()
    expected = np.mean([last(a) - last(b) for a, b in pairs], axis=0)
    np.testing.assert_allclose(got.vector, expected, atol=1e-4)
    assert "2 contrast pairs" in got.source and got.typical_norm > 0
    with pytest.raises(EngineError, match="as many prompts"):
        run("steering_vector", demo, None, component="L1.resid_pre", positives=[CLEAN], negatives=[])


def test_the_ioi_pair_vector_flips_the_answer_and_the_sweep_shows_where(demo: Engine) -> None:
    vector = run("steering_vector", demo, None, component="L1.resid_pre", positives=[CLEAN], negatives=[SWAPPED])
    steer = Steer("L1.resid_pre", tuple(vector.vector.tolist()), source=vector.source)
    sweep = run("steering_sweep", demo, Prompt(CLEAN, "Mary", "John"), steer=steer.to_dict(),
                strengths=[0.0, 0.25, 0.5, 1.0, 1.5, 2.0])
    assert sweep.logit_diff[0] > 4 and sweep.logit_diff.min() < 0  # Mary at 0, John somewhere along the way
    flip = sweep.flips_at()
    assert flip is not None and sweep.top_tokens[list(sweep.strengths).index(flip)] != "Mary"
    one = demo.run(CLEAN, [steer.with_strength(1.0)], want=(), target="Mary", foil="John")
    assert sweep.logit_diff[list(sweep.strengths).index(1.0)] == pytest.approx(one.logit_diff, abs=1e-3)


def test_the_sweep_measures_a_word_list(demo: Engine) -> None:
    vector = run("steering_vector", demo, None, component="L1.resid_pre", positives=[CLEAN], negatives=[SWAPPED])
    steer = Steer("L1.resid_pre", tuple(vector.vector.tolist()))
    sweep = run("steering_sweep", demo, Prompt(CLEAN), steer=steer.to_dict(), strengths=[0.0, 2.0], words=["John", "Mary"])
    logits = demo.handle.forward(demo.tokenize(CLEAN)).logits[0, -1].double()
    logp = torch.log_softmax(logits, -1)
    ids = [demo.handle.token_id("John"), demo.handle.token_id("Mary")]
    assert sweep.words_logprob[0] == pytest.approx(float(torch.logsumexp(logp[ids], 0)), abs=1e-4)
    assert sweep.logit_diff is None


def test_vectors_from_files_and_bad_files(demo: Engine, tmp_path) -> None:
    v = np.arange(192, dtype=np.float32) / 100
    save_vector(tmp_path / "v.safetensors", v, {"source": "test"})
    np.save(tmp_path / "v.npy", v[None])
    for name in ("v.safetensors", "v.npy"):
        np.testing.assert_array_equal(vector_from_file(tmp_path / name, 192), v)
        got = run("steering_vector", demo, None, component="L1.resid_pre", file=str(tmp_path / name))
        np.testing.assert_array_equal(got.vector, v)
    np.save(tmp_path / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "v.pt").write_bytes(b"\x80\x04pickle")
    np.save(tmp_path / "short.npy", v[:10])
    for name, why in [("pickled.npy", "could not be read"), ("v.pt", ".safetensors or .npy"),
                      ("short.npy", "192 numbers"), ("missing.npy", "no file")]:
        with pytest.raises(EngineError, match=why):
            vector_from_file(tmp_path / name, 192)


def test_a_feature_decoder_row_is_a_vector(demo: Engine) -> None:
    from engine.dictionaries import load_dictionary
    from engine.paths import demo_model_dir

    folder = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")
    got = run("steering_vector", demo, None, component="L0.resid_post", feature_folder=folder, feature=5)
    np.testing.assert_allclose(got.vector, load_dictionary(folder).W_dec[5].numpy(), atol=0)
    assert "feature #5" in got.source


def test_steers_round_trip_and_bad_ones_are_refused() -> None:
    s = Steer("L2.resid_post", (1.0, 2.0), strength=-3, mode="cap", positions=[1, 2], source="pairs")
    assert intervention_from_dict(s.to_dict()) == s and s.with_strength(1).strength == 1.0
    for bad, why in [(dict(component="L1.H0", vector=(1.0,)), "residual stream"),
                     (dict(component="L1.resid_pre", vector=(1.0,), mode="boost"), "unknown steering mode"),
                     (dict(component="L1.resid_pre", vector=()), "finite numbers"),
                     (dict(component="L1.resid_pre", vector=(float("nan"),)), "finite numbers"),
                     (dict(component="L1.resid_pre", vector=(0.0, 0.0), mode="remove"), "no direction")]:
        with pytest.raises(InterventionError, match=why):
            Steer(**bad)


def test_a_vector_of_the_wrong_width_is_a_message(demo: Engine) -> None:
    with pytest.raises(InterventionError, match="the steering vector has 3 numbers"):
        demo.run(CLEAN, [Steer("L1.resid_pre", (1.0, 2.0, 3.0))], want=())


def test_an_edit_after_the_last_block_runs_live(demo: Engine) -> None:
    """resid_post of the last layer: the live run resumes at the last block (there is no next one)."""
    v = np.random.default_rng(5).normal(size=192).astype(np.float32)
    steer = Steer("L1.resid_post", tuple(v.tolist()), strength=2.0)
    demo.run(CLEAN, want=(), target="Mary", foil="John")  # the clean run cached: the edit run resumes
    live = demo.run(CLEAN, [steer], want=(), target="Mary", foil="John")
    ids = demo.tokenize(CLEAN)
    logits = demo.handle.forward(ids, {"blocks.1.hook_resid_post": [lambda a: a + 2.0 * torch.from_numpy(v)]}).logits[0, -1]
    mary, john = demo.handle.token_id("Mary"), demo.handle.token_id("John")
    assert live.logit_diff == pytest.approx(float(logits[mary] - logits[john]), abs=1e-4)

