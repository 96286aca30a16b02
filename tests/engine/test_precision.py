"""Half precision: every analysis runs in bfloat16 / float16, the results are float32 or
wider (upcast where the sums and softmaxes happen) and agree with float32 to half-precision
accuracy; the fidelity check passes with its dtype's tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Ablation, Engine, activation_patching
from engine.fidelity import fidelity_check

PROMPT = "When Mary and John went to the store , John gave a drink to"
WANT = ("patterns", "logit_lens", "dla", "resid")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_runs_agree_with_float32(dtype: str, tmp_path) -> None:
    from training.tiny_models import save_random_family

    folder = save_random_family(tmp_path, PROMPT.split(), "llama")
    full, half = Engine(folder, device="cpu"), Engine(folder, device="cpu", dtype=dtype)
    assert half.info.dtype == dtype
    a = full.run(PROMPT, (Ablation("L1.H0"),), want=WANT, target="Mary", foil="John")
    b = half.run(PROMPT, (Ablation("L1.H0"),), want=WANT, target="Mary", foil="John")
    assert b.patterns.dtype == np.float32 and b.logit_lens.top_probs.dtype == np.float32
    scale = max(1.0, abs(a.logit_diff))
    assert b.logit_diff == pytest.approx(a.logit_diff, abs=0.05 * scale)
    assert b.dla.total == pytest.approx(b.logit_diff, abs=0.05 * scale)  # parts summed in float
    np.testing.assert_allclose(b.patterns, a.patterns, atol=0.05)  # bfloat16: 8-bit mantissa
    assert fidelity_check(half).ok
    corrupt = PROMPT.replace("John gave", "Mary gave")
    pa = activation_patching(full, PROMPT, corrupt, "Mary", "John", "head").raw
    pb = activation_patching(half, PROMPT, corrupt, "Mary", "John", "head").raw
    np.testing.assert_allclose(pb, pa, atol=0.05 * scale)
