"""Edge attribution and circuit faithfulness, against independent computations:

- the edge-level forward with every edge into one input left out equals patching that input's
  projection slice (or the MLP's input) from the corrupted run with ordinary hooks;
- EAP is the exact derivative: a central finite difference of the metric along one edge
  (patching a fraction ±ε of it) equals the edge's score to 1e-2 relative (float32, ε = 0.005:
  the error is O(ε²) plus rounding);
- EAP-IG with one step equals EAP; the full circuit scores 1 and the empty one 0 (1e-5);
- single-edge exact patching agrees with EAP only to first order. These tiny random models
  (init 0.3: sharp attention) are far from linear over a whole clean -> corrupted step: over
  the 40 largest EAP edges, EAP correlates with exact patching 0.87 (GPT-2) and 0.34 (Llama:
  some edges change sign, the saturation EAP-IG was made for), EAP-IG(20) 0.93; so the test
  asks EAP-IG(5) for correlation > 0.8 and a smaller mean error than EAP;
- on the demo model's IOI pair the circuit found carries the model card's IOI heads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine
from engine.analysis import PromptPair
from engine.analyses.circuits import _groups, circuit_metrics
from engine.errors import EngineError
from engine.hooks import hooks_attached
from tests.conftest import TINY_WORDS
from tests.demo_facts import IOI_HEADS
from training.tiny_models import save_random_family

TINY_PAIR = PromptPair("When Mary and John went to the store , John gave a drink to",
                       "When w3 and w7 went to the store , w7 gave a drink to", "Mary", "John")
IOI_PAIR = PromptPair("When Mary and John went to the store , John gave a drink to",
                      "When Mary and John went to the store , Mary gave a drink to", "Mary", "John")


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def engine(request, tiny_gpt2_dir, tmp_path_factory) -> Engine:
    if request.param == "gpt2":
        return Engine(tiny_gpt2_dir, device="cpu")
    folder = save_random_family(tmp_path_factory.mktemp("llama_gqa"), TINY_WORDS, "llama")
    return Engine(folder, device="cpu")


def _metric_with(engine: Engine, missing: np.ndarray) -> float:
    """The clean pair's logit difference with `missing` [U, V] (fractions allowed) patched."""
    h = engine.handle
    group = _groups(h, TINY_PAIR)[0]
    ef = h.edges()
    corrupt, _ = ef.sources(group.corrupt)
    hidden = ef.patched(group.clean, corrupt, torch.as_tensor(missing, dtype=torch.float32)[None])
    return float(ef.metric(hidden, group.direction, group.offset)[0])


def _hooked_metric(engine: Engine, name: str, cols: slice | None) -> float:
    """Patch `name` (or its columns `cols`) from the corrupted run with ordinary hooks."""
    h = engine.handle
    ids_c, ids_r = (torch.as_tensor(h.tokenize(p))[None] for p in (TINY_PAIR.clean, TINY_PAIR.corrupted))
    with torch.no_grad(), hooks_attached(h.model, h.adapter, h.info.n_layers, [name]) as store:
        h.model(input_ids=ids_r)
    source = store[name]

    def patch(x):
        x = x.clone()
        if cols is None:
            x[:] = source
        else:
            x[..., cols] = source[..., cols]
        return x

    with torch.no_grad(), hooks_attached(h.model, h.adapter, h.info.n_layers, (), {name: [patch]}):
        logits = h.model(input_ids=ids_c).logits[0, -1]
    t, f = h.token_id("Mary"), h.token_id("John")
    return float(logits[t] - logits[f])


def test_leaving_out_every_edge_into_an_input_equals_patching_that_input(engine) -> None:
    h = engine.handle
    g = h.edges().graph
    d_head = h.info.d_head
    checks = [("q", 1, 2), ("k", 1, g.n_kv - 1), ("v", 0, 0), ("mlp", 1, None)]
    for port, layer, index in checks:
        q, k, v, mlp = g.layer_destinations(layer)
        dest = {"q": q, "k": k, "v": v}[port].start + index if port != "mlp" else mlp
        missing = np.zeros((g.n_sources, g.n_destinations))
        missing[g.valid[:, dest], dest] = 1
        if port == "mlp":
            expected = _hooked_metric(engine, f"blocks.{layer}.ln2.hook_normalized", None)
        else:
            expected = _hooked_metric(engine, f"blocks.{layer}.attn.hook_{port}", slice(index * d_head, (index + 1) * d_head))
        assert _metric_with(engine, missing) == pytest.approx(expected, abs=1e-4), (port, layer, index)
    logits = np.zeros((g.n_sources, g.n_destinations))
    logits[:, g.logits_destination] = 1
    corrupt = engine.analyse("circuit_eval", TINY_PAIR, {"circuits": ((),)}).corrupt_metric
    assert _metric_with(engine, logits) == pytest.approx(corrupt, abs=1e-4)


def test_eap_is_the_derivative_along_each_edge(engine) -> None:
    result = engine.analyse("circuit", TINY_PAIR, {"method": "eap", "curve": False})
    g = result.graph
    u, v = g.edges
    rng = np.random.default_rng(0)
    chosen = np.concatenate([np.argsort(-np.abs(result.scores))[:10], rng.choice(g.n_edges, 10, replace=False)])
    eps = 0.005
    for e in chosen:
        missing = np.zeros((g.n_sources, g.n_destinations))
        missing[u[e], v[e]] = eps
        up = _metric_with(engine, missing)
        missing[u[e], v[e]] = -eps
        down = _metric_with(engine, missing)
        derivative = (up - down) / (2 * eps)  # moving the edge towards the corrupted run
        assert -derivative == pytest.approx(result.scores[e], rel=1e-2, abs=5e-4), g.edge_name(e)


def test_eap_ig_with_one_step_is_eap_and_more_steps_differ(engine) -> None:
    eap = engine.analyse("circuit", TINY_PAIR, {"method": "eap", "curve": False}).scores
    ig1 = engine.analyse("circuit", TINY_PAIR, {"method": "eap_ig", "steps": 1, "curve": False}).scores
    ig5 = engine.analyse("circuit", TINY_PAIR, {"method": "eap_ig", "steps": 5, "curve": False}).scores
    np.testing.assert_allclose(ig1, eap, atol=1e-5)
    assert np.abs(ig5 - eap).max() > 1e-3


def test_full_circuit_is_one_and_empty_is_zero(engine) -> None:
    g = engine.handle.edges().graph
    r = engine.analyse("circuit_eval", TINY_PAIR, {"circuits": (tuple(range(g.n_edges)), ())})
    np.testing.assert_allclose(r.faithfulness, [1.0, 0.0], atol=1e-5)


def test_exact_single_edge_patching_agrees_with_eap_ig_better_than_eap(engine) -> None:
    eap = engine.analyse("circuit", TINY_PAIR, {"method": "eap", "curve": False}).scores
    ig = engine.analyse("circuit", TINY_PAIR, {"method": "eap_ig", "steps": 5, "curve": False}).scores
    top = np.argsort(-np.abs(eap))[:40]
    effect = engine.analyse("circuit_eval", TINY_PAIR, {"drop": tuple(int(e) for e in top)}).drop_effect
    assert np.corrcoef(effect, ig[top])[0, 1] > 0.8
    assert np.abs(effect - ig[top]).mean() < np.abs(effect - eap[top]).mean()


def test_scores_over_a_set_are_the_mean_of_single_pairs(engine) -> None:
    from engine.prompt_sets import PromptSet, SetRow

    rows = (SetRow(TINY_PAIR.clean, TINY_PAIR.corrupted, "Mary", "John"),
            SetRow("When John and Mary went to the store , Mary gave a drink to",
                   "When w3 and w7 went to the store , w7 gave a drink to", "John", "Mary"),
            SetRow("When Mary and John went to the store , John gave to", "When w1 and w2 went to the store , w2 gave to",
                   "Mary", "John"))
    prompt_set = PromptSet(rows)
    both = engine.analyse("circuit", prompt_set, {"method": "eap", "curve": False, "batch_floats": 1 << 14})
    singles = [engine.analyse("circuit", PromptPair(r.prompt, r.corrupted, r.target, r.foil),
                              {"method": "eap", "curve": False}).scores for r in rows]
    np.testing.assert_allclose(both.scores, np.mean(singles, 0), atol=1e-5)
    assert both.n_prompts == 3


def test_bad_inputs_say_why(engine) -> None:
    with pytest.raises(EngineError, match="same number of tokens|tokens"):
        engine.analyse("circuit", PromptPair("When Mary and John went", "When Mary went", "Mary", "John"), {})
    with pytest.raises(EngineError, match="method"):
        engine.analyse("circuit", TINY_PAIR, {"method": "magic"})
    with pytest.raises(EngineError, match="outside"):
        engine.analyse("circuit_eval", TINY_PAIR, {"circuits": ((10 ** 6,),)})


def test_demo_ioi_circuit_carries_the_ioi_heads() -> None:
    demo = Engine(device="cpu")
    result = demo.analyse("circuit", IOI_PAIR, {"method": "eap_ig", "steps": 5})
    assert result.faithfulness[0] == pytest.approx(0.0, abs=1e-5)
    assert result.faithfulness[-1] == pytest.approx(1.0, abs=1e-5)
    size = result.summary.smallest_at
    assert size is not None and size <= 0.1 * result.graph.n_edges  # a small circuit does 80%
    from engine.edge_graph import nodes_of

    nodes = nodes_of(result.graph, result.circuit(size))
    assert set(IOI_HEADS) <= set(nodes), nodes
    metrics, clean, corrupt = circuit_metrics(demo.handle, _groups(demo.handle, IOI_PAIR), [result.circuit(size)], 1 << 25)
    assert (metrics[0] - corrupt) / (clean - corrupt) >= 0.8


def test_demo_ioi_set_circuit_carries_the_ioi_heads() -> None:
    from engine.edge_graph import nodes_of
    from tests.engine.test_set_patching import ioi_set

    demo = Engine(device="cpu")
    result = demo.analyse("circuit", ioi_set(24, seed=11), {"method": "eap_ig", "steps": 5})
    size = result.summary.smallest_at
    assert result.n_prompts == 24 and size is not None and size <= 0.1 * result.graph.n_edges
    assert set(IOI_HEADS) <= set(nodes_of(result.graph, result.circuit(size)))
    assert (np.diff(result.faithfulness[result.sizes >= size]) > -0.1).all()  # no collapse once it is faithful


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_models_find_and_measure_circuits(tiny_gpt2_dir, dtype) -> None:
    engine = Engine(tiny_gpt2_dir, device="cpu", dtype=dtype)
    result = engine.analyse("circuit", TINY_PAIR, {"method": "eap_ig", "steps": 3})
    assert np.isfinite(result.scores).all() and np.abs(result.scores).max() > 0
    assert result.faithfulness[-1] == pytest.approx(1.0, abs=1e-6)  # nothing patched: the clean run itself
    assert result.faithfulness[0] == pytest.approx(0.0, abs=0.05)  # the corrupted run, to half-precision rounding
