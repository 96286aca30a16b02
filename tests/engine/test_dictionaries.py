"""Dictionaries opened from local folders: each format and architecture against a float64
numpy computation written here from the SAELens / circuit-tracer formulas, the
circuit-tracer orientation, every refusal with its message, and the fit to the tiny model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

from engine.dictionaries import Dictionary, canonical_hook, fits, load_dictionaries, load_dictionary
from engine.errors import EngineError, NoSafetensorsError

D_IN, D_SAE = 32, 48  # d_in = the tiny GPT-2's d_model
RTOL = ATOL = 2e-5


# ---------------------------------------------------------------- writing folders
def random_weights(arch: str, rng: np.random.Generator, d_in: int = D_IN, d_out: int = D_IN) -> dict[str, np.ndarray]:
    """SAELens-oriented tensors (W_enc [d_in, d_sae], W_dec [d_sae, d_out]) in float32."""
    f = lambda *shape, scale=0.3: (rng.standard_normal(shape) * scale).astype(np.float32)  # noqa: E731
    t = {"W_enc": f(d_in, D_SAE), "W_dec": f(D_SAE, d_out), "b_dec": f(d_out, scale=0.5)}
    if arch == "gated":
        t.update(b_gate=f(D_SAE), r_mag=f(D_SAE), b_mag=f(D_SAE))
    else:
        t["b_enc"] = f(D_SAE) - (3.0 if arch == "topk" else 0.0)  # topk: some of the k largest are negative
    if arch == "jumprelu":
        t["threshold"] = rng.uniform(-0.4, 0.6, D_SAE).astype(np.float32)  # negatives: SAELens's ReLU matters
    return t


def write_saelens(folder: Path, arch: str, tensors: dict[str, np.ndarray], **cfg: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    d_in, d_sae = tensors["W_enc"].shape if "W_enc" in tensors else (D_IN, D_SAE)
    config = {"d_in": d_in, "d_sae": d_sae, "architecture": arch, "apply_b_dec_to_input": False,
              "normalize_activations": "none", "dtype": "float32",
              "metadata": {"hook_name": "blocks.1.hook_resid_post", "model_name": "tiny-gpt2"}, **cfg}
    (folder / "cfg.json").write_text(json.dumps(config))
    save_file(tensors, str(folder / "sae_weights.safetensors"))
    return folder


def write_circuit_tracer(folder: Path, layers: list[dict[str, np.ndarray]], config: str) -> Path:
    """Tensors given in circuit-tracer's own orientation (W_enc [d_transcoder, d_model])."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(config)
    for i, tensors in enumerate(layers):
        save_file(tensors, str(folder / f"layer_{i}.safetensors"))
    return folder


CT_CONFIG = """# a circuit-tracer transcoder set
model_name: "tiny-gpt2"
model_kind: transcoder_set
feature_input_hook: "mlp.hook_in"
feature_output_hook: "hook_mlp_out"  # what the MLP adds
scan: tiny
transcoders:
  - "hf://someone/tiny/layer_0.safetensors"
  - "hf://someone/tiny/layer_1.safetensors"
"""


# ---------------------------------------------------------------- independent reference (float64)
def relu(a: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0.0)


def ref_encode_saelens(arch: str, t: dict[str, np.ndarray], x: np.ndarray, apply_b_dec: bool,
                       k: int | None = None) -> np.ndarray:
    """sae_lens/saes/*_sae.py: process_sae_in, then the architecture's activation."""
    t = {key: v.astype(np.float64) for key, v in t.items()}
    x = x.astype(np.float64) - (t["b_dec"] if apply_b_dec else 0.0)
    if arch == "gated":
        gate = (x @ t["W_enc"] + t["b_gate"]) > 0
        return gate * relu(x @ (t["W_enc"] * np.exp(t["r_mag"])) + t["b_mag"])
    pre = x @ t["W_enc"] + t["b_enc"]
    if arch in ("standard", "transcoder", "skip_transcoder"):
        return relu(pre)
    if arch in ("jumprelu", "jumprelu_transcoder"):
        return relu(pre) * (pre > t["threshold"])
    out = np.zeros_like(pre)  # topk: the k largest pre-activations, then ReLU on them
    top = np.argsort(-pre, axis=-1)[..., :k]
    np.put_along_axis(out, top, relu(np.take_along_axis(pre, top, -1)), -1)
    return out


def ref_decode(acts: np.ndarray, t: dict[str, np.ndarray]) -> np.ndarray:
    return acts.astype(np.float64) @ t["W_dec"].astype(np.float64) + t["b_dec"].astype(np.float64)


def as_np(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().double().numpy()


def close(a: torch.Tensor, b: np.ndarray) -> None:
    np.testing.assert_allclose(as_np(a), b, rtol=RTOL, atol=ATOL)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def x(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((2, 5, D_IN)).astype(np.float32)


# ---------------------------------------------------------------- SAELens
@pytest.mark.parametrize("arch, apply_b_dec", [("standard", True), ("topk", False), ("jumprelu", True),
                                               ("gated", True)])
def test_saelens_architectures_match_numpy(tmp_path: Path, rng, x, arch: str, apply_b_dec: bool) -> None:
    t = random_weights(arch, rng)
    extra = {"k": 6} if arch == "topk" else {}
    sae = load_dictionary(write_saelens(tmp_path / arch, arch, t, apply_b_dec_to_input=apply_b_dec, **extra))
    assert (sae.kind, sae.architecture, sae.site_in, sae.site_out) == ("sae", arch, "blocks.1.hook_resid_post",
                                                                       "blocks.1.hook_resid_post")
    assert (sae.d_in, sae.d_sae, sae.d_out, sae.model_name) == (D_IN, D_SAE, D_IN, "tiny-gpt2")
    expected = ref_encode_saelens(arch, t, x, apply_b_dec, k=6)
    acts = sae.encode(torch.from_numpy(x))
    close(acts, expected)
    close(sae.decode(acts), ref_decode(expected, t))
    close(sae.forward(torch.from_numpy(x)), ref_decode(expected, t))
    assert expected.any() and not expected.all()  # the activation did something either way
    if arch == "topk":
        assert ((expected != 0).sum(-1) <= 6).all()
        assert (np.sort(x.astype(np.float64) @ t["W_enc"] + t["b_enc"], -1)[..., -6:] < 0).any()  # ReLU bit
    if arch == "jumprelu":
        assert (t["threshold"] < 0).any()  # the stored clamp is what makes relu(pre)*[pre>t] exact


def test_saelens_digest_and_source_name_the_weight_file(tmp_path: Path, rng) -> None:
    import hashlib

    folder = write_saelens(tmp_path / "sae", "standard", random_weights("standard", rng))
    sae = load_dictionary(folder)
    assert sae.source == folder / "sae_weights.safetensors" and sae.name == "sae"
    assert sae.digest == hashlib.sha256(sae.source.read_bytes()).hexdigest()
    assert "standard" in repr(sae) and "d_sae=48" in repr(sae)
    with pytest.raises(AttributeError):
        sae.k = 3  # frozen: a changed dictionary is a new one
    wide = sae.to(dtype=torch.float64)
    assert wide.dtype == torch.float64 and wide.digest == sae.digest and sae.dtype == torch.float32
    x = torch.randn(3, D_IN, dtype=torch.float64)
    torch.testing.assert_close(wide.forward(x).float(), sae.forward(x), rtol=1e-5, atol=1e-5)


def test_saelens_old_config_spelling(tmp_path: Path, rng, x) -> None:
    """Before SAELens 4: no architecture, top-level hook_name, activation_fn_str topk + kwargs."""
    t = random_weights("topk", rng)
    folder = write_saelens(tmp_path / "old", "standard", t, activation_fn_str="topk",
                           activation_fn_kwargs={"k": 4}, hook_name="blocks.0.hook_resid_pre", metadata=None)
    cfg = json.loads((folder / "cfg.json").read_text())
    del cfg["architecture"], cfg["metadata"]
    (folder / "cfg.json").write_text(json.dumps(cfg))
    sae = load_dictionary(folder)
    assert (sae.architecture, sae.k, sae.site_in) == ("topk", 4, "blocks.0.hook_resid_pre")
    close(sae.encode(torch.from_numpy(x)), ref_encode_saelens("topk", t, x, False, k=4))


def test_saelens_skip_transcoder_matches_numpy(tmp_path: Path, rng, x) -> None:
    d_out = 24  # != d_in, so W_skip's [d_out, d_in] file orientation cannot pass by accident
    t = random_weights("standard", rng, d_out=d_out)
    t["W_skip"] = (rng.standard_normal((d_out, D_IN)) * 0.2).astype(np.float32)
    folder = write_saelens(tmp_path / "tc", "skip_transcoder", t, d_out=d_out,
                           metadata={"hook_name": "blocks.0.ln2.hook_normalized"})
    tc = load_dictionary(folder)
    assert (tc.kind, tc.site_in, tc.site_out) == ("transcoder", "blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out")
    expected_acts = ref_encode_saelens("transcoder", t, x, False)
    acts = tc.encode(torch.from_numpy(x))
    close(acts, expected_acts)
    expected_out = ref_decode(expected_acts, t) + x.astype(np.float64) @ t["W_skip"].astype(np.float64).T
    close(tc.decode(acts, torch.from_numpy(x)), expected_out)
    close(tc.forward(torch.from_numpy(x)), expected_out)
    with pytest.raises(EngineError, match="skip connection: decode needs the input x"):
        tc.decode(acts)


def test_saelens_transcoder_writes_where_its_config_says(tmp_path: Path, rng) -> None:
    t = random_weights("jumprelu", rng)
    folder = write_saelens(tmp_path / "tc", "jumprelu_transcoder", t, d_out=D_IN, apply_b_dec_to_input=True,
                           metadata={"hook_name": "blocks.1.hook_resid_mid", "hook_name_out": "blocks.1.hook_attn_out"})
    tc = load_dictionary(folder)
    assert (tc.architecture, tc.site_out, tc.apply_b_dec_to_input) == ("jumprelu", "blocks.1.hook_attn_out", False)


@pytest.mark.parametrize("where", ["cfg", "scaler_file"])
def test_expected_average_only_in_equals_saelens_folding(tmp_path: Path, rng, x, where: str) -> None:
    """SAELens folds the factor s into the weights (fold_activation_norm_scaling_factor:
    W_enc *= s, W_dec /= s, b_dec /= s); the reference runs the plain formula on folded weights."""
    s = 2.5
    t = random_weights("jumprelu", rng)
    extra = {"norm_scaling_factor": s} if where == "cfg" else {}
    folder = write_saelens(tmp_path / where, "jumprelu", t, apply_b_dec_to_input=True,
                           normalize_activations="expected_average_only_in", **extra)
    if where == "scaler_file":
        (folder / "activation_scaler.json").write_text(json.dumps({"scaling_factor": s}))
    sae = load_dictionary(folder)
    assert (sae.normalize_activations, sae.norm_scaling_factor) == ("expected_average_only_in", s)
    folded = {**t, "W_enc": t["W_enc"] * s, "W_dec": t["W_dec"] / s, "b_dec": t["b_dec"] / s}
    expected = ref_encode_saelens("jumprelu", folded, x, True)
    close(sae.encode(torch.from_numpy(x)), expected)
    close(sae.forward(torch.from_numpy(x)), ref_decode(expected, folded))


# ---------------------------------------------------------------- circuit-tracer
def ct_layer(rng: np.random.Generator, threshold: bool = True, skip: bool = True, d_model: int = D_IN) -> dict:
    f = lambda *shape, scale=0.3: (rng.standard_normal(shape) * scale).astype(np.float32)  # noqa: E731
    t = {"W_enc": f(D_SAE, d_model), "W_dec": f(D_SAE, d_model), "b_enc": f(D_SAE), "b_dec": f(d_model)}
    if threshold:
        t["activation_function.threshold"] = rng.uniform(-0.4, 0.6, D_SAE).astype(np.float32)
    if skip:
        t["W_skip"] = f(d_model, d_model, scale=0.2)  # not symmetric: a missed transpose shows
    return t


def test_circuit_tracer_set_matches_its_formula(tmp_path: Path, rng, x) -> None:
    """single_layer_transcoder.py: F.linear(x, W_enc, b_enc), JumpReLU pre*[pre > t] (no ReLU),
    decode acts @ W_dec + b_dec + x @ W_skip.T."""
    layers = [ct_layer(rng), ct_layer(rng)]
    found = load_dictionaries(write_circuit_tracer(tmp_path / "set", layers, CT_CONFIG))
    assert [d.name for d in found] == ["set/layer_0", "set/layer_1"]
    for i, (tc, t) in enumerate(zip(found, layers)):
        assert (tc.kind, tc.architecture, tc.site_in, tc.site_out) == (
            "transcoder", "jumprelu", f"blocks.{i}.ln2.hook_normalized", f"blocks.{i}.hook_mlp_out")
        assert tc.hooks_in_file == ("mlp.hook_in", "hook_mlp_out") and tc.model_name == "tiny-gpt2"
        t64 = {k: v.astype(np.float64) for k, v in t.items()}
        x64 = x.astype(np.float64)
        pre = x64 @ t64["W_enc"].T + t64["b_enc"]
        acts = pre * (pre > t64["activation_function.threshold"])
        assert (acts < 0).any()  # negative thresholds let negative activations through, as circuit-tracer does
        close(tc.encode(torch.from_numpy(x)), acts)
        close(tc.forward(torch.from_numpy(x)), acts @ t64["W_dec"] + t64["b_dec"] + x64 @ t64["W_skip"].T)


def test_circuit_tracer_topk_keeps_negative_values(tmp_path: Path, rng, x) -> None:
    """activation_functions.TopK: x * gate over the k largest, no ReLU; k from the file's 'k'."""
    t = ct_layer(rng, threshold=False, skip=False)
    t["b_enc"] = t["b_enc"] - 3.0
    t["k"] = np.array(5, dtype=np.int64)
    config = CT_CONFIG.replace("model_kind: transcoder_set", "model_kind: transcoder_set\nactivation: topk")
    [tc] = load_dictionaries(write_circuit_tracer(tmp_path / "topk", [t], config))
    assert (tc.architecture, tc.k, tc.topk_relu) == ("topk", 5, False)
    pre = x.astype(np.float64) @ t["W_enc"].astype(np.float64).T + t["b_enc"]
    top = np.argsort(-pre, -1)[..., :5]
    expected = np.zeros_like(pre)
    np.put_along_axis(expected, top, np.take_along_axis(pre, top, -1), -1)
    assert (expected < 0).any()
    close(tc.encode(torch.from_numpy(x)), expected)


@pytest.mark.parametrize("arch", ["jumprelu_transcoder", "skip_transcoder"])
def test_same_weights_in_both_formats_give_the_same_dictionary(tmp_path: Path, rng, x, arch: str) -> None:
    """circuit-tracer stores W_enc and W_skip transposed relative to SAELens; after loading they agree."""
    t = random_weights("jumprelu", rng)
    t["threshold"] = np.abs(t["threshold"])  # the two JumpReLUs differ only for negative thresholds
    ct = {"W_enc": np.ascontiguousarray(t["W_enc"].T), "W_dec": t["W_dec"], "b_enc": t["b_enc"], "b_dec": t["b_dec"]}
    if arch == "jumprelu_transcoder":
        ct["activation_function.threshold"] = t["threshold"]
    else:
        del t["threshold"]
        t["W_skip"] = (rng.standard_normal((D_IN, D_IN)) * 0.2).astype(np.float32)
        ct["W_skip"] = t["W_skip"]  # both store [d_out, d_in]
    sl = load_dictionary(write_saelens(tmp_path / "sl", arch, t, d_out=D_IN,
                                       metadata={"hook_name": "blocks.1.ln2.hook_normalized"}))
    [_, tc] = load_dictionaries(write_circuit_tracer(tmp_path / "ct", [ct, ct], CT_CONFIG))
    assert (sl.site_in, sl.site_out) == (tc.site_in, tc.site_out)
    xt = torch.from_numpy(x)
    torch.testing.assert_close(sl.encode(xt), tc.encode(xt))
    torch.testing.assert_close(sl.forward(xt), tc.forward(xt))
    assert sl.encode(xt).count_nonzero() > 0


def test_circuit_tracer_config_json_is_read_too(tmp_path: Path, rng) -> None:
    folder = tmp_path / "json"
    folder.mkdir()
    save_file(ct_layer(rng, skip=False), str(folder / "layer_0.safetensors"))
    (folder / "config.json").write_text(json.dumps({"model_kind": "transcoder_set",
                                                    "feature_input_hook": "hook_resid_mid",
                                                    "feature_output_hook": "mlp.hook_out"}))
    [tc] = load_dictionaries(folder)
    assert (tc.site_in, tc.site_out, tc.W_skip) == ("blocks.0.hook_resid_mid", "blocks.0.hook_mlp_out", None)


# ---------------------------------------------------------------- refusals
def test_pickle_only_folder_is_refused_without_opening_it(tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    (folder / "cfg.json").write_text(json.dumps({"d_in": D_IN, "d_sae": D_SAE}))
    (folder / "sae_weights.pt").write_bytes(b"not even a pickle: opening it would fail differently")
    with pytest.raises(NoSafetensorsError, match="pickle files are not opened; convert to safetensors"):
        load_dictionaries(folder)


def test_missing_key_is_named(tmp_path: Path, rng) -> None:
    t = random_weights("jumprelu", rng)
    del t["threshold"]
    with pytest.raises(EngineError, match=r"sae_weights\.safetensors: key 'threshold' \(\[d_sae\]\) is missing"):
        load_dictionaries(write_saelens(tmp_path / "s", "jumprelu", t))


def test_wrong_shape_is_named_with_both_shapes(tmp_path: Path, rng) -> None:
    t = random_weights("standard", rng)
    t["W_enc"] = np.ascontiguousarray(t["W_enc"].T)  # circuit-tracer's orientation in a SAELens folder
    folder = write_saelens(tmp_path / "s", "standard", t, d_in=D_IN, d_sae=D_SAE)
    with pytest.raises(EngineError, match=r"sae_weights\.safetensors: 'W_enc' has shape \[48, 32\], "
                                          r"expected \[d_in, d_sae\] = \[32, 48\]"):
        load_dictionaries(folder)


def test_circuit_tracer_file_in_saelens_orientation_is_refused(tmp_path: Path, rng) -> None:
    t = ct_layer(rng, skip=False)
    t["W_enc"] = np.ascontiguousarray(t["W_enc"].T)
    with pytest.raises(EngineError, match=r"layer_0\.safetensors: 'W_enc' has shape \[32, 48\], "
                                          r"expected \[d_transcoder, d_model\] = \[48, 32\]"):
        load_dictionaries(write_circuit_tracer(tmp_path / "ct", [t], CT_CONFIG))


@pytest.mark.parametrize("cfg, message", [
    ({"architecture": "mystery"},
     "architecture 'mystery' is not supported; supported: standard, topk, jumprelu, gated"),
    ({"architecture": "topk"}, "a topk SAE needs an integer k in 1..d_sae"),
    ({"normalize_activations": "layer_norm"}, "normalize_activations 'layer_norm' is not supported"),
    ({"normalize_activations": "expected_average_only_in"}, "no scaling factor is given"),
    ({"metadata": {"hook_name": "blocks.1.hook_resid_post", "hook_head_index": 2}}, "hook_head_index 2"),
    ({"metadata": {"hook_name": "blocks.1.hook_scores"}}, "hook 'blocks.1.hook_scores' is not one .* accepted forms"),
    ({"metadata": {}}, "no hook_name"),
    ({"d_sae": 0}, "'d_sae' should be a positive integer"),
])
def test_saelens_config_refusals(tmp_path: Path, rng, cfg: dict, message: str) -> None:
    folder = write_saelens(tmp_path / "s", "standard", random_weights("standard", rng), **cfg)
    with pytest.raises(EngineError, match=message):
        load_dictionaries(folder)


@pytest.mark.parametrize("edit, message", [
    (("model_kind: transcoder_set", "model_kind: cross_layer_transcoder"), "cross-layer transcoders are not"),
    (('feature_input_hook: "mlp.hook_in"\n', ""), "'feature_input_hook' is missing"),
    (("scan: tiny", "activation: relu"), "says activation relu but the file has 'activation_function.threshold'"),
    (("scan: tiny", "activation: softplus"), "activation 'softplus' in the config is not supported"),
    (("scan: tiny", "weird: [1, 2]"), "line 6: '\\[1, 2\\]' is YAML this reader does not handle"),
])
def test_circuit_tracer_config_refusals(tmp_path: Path, rng, edit: tuple[str, str], message: str) -> None:
    config = CT_CONFIG.replace(*edit)
    with pytest.raises(EngineError, match=message):
        load_dictionaries(write_circuit_tracer(tmp_path / "ct", [ct_layer(rng)], config))


def test_folders_that_are_not_dictionaries_are_named(tmp_path: Path, rng) -> None:
    with pytest.raises(EngineError, match="is not a folder"):
        load_dictionaries(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineError, match="is not a dictionary folder"):
        load_dictionaries(tmp_path / "empty")
    (tmp_path / "npz").mkdir()
    (tmp_path / "npz" / "params.npz").write_bytes(b"PK")
    with pytest.raises(EngineError, match=r"\.npz weights .* not read; convert them to safetensors"):
        load_dictionaries(tmp_path / "npz")
    write_saelens(tmp_path / "release" / "blocks.0.hook_resid_pre", "standard", random_weights("standard", rng))
    with pytest.raises(EngineError, match="several SAELens dictionaries: open one of its folders "
                                          r"\(blocks\.0\.hook_resid_pre\)"):
        load_dictionaries(tmp_path / "release")
    ct = write_circuit_tracer(tmp_path / "ct", [ct_layer(rng), ct_layer(rng)], CT_CONFIG)
    with pytest.raises(EngineError, match="holds 2 dictionaries"):
        load_dictionary(ct)


def test_a_dictionary_built_by_hand_is_checked(rng) -> None:
    t = {k: torch.from_numpy(v) for k, v in random_weights("standard", rng).items()}
    with pytest.raises(EngineError, match="b_dec has shape \\[5\\], expected \\[32\\]"):
        Dictionary("hand", "sae", "standard", "blocks.0.hook_resid_post", "blocks.0.hook_resid_post",
                   W_enc=t["W_enc"], W_dec=t["W_dec"], b_enc=t["b_enc"], b_dec=torch.zeros(5))
    with pytest.raises(EngineError, match="jumprelu needs threshold"):
        Dictionary("hand", "sae", "jumprelu", "blocks.0.hook_resid_post", "blocks.0.hook_resid_post", **t)


# ---------------------------------------------------------------- hook names
@pytest.mark.parametrize("written, layer, canonical", [
    ("blocks.7.hook_resid_post", None, "blocks.7.hook_resid_post"),
    ("blocks.7.hook_resid_pre", None, "blocks.7.hook_resid_pre"),
    ("blocks.7.hook_resid_mid", None, "blocks.7.hook_resid_mid"),
    ("blocks.7.hook_mlp_out", None, "blocks.7.hook_mlp_out"),
    ("blocks.7.hook_attn_out", None, "blocks.7.hook_attn_out"),
    ("blocks.7.attn.hook_z", None, "blocks.7.attn.hook_z"),
    ("blocks.7.ln2.hook_normalized", None, "blocks.7.ln2.hook_normalized"),
    ("blocks.7.hook_mlp_in", None, "blocks.7.hook_resid_mid"),
    ("model.layers.7", None, "blocks.7.hook_resid_post"),
    ("transformer.h.7", None, "blocks.7.hook_resid_post"),
    ("gpt_neox.layers.7", None, "blocks.7.hook_resid_post"),
    ("model.layers.7.mlp", None, "blocks.7.hook_mlp_out"),
    ("transformer.h.12.mlp", None, "blocks.12.hook_mlp_out"),
    ("mlp.hook_in", 3, "blocks.3.ln2.hook_normalized"),
    ("mlp.hook_out", 3, "blocks.3.hook_mlp_out"),
    ("hook_resid_mid", 3, "blocks.3.hook_resid_mid"),
    ("ln2.hook_normalized", 0, "blocks.0.ln2.hook_normalized"),
    ("blocks.{layer}.hook_resid_pre", 4, "blocks.4.hook_resid_pre"),
])
def test_hook_names_map_to_canonical(written: str, layer: int | None, canonical: str) -> None:
    assert canonical_hook(written, layer) == canonical


@pytest.mark.parametrize("written, layer", [
    ("blocks.7.hook_scores", None), ("model.layers.7.self_attn", None), ("hook_resid_post", None),
    ("resid_post", 2), ("blocks.x.hook_mlp_out", None)])
def test_unknown_hook_names_are_refused_with_the_accepted_forms(written: str, layer: int | None) -> None:
    with pytest.raises(EngineError, match="accepted forms: blocks.<L>.hook_resid_pre.*model.layers.<L>"):
        canonical_hook(written, layer)


# ---------------------------------------------------------------- fitting the tiny model
def sae_at(tmp_path: Path, rng, hook: str, d_in: int = D_IN, name: str = "s") -> Dictionary:
    return load_dictionary(write_saelens(tmp_path / name, "standard", random_weights("standard", rng, d_in, d_in),
                                         apply_b_dec_to_input=True, metadata={"hook_name": hook}))


def test_a_fitting_sae_encodes_the_tiny_models_activations(tmp_path: Path, rng, tiny_engine) -> None:
    sae = sae_at(tmp_path, rng, "transformer.h.1")
    fits(sae, tiny_engine)
    fits(sae, tiny_engine.info)
    handle = tiny_engine.handle
    resid = handle.forward(handle.tokenize("When Mary and John went to the store"), capture=[sae.site_in])[sae.site_in]
    t = {k: v.numpy() for k, v in {"W_enc": sae.W_enc, "b_enc": sae.b_enc, "b_dec": sae.b_dec}.items()}
    close(sae.encode(resid), ref_encode_saelens("standard", t, resid.numpy(), True))
    fits(sae_at(tmp_path, rng, "blocks.0.attn.hook_z", name="z"), tiny_engine)  # 4 heads x d_head 8 = 32


def test_wrong_layer_and_width_are_refused(tmp_path: Path, rng, tiny_engine) -> None:
    with pytest.raises(EngineError, match="this SAE reads blocks.5.hook_resid_post but the model has 2 layers"):
        fits(sae_at(tmp_path, rng, "blocks.5.hook_resid_post", name="a"), tiny_engine)
    with pytest.raises(EngineError, match="this SAE reads blocks.1.hook_mlp_out with d_in 48, but the model's "
                                          "width there is 32"):
        fits(sae_at(tmp_path, rng, "blocks.1.hook_mlp_out", d_in=48, name="b"), tiny_engine)


def test_transcoders_fit_both_their_sites(tmp_path: Path, rng, tiny_engine) -> None:
    [tc] = load_dictionaries(write_circuit_tracer(tmp_path / "ct", [ct_layer(rng)], CT_CONFIG))
    fits(tc, tiny_engine.info)  # a ModelInfo alone cannot say which hooks the adapter has
    if tiny_engine.handle.has_hook(tc.site_in):
        fits(tc, tiny_engine)
    else:  # refused exactly while the adapter has no MLP-input site
        with pytest.raises(EngineError, match="reads blocks.0.ln2.hook_normalized, which this GPT-2 model has no "
                                              "hook for \\(the MLP's input\\)"):
            fits(tc, tiny_engine)
    gemma2 = replace(tiny_engine.info, family="Gemma 2")
    config = CT_CONFIG.replace('"hook_mlp_out"', '"mlp.hook_out"').replace('"mlp.hook_in"', '"hook_resid_mid"')
    [module_out] = load_dictionaries(write_circuit_tracer(tmp_path / "ct2", [ct_layer(rng)], config))
    fits(module_out, tiny_engine.info)
    with pytest.raises(EngineError, match="writes the MLP module's output \\('mlp.hook_out'\\), but in Gemma 2"):
        fits(module_out, gemma2)
    wide = replace(tiny_engine.info, d_model=64)
    with pytest.raises(EngineError, match="reads blocks.0.hook_resid_mid with d_in 32, but the model's width there "
                                          "is 64"):
        fits(module_out, wide)
