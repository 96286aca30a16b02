"""Feature edits (kind 'feature'): with the reconstruction error kept, an edit that changes
nothing is exact; an ablation equals subtracting the feature's decoder contribution by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, InterventionError
from engine.dictionaries import load_dictionary
from engine.interventions import FeatureEdit, intervention_from_dict
from engine.paths import demo_model_dir
from tests.demo_facts import THE_FEATURE, CLAMPED_FEATURE

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")
PROMPT = "When Mary and John went to the store , John gave a drink to"
SITE = "blocks.0.hook_resid_post"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def logits(engine: Engine, interventions=(), edits=None) -> torch.Tensor:
    ids = engine.tokenize(PROMPT)
    if edits is not None:
        return engine.handle.forward(ids, edits).logits[0]
    return engine._forward(ids[None], interventions, ())[0][0]


def test_an_edit_that_changes_nothing_leaves_the_model_exact(demo: Engine) -> None:
    same = FeatureEdit(f"L0.resid_post/sae:{THE_FEATURE}", FOLDER, "scale", 1.0)
    torch.testing.assert_close(logits(demo, [same]), logits(demo), atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode,value", [("ablate", 0.0), ("clamp", 20.0), ("scale", 3.0)])
def test_an_edit_equals_moving_the_decoder_contribution_by_hand(demo: Engine, mode: str, value: float) -> None:
    feature = THE_FEATURE
    sae = load_dictionary(FOLDER)
    ids = demo.tokenize(PROMPT)
    x = demo.handle.forward(ids, capture={SITE})[SITE][0].double()
    w = {k: torch.as_tensor(getattr(sae, k)).double() for k in ("W_enc", "W_dec", "b_enc", "b_dec")}
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    keep = pre.topk(sae.k, dim=-1).indices
    a = torch.zeros_like(pre).scatter(-1, keep, pre.gather(-1, keep).relu())[:, feature]
    assert (a > 0).any()  # the feature fires on this prompt ('the')
    target = {"ablate": torch.zeros_like(a), "clamp": torch.full_like(a, value), "scale": a * value}[mode]
    by_hand = (x + (target - a)[:, None] * w["W_dec"][feature]).float()
    expected = logits(demo, edits={SITE: [lambda act: by_hand[None].to(act.dtype)]})
    got = logits(demo, [FeatureEdit(f"L0.resid_post/sae:{feature}", FOLDER, mode, value)])
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)


def test_the_live_run_resumed_from_the_clean_cache_applies_the_edit(demo: Engine) -> None:
    edit = FeatureEdit(f"L0.resid_post/sae:{CLAMPED_FEATURE}", FOLDER, "clamp", 30.0)
    demo.run(PROMPT, want=(), target="Mary", foil="John")  # caches the clean run: the edit run resumes at block 1
    live = demo.run(PROMPT, [edit], want=(), target="Mary", foil="John")
    full = logits(demo, [edit])[-1]
    mary, john = demo.handle.token_id("Mary"), demo.handle.token_id("John")
    assert live.logit_diff == pytest.approx(float(full[mary] - full[john]), abs=1e-4)
    assert abs(live.logit_diff - demo.run(PROMPT, want=(), target="Mary", foil="John").logit_diff) > 1.0


def test_an_edit_at_one_position_leaves_the_others(demo: Engine) -> None:
    ids = demo.tokenize(PROMPT)
    edit = FeatureEdit(f"L0.resid_post/sae:{THE_FEATURE}", FOLDER, "clamp", 25.0, positions=(7,))
    from engine.live import edits_for

    out = demo.handle.forward(ids, edits_for(demo.handle, (edit,), len(ids)), capture={SITE})[SITE][0]
    clean = demo.handle.forward(ids, capture={SITE})[SITE][0]
    changed = (out - clean).abs().amax(-1) > 1e-6
    assert changed.tolist() == [i == 7 for i in range(len(ids))]


def test_bad_feature_edits_are_refused_by_name(demo: Engine) -> None:
    with pytest.raises(InterventionError, match="names no feature"):
        FeatureEdit("L0.resid_post", FOLDER)
    with pytest.raises(InterventionError, match="unknown feature edit"):
        FeatureEdit("L0.resid_post/sae:1", FOLDER, "boost")
    with pytest.raises(Exception, match="reads and writes blocks.0.hook_resid_post"):
        demo.run(PROMPT, [FeatureEdit("L1.resid_post/sae:1", FOLDER)], want=())
    with pytest.raises(Exception, match="1536 features"):
        demo.run(PROMPT, [FeatureEdit("L0.resid_post/sae:5000", FOLDER)], want=())
    edit = FeatureEdit(f"L0.resid_post/sae:{THE_FEATURE}", FOLDER, "clamp", 2.5, (3, 4))
    assert intervention_from_dict(edit.to_dict()) == edit
    assert np.isclose(edit.value, 2.5) and edit.feature == THE_FEATURE


# ---------------------------------------------------------------- transcoder features
TC_IN, TC_OUT = "blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out"


@pytest.fixture(scope="module")
def transcoder(tmp_path_factory, demo: Engine) -> str:
    """A random TopK transcoder for the demo model's first MLP, in the SAELens format train_sae writes."""
    import json

    from safetensors.numpy import save_file

    d, n, rng = demo.handle.unembed_weight().shape[0], 64, np.random.default_rng(3)
    folder = tmp_path_factory.mktemp("tc")
    (folder / "cfg.json").write_text(json.dumps({
        "architecture": "topk_transcoder", "d_in": d, "d_sae": n, "d_out": d, "k": 8,
        "metadata": {"hook_name": TC_IN, "hook_name_out": TC_OUT}}))
    save_file({"W_enc": rng.normal(size=(d, n)).astype(np.float32) / d ** 0.5,
               "b_enc": np.full(n, 0.5, np.float32),
               "W_dec": rng.normal(size=(n, d)).astype(np.float32),
               "b_dec": np.zeros(d, np.float32)}, str(folder / "sae_weights.safetensors"))
    return str(folder)


def test_a_transcoder_edit_that_changes_nothing_leaves_the_model_exact(demo: Engine, transcoder: str) -> None:
    same = FeatureEdit("L0.mlp/transcoder:3", transcoder, "scale", 1.0)
    torch.testing.assert_close(logits(demo, [same]), logits(demo), atol=1e-5, rtol=0)


@pytest.mark.parametrize("mode,value", [("ablate", 0.0), ("clamp", 4.0), ("scale", -2.0)])
def test_a_transcoder_edit_moves_the_mlp_output_by_the_feature_s_decoder_row(
        demo: Engine, transcoder: str, mode: str, value: float) -> None:
    """Encoded from the MLP's input (numpy), written on the MLP's output: y' = y + (a' - a) W_dec[f]."""
    from safetensors.numpy import load_file

    w = load_file(f"{transcoder}/sae_weights.safetensors")
    ids = demo.tokenize(PROMPT)
    seen = demo.handle.forward(ids, capture={TC_IN, TC_OUT})
    x, y = seen[TC_IN][0].double().numpy(), seen[TC_OUT][0].double().numpy()
    pre = x @ w["W_enc"] + w["b_enc"]
    acts = np.zeros_like(pre)
    top = np.argsort(-pre, axis=-1)[:, :8]
    np.put_along_axis(acts, top, np.maximum(np.take_along_axis(pre, top, -1), 0), -1)
    feature = int(np.argmax((acts > 0).sum(0)))  # the one firing most often on this prompt
    a = acts[:, feature]
    assert (a > 0).sum() >= 3
    target = {"ablate": np.zeros_like(a), "clamp": np.full_like(a, value), "scale": a * value}[mode]
    by_hand = torch.from_numpy(y + (target - a)[:, None] * w["W_dec"][feature]).float()
    expected = logits(demo, edits={TC_OUT: [lambda act: by_hand[None].to(act.dtype)]})
    got = logits(demo, [FeatureEdit(f"L0.mlp/transcoder:{feature}", transcoder, mode, value)])
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    assert (got - logits(demo)).abs().max() > 1e-2


def test_a_transcoder_edit_at_the_wrong_place_is_refused(demo: Engine, transcoder: str) -> None:
    with pytest.raises(InterventionError, match="writes blocks.0.hook_mlp_out"):
        logits(demo, [FeatureEdit("L0.resid_post/transcoder:3", transcoder, "ablate")])
