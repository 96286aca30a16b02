"""The window on a real pretrained model (SmolLM2-135M, 30 layers x 9 heads): it opens,
answers the IOI prompt, and every view is sized to the model."""

from __future__ import annotations

import pytest

from app.controller import ViewState
from tests.app.conftest import shown_window

pytestmark = pytest.mark.real_model
IOI = "When Mary and John went to the store, John gave a drink to"


def test_window_opens_on_the_real_model_and_answers(qtbot, real_model_dir) -> None:
    window = shown_window(qtbot, ViewState(prompt=IOI, target=" Mary", foil=" John"), str(real_model_dir))
    try:
        result = window.controller.last_result
        assert result.top_tokens[0] == " Mary" and result.target_prob > 0.75
        assert "30×9 heads" in window.model_label.text()
        assert window.fidelity_label.text().startswith("✓ matches HF")
        assert window.view("heads").grid_shape == (30, 9)
        assert result.logit_lens is not None and len(result.logit_lens.layer_labels) == 31
    finally:
        window.close()


def test_the_prompt_panel_says_which_token_a_spaceless_target_meant(qtbot, real_model_dir) -> None:
    window = shown_window(qtbot, ViewState(prompt=IOI, target="Mary", foil="John"), str(real_model_dir))
    try:
        summary = window.view("prompt").summary.text()
        assert "did you mean ' Mary'" in summary and "P(' Mary') = 0.9" in summary
    finally:
        window.close()
