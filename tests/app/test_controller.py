"""The controller without a model or a thread (tests/app/fakes.FakeClient): which jobs a
user action submits, which results are shown, and which are dropped as stale."""

from __future__ import annotations

import numpy as np
import pytest

from app.controller import Controller, ViewState
from app.engine_service import Loaded
from engine.analysis import Prompt
from engine.interventions import Ablation
from engine.results import ModelInfo, RunResult
from tests.app.fakes import FakeClient

INFO = ModelInfo(source="fake", family="GPT-2", model_type="gpt2", n_layers=2, n_heads=4, d_model=16, d_head=4,
                 n_ctx=64, vocab_size=10, device="cpu", dtype="float32")


def fake_result(prompt: str, interventions: tuple = (), logit_diff: float | None = 1.0, seed: int = 0) -> RunResult:
    """A run result of the fake 2x4 model: random causal patterns, one token per word; without a
    logit difference it is a run without a foil."""
    tokens = tuple(prompt.split())
    s = len(tokens)
    rng = np.random.default_rng(seed)
    raw = np.tril(rng.random((2, 4, s, s))) + np.tril(np.ones((s, s))) * 1e-3
    patterns = raw / raw.sum(-1, keepdims=True)
    return RunResult(prompt=prompt, token_ids=np.arange(s), tokens=tokens, interventions=interventions,
                     top_ids=np.array([1, 2]), top_tokens=("Mary", "John"), top_probs=np.array([0.7, 0.2]),
                     target_id=1, foil_id=None if logit_diff is None else 2, target_prob=0.7, logit_diff=logit_diff,
                     patterns=patterns, resid=None,
                     logit_lens=None, dla=None, device="cpu", elapsed_ms=1.0)


@pytest.fixture
def loaded_controller(qtbot):
    """A controller whose fake model has loaded (its first run submitted, not finished)."""
    client = FakeClient()
    controller = Controller(client)
    controller.state = ViewState(prompt="When Mary and John went", target="Mary", foil="John")
    load = controller.load_model("fake", "cpu")
    with qtbot.waitSignal(controller.model_loaded, timeout=1000):
        client.finish(load, Loaded(INFO, tuple("abcdefghij"), False, 1.0))
    return controller, client


def test_loading_submits_a_verdict_and_the_first_run(loaded_controller) -> None:
    controller, client = loaded_controller
    keys = [r.key for r in client.jobs.values()]
    assert keys[:3] == ["load", "resolve", "run"] and client.jobs[2].params is True
    _, run = client.last("run")
    assert run.inputs == Prompt("When Mary and John went", "Mary", "John", ())
    assert "dla" in run.params["want"]  # a target and a foil: the graph's colours are asked for


def test_only_the_newest_prompt_is_shown(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    controller.set_prompt("When Mary and John")
    older, _ = client.last("run")
    controller.set_prompt("When Mary")
    newer, _ = client.last("run")
    shown = []
    controller.result_ready.connect(shown.append)
    client.finish(older, fake_result("When Mary and John"))  # for a prompt no longer current: dropped
    assert shown == [] and controller.last_result is None
    client.finish(newer, fake_result("When Mary"))
    assert [r.prompt for r in shown] == ["When Mary"] and controller.results.get("run") is shown[0]


def test_an_edit_runs_with_its_interventions_and_a_baseline_beside(loaded_controller) -> None:
    controller, client = loaded_controller
    first, _ = client.last("run")
    client.finish(first, fake_result(controller.state.prompt))
    controller.ablate(["L1.H2"])
    _, run = client.last("run")
    assert run.inputs.interventions == (Ablation("L1.H2"),)
    assert not any(r.lane == "baseline" for r in client.jobs.values())  # the clean run already is the baseline
    controller.undo_stack.undo()
    _, run = client.last("run")
    assert run.inputs.interventions == () and controller.state.interventions == ()
    controller.set_prompt("When John and Mary went")
    controller.ablate(["L0.mlp"])
    baseline = [r for r in client.jobs.values() if r.lane == "baseline"]
    assert baseline and baseline[-1].inputs.interventions == () and baseline[-1].inputs.text == "When John and Mary went"


def test_analysis_results_land_per_key_and_stale_ones_are_dropped(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    first = controller.analyse("some_analysis", None, {"a": 1})
    second = controller.analyse("some_analysis", None, {"a": 2})
    client.finish(first, "old")
    assert controller.results.get("some_analysis") is None
    with qtbot.waitSignal(controller.results.ready, timeout=1000) as ready:
        client.finish(second, "new")
    assert ready.args == ["some_analysis", "new"] and controller.results.get("some_analysis") == "new"


def test_progress_failure_and_cancel_are_reported_per_key(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    job = controller.analyse("sweep_like")
    with qtbot.waitSignal(controller.results.progress, timeout=1000) as progress:
        client.advance(job, 0, 10)
    assert progress.args == ["sweep_like", 0, 10]
    with qtbot.waitSignal(controller.results.failed, timeout=1000) as failed:
        controller.cancel("sweep_like")
    assert failed.args[0] == "sweep_like" and "cancelled" in failed.args[1] and client.is_cancelled(job)
    client.finish(job, "late")  # what a cancelled job still sends is stale
    assert controller.results.get("sweep_like") is None
    errors = []
    controller.error.connect(errors.append)
    job = controller.analyse("sweep_like")
    client.fail(job, "the corrupted prompt is empty")
    assert errors == ["the corrupted prompt is empty"]


def test_a_new_model_stops_jobs_and_clears_every_result(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    done = controller.analyse("finished_one")
    client.finish(done, "kept until a new model")
    running = controller.analyse("running_one")
    cleared = []
    controller.results.cleared.connect(cleared.append)
    load = controller.load_model("fake2", "cpu")
    client.finish(load, Loaded(INFO, tuple("abcdefghij"), False, 1.0))
    assert "finished_one" in cleared and controller.results.get("finished_one") is None
    assert client.is_cancelled(running)


def test_document_fields_notify_only_what_changed(qtbot, loaded_controller) -> None:
    controller, _ = loaded_controller
    seen = []
    controller.document.changed.connect(lambda name, value: seen.append(name))
    controller.focus_head(1, 3)
    controller.focus_head(1, 3)  # unchanged: no notification
    controller.set_target("John")
    assert seen == ["focused_head", "target"]


def test_after_shutdown_nothing_queued_reaches_the_views(qtbot, loaded_controller) -> None:
    """A result still on its way when the window closes (a batch export finishing on an error
    while head scores were computing) must not reach panels whose widgets are gone."""
    controller, client = loaded_controller
    job = controller.analyse("head_scores")
    arrived = []
    controller.results.ready.connect(lambda key, result: arrived.append(key))
    controller.result_ready.connect(arrived.append)
    controller.shutdown()
    client.finish(job, "late")
    run, _ = client.last("run")
    client.finish(run, fake_result(controller.state.prompt))
    assert arrived == []


def partial_of(result: RunResult, pending: tuple[str, ...]) -> RunResult:
    from dataclasses import replace

    return replace(result, patterns=None, pending=pending)


def test_progressive_results_show_numbers_first_and_say_what_is_pending(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    run_id, request = client.last("run")
    pendings: list[tuple] = []
    controller.pending_changed.connect(pendings.append)
    controller.ablate(["L1.H2"])
    newer, request = client.last("run")
    assert controller.pending == ("prediction", *request.params["want"])
    partials, completes = [], []
    controller.partial_ready.connect(partials.append)
    controller.result_ready.connect(completes.append)
    full = fake_result("When Mary and John went", (Ablation("L1.H2"),))
    client.partial.emit(newer, "run", "run", partial_of(full, ("patterns", "logit_lens")))
    assert [p.complete for p in partials] == [False] and completes == []
    assert controller.last_result is not partials[0]  # last_result stays the last complete run
    assert controller.pending == ("patterns", "logit_lens")
    client.partial.emit(run_id, "run", "run", partial_of(full, ("logit_lens",)))  # older than what is shown
    assert len(partials) == 1
    client.finish(newer, full)
    assert completes == [full] and controller.pending == () and controller.last_result is full
    assert pendings == []  # everything came before the stale marks were due: no view greyed anything


def test_parts_still_missing_after_the_delay_are_marked_stale_then_cleared(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    controller.stale_after_ms = 10
    pendings: list[tuple] = []
    controller.pending_changed.connect(pendings.append)
    controller.ablate(["L1.H2"])
    newer, request = client.last("run")
    qtbot.waitUntil(lambda: bool(pendings), timeout=1000)
    assert pendings == [("prediction", *request.params["want"])]
    full = fake_result("When Mary and John went", (Ablation("L1.H2"),))
    client.partial.emit(newer, "run", "run", partial_of(full, ("logit_lens",)))
    assert pendings[-1] == ("logit_lens",)  # once marked, the marks follow what arrives at once
    client.finish(newer, full)
    assert pendings[-1] == ()


def test_a_failed_run_clears_the_pending_state(qtbot, loaded_controller) -> None:
    controller, client = loaded_controller
    controller.ablate(["L0.H1"])
    newer, _ = client.last("run")
    assert controller.pending
    client.fail(newer, "Out of memory")
    assert controller.pending == ()


def test_an_edit_is_submitted_before_any_view_hears_of_it(loaded_controller) -> None:
    """The engine computes while the views restyle for the edit, not after."""
    controller, client = loaded_controller
    runs_when_heard: list[int] = []
    controller.document.on("interventions", lambda _: runs_when_heard.append(client.last("run")[0]))
    before, _ = client.last("run")
    controller.ablate(["L1.H2"])
    assert runs_when_heard == [client.last("run")[0]] and runs_when_heard[0] > before
