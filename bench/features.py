"""What the features strip costs: the live run (prediction, patterns, lens, DLA) with and
without the 'features' readout of the demo SAE, and the readout run alone, as ratios in one
run (issue 18 target: the strip within 1.2x the prompt's run).

Run: .venv/bin/python bench/features.py"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Ablation, Engine  # noqa: E402
from engine.paths import demo_model_dir  # noqa: E402

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")
PROMPT = "When Mary and John went to the store , John gave a drink to Mary . Then Mary and John went to the park"
WANT = ("patterns", "logit_lens", "dla")


def median_ms(fn, runs: int = 21) -> float:
    times = []
    for i in range(runs + 3):
        start = time.perf_counter()
        fn()
        if i >= 3:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    engine = Engine(device="cpu")
    features = {"features": {"folder": FOLDER}}
    edit = [Ablation("L0.H5")]
    rows = {
        "clean run (asked again: memoised)": median_ms(lambda: engine.run(PROMPT, (), want=WANT, target="Mary", foil="John")),
        "clean run + features (memoised)": median_ms(lambda: engine.run(PROMPT, (), want=WANT, target="Mary", foil="John",
                                                             readouts=features)),
        "edited run (L0.H5 ablated)": median_ms(lambda: engine.run(PROMPT, edit, want=WANT, target="Mary", foil="John")),
        "edited run + features": median_ms(lambda: engine.run(PROMPT, edit, want=WANT, target="Mary", foil="John",
                                                              readouts=features)),
    }
    print(f"demo model, {len(engine.tokenize(PROMPT))} tokens, SAE {FOLDER.split('/')[-1]} (d_sae 1536), CPU\n")
    print("| run | ms | x the same run without features |\n|---|---|---|")
    base = {"clean run + features (memoised)": "clean run (asked again: memoised)",
            "edited run + features": "edited run (L0.H5 ablated)"}
    for name, ms in rows.items():
        ratio = f"{ms / rows[base[name]]:.2f}" if name in base else "1.00"
        print(f"| {name} | {ms:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
