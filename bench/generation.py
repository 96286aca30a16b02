"""Generation speed with and without interventions, and a steering-strength drag in the
window, as ratios measured side by side in one run (issue 20 targets: tokens/s with
interventions within 1.2x of without; a strength move -> the numbers painted within 1.0x a
bare forward on the GPT-2-small shape).

Columns:
  hf generate    transformers' own greedy generate (KV cache), tokens per second
  plain          Microtome's generation with no interventions (engine.generation.stream)
  edited         with a head ablation and a steering vector on every token
  ratio          plain tok/s over edited tok/s (target <= 1.2)
  drag→numbers   a strength move -> the prediction and the graph's numbers painted, median (x bare forward)

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/generation.py [--no-window]"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import Ablation, Engine  # noqa: E402
from engine.generation import Sampling, stream  # noqa: E402
from engine.interventions import Steer  # noqa: E402
from engine.paths import real_model_cache  # noqa: E402
from training.tiny_models import gpt2_small_shaped  # noqa: E402

N_NEW = 48


def tokens_per_s(fn, n: int, runs: int = 3) -> float:
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times[1:])


def edits_for_model(engine: Engine) -> tuple:
    info = engine.info
    layer = info.n_layers // 2
    vector = tuple(np.random.default_rng(0).normal(size=info.d_model).tolist())
    return (Ablation(f"L{layer}.H0"), Steer(f"L{layer}.resid_pre", vector, strength=0.5))


def generation_row(label: str, source: str | None, prompt: str) -> dict:
    engine = Engine(source, device="cpu")
    ids = engine.tokenize(prompt)
    sampling = Sampling(n_new=N_NEW, stop_at_end=False)
    edited = edits_for_model(engine)

    def ours(interventions):
        return lambda: sum(1 for _ in stream(engine.handle, ids, interventions, sampling))

    def hf():
        t = torch.as_tensor(ids)[None]
        with torch.inference_mode():
            engine.model.generate(t, attention_mask=torch.ones_like(t), max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                                  do_sample=False, pad_token_id=0)
    row = {"label": label, "tokens": len(ids), "hf": tokens_per_s(hf, N_NEW), "plain": tokens_per_s(ours(()), N_NEW),
           "edited": tokens_per_s(ours(edited), N_NEW)}
    row["ratio"] = row["plain"] / row["edited"]
    return row


def drag_row(source: str, prompt: str, moves: int = 15) -> dict:
    """Strength moves of a steering vector in the real window: ms to the numbers painted."""
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from live import WAKE, bare_forward_ms, wait  # the same waiting and bare forward as bench/live.py

    from app import intervention_edits as edits
    from app.controller import Controller, ViewState
    from app.main_window import MainWindow
    from app.settings import Settings

    app = QApplication.instance() or QApplication([])
    engine = Engine(source, device="cpu")
    bare = bare_forward_ms(engine, prompt)
    words = engine.decode_tokens(engine.tokenize(prompt)[-2:])
    vector = tuple(np.random.default_rng(1).normal(size=engine.info.d_model).tolist())
    layer = engine.info.n_layers // 2
    del engine
    controller = Controller()
    controller.state = ViewState(prompt=prompt, target=words[0], foil=words[1])
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None
    window.resize(1400, 950)
    window.show()
    WAKE[:] = [controller.partial_ready, controller.result_ready, controller.pending_changed]
    controller.load_model(source, "cpu")
    wait(app, lambda: controller.last_result is not None and controller.results.get("head_scores") is not None)
    controller.set_interventions((Steer(f"L{layer}.resid_pre", vector, 0.0),))
    wait(app, lambda: not controller.pending and controller.result_is_current())
    painted: list[float] = []

    def numbers_in(result) -> None:
        if result.dla is not None and not painted:
            painted.append(time.perf_counter())
    controller.partial_ready.connect(numbers_in)
    controller.result_ready.connect(numbers_in)
    times = []
    for n in range(moves):
        painted.clear()
        steer = Steer(f"L{layer}.resid_pre", vector, 0.1 * (n + 1))
        start = time.perf_counter()
        controller.live_edit(lambda items, s=steer: edits.set_steer(items, s), "steer", ("steer", "bench"))
        wait(app, lambda: bool(painted))
        window.repaint()
        times.append((time.perf_counter() - start) * 1e3)
        wait(app, lambda: not controller.pending and controller.result_is_current())
    window.close()
    app.processEvents()
    numbers = statistics.median(times[2:])
    return {"bare": bare, "numbers": numbers, "ratio": numbers / bare}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-window", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    small = str(gpt2_small_shaped(Path(tempfile.mkdtemp())))
    prompt = "When Mary and John went to the store , John gave a drink to"
    rng_prompt = " ".join(Engine(small, device="cpu").decode_tokens(np.random.default_rng(0).integers(100, 5000, 16)))
    rows = [generation_row("demo model (2 x 8)", None, prompt),
            generation_row("GPT-2-small shape (12 x 12, random)", small, rng_prompt)]
    real = real_model_cache() / "smollm2-135m-instruct"
    if real.is_dir():
        rows.append(generation_row("SmolLM2-135M (30 x 9)", str(real), "When Mary and John went to the store, John gave a drink to"))
    print(f"greedy, {N_NEW} new tokens, CPU, {torch.get_num_threads()} threads\n")
    print("| model | prompt tokens | hf generate tok/s | plain tok/s | edited tok/s | plain / edited (≤ 1.2) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} | {r['tokens']} | {r['hf']:.0f} | {r['plain']:.0f} | {r['edited']:.0f} | {r['ratio']:.2f} |")
    if not args.no_window:
        d = drag_row(small, rng_prompt)
        print("\n| strength drag, GPT-2-small shape | bare fwd ms | drag→numbers ms | x bare (≤ 1.0) |\n|---|---|---|---|")
        print(f"| {len(rng_prompt.split())} words | {d['bare']:.1f} | {d['numbers']:.1f} | {d['ratio']:.2f} |")


if __name__ == "__main__":
    main()
