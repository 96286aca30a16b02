"""fidelity_check: passes on every family's tiny model and on the demo model, and fails with
a clear message when hooks perturb the forward or an adapter misdescribes the model."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from engine import Engine
from engine.adapters.base import HookSite
from engine.fidelity import FidelityReport, fidelity_check
from engine.hooks import hook_names
from tests.conftest import TINY_WORDS
from training.tiny_models import save_random_family

FAMILIES = ["gpt_neox", "llama", "gemma", "gemma2", "opt", "phi3", "gptj"]


@pytest.fixture(scope="module", params=FAMILIES)
def family_engine(request, tmp_path_factory) -> tuple[str, Engine]:
    folder = save_random_family(tmp_path_factory.mktemp(request.param), TINY_WORDS, request.param)
    return request.param, Engine(folder, device="cpu")


def test_passes_on_every_family(family_engine) -> None:
    _, engine = family_engine
    report = fidelity_check(engine, "When Mary and John went to the store , John gave a drink to")
    assert isinstance(report, FidelityReport)
    assert report.ok, report.message
    assert report.max_abs_diff <= report.tolerance and report.lens_abs_diff <= report.tolerance
    assert report.n_hook_points == len(hook_names(engine.adapter, engine.info.n_layers))
    assert report.message.startswith("Faithful")
    assert report.dtype == "float32" and report.tolerance == pytest.approx(1e-4 * report.logit_scale)


def test_passes_on_gpt2_and_the_demo_model_with_a_random_probe(tiny_engine: Engine) -> None:
    for engine in (tiny_engine, Engine(device="cpu")):
        report = fidelity_check(engine)
        assert report.ok, report.message
        assert "\n" not in report.message


def test_a_perturbing_hook_edit_is_caught(family_engine) -> None:
    _, engine = family_engine
    # not a constant shift: a LayerNorm would remove that and the model would rightly be unchanged
    nudge = {"blocks.1.hook_resid_pre": [lambda act: act + 0.05 * act.abs().max() * torch.linspace(-1, 1, act.shape[-1])]}
    report = fidelity_check(engine, edits=nudge)
    assert not report.ok and report.max_abs_diff > report.tolerance
    assert report.message.startswith("Hooks change the model")


def test_an_adapter_hooking_the_wrong_place_is_caught(family_engine, monkeypatch) -> None:
    """resid_post mapped to the MLP's output: the forward is untouched, the readout is wrong."""
    family, engine = family_engine
    sites = dict(engine.adapter.sites)
    sites["blocks.{l}.hook_resid_post"] = sites["blocks.{l}.hook_mlp_out"]
    monkeypatch.setattr(engine, "adapter", dataclasses.replace(engine.adapter, sites=sites))
    report = fidelity_check(engine)
    if family == "opt" and report.message.startswith("Hooked forward failed"):
        return  # without flat hook sites OPT's MLP output is [batch*seq, d]: failing loudly is fine too
    assert not report.ok and report.max_abs_diff <= report.tolerance
    assert report.lens_abs_diff > report.tolerance and report.message.startswith("Adapter misreads")


@pytest.mark.parametrize("family", ["gemma", "gemma2"])
def test_gemma_adapter_without_one_plus_weight_or_soft_cap_is_caught(family, tmp_path, monkeypatch) -> None:
    engine = Engine(save_random_family(tmp_path, TINY_WORDS, family), device="cpu")
    good = engine.adapter
    assert fidelity_check(engine).ok
    monkeypatch.setattr(engine, "adapter", dataclasses.replace(good, norm_offset=0.0))  # plain w, not 1 + w
    assert fidelity_check(engine).message.startswith("Adapter misreads")

    class NoSoftcap(type(good)):
        def final_softcap(self, model: torch.nn.Module) -> float | None:
            return None

    monkeypatch.setattr(engine, "adapter", NoSoftcap(**{f.name: getattr(good, f.name) for f in dataclasses.fields(good)}))
    assert fidelity_check(engine).ok == (family == "gemma")  # only Gemma 2 caps its logits


def test_a_missing_module_fails_with_a_message(tiny_engine: Engine, monkeypatch) -> None:
    sites = dict(tiny_engine.adapter.sites)
    sites["blocks.{l}.hook_mlp_out"] = HookSite("transformer.h.{l}.no_such_mlp", "output")
    monkeypatch.setattr(tiny_engine, "adapter", dataclasses.replace(tiny_engine.adapter, sites=sites))
    report = fidelity_check(tiny_engine)
    assert not report.ok and report.message.startswith("Hooked forward failed") and "no_such_mlp" in report.message
    assert report.max_abs_diff == float("inf")


def test_bfloat16_gets_a_looser_tolerance(tiny_gpt2_dir) -> None:
    engine = Engine(tiny_gpt2_dir, device="cpu", dtype="bfloat16")
    report = fidelity_check(engine)
    assert report.ok, report.message
    assert report.dtype == "bfloat16" and report.tolerance == pytest.approx(2e-2 * report.logit_scale)
