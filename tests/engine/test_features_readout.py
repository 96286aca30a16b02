"""Readout 'features': the live run's features of an open dictionary, equal to encoding the
captured activation by hand (numpy, float64), with and without an edit upstream."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine, EngineError
from engine.paths import demo_model_dir

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")
PROMPT = "When Mary and John went to the store , John gave a drink to"


def numpy_topk_encode(x: np.ndarray, folder: str) -> np.ndarray:
    """TopK SAE by hand from the weights file: pre = (x - b_dec) W_enc + b_enc, keep the k
    largest, ReLU."""
    import json

    from safetensors.numpy import load_file

    w = {k: v.astype(np.float64) for k, v in load_file(f"{folder}/sae_weights.safetensors").items()}
    k = json.load(open(f"{folder}/cfg.json"))["k"]
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    out = np.zeros_like(pre)
    idx = np.argsort(-pre, axis=-1)[:, :k]
    np.put_along_axis(out, idx, np.maximum(np.take_along_axis(pre, idx, -1), 0), -1)
    return out


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


@pytest.mark.parametrize("interventions", [(), (Ablation("L0.H5"),)])
def test_features_equal_encoding_the_captured_activation_by_hand(demo: Engine, interventions) -> None:
    result = demo.run(PROMPT, interventions, want=(), readouts={"features": {"folder": FOLDER, "k": 5, "shown": 12}})
    f = result.readouts["features"]
    ids = demo.tokenize(PROMPT)
    x = demo._forward(ids[None], interventions, {f.site})[1][f.site][0].double().numpy()
    acts = numpy_topk_encode(x, FOLDER)
    acts[: f.first] = 0
    np.testing.assert_allclose(f.shown_values, acts[:, f.shown_ids], atol=1e-4)
    for pos in range(f.first, len(ids)):
        expected = [i for i in np.argsort(-acts[pos])[:5] if acts[pos, i] > 0]
        assert list(f.top_ids[pos][: len(expected)]) == expected
    assert (f.l0[f.first:] == (acts[f.first:] > 0).sum(-1)).all() and (f.top_ids[0] == -1).all()
    strongest = {int(acts[pos].argmax()) for pos in range(f.first, len(ids)) if acts[pos].max() > 0}
    # every column's strongest feature is a row (as many as fit), rows are distinct and at most 12
    assert len(strongest & set(f.shown_ids.tolist())) == min(12, len(strongest))
    assert len(f.shown_ids) == len(set(f.shown_ids.tolist())) <= 12
    assert (acts[:, f.shown_ids].max(0) > 0).all()


def test_an_edit_upstream_changes_the_features(demo: Engine) -> None:
    clean = demo.run(PROMPT, want=(), readouts={"features": {"folder": FOLDER}}).readouts["features"]
    edited = demo.run(PROMPT, [Ablation("L0.H5")], want=(), readouts={"features": {"folder": FOLDER}}).readouts["features"]
    assert not np.array_equal(clean.top_ids, edited.top_ids)
    assert "blocks.0.hook_resid_post" in clean.label and "1,536 features" in clean.label


def test_a_dictionary_for_another_model_is_refused_by_name(tiny_engine) -> None:
    with pytest.raises(EngineError, match="d_in|width|192"):
        tiny_engine.run(PROMPT.replace(" ,", ""), want=(), readouts={"features": {"folder": FOLDER}})
