"""Live ablation at real size: scripted drops, undos and a 5-second knob drag through the real
window, engine thread and panels (offscreen, CPU), as ratios to a bare forward of the same
prompt measured in the same process.

Models: the demo model and a random GPT-2-small-shaped one (32 tokens), SmolLM2-135M (real
weights from `make real-model`, the 14-token IOI prompt) and a random GPT-2-XL-shaped one
(48 x 25 heads, d_model 1600, 16 tokens; `--no-xl` skips it: it needs ~7 GB).

Columns (medians over single-head ablations at 6 layers spread through the model):
  bare fwd       one plain HF forward of the prompt (no hooks, no cache), same process
  engine→numbers the engine thread's own time to the numbers (forward resumed at the edit + prediction + DLA)
  drop→numbers   ablate → the prediction and the graph's numbers painted (a progressive result)
  drop→all       ablate → every visible panel painted (patterns, lens, detail)
  undo→all       restore → every panel painted again
  ratios         x bare fwd; targets (issue 15): numbers <= 1.0, all <= 2.0
  max loop gap   the largest gap between event-loop ticks during a 5 s knob drag at 120 Hz (<= 50 ms)
  runs/moves     model runs executed for the knob's moves (coalescing)
  peak RSS/wts   the largest resident size seen (whole process, every panel open) over the weights' size

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/live.py [--no-xl] [--only NAME] [--per-drop]"""

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
import psutil  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.controller import Controller, ViewState  # noqa: E402
from app.main_window import MainWindow  # noqa: E402
from app.settings import Settings  # noqa: E402
from engine import Engine  # noqa: E402
from training.tiny_models import gpt2_small_shaped, gpt2_xl_layout  # noqa: E402

IOI = ("When Mary and John went to the store, John gave a drink to", " Mary", " John")


PEAK = [0]  # the largest resident size seen while waiting (this row's, reset per row)


WAKE: list = []  # signals that may make a condition true (the controller's results)


def wait(app: QApplication, condition, timeout_s: float = 600.0) -> None:
    """Run the event loop idle, as the app does, until `condition` holds: checked when a
    result signal arrives and every 20 ms (a busy poll would hold the GIL against the engine
    thread and slow the very thing measured)."""
    end = time.perf_counter() + timeout_s
    process, loop, timer = psutil.Process(), QEventLoop(), QTimer()
    timer.setInterval(20)

    def check(*_: object) -> None:
        PEAK[0] = max(PEAK[0], process.memory_info().rss)
        if condition() or time.perf_counter() > end:
            loop.quit()

    timer.timeout.connect(check)
    for signal in WAKE:
        signal.connect(check, Qt.ConnectionType.QueuedConnection)  # after the panels' own slots
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    for signal in WAKE:
        signal.disconnect(check)
    if not condition():
        raise TimeoutError("no result in time")


def random_prompt(engine: Engine, n_tokens: int) -> tuple[str, str, str]:
    rng = np.random.default_rng(0)
    ids = engine.random_token_ids((n_tokens - len(engine._special_prefix),), rng)
    words = engine.decode_tokens(ids)
    return " ".join(words), words[0], words[1]


def bare_forward_ms(engine: Engine, prompt: str, runs: int = 9) -> float:
    ids = torch.from_numpy(engine.tokenize(prompt))[None]
    times = []
    for i in range(runs + 2):
        start = time.perf_counter()
        with torch.inference_mode():
            engine.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def weights_bytes(engine: Engine) -> int:
    return sum(p.numel() * p.element_size() for p in engine.model.parameters())


def bench(app: QApplication, label: str, source: str | None, n_tokens: int | None, per_drop: bool = False) -> dict:
    engine = Engine(source, device="cpu")
    prompt, target, foil = IOI if n_tokens is None else random_prompt(engine, n_tokens)
    bare = bare_forward_ms(engine, prompt)
    n_layers, n_heads, weights = engine.info.n_layers, engine.info.n_heads, weights_bytes(engine)
    tokens = len(engine.tokenize(prompt))
    del engine

    PEAK[0] = 0
    controller = Controller()
    controller.state = ViewState(prompt=prompt, target=target, foil=foil)
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None  # never stop the bench on an "unsaved changes" question
    window.resize(1400, 950)
    window.show()
    WAKE[:] = [controller.partial_ready, controller.result_ready, controller.pending_changed]
    controller.load_model(source, "cpu")
    wait(app, lambda: controller.last_result is not None and controller.results.get("head_scores") is not None)
    wait(app, lambda: not controller.pending)

    numbers_at: list[float] = []
    engine_ms: list[float] = []  # the engine thread's time to the numbers (RunResult.elapsed_ms)

    def numbers_in(result) -> None:
        if result.dla is not None and not numbers_at:
            numbers_at.append(time.perf_counter())
            engine_ms.append(result.elapsed_ms)

    controller.partial_ready.connect(numbers_in)
    controller.result_ready.connect(numbers_in)

    def timed(action) -> tuple[float, float]:
        """(ms to the numbers painted, ms to every panel painted) for one edit."""
        numbers_at.clear()
        start = time.perf_counter()
        action()
        wait(app, lambda: bool(numbers_at))
        window.repaint()  # the numbers' panels paint (synchronously) before the rest arrives
        numbers = (time.perf_counter() - start) * 1e3
        wait(app, lambda: not controller.pending and controller.result_is_current())
        window.repaint()
        return numbers, (time.perf_counter() - start) * 1e3

    layers = sorted({int(round(x)) for x in np.linspace(0, n_layers - 1, 6)})
    drops, undos, drop_engine = [], [], []
    for layer in layers:
        name = f"L{layer}.H{min(1, n_heads - 1)}"
        drops.append(timed(lambda: controller.ablate([name])))
        drop_engine.append(engine_ms[-1])
        if per_drop:
            print(label, name, f"engine {engine_ms[-1]:.1f} ms, numbers {drops[-1][0]:.1f}, all {drops[-1][1]:.1f}")
        undos.append(timed(lambda: controller.restore([name]))[1])

    # a 5-second knob drag at 120 Hz on one selected head, measuring event-loop gaps
    last_head = f"L{n_layers - 1}.H{n_heads - 1}"
    graph = window.view("graph")
    graph.nodes[last_head].setSelected(True)
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
        graph.slider.setValue(int(100 + 90 * np.sin(moves[0] / 20)))

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
    wait(app, lambda: not controller.pending)
    peak = PEAK[0]
    window.close()
    app.processEvents()
    numbers = statistics.median(d[0] for d in drops)
    everything = statistics.median(d[1] for d in drops)
    undo = statistics.median(undos)
    return {"label": label, "shape": f"{n_layers}x{n_heads}, {tokens} tok", "bare": bare, "numbers": numbers,
            "engine": statistics.median(drop_engine),
            "all": everything, "undo": undo, "gap": max(gaps), "runs": f"{runs}/{moves[0]}",
            "peak": peak / weights}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-xl", action="store_true", help="skip the GPT-2-XL shape (1.5 B parameters)")
    parser.add_argument("--only", help="run one row: demo, gpt2s, smollm2, xl")
    parser.add_argument("--per-drop", action="store_true", help="also print each drop's times")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from engine.paths import REAL_MODEL_FOLDER, real_model_cache

    rows, notes = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cases = [("demo", "demo model", lambda: None, 32),
                 ("gpt2s", "GPT-2-small shape (random)", lambda: str(gpt2_small_shaped(Path(tmp) / "gpt2s")), 32),
                 ("smollm2", "SmolLM2-135M (real)", lambda: str(real_model_cache() / REAL_MODEL_FOLDER), None)]
        if not args.no_xl:
            cases.append(("xl", "GPT-2-XL shape (random)",
                          lambda: str(gpt2_xl_layout(Path(tmp) / "xl", n_embd=1600, initializer_range=0.02)), 16))
        for key, label, make, n_tokens in cases:
            if args.only and key != args.only:
                continue
            if key == "smollm2" and not (real_model_cache() / REAL_MODEL_FOLDER).is_dir():
                notes.append("SmolLM2 skipped: run `make real-model`")
                continue
            rows.append(bench(app, label, make(), n_tokens, args.per_drop))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, offscreen; "
          "medians over single-head drops at 6 layers spread through the model\n")
    print("| model | shape | bare fwd ms | engine→numbers x bare | drop→numbers ms | x bare | drop→all ms | x bare "
          "| undo→all ms | x bare | max loop gap ms | runs/moves | peak RSS / weights |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} | {r['shape']} | {r['bare']:.1f} | {r['engine'] / r['bare']:.2f} "
              f"| {r['numbers']:.1f} | {r['numbers'] / r['bare']:.2f} "
              f"| {r['all']:.1f} | {r['all'] / r['bare']:.2f} | {r['undo']:.1f} | {r['undo'] / r['bare']:.2f} "
              f"| {r['gap']:.0f} | {r['runs']} | {r['peak']:.1f} |")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
