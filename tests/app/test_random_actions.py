"""A seeded random-action run through the real window and engine thread (tiny model, offscreen):
typing, answers, drags onto the bin, scaling, undo/redo, focus clicks, sweeps and their
cancel, saves and reopens. After it, once idle: no exception escaped a slot (pytest-qt fails
the test on one), no hook is left on the model, and the result shown is the current state's."""

from __future__ import annotations

import random

import pytest

from widgets.patching_panel import PatchingSpec

ACTIONS_PER_SEED = 150
WORDS = ["the", "store", "gave", "a", "drink", "to", "Mary", "John", ",", ".", "w1", "w2", "w3"]


def hooks_on(model) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1])
def test_random_actions_leave_a_consistent_window(qtbot, tiny_window, tmp_path, seed: int) -> None:
    window, c = tiny_window, tiny_window.controller
    rng = random.Random(seed)
    session = tmp_path / "random.microtome"
    heads = [f"L{l}.H{h}" for l in range(2) for h in range(4)] + ["L0.mlp", "L1.mlp"]

    def prompt() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))

    actions = [
        lambda: c.set_prompt(prompt()),
        lambda: c.set_target(rng.choice(["Mary", "John", "", "Mary John", "zzz"])),
        lambda: c.set_foil(rng.choice(["John", "Mary", ""])),
        lambda: c.set_corrupted(rng.choice(["", c.state.prompt.replace("Mary", "John"), prompt()])),
        lambda: c.ablate(rng.sample(heads, rng.randint(1, 3)), rng.choice(["zero", "mean", "resample"])),
        lambda: c.scale([rng.choice(heads)], rng.uniform(0, 3)),
        lambda: c.restore([rng.choice(heads)]),
        lambda: c.restore_all(),
        lambda: window.undo_action.trigger(),
        lambda: window.redo_action.trigger(),
        lambda: c.focus_position(rng.randint(0, 20)),
        lambda: c.focus_head(rng.randint(0, 1), rng.randint(0, 3)),
        lambda: window.view("patching").set_spec(PatchingSpec(rng.choice(["head", "resid", "mlp_out", "head_pos"]))),
        lambda: window.view("patching").run_button.click(),
        lambda: window.view("patching").cancel_button.click(),
        lambda: window.files._save_to(session),
        lambda: session.exists() and window.files.open(str(session)),
        lambda: window.view("attention_text").set_mode(rng.choice(["query", "key"])),
        lambda: window.view("heads").select_score_key(rng.choice(["induction", "DLA", "none"])),
    ]
    for step in range(ACTIONS_PER_SEED):
        rng.choice(actions)()
        if step % 10 == 0:
            qtbot.wait(5)  # let queued results arrive in the middle of the run, as they would for a user
    # settle: the newest state's run must come back (or its error), then nothing may be pending
    c.set_prompt("the store gave a drink to")
    c.set_target("Mary")
    c.set_foil("John")
    qtbot.waitUntil(lambda: c.result_is_current() and not c.client.running("run"), timeout=60_000)
    qtbot.waitUntil(lambda: not c.client.lanes(), timeout=60_000)
    engine = c.client.service.engine
    assert hooks_on(engine.model) == 0
    shown = c.last_result
    assert (shown.prompt, shown.interventions) == (c.state.prompt, c.state.interventions)
    assert window.view("prompt").chips.count() == len(shown.tokens)
    assert "Internal" not in window.error_label.text()
