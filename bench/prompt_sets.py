"""Patching over a prompt set: all-heads activation patching of an IOI template set, against
the bare forwards of the same prompts, measured side by side in one run (issue 19 targets:
1,000 prompts on the demo model in under 10 s; 100 prompts on SmolLM2 within 15x the bare
forwards of those 100 prompts).

Run: .venv/bin/python bench/prompt_sets.py"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import Engine, EngineError  # noqa: E402
from engine.analysis import get, params_from_dict  # noqa: E402
from engine.paths import REAL_MODEL_FOLDER, real_model_cache  # noqa: E402
from engine.prompt_sets import from_template  # noqa: E402
from training import demo_data  # noqa: E402

NAMES = ["Mary", "John", "Anna", "James", "Jane", "Rose", "Grace", "Sam", "Victor", "Hugo", "Ella", "Ruby"]


def single(engine: Engine, words: list[str]) -> list[str]:
    """The words that are one token after a space for this model (so every prompt has one length)."""
    def one_token(word: str) -> bool:
        try:
            engine.handle.token_id(" " + word)
        except EngineError:
            return False
        return True
    return [w for w in words if one_token(w)]


def ioi_set(n: int, spaced: bool, engine: Engine):
    sep = "," if not spaced else " ,"
    template = f"When {{A}} and {{B}} went to the {{P}}{sep} {{B}} gave a {{O}} to"
    names = single(engine, NAMES)
    return from_template(template, {"A": names, "B": names, "P": single(engine, demo_data.PLACES),
                                    "O": single(engine, demo_data.OBJECTS)},
                         target=" {A}", foil=" {B}", corrupted=template.replace("{B} gave", "{A} gave"),
                         limit=n, seed=0)


def bare_forwards_s(engine: Engine, prompt_set, batch: int = 100) -> float:
    ids = np.stack([engine.tokenize(r.prompt) for r in prompt_set.rows])
    t = torch.as_tensor(ids)
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(t), batch):
            engine.model(input_ids=t[i:i + batch], attention_mask=torch.ones_like(t[i:i + batch]), use_cache=False)
    return time.perf_counter() - start


def row(label: str, source: str | None, n: int, spaced: bool) -> tuple:
    engine = Engine(source, device="cpu")
    s = ioi_set(n, spaced, engine)
    analysis = get("set_patching")
    params = params_from_dict(analysis.Params, {"sweep": "head"})
    analysis.run(engine.handle, ioi_set(8, spaced, engine), params)  # warm up
    start = time.perf_counter()
    result = analysis.run(engine.handle, s, params)
    took = time.perf_counter() - start
    bare = bare_forwards_s(engine, s)
    i, j = np.unravel_index(np.argmax(result.stats.mean), result.stats.mean.shape)
    cells = result.stats.mean.size
    return (label, len(s), cells, took, bare, took / bare, f"{result.row_labels[i]}.{result.column_labels[j]} "
            f"{result.stats.mean[i, j]:.2f} [{result.stats.ci_low[i, j]:.2f}, {result.stats.ci_high[i, j]:.2f}]")


def attribution_row(label: str, source: str | None, n: int, spaced: bool) -> tuple:
    """The same set, estimated by attribution patching (two forwards and a backward per prompt)."""
    engine = Engine(source, device="cpu")
    s = ioi_set(n, spaced, engine)
    analysis = get("set_attribution")
    params = params_from_dict(analysis.Params, {"sweep": "head"})
    analysis.run(engine.handle, ioi_set(4, spaced, engine), params)  # warm up
    start = time.perf_counter()
    result = analysis.run(engine.handle, s, params)
    took = time.perf_counter() - start
    bare = bare_forwards_s(engine, s)
    i, j = np.unravel_index(np.argmax(result.stats.mean), result.stats.mean.shape)
    return (label, len(s), took, bare, took / bare, f"{result.row_labels[i]}.{result.column_labels[j]} "
            f"{result.stats.mean[i, j]:.2f}")


def main() -> None:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    real = real_model_cache() / REAL_MODEL_FOLDER
    estimates = [attribution_row("demo model (2 x 8)", None, 1000, True)]
    if real.is_dir():
        estimates.append(attribution_row("SmolLM2-135M (30 x 9)", str(real), 100, False))
    print("attribution patching (estimate) over the same sets\n")
    print("| model | prompts | set attribution s | bare forwards s | x bare | top head |\n|---|---|---|---|---|---|")
    for r in estimates:
        print(f"| {r[0]} | {r[1]:,} | {r[2]:.2f} | {r[3]:.3f} | {r[4]:.0f} | {r[5]} |")
    if "--estimates-only" in sys.argv:
        return
    rows = [row("demo model (2 x 8)", None, 1000, True)]
    if real.is_dir():
        rows.append(row("SmolLM2-135M (30 x 9)", str(real), 100, False))
    print(f"\nall-heads activation patching over an IOI template set, CPU, {torch.get_num_threads()} threads\n")
    print("| model | prompts | cells | set patching s | bare forwards s | x bare | top head (mean [95% CI]) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]:.2f} | {r[4]:.3f} | {r[5]:.0f} | {r[6]} |")


if __name__ == "__main__":
    main()
