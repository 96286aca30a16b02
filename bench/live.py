"""Live ablation smoothness: scripted drops and a 5-second knob drag through the real
window, engine thread and panels (offscreen), on the demo model and on a random-init
GPT-2-small-shaped model (12 x 12, d_model 768), 32-token prompt, CPU.

Columns:
  drop→paint p50/p95  from an ablate/restore request to every panel updated and painted
  drop engine         the engine thread's time for a drop's run (RunResult.elapsed_ms): forward,
                      patterns, logit lens, direct logit attribution, while the UI thread paints
  bare fwd            one plain HF forward of the same prompt, same process, nothing else running
  knob engine         the same during the 5 s knob drag (an expensive lens waits for the knob to rest)
  ratios              target <= 1.15
  max loop gap        largest gap between event-loop ticks during a 5 s drag at 120 Hz (target <= 50 ms)
  runs/moves          model runs executed for the 600 knob moves of that drag (coalescing)

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/live.py"""

from __future__ import annotations

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
from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.controller import Controller, ViewState  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402
from engine import Engine  # noqa: E402
from training.tiny_models import gpt2_small_shaped  # noqa: E402

N_TOKENS = 32


def wait(app: QApplication, condition, timeout_s: float = 300.0) -> None:
    end = time.perf_counter() + timeout_s
    while not condition():
        app.processEvents()
        if time.perf_counter() > end:
            raise TimeoutError("no result in time")
        time.sleep(0.0005)


def prompt_for(engine: Engine) -> tuple[str, str, str]:
    rng = np.random.default_rng(0)
    ids = engine.random_token_ids((N_TOKENS - len(engine._special_prefix),), rng)
    words = engine.decode_tokens(ids)
    return " ".join(words), words[0], words[1]


def bare_forward_ms(engine: Engine, prompt: str, runs: int = 15) -> float:
    ids = torch.from_numpy(engine.tokenize(prompt))[None]
    times = []
    for i in range(runs + 2):
        start = time.perf_counter()
        with torch.inference_mode():
            engine.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def bench(app: QApplication, label: str, source: str | None) -> tuple:
    engine = Engine(source, device="cpu")
    prompt, target, foil = prompt_for(engine)
    bare = bare_forward_ms(engine, prompt)
    n_layers, n_heads = engine.info.n_layers, engine.info.n_heads
    del engine

    controller = Controller()
    controller.state = ViewState(prompt=prompt, target=target, foil=foil)
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None  # never stop the bench on an "unsaved changes" question
    window.resize(1400, 950)
    window.show()
    controller.load_model(source, "cpu")
    wait(app, lambda: controller.last_result is not None and controller.results.get("head_scores") is not None)

    # drops: ablate a head, then restore it; time until the result is shown and painted
    latencies, engine_ms = [], []
    heads = [f"L{l}.H{h}" for l in range(n_layers) for h in range(n_heads)]
    for i in range(24):
        name = heads[(i // 2 * 5) % len(heads)]
        shown = controller.displayed_ids[-1]
        start = time.perf_counter()
        controller.ablate([name]) if i % 2 == 0 else controller.restore([name])
        wait(app, lambda: controller.displayed_ids[-1] != shown)
        window.repaint()  # synchronous paint of every visible panel
        latencies.append((time.perf_counter() - start) * 1e3)
        engine_ms.append(controller.last_result.elapsed_ms)

    # a 5-second knob drag at 120 Hz on one selected head, while measuring event-loop gaps
    window.view("graph").nodes[heads[-1]].setSelected(True)
    runs_before = controller.client.runs_executed
    clock, gaps, moves = QElapsedTimer(), [], [0]
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    def move() -> None:
        moves[0] += 1
        window.view("graph").slider.setValue(int(100 + 90 * np.sin(moves[0] / 20)))

    knob_engine_ms: list[float] = []
    controller.result_ready.connect(lambda r: knob_engine_ms.append(r.elapsed_ms))
    ticker, mover = QTimer(), QTimer()
    ticker.timeout.connect(tick)
    mover.timeout.connect(move)
    ticker.start(1)
    mover.start(round(1000 / 120))
    end = time.perf_counter() + 5.0
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)
    mover.stop()
    ticker.stop()
    runs = controller.client.runs_executed - runs_before
    window.close()
    p50, p95 = np.percentile(latencies, [50, 95])
    eng = statistics.median(engine_ms)
    knob = statistics.median(knob_engine_ms)
    return label, p50, p95, eng, bare, eng / bare, knob, knob / bare, max(gaps), f"{runs}/{moves[0]}"


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    rows = [bench(app, "demo model", None)]
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(bench(app, "GPT-2-small shape (random)", str(gpt2_small_shaped(Path(tmp) / "gpt2s"))))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, {N_TOKENS} tokens, offscreen\n")
    print("| model                      | drop→paint p50 | p95 ms | drop engine ms | bare fwd ms | drop/bare "
          "| knob engine ms | knob/bare | max loop gap ms | runs/moves |")
    print("|----------------------------|----------------|--------|----------------|-------------|-----------"
          "|----------------|-----------|-----------------|------------|")
    for label, p50, p95, eng, bare, ratio, knob, knob_ratio, gap, runs in rows:
        print(f"| {label:<26} | {p50:14.1f} | {p95:6.1f} | {eng:14.1f} | {bare:11.1f} | {ratio:9.2f} "
              f"| {knob:14.1f} | {knob_ratio:9.2f} | {gap:15.0f} | {runs:>10} |")


if __name__ == "__main__":
    main()
