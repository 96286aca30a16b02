"""The analysis registry and protocol: what the app and session files rely on.

Every analysis is found by key, its parameters survive JSON, bad parameters are a message
(EngineError) rather than a traceback, readouts share one forward and are emitted in
order, and the registered analyses give what calling the technique directly gives."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import pytest
import torch

from engine import Engine, EngineError, PromptError
from engine.analyses.attribution import attribution_patching, correlation
from engine.analyses.patching import activation_patching
from engine.analysis import (Cancelled, Job, NoParams, Prompt, PromptPair, get, is_readout, params_from_dict,
                             params_to_dict, registered)
from engine.live import run_readouts
from engine.results import PatchingRun

BUILTIN = ("prediction", "patterns", "resid", "logit_lens", "dla", "head_scores", "patching")
READOUTS = ("prediction", "patterns", "resid", "logit_lens", "dla")
CLEAN = "When Mary and John went to the store , John gave a drink to"
CORRUPT = "When Mary and John went to the store , Mary gave a drink to"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


# ------------------------------------------------------------------ the registry
def test_the_builtin_analyses_are_registered_under_their_own_keys() -> None:
    analyses = registered()
    assert set(BUILTIN) <= set(analyses)
    for key, analysis in analyses.items():
        assert analysis.key == key
        assert dataclasses.is_dataclass(analysis.Params) and isinstance(analysis.Params, type)
        assert isinstance(analysis.version, int) and analysis.version >= 1
        assert callable(analysis.run)
        assert get(key) is analysis


@pytest.mark.parametrize("key", READOUTS)
def test_readouts_declare_what_they_read(key: str) -> None:
    assert is_readout(get(key))


@pytest.mark.parametrize("key", ["head_scores", "patching"])
def test_analyses_with_their_own_forwards_are_not_readouts(key: str) -> None:
    assert not is_readout(get(key))


def test_registered_returns_a_copy() -> None:
    """Changing what registered() returned must not change the registry."""
    registered().pop("patterns")
    assert "patterns" in registered()


def test_an_unknown_key_names_the_registered_ones() -> None:
    with pytest.raises(EngineError) as info:
        get("nope")
    message = str(info.value)
    assert "nope" in message
    for key in BUILTIN:
        assert key in message


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize("key", BUILTIN)
def test_default_params_round_trip_through_json(key: str) -> None:
    params_cls = get(key).Params
    default = params_cls()
    data = json.loads(json.dumps(params_to_dict(default)))
    assert params_from_dict(params_cls, data) == default
    assert params_from_dict(params_cls, {}) == default


@pytest.mark.parametrize("key, values", [
    ("logit_lens", {"k": 3, "positions": (0, -1)}),
    ("prediction", {"top_k": 2}),
    ("head_scores", {"seg_len": 7, "n_sequences": 2, "seed": 9, "token_pool": (4, 5, 6)}),
    ("patching", {"sweep": "path", "mode": "noise", "attribution": False, "receiver": "L1.H4", "receiver_input": "k"}),
])
def test_set_params_round_trip_through_json(key: str, values: dict[str, Any]) -> None:
    """Tuples become lists in JSON and tuples again on the way back (else frozen params would not compare equal)."""
    params_cls = get(key).Params
    params = params_cls(**values)
    data = json.loads(json.dumps(params_to_dict(params)))
    back = params_from_dict(params_cls, data)
    assert back == params
    for name, value in values.items():
        assert type(getattr(back, name)) is type(value)


@pytest.mark.parametrize("key, data", [
    ("logit_lens", {"kk": 3}),
    ("patching", {"sweep": "head", "extra": True}),
    ("prediction", {"top_k": 3, "k": 3}),
    ("patterns", {"anything": 1}),
])
def test_unknown_parameters_are_refused(key: str, data: dict[str, Any]) -> None:
    with pytest.raises(EngineError, match="unknown"):
        params_from_dict(get(key).Params, data)


@pytest.mark.parametrize("key, data", [
    ("logit_lens", {"k": "5"}),
    ("logit_lens", {"k": None}),
    ("logit_lens", {"k": 2.5}),
    ("prediction", {"top_k": True}),
    ("prediction", {"top_k": [10]}),
    ("patching", {"sweep": 3}),
    ("patching", {"attribution": 1}),
    ("patching", {"attribution": "yes"}),
    ("patching", {"mode": None}),
    ("head_scores", {"seed": "0"}),
    ("head_scores", {"seg_len": 20.5}),
])
def test_wrongly_typed_parameters_are_refused(key: str, data: dict[str, Any]) -> None:
    with pytest.raises(EngineError):
        params_from_dict(get(key).Params, data)


@pytest.mark.parametrize("data", [None, [], "k=3", 3])
def test_parameters_must_be_an_object(data: Any) -> None:
    with pytest.raises(EngineError):
        params_from_dict(get("logit_lens").Params, data)


def test_engine_analyse_checks_parameters_given_as_a_dict(demo: Engine) -> None:
    with pytest.raises(EngineError):
        demo.analyse("logit_lens", Prompt(CLEAN), {"kk": 1})


# ------------------------------------------------------------------ readouts
def test_analyse_patterns_equals_run_and_the_models_own_attentions(demo: Engine) -> None:
    """The readout, Engine.run and transformers' own output_attentions agree."""
    via_analyse = demo.analyse("patterns", Prompt(CLEAN))
    via_run = demo.run(CLEAN, want=("patterns",)).patterns
    np.testing.assert_allclose(via_analyse, via_run, rtol=0, atol=0)
    with torch.inference_mode():
        ids = torch.as_tensor(demo.tokenize(CLEAN))[None]
        attentions = demo.model(input_ids=ids, output_attentions=True).attentions
    own = torch.stack([a[0] for a in attentions]).numpy()  # [L, H, S, S]
    assert via_analyse.shape == (demo.info.n_layers, demo.info.n_heads, len(ids[0]), len(ids[0]))
    np.testing.assert_allclose(via_analyse, own, atol=1e-6)


def test_run_readouts_emits_each_result_in_order_through_the_job(demo: Engine) -> None:
    """Asked in reverse, emitted by `order`: the prediction first, the logit lens last."""
    emitted: list[tuple[str, Any]] = []
    asked = {key: get(key).Params() for key in reversed(READOUTS)}
    prompt = Prompt(CLEAN, target="Mary", foil="John")
    results = run_readouts(demo.handle, prompt, asked, Job(emit=lambda key, result: emitted.append((key, result))))
    keys = [key for key, _ in emitted]
    assert keys == sorted(READOUTS, key=lambda k: get(k).order)
    assert keys[0] == "prediction" and keys[-1] == "logit_lens"
    assert keys.index("prediction") < keys.index("logit_lens")
    assert set(results) == set(READOUTS)
    for key, result in emitted:
        assert results[key] is result


def test_run_readouts_results_equal_separate_runs(demo: Engine) -> None:
    """One shared forward gives what each readout's own run gives."""
    prompt = Prompt(CLEAN, target="Mary", foil="John")
    together = run_readouts(demo.handle, prompt, {"dla": NoParams(), "prediction": get("prediction").Params()})
    alone = demo.analyse("dla", prompt)
    np.testing.assert_allclose(together["dla"].contributions, alone.contributions, atol=1e-6)
    assert together["dla"].total == pytest.approx(together["prediction"].logit_diff, abs=1e-4)


def test_dla_without_target_and_foil_is_an_engine_error(demo: Engine) -> None:
    with pytest.raises(EngineError, match="target"):
        demo.analyse("dla", Prompt(CLEAN))
    with pytest.raises(EngineError):
        run_readouts(demo.handle, Prompt(CLEAN, target="Mary"), {"dla": NoParams()})


def test_analyses_with_their_own_forwards_cannot_be_asked_as_readouts(demo: Engine) -> None:
    with pytest.raises(EngineError):
        run_readouts(demo.handle, Prompt(CLEAN), {"head_scores": get("head_scores").Params()})


# ------------------------------------------------------------------ jobs
def test_job_step_raises_cancelled_when_cancelled() -> None:
    with pytest.raises(Cancelled):
        Job(cancelled=lambda: True).step(0, 1)
    assert issubclass(Cancelled, EngineError)


def test_job_step_reports_progress_until_cancelled() -> None:
    seen: list[tuple[int, int]] = []
    flag = {"cancelled": False}
    job = Job(progress=lambda done, total: seen.append((done, total)), cancelled=lambda: flag["cancelled"])
    job.step(0, 3)
    job.step(1, 3)
    flag["cancelled"] = True
    with pytest.raises(Cancelled):
        job.step(2, 3)
    assert seen == [(0, 3), (1, 3)]
    Job().step(5, 5)  # no callbacks: nothing to do, nothing raised


def test_a_cancelled_job_stops_an_analysis_before_its_forward(demo: Engine) -> None:
    calls: list[int] = []
    original = demo.handle.forward
    demo.handle.forward = lambda *a, **k: calls.append(1) or original(*a, **k)  # type: ignore[method-assign]
    try:
        with pytest.raises(Cancelled):
            demo.analyse("head_scores", None, {"seg_len": 5, "n_sequences": 2}, Job(cancelled=lambda: True))
    finally:
        del demo.handle.forward
    assert calls == []


# ------------------------------------------------------------------ patching
@pytest.fixture(scope="module")
def head_run(demo: Engine) -> PatchingRun:
    return demo.analyse("patching", PromptPair(CLEAN, CORRUPT, "Mary", "John"), {"sweep": "head"})


def test_patching_analysis_equals_activation_and_attribution_patching(demo: Engine, head_run: PatchingRun) -> None:
    assert isinstance(head_run, PatchingRun)
    direct = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head")
    np.testing.assert_allclose(head_run.main.values, direct.values, atol=1e-6)
    assert head_run.main.mode == "denoise" and head_run.main.method == "activation"
    assert head_run.estimate is not None and head_run.estimate.method == "attribution"
    estimate = attribution_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head")
    np.testing.assert_allclose(head_run.estimate.values, estimate.values, atol=1e-6)
    assert head_run.correlation == pytest.approx(correlation(direct.values, estimate.values), abs=1e-6)


def test_patching_analysis_without_attribution_gives_no_estimate(demo: Engine) -> None:
    run = demo.analyse("patching", PromptPair(CLEAN, CORRUPT, "Mary", "John"), {"sweep": "head", "attribution": False})
    assert run.estimate is None and run.correlation is None


def test_noising_has_no_attribution_estimate(demo: Engine) -> None:
    run = demo.analyse("patching", PromptPair(CLEAN, CORRUPT, "Mary", "John"), {"sweep": "head", "mode": "noise"})
    assert run.main.mode == "noise"
    assert run.estimate is None and run.correlation is None
    direct = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head", mode="noise")
    np.testing.assert_allclose(run.main.values, direct.values, atol=1e-6)


def test_pattern_patching_has_no_attribution_estimate(demo: Engine) -> None:
    run = demo.analyse("patching", PromptPair(CLEAN, CORRUPT, "Mary", "John"), {"sweep": "head_pattern"})
    assert run.main.sweep == "head_pattern"
    assert run.estimate is None and run.correlation is None


@pytest.mark.parametrize("inputs", [
    PromptPair(CLEAN, "", "Mary", "John"),
    PromptPair(CLEAN, "   ", "Mary", "John"),
    Prompt(CLEAN, "Mary", "John"),
    PromptPair(CLEAN, CORRUPT, "Mary", None),
    PromptPair(CLEAN, CORRUPT, "", "John"),
])
def test_patching_without_a_corrupted_prompt_or_answer_tokens_is_a_prompt_error(demo: Engine, inputs: Any) -> None:
    with pytest.raises(PromptError):
        demo.analyse("patching", inputs, {"sweep": "head"})
