"""Zero, mean, resample and scale interventions equal a recomputation by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Ablation, Engine, InterventionError, Scale
from tests.engine.gpt2_reference import reference_forward

PROMPT = "When Mary and John went to the store , John gave a drink to"
SOURCE = "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16"


def engine_logits(engine: Engine, prompt: str, interventions) -> np.ndarray:
    ids = engine.tokenize(prompt)
    logits, _ = engine._forward(torch.from_numpy(ids)[None], interventions, ())
    return logits[0].double().numpy()


def ref_logits(engine: Engine, prompt: str, **overrides) -> np.ndarray:
    return reference_forward(engine.model, engine.tokenize(prompt).tolist(), **overrides).logits.numpy()


def test_no_intervention_matches_reference(tiny_engine: Engine) -> None:
    np.testing.assert_allclose(engine_logits(tiny_engine, PROMPT, ()), ref_logits(tiny_engine, PROMPT), atol=1e-4)


def test_zero_ablation_of_a_head(tiny_engine: Engine) -> None:
    def zero_head(layer, z):
        if layer == 1:
            z[:, 2] = 0
        return z

    got = engine_logits(tiny_engine, PROMPT, [Ablation("L1.H2")])
    np.testing.assert_allclose(got, ref_logits(tiny_engine, PROMPT, z_override=zero_head), atol=1e-4)
    assert not np.allclose(got, ref_logits(tiny_engine, PROMPT), atol=1e-3)


def test_zero_ablation_equals_zeroing_output_projection_rows(tiny_engine: Engine) -> None:
    """A second independent route: edit a copy of the weights instead of the activation."""
    import copy

    model = copy.deepcopy(tiny_engine.model)
    with torch.no_grad():
        model.transformer.h[0].attn.c_proj.weight[1 * 8 : 2 * 8] = 0
        expected = model(input_ids=torch.from_numpy(tiny_engine.tokenize(PROMPT))[None]).logits[0].numpy()
    np.testing.assert_allclose(engine_logits(tiny_engine, PROMPT, [Ablation("L0.H1")]), expected, atol=1e-4)


def test_mean_ablation_uses_mean_over_reference_prompts(tiny_engine: Engine) -> None:
    refs = tiny_engine.reference_prompts
    zs = [reference_forward(tiny_engine.model, tiny_engine.tokenize(p).tolist()).z[0][1:, 3] for p in refs]
    mean_z = torch.cat(zs).mean(0)  # position 0 is BOS, left out

    def mean_head(layer, z):
        if layer == 0:
            z[:, 3] = mean_z
        return z

    got = engine_logits(tiny_engine, PROMPT, [Ablation("L0.H3", "mean")])
    np.testing.assert_allclose(got, ref_logits(tiny_engine, PROMPT, z_override=mean_head), atol=1e-4)


def test_mean_ablation_of_an_mlp(tiny_engine: Engine) -> None:
    refs = tiny_engine.reference_prompts
    outs = [reference_forward(tiny_engine.model, tiny_engine.tokenize(p).tolist()).mlp_out[1][1:] for p in refs]
    mean_out = torch.cat(outs).mean(0)

    def mean_mlp(layer, out):
        if layer == 1:
            out[:] = mean_out
        return out

    got = engine_logits(tiny_engine, PROMPT, [Ablation("L1.mlp", "mean")])
    np.testing.assert_allclose(got, ref_logits(tiny_engine, PROMPT, mlp_override=mean_mlp), atol=1e-4)


def test_resample_ablation_takes_the_source_prompts_activation(tiny_engine: Engine) -> None:
    source_z = reference_forward(tiny_engine.model, tiny_engine.tokenize(SOURCE).tolist()).z[1][:, 0]
    n = len(tiny_engine.tokenize(PROMPT))

    def resample(layer, z):
        if layer == 1:
            z[:, 0] = source_z[:n]
        return z

    got = engine_logits(tiny_engine, PROMPT, [Ablation("L1.H0", "resample", source_prompt=SOURCE)])
    np.testing.assert_allclose(got, ref_logits(tiny_engine, PROMPT, z_override=resample), atol=1e-4)


def test_resample_source_too_short_is_an_intervention_error(tiny_engine: Engine) -> None:
    with pytest.raises(InterventionError, match="resample source"):
        tiny_engine.run(PROMPT, [Ablation("L1.H0", "resample", source_prompt="w1 w2")])


def test_position_slice_only_changes_later_positions(tiny_engine: Engine) -> None:
    clean = engine_logits(tiny_engine, PROMPT, ())
    got = engine_logits(tiny_engine, PROMPT, [Ablation("L0.mlp", positions=(5,))])
    np.testing.assert_allclose(got[:5], clean[:5], atol=1e-5)
    assert not np.allclose(got[5:], clean[5:], atol=1e-3)

    def zero_at_5(layer, out):
        if layer == 0:
            out[5] = 0
        return out

    np.testing.assert_allclose(got, ref_logits(tiny_engine, PROMPT, mlp_override=zero_at_5), atol=1e-4)


def test_scale_interpolates_between_clean_and_zero(tiny_engine: Engine) -> None:
    clean = engine_logits(tiny_engine, PROMPT, ())
    zero = engine_logits(tiny_engine, PROMPT, [Ablation("L1.H1")])
    np.testing.assert_allclose(engine_logits(tiny_engine, PROMPT, [Scale("L1.H1", 1.0)]), clean, atol=1e-5)
    np.testing.assert_allclose(engine_logits(tiny_engine, PROMPT, [Scale("L1.H1", 0.0)]), zero, atol=1e-5)

    def double(layer, z):
        if layer == 1:
            z[:, 1] *= 2.0
        return z

    np.testing.assert_allclose(engine_logits(tiny_engine, PROMPT, [Scale("L1.H1", 2.0)]),
                               ref_logits(tiny_engine, PROMPT, z_override=double), atol=1e-4)


def test_token_losses_are_cross_entropy(tiny_engine: Engine) -> None:
    ids = tiny_engine.tokenize(PROMPT)
    losses = tiny_engine.token_losses(ids[None])
    logits = torch.from_numpy(ref_logits(tiny_engine, PROMPT))
    expected = torch.nn.functional.cross_entropy(logits[:-1], torch.from_numpy(ids[1:]), reduction="none").numpy()
    np.testing.assert_allclose(losses[0], expected, atol=1e-4)


@pytest.mark.parametrize("bad", ["L9.H0", "L0.H7", "L0.attn", "embed"])
def test_unknown_components_are_rejected(tiny_engine: Engine, bad: str) -> None:
    with pytest.raises(InterventionError):
        tiny_engine.run(PROMPT, [Ablation(bad)])


def test_position_outside_the_prompt_is_rejected(tiny_engine: Engine) -> None:
    with pytest.raises(InterventionError, match="outside the prompt"):
        tiny_engine.run(PROMPT, [Ablation("L0.H0", positions=(99,))])
