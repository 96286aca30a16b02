"""A live run hands out what the user reads first as soon as it is read: the prediction and
the direct logit attribution, then the patterns, then (the full result) the logit lens."""

from __future__ import annotations

import numpy as np

from engine import Ablation, Engine
from engine.analysis import Job

PROMPT = "When Mary and John went to the store , John gave a drink to"


def test_partials_come_in_reading_order_and_equal_the_final_result() -> None:
    engine = Engine(device="cpu")
    engine.run(PROMPT, want=("patterns", "logit_lens", "dla"), target="Mary", foil="John")  # cached clean run
    partials = []
    final = engine.run(PROMPT, (Ablation("L1.H4"),), want=("patterns", "logit_lens", "dla"), target="Mary",
                       foil="John", job=Job(emit=lambda key, value: partials.append((key, value))))
    assert [key for key, _ in partials] == ["run", "run"]
    numbers, patterns = partials[0][1], partials[1][1]
    assert (numbers.complete, numbers.pending) == (False, ("patterns", "logit_lens"))
    assert numbers.dla is not None and numbers.patterns is None and numbers.logit_lens is None
    assert patterns.pending == ("logit_lens",) and patterns.patterns is not None
    assert final.complete and final.pending == () and final.logit_lens is not None
    assert numbers.logit_diff == final.logit_diff and numbers.top_tokens == final.top_tokens
    np.testing.assert_array_equal(numbers.dla.contributions, final.dla.contributions)
    np.testing.assert_array_equal(patterns.patterns, final.patterns)


def test_without_a_listener_a_run_is_one_complete_result() -> None:
    result = Engine(device="cpu").run(PROMPT, want=("patterns",), target="Mary", foil="John")
    assert result.complete and result.pending == ()


def test_the_clean_run_asked_again_is_the_kept_one_and_an_edit_in_between_keeps_it() -> None:
    """Restore all / undo back to the clean state costs no forward: the clean run of the same
    prompt and parameters is kept with its residuals; another answer is computed anew."""
    engine = Engine(device="cpu")
    want = ("patterns", "logit_lens", "dla")
    first = engine.run(PROMPT, want=want, target="Mary", foil="John")
    engine.run(PROMPT, (Ablation("L1.H4"),), want=want, target="Mary", foil="John")
    again = engine.run(PROMPT, want=want, target="Mary", foil="John")
    assert again.patterns is first.patterns and again.logit_lens is first.logit_lens
    other = engine.run(PROMPT, want=want, target="John", foil="Mary")
    assert other.patterns is not first.patterns and other.logit_diff == -first.logit_diff


def test_no_answer_hint_where_the_typed_token_is_the_one_meant() -> None:
    """The demo model's word-level vocabulary has no spaced tokens: never a hint."""
    result = Engine(device="cpu").run(PROMPT, want=(), target="Mary", foil="John")
    assert result.answer_hint == "" and result.target_prob > 0.5
