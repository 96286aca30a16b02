"""Edge attribution on SmolLM2 (30 layers, 9 query heads over 3 key/value groups, real
weights): leaving out every edge into one key/value group's input equals patching that
group's key slice from the corrupted run with ordinary hooks, the full circuit scores 1 and
the empty one 0, and the circuit found carries the head that set patching finds (L23.H3)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.analysis import PromptPair
from engine.analyses.circuits import _groups
from engine.hooks import hooks_attached

pytestmark = pytest.mark.real_model

PAIR = PromptPair("When Mary and John went to the store, John gave a drink to",
                  "When Mary and John went to the store, Mary gave a drink to", " Mary", " John")


def test_a_key_group_left_out_equals_patching_its_key_slice(real_engine) -> None:
    h = real_engine.handle
    ef = h.edges()
    g = ef.graph
    group = _groups(h, PAIR)[0]
    layer, kv = 23, 1
    dest = g.layer_destinations(layer)[1].start + kv
    missing = np.zeros((g.n_sources, g.n_destinations), dtype=np.float32)
    missing[g.valid[:, dest], dest] = 1
    corrupt, _ = ef.sources(group.corrupt)
    got = float(ef.metric(ef.patched(group.clean, corrupt, torch.as_tensor(missing)[None]), group.direction,
                          group.offset)[0])
    name, d_head = f"blocks.{layer}.attn.hook_k", h.info.d_head
    with torch.no_grad(), hooks_attached(h.model, h.adapter, h.info.n_layers, [name]) as store:
        h.model(input_ids=group.corrupt)
    source = store[name]

    def patch(x):
        x = x.clone()
        x[..., kv * d_head:(kv + 1) * d_head] = source[..., kv * d_head:(kv + 1) * d_head]
        return x
    with torch.no_grad(), hooks_attached(h.model, h.adapter, h.info.n_layers, (), {name: [patch]}):
        logits = h.model(input_ids=group.clean).logits[0, -1].float()
    t, f = h.token_id(PAIR.target), h.token_id(PAIR.foil)
    assert got == pytest.approx(float(logits[t] - logits[f]), abs=1e-3)


def test_the_circuit_found_carries_the_answer_head(real_engine) -> None:
    from engine.edge_graph import nodes_of

    result = real_engine.analyse("circuit", PAIR, {"method": "eap_ig", "steps": 5})
    assert result.faithfulness[0] == pytest.approx(0.0, abs=1e-4) and result.faithfulness[-1] == pytest.approx(1.0, abs=1e-4)
    size = result.summary.smallest_at
    assert size is not None and "L23.H3" in nodes_of(result.graph, result.circuit(size))
