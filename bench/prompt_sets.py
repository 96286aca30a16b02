"""Patching over a prompt set: all-heads activation patching of an IOI template set, against
the bare forwards of the same prompts, measured side by side in one run (issue 19 targets:
1,000 prompts on the demo model in under 10 s; 100 prompts on SmolLM2 within 15x the bare
forwards of those 100 prompts).

--baseline REV also runs set_patching as committed at REV (git show) on the same set in the
same process, so a before/after pair shares the machine's load; its per-prompt values are
checked against the current ones.

Run: .venv/bin/python bench/prompt_sets.py [--models demo,smollm2] [--no-estimates]
     [--baseline HEAD] [--repeat N]"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import Engine, EngineError  # noqa: E402
from engine.analysis import get, params_from_dict  # noqa: E402
from engine.paths import REAL_MODEL_FOLDER, real_model_cache  # noqa: E402
from engine.prompt_sets import from_template  # noqa: E402
from training import demo_data  # noqa: E402

NAMES = ["Mary", "John", "Anna", "James", "Jane", "Rose", "Grace", "Sam", "Victor", "Hugo", "Ella", "Ruby"]
MODELS = {"demo": ("demo model (2 x 8)", None, 1000, True),
          "smollm2": ("SmolLM2-135M (30 x 9)", "real", 100, False)}  # label, source, prompts, spaced comma


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


def baseline_analysis(rev: str):
    """SetPatchingAnalysis as committed at `rev`, loaded beside the current one (unregistered)."""
    source = subprocess.run(["git", "show", f"{rev}:engine/analyses/set_patching.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    source = "\n".join(line for line in source.splitlines() if not line.startswith("register("))
    name = f"engine.analyses._set_patching_at_{rev.replace('~', '_').replace('^', '_')}"
    module = types.ModuleType(name)
    module.__package__ = "engine.analyses"
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{rev}:engine/analyses/set_patching.py", "exec"), module.__dict__)
    return module.SetPatchingAnalysis()


def timed(analysis, engine: Engine, prompt_set, params, repeat: int):
    """(best seconds of `repeat` runs, the last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = analysis.run(engine.handle, prompt_set, params)
        best = min(best, time.perf_counter() - start)
    return best, result


def source_of(key: str) -> str | None:
    return str(real_model_cache() / REAL_MODEL_FOLDER) if MODELS[key][1] == "real" else None


def row(key: str, baseline, repeat: int) -> list[tuple]:
    """One table row per implementation (the baseline's first), each with the bare forwards
    measured right after it."""
    label, _, n, spaced = MODELS[key]
    engine = Engine(source_of(key), device="cpu")
    s = ioi_set(n, spaced, engine)
    analysis = get("set_patching")
    params = params_from_dict(analysis.Params, {"sweep": "head"})
    runs = ([("before", baseline)] if baseline is not None else []) + [("after" if baseline else "", analysis)]
    out, results = [], []
    for which, impl in runs:
        impl.run(engine.handle, ioi_set(8, spaced, engine), params)  # warm up
        took, result = timed(impl, engine, s, params, repeat)
        bare = min(bare_forwards_s(engine, s) for _ in range(max(repeat, 2)))
        results.append(result)
        i, j = np.unravel_index(np.argmax(result.stats.mean), result.stats.mean.shape)
        out.append((f"{label} {which}".strip(), len(s), result.stats.mean.size, took, bare, took / bare,
                    f"{result.row_labels[i]}.{result.column_labels[j]} {result.stats.mean[i, j]:.2f} "
                    f"[{result.stats.ci_low[i, j]:.2f}, {result.stats.ci_high[i, j]:.2f}]"))
    if len(results) == 2:
        print(f"{label}: before/after per-prompt values differ by at most "
              f"{np.abs(results[0].per_prompt - results[1].per_prompt).max():.1e}", flush=True)
    return out


def attribution_row(key: str) -> tuple:
    """The same set, estimated by attribution patching (two forwards and a backward per prompt)."""
    label, _, n, spaced = MODELS[key]
    engine = Engine(source_of(key), device="cpu")
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="demo,smollm2", help="comma-separated: " + ", ".join(MODELS))
    parser.add_argument("--no-estimates", action="store_true", help="skip the attribution-patching table")
    parser.add_argument("--estimates-only", action="store_true", help="only the attribution-patching table")
    parser.add_argument("--baseline", metavar="REV", help="also run set_patching as committed at REV (e.g. HEAD)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (the best is shown)")
    args = parser.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    keys = [k for k in args.models.split(",") if k]
    unknown = [k for k in keys if k not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)} (choose from {', '.join(MODELS)})")
    if "smollm2" in keys and not (real_model_cache() / REAL_MODEL_FOLDER).is_dir():
        print("SmolLM2 is not fetched (make real-model): its rows are left out\n")
        keys.remove("smollm2")
    if not args.no_estimates:
        estimates = [attribution_row(k) for k in keys]
        print("attribution patching (estimate) over the same sets\n")
        print("| model | prompts | set attribution s | bare forwards s | x bare | top head |\n|---|---|---|---|---|---|")
        for r in estimates:
            print(f"| {r[0]} | {r[1]:,} | {r[2]:.2f} | {r[3]:.3f} | {r[4]:.0f} | {r[5]} |")
    if args.estimates_only:
        return
    baseline = baseline_analysis(args.baseline) if args.baseline else None
    rows = [r for k in keys for r in row(k, baseline, args.repeat)]
    print(f"\nall-heads activation patching over an IOI template set, CPU, {torch.get_num_threads()} threads\n")
    print("| model | prompts | cells | set patching s | bare forwards s | x bare | top head (mean [95% CI]) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,} | {r[2]} | {r[3]:.2f} | {r[4]:.3f} | {r[5]:.1f} | {r[6]} |")


if __name__ == "__main__":
    main()
