"""The information-flow graph (analysis 'info_flow', Ferrando & Voita 2024): its shares against
the L1-proximity rule computed here independently (float64 numpy loops over parts built from
the model's own attention weights, values and W_O), its invariants, the demo model's
induction route, and what it refuses.

Measured on the demo model's induction prompt below (a 10-word segment, its first 5 words
again; last position 15, its earlier copy at 5): the layer-1 attention edge 6 -> 15 carries
0.72 of the node (L1.H0 0.62, L1.H1 0.09), 0.92 after the tool's renormalising threshold
0.04; the layer-0 edge 5 -> 6 carries 0.46 (L0.H3 0.41), 0.52 after it."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from engine import Ablation, Engine, EngineError, Prompt
from engine.analyses.info_flow import EPS, InfoFlowParams
from engine.flow_routes import ATTENTION, flow_edges, route_tree
from tests.conftest import TINY_WORDS
from tests.demo_facts import INDUCTION_HEADS, PREVIOUS_TOKEN_HEAD
from training.tiny_models import save_random_family

TINY_PROMPT = "When Mary and John went to the store , John gave a drink to"
SEGMENT = ["shadow", "flame", "paper", "plate", "mother", "kind", "soft", "spoon", "busy", "took"]
INDUCTION_PROMPT = " ".join(SEGMENT + SEGMENT[:5])  # BOS + 15 words: the last word's earlier copy is at 5


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory) -> Engine:
    """4 query heads sharing 2 key/value heads (grouped-query attention), RMSNorm, no biases."""
    return Engine(save_random_family(tmp_path_factory.mktemp("llama"), TINY_WORDS, "llama"), device="cpu")


# ------------------------------------------------------------------ the rule, computed independently
def out_projection(engine: Engine, layer: int) -> tuple[np.ndarray, np.ndarray | None]:
    """W_O as [d_in, d_model] and b_O, read from the Hugging Face modules themselves."""
    model = engine.model
    if engine.info.family == "GPT-2":
        proj = model.transformer.h[layer].attn.c_proj  # Conv1D: weight is [in, out]
        return proj.weight.detach().double().numpy(), proj.bias.detach().double().numpy()
    proj = model.model.layers[layer].self_attn.o_proj  # nn.Linear: weight is [out, in]
    return proj.weight.detach().double().numpy().T, None if proj.bias is None else proj.bias.detach().double().numpy()


def shares(whole: np.ndarray, parts: list[np.ndarray]) -> np.ndarray:
    """The L1-proximity rule, written out: max(eps, |whole|_1 - |whole - part|_1), normalised."""
    raw = np.array([max(EPS, np.abs(whole).sum() - np.abs(whole - part).sum()) for part in parts])
    return raw / raw.sum()


def independent_flow(engine: Engine, text: str) -> dict[str, np.ndarray]:
    """Every node's shares from plain captures and the model's weights, in float64 loops.
    Patterns come from the model's own output_attentions, not from the engine's hooks."""
    ids = engine.tokenize(text)
    n_layers, n_heads, n = engine.info.n_layers, engine.info.n_heads, len(ids)
    d_head = engine.info.d_head
    n_kv = getattr(engine.model.config, "num_key_value_heads", None) or n_heads
    names = [f"blocks.{l}.{h}" for l in range(n_layers)
             for h in ("hook_resid_pre", "hook_resid_mid", "hook_resid_post", "attn.hook_v", "hook_mlp_out")]
    store = {k: v[0].double().numpy() for k, v in engine.handle.forward(ids, capture=names).acts.items()}
    with torch.no_grad():
        patterns = engine.model(input_ids=torch.from_numpy(ids)[None], output_attentions=True).attentions
    attn_heads = np.zeros((n_layers, n, n, n_heads))
    attn_resid, mlp, mlp_resid = np.zeros((n_layers, n)), np.zeros((n_layers, n)), np.zeros((n_layers, n))
    for l in range(n_layers):
        pre, mid, post = (store[f"blocks.{l}.hook_resid_{s}"] for s in ("pre", "mid", "post"))
        values = store[f"blocks.{l}.attn.hook_v"].reshape(n, n_kv, d_head)
        pattern = patterns[l][0].double().numpy()  # [H, S, S]
        w_o, b_o = out_projection(engine, l)
        for q in range(n):
            parts, where = [], []
            for k in range(q + 1):
                for h in range(n_heads):
                    group = h // (n_heads // n_kv)
                    parts.append(pattern[h, q, k] * values[k, group] @ w_o[h * d_head:(h + 1) * d_head])
                    where.append((k, h))
            rebuilt = pre[q] + sum(parts) + (0 if b_o is None else b_o)
            np.testing.assert_allclose(rebuilt, mid[q], rtol=0, atol=1e-4 * np.abs(mid[q]).max())
            s = shares(mid[q], parts + [pre[q]])
            for (k, h), value in zip(where, s[:-1]):
                attn_heads[l, q, k, h] = value
            attn_resid[l, q] = s[-1]
            mlp_out = store[f"blocks.{l}.hook_mlp_out"][q]
            np.testing.assert_allclose(mid[q] + mlp_out, post[q], rtol=0, atol=1e-4 * np.abs(post[q]).max())
            mlp[l, q], mlp_resid[l, q] = shares(post[q], [mlp_out, mid[q]])
    return {"attn_heads": attn_heads, "attn_resid": attn_resid, "mlp": mlp, "mlp_resid": mlp_resid}


@pytest.mark.parametrize("which", ["demo", "tiny_llama"])
def test_shares_equal_the_rule_computed_independently(which: str, request) -> None:
    """GPT-2 (b_O, in the whole and no part) and a Llama with grouped-query attention."""
    engine = request.getfixturevalue(which)
    text = INDUCTION_PROMPT if which == "demo" else TINY_PROMPT
    flow = engine.analyse("info_flow", Prompt(text))
    expected = independent_flow(engine, text)
    for name, value in expected.items():
        np.testing.assert_allclose(getattr(flow, name), value, rtol=0, atol=1e-5, err_msg=name)
    assert flow.tokens == tuple(engine.decode_tokens(engine.tokenize(text)))
    assert (flow.n_layers, flow.n_heads) == (engine.info.n_layers, engine.info.n_heads)


@pytest.mark.parametrize("which", ["demo", "tiny_llama"])
def test_every_node_shares_one_and_nothing_is_negative_or_acausal(which: str, request) -> None:
    engine = request.getfixturevalue(which)
    flow = engine.analyse("info_flow", Prompt(TINY_PROMPT if which == "tiny_llama" else INDUCTION_PROMPT))
    n_layers, n = flow.n_layers, len(flow.tokens)
    assert flow.attn_heads.shape == (n_layers, n, n, flow.n_heads) and flow.attn.shape == (n_layers, n, n)
    np.testing.assert_allclose(flow.attn.sum(-1) + flow.attn_resid, 1, atol=1e-6)
    np.testing.assert_allclose(flow.mlp + flow.mlp_resid, 1, atol=1e-6)
    np.testing.assert_allclose(flow.attn_heads.sum(-1), flow.attn, atol=1e-6)
    for array in (flow.attn_heads, flow.attn_resid, flow.mlp, flow.mlp_resid):
        assert array.min() >= 0
    above = np.triu(np.ones((n, n), dtype=bool), 1)
    assert not flow.attn[:, above].any() and not flow.attn_heads[:, above].any()
    assert (flow.attn[:, ~above] > 0).all()  # every causal key is a part: at least eps


def test_a_different_norm_changes_the_shares(demo: Engine) -> None:
    l1 = demo.analyse("info_flow", Prompt(INDUCTION_PROMPT))
    l2 = demo.analyse("info_flow", Prompt(INDUCTION_PROMPT), InfoFlowParams(distance_norm=2))
    np.testing.assert_allclose(l2.attn.sum(-1) + l2.attn_resid, 1, atol=1e-6)
    assert np.abs(l1.attn - l2.attn).max() > 0.01


# ------------------------------------------------------------------ the demo model's induction route
def test_route_into_the_last_token_holds_the_previous_token_and_induction_heads(demo: Engine) -> None:
    flow = demo.analyse("info_flow", Prompt(INDUCTION_PROMPT))
    last = len(flow.tokens) - 1
    earlier = [i for i in range(last) if flow.tokens[i] == flow.tokens[last]]
    assert earlier == [5]
    after = earlier[0] + 1  # the token after the earlier copy: what the induction heads attend to
    edges, tree = flow_edges(flow, 0.04), route_tree(flow, 0.04, last)
    on = {(int(edges.src_row[i]), int(edges.src_pos[i]), int(edges.dst_row[i]), int(edges.dst_pos[i]),
           int(edges.kind[i])) for i in np.flatnonzero(tree)}
    assert (2, after, 3, last, ATTENTION) in on  # layer 1: the copy's successor into the last position
    assert (0, earlier[0], 1, after, ATTENTION) in on  # layer 0: the previous token into the successor
    # carried by the card's heads: L1's edge mostly by the induction heads, L0's by the previous-token head
    induction = [int(h.split(".H")[1]) for h in INDUCTION_HEADS]
    previous = int(PREVIOUS_TOKEN_HEAD.split(".H")[1])
    assert flow.attn_heads[1, last, after, induction].sum() > 0.5 * flow.attn[1, last, after]
    assert np.argmax(flow.attn_heads[0, after, earlier[0]]) == previous


# ------------------------------------------------------------------ what it refuses
@pytest.mark.parametrize("family", ["gemma2", "gptj"])
def test_models_whose_heads_or_nodes_do_not_add_up_are_refused(family: str, tmp_path_factory) -> None:
    """Gemma 2 normalises the heads' sum (no per-head split); GPT-J runs attention and MLP in
    parallel (no resid_mid node)."""
    engine = Engine(save_random_family(tmp_path_factory.mktemp(family), TINY_WORDS, family), device="cpu")
    with pytest.raises(EngineError, match="information-flow"):
        engine.analyse("info_flow", Prompt(TINY_PROMPT))


def test_an_edited_head_is_refused_and_a_steered_stream_is_not(demo: Engine) -> None:
    with pytest.raises(EngineError, match="L1.H0"):
        demo.analyse("info_flow", Prompt(INDUCTION_PROMPT, interventions=(Ablation("L1.H0"),)))
    with pytest.raises(EngineError, match="distance_norm"):
        demo.analyse("info_flow", Prompt(INDUCTION_PROMPT), InfoFlowParams(distance_norm=0))
    clean = demo.analyse("info_flow", Prompt(INDUCTION_PROMPT))
    ablated = demo.analyse("info_flow", Prompt(INDUCTION_PROMPT, interventions=(Ablation("L0.mlp"),)))
    assert clean.mlp[0].max() > 0.5 and ablated.mlp[0].max() < 1e-5  # a zero output is only eps away
    np.testing.assert_allclose(ablated.mlp_resid[0], 1, atol=1e-5)


# ------------------------------------------------------------------ the real model
@pytest.mark.real_model
def test_runs_on_smollm2_with_every_node_sharing_one(real_engine) -> None:
    text = "The capital of France is Paris, and the capital of Spain"
    n = len(real_engine.tokenize(text))
    started = time.perf_counter()
    flow = real_engine.analyse("info_flow", Prompt(text))
    print(f"info_flow on SmolLM2, {n} tokens x 30 layers: {time.perf_counter() - started:.2f} s")
    assert n == 12 and flow.attn_heads.shape == (30, n, n, 9)
    np.testing.assert_allclose(flow.attn.sum(-1) + flow.attn_resid, 1, atol=1e-5)
    np.testing.assert_allclose(flow.mlp + flow.mlp_resid, 1, atol=1e-5)
    assert route_tree(flow, 0.04, n - 1).any()
