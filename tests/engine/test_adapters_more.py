"""Gemma, Gemma 2, OPT, Phi-3 and GPT-J adapters give the same guarantees as the first three
families (tests/engine/test_adapters.py), on tiny random models built locally: lens = logits,
DLA sums to the logit difference, patterns = output_attentions, head ablation = zeroing that
head's input columns of the output projection, no hook left. The adapter's own pieces
(embedding, per-head outputs, final norm, unembedding) are checked against the model directly,
so they hold whatever the engine does with them."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from engine import Engine
from engine.analyses.dla import direct_logit_attribution
from engine.errors import UnsupportedArchitectureError
from engine.hooks import hooks_attached
from tests.conftest import TINY_WORDS
from tests.engine.test_adapters import (  # noqa: F401 (collected here too, on these families)
    test_head_ablation_equals_zeroing_the_output_projection_columns, test_no_hook_is_left_and_head_scores_run,
    test_patterns_equal_output_attentions)
from training.tiny_models import save_random_family

PROMPT = "When Mary and John went to the store , John gave a drink to"
FAMILIES = ["gemma", "gemma2", "opt", "phi3", "gptj"]
BASE = {"gemma": "model", "gemma2": "model", "opt": "model.decoder", "phi3": "model", "gptj": "transformer"}

@pytest.fixture(scope="module", params=FAMILIES)
def family_engine(request, tmp_path_factory) -> tuple[str, Engine]:
    folder = save_random_family(tmp_path_factory.mktemp(request.param), TINY_WORDS, request.param)
    return request.param, Engine(folder, device="cpu")


def ids_of(engine: Engine) -> torch.Tensor:
    return torch.from_numpy(engine.tokenize(PROMPT))[None]


def full_logits(engine: Engine, ids: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return engine.model(input_ids=torch.from_numpy(ids)[None]).logits[0]


def captured(engine: Engine, names: list[str]) -> dict[str, torch.Tensor]:
    with torch.no_grad(), hooks_attached(engine.model, engine.adapter, engine.info.n_layers, names) as store:
        engine.model(input_ids=ids_of(engine))
    return store


# ------------------------------------------------------------------ the adapter's pieces, against the model
def test_hook_embed_is_what_enters_block_zero(family_engine) -> None:
    """Gemma's sqrt(d_model) scale and OPT's learned positions (offset 2) included."""
    family, engine = family_engine
    names = ["hook_embed", "blocks.0.hook_resid_pre"] + (["hook_pos_embed"] if engine.adapter.pos_embed else [])
    store = captured(engine, names)
    embed = store["hook_embed"] + store.get("hook_pos_embed", 0)
    torch.testing.assert_close(embed, store["blocks.0.hook_resid_pre"], rtol=0, atol=1e-6)
    if family in ("gemma", "gemma2"):
        raw = engine.model.get_submodule(engine.adapter.embed).weight[ids_of(engine)]
        torch.testing.assert_close(store["hook_embed"], raw * engine.info.d_model ** 0.5)


def test_residual_stream_is_the_sum_of_what_blocks_add(family_engine) -> None:
    """embed (+ pos) + every attn_out + every mlp_out = the last block's output: the sites
    are what is actually added (Gemma 2: after its post-norms; GPT-J: in parallel)."""
    family, engine = family_engine
    n = engine.info.n_layers
    names = ["hook_embed", f"blocks.{n - 1}.hook_resid_post",
             *(f"blocks.{l}.hook_{k}_out" for l in range(n) for k in ("attn", "mlp"))]
    store = captured(engine, names + (["hook_pos_embed"] if engine.adapter.pos_embed else []))
    total = store["hook_embed"] + store.get("hook_pos_embed", 0)
    total = total + sum(store[f"blocks.{l}.hook_{k}_out"] for l in range(n) for k in ("attn", "mlp"))
    torch.testing.assert_close(total, store[f"blocks.{n - 1}.hook_resid_post"], rtol=0, atol=1e-5)


def test_resid_mid_is_resid_pre_plus_attn_out(family_engine) -> None:
    family, engine = family_engine
    if "blocks.{l}.hook_resid_mid" not in engine.adapter.sites:
        assert family == "gptj"  # parallel attention + MLP: there is no point between them
        return
    store = captured(engine, ["blocks.1.hook_resid_pre", "blocks.1.hook_attn_out", "blocks.1.hook_resid_mid"])
    torch.testing.assert_close(store["blocks.1.hook_resid_pre"] + store["blocks.1.hook_attn_out"],
                               store["blocks.1.hook_resid_mid"], rtol=0, atol=1e-5)


def test_head_outputs_sum_to_the_attention_output(family_engine) -> None:
    """Per head through W_O (Gemma 2: with its post-attention norm's scale frozen), plus the
    output bias, gives hook_attn_out at every position."""
    family, engine = family_engine
    adapter, model, n_heads = engine.adapter, engine.model, engine.info.n_heads
    assert adapter.per_head_dla_additive == (family != "gemma2")
    store = captured(engine, [f"blocks.{l}.attn.hook_z" for l in range(2)] + [f"blocks.{l}.hook_attn_out" for l in range(2)])
    for l in range(engine.info.n_layers):
        z = store[f"blocks.{l}.attn.hook_z"][0]
        bias = adapter.o_proj_bias(model, l)
        for pos in range(z.shape[0]):
            heads = adapter.head_outputs(model, l, z[pos].view(n_heads, -1), n_heads)
            total = heads.sum(0) + (bias if bias is not None else 0)
            torch.testing.assert_close(total, store[f"blocks.{l}.hook_attn_out"][0, pos], rtol=0, atol=1e-5)


def test_final_norm_weight_and_unembed_fn_reproduce_the_logits(family_engine) -> None:
    """The final norm written out with final_norm_weight (1 + w for Gemma), then unembed_fn
    (soft-capped for Gemma 2), equals the model's logits."""
    family, engine = family_engine
    adapter, model = engine.adapter, engine.model
    n = engine.info.n_layers
    x = captured(engine, [f"blocks.{n - 1}.hook_resid_post"])[f"blocks.{n - 1}.hook_resid_post"][0].double()
    norm = model.get_submodule(adapter.final_norm)
    eps = getattr(norm, "eps", getattr(norm, "variance_epsilon", 1e-5))
    if adapter.final_norm_kind == "layernorm":
        x = x - x.mean(-1, keepdim=True)
    normed = x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * adapter.final_norm_weight(model).double()
    if getattr(norm, "bias", None) is not None:
        normed = normed + norm.bias.double()
    with torch.no_grad():
        logits = adapter.unembed_fn(model)(normed.float())
    torch.testing.assert_close(logits, full_logits(engine, engine.tokenize(PROMPT)), rtol=0, atol=1e-4)
    assert (adapter.final_softcap(model) is not None) == (family == "gemma2")


def test_values_and_patterns_give_z(family_engine) -> None:
    """hook_v, hook_pattern and hook_z agree: z = pattern @ v per head (shared values under GQA)."""
    family, engine = family_engine
    if "blocks.{l}.attn.hook_v" not in engine.adapter.sites:
        assert family == "phi3"  # fused qkv with grouped-query attention: not three equal thirds
        return
    h, dh = engine.info.n_heads, engine.info.d_head
    kv = getattr(engine.model.config, "num_key_value_heads", None) or h
    store = captured(engine, ["blocks.1.attn.hook_v", "blocks.1.attn.hook_pattern", "blocks.1.attn.hook_z"])
    v = store["blocks.1.attn.hook_v"][0].view(-1, kv, dh).repeat_interleave(h // kv, dim=1)  # [S, H, dh]
    z = torch.einsum("hqk,khd->qhd", store["blocks.1.attn.hook_pattern"][0], v).reshape(v.shape[0], -1)
    torch.testing.assert_close(z, store["blocks.1.attn.hook_z"][0], rtol=0, atol=1e-5)


# ------------------------------------------------------------------ the engine's guarantees (mirror test_adapters.py)
def test_logit_lens_last_layer_equals_the_model_output(family_engine) -> None:
    family, engine = family_engine
    result = engine.run(PROMPT, want=["logit_lens"])
    probs = torch.softmax(full_logits(engine, result.token_ids), -1).numpy()
    chosen = probs[np.arange(len(probs)), result.logit_lens.top_ids[-1, :, 0]]  # ties allowed (random init)
    np.testing.assert_allclose(chosen, probs.max(-1), atol=1e-6)  # the argmax survives soft-capping
    np.testing.assert_allclose(result.logit_lens.top_probs[-1, :, 0], probs.max(-1), atol=1e-5)


def test_dla_sums_to_the_logit_difference(family_engine) -> None:
    """Gemma 2: DLA is linear, so it sums to the logit difference *before* soft-capping."""
    family, engine = family_engine
    result = engine.run(PROMPT, want=["dla"], target="Mary", foil="John")
    assert ("pos_embed" in result.dla.labels) == (family == "opt")  # the others are rotary
    if family == "gemma2":
        with torch.no_grad():
            hidden = engine.model.get_submodule(BASE[family])(input_ids=ids_of(engine)).last_hidden_state[0, -1]
            raw = engine.model.get_submodule(engine.adapter.unembed)(hidden)
        expected = float(raw[result.target_id] - raw[result.foil_id])
        assert expected != pytest.approx(result.logit_diff, abs=1e-3)  # the cap does bite on this model
    else:
        expected = result.logit_diff
    assert result.dla.total == pytest.approx(expected, abs=1e-4)


def test_opt_mlp_out_is_batch_by_position(family_engine) -> None:
    """OPT's MLP sees [batch*seq, d]; the hook point still shows [batch, seq, d], also in a batch."""
    family, engine = family_engine
    if family != "opt":
        pytest.skip("only OPT flattens positions in its MLP")
    ids = torch.from_numpy(engine.random_token_ids((3, 7), np.random.default_rng(0)))
    names = ["blocks.0.hook_mlp_out", "blocks.0.hook_resid_mid", "blocks.0.hook_resid_post"]
    with torch.no_grad(), hooks_attached(engine.model, engine.adapter, 2, names) as store:
        engine.model(input_ids=ids)
    assert store["blocks.0.hook_mlp_out"].shape == (3, 7, engine.info.d_model)
    torch.testing.assert_close(store["blocks.0.hook_resid_mid"] + store["blocks.0.hook_mlp_out"],
                               store["blocks.0.hook_resid_post"], rtol=0, atol=1e-5)


# ------------------------------------------------------------------ what is refused, and how clearly
def test_unknown_architecture_names_every_supported_one(tmp_path) -> None:
    from transformers import BertConfig

    BertConfig(vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
               intermediate_size=8).save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(UnsupportedArchitectureError, match="bert") as info:
        Engine(tmp_path)
    for model_type in ("gpt2", "gpt_neox", "llama", "gemma", "gemma2", "opt", "phi3", "gptj"):
        assert model_type in str(info.value).split("Supported:")[1]


@pytest.mark.parametrize("config, match", [
    ("opt_post_ln", "post-LN"),
    ("opt_project", "project_in"),
    ("gemma2_bias", "attention_bias"),
])
def test_variants_the_adapter_cannot_read_are_refused(tmp_path, config: str, match: str) -> None:
    from transformers import Gemma2Config, OPTConfig

    small = {"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2}
    cfg = {"opt_post_ln": lambda: OPTConfig(**small, ffn_dim=8, word_embed_proj_dim=8, do_layer_norm_before=False),
           "opt_project": lambda: OPTConfig(**small, ffn_dim=8, word_embed_proj_dim=4),
           "gemma2_bias": lambda: Gemma2Config(**small, head_dim=4, attention_bias=True)}[config]()
    cfg.save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(UnsupportedArchitectureError, match=match):
        Engine(tmp_path)


def test_dla_pieces_from_the_adapter_sum_to_the_pre_cap_logit_difference(family_engine) -> None:
    """What engine._dla computes once it reads the adapter (final_norm_weight, head_outputs),
    built here from captures: it already sums exactly, whatever engine.py does today."""
    family, engine = family_engine
    adapter, model, n, h = engine.adapter, engine.model, engine.info.n_layers, engine.info.n_heads
    names = ["hook_embed", f"blocks.{n - 1}.hook_resid_post", *(f"blocks.{l}.attn.hook_z" for l in range(n)),
             *(f"blocks.{l}.hook_mlp_out" for l in range(n))] + (["hook_pos_embed"] if adapter.pos_embed else [])
    store = captured(engine, names)
    t, f = engine.token_id("Mary"), engine.token_id("John")
    parts = {"embed": store["hook_embed"][0, -1], **({"pos": store["hook_pos_embed"][0, -1]} if adapter.pos_embed else {})}
    for l in range(n):
        heads = adapter.head_outputs(model, l, store[f"blocks.{l}.attn.hook_z"][0, -1].view(h, -1), h)
        parts.update({f"L{l}.H{i}": heads[i] for i in range(h)})
        if (b := adapter.o_proj_bias(model, l)) is not None:
            parts[f"L{l}.attn_bias"] = b
        parts[f"L{l}.mlp"] = store[f"blocks.{l}.hook_mlp_out"][0, -1]
    norm = model.get_submodule(adapter.final_norm)
    w_u, b_u = adapter.unembed_weight(model), adapter.unembed_bias(model)
    dla = direct_logit_attribution(
        parts, store[f"blocks.{n - 1}.hook_resid_post"][0, -1], adapter.final_norm_kind,
        adapter.final_norm_weight(model), getattr(norm, "bias", None), float(getattr(norm, "eps", 1e-5)),
        w_u[:, t] - w_u[:, f], float(b_u[t] - b_u[f]) if b_u is not None else 0.0, n, h, -1)
    with torch.no_grad():
        hidden = model.get_submodule(BASE[family])(input_ids=ids_of(engine)).last_hidden_state[0, -1]
        raw = model.get_submodule(adapter.unembed)(hidden)  # before any soft-capping
    assert dla.total == pytest.approx(float(raw[t] - raw[f]), abs=1e-4)
