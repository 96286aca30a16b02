"""Patching speed (issues #7, #15): all-heads activation patching on a random GPT-2-small-shaped
model (144 heads; 16 and 128 tokens), SmolLM2-135M (270 heads, the 16-token IOI pair; --model
smollm2) or a GPT-2-XL-shaped one (1200 heads; 16 and 64 tokens; --model xl), CPU, as ratios
to one bare forward:

  engine, resumed      engine.analyses.patching.activation_patching: staircase batches that start at
                       the patched layer, the shared prefix's keys/values reused, two logits
  engine, plain batch  the same with resume=False (every variant from the embeddings)
  loop of forwards     one hooked forward per head (what a notebook loop does)
  TransformerLens      get_act_patch_attn_head_out_all_pos on the same weights (run in its own
                       venv, bench/tl_setup.sh; skipped with a note when that venv is missing)
  attribution          engine.analyses.attribution.attribution_patching (one forward + one backward)
  live: L11.H0 ablated Engine.run with one late head ablated after the prompt's clean run
                       (resumed from layer 11) vs the same run with no cached clean run

The corrupted prompt differs from the clean one at one position: the middle ("mid"), or
four tokens before the end ("late", where an IOI-style name swap usually sits; only the
positions from there on are recomputed). All variants' numbers are checked against each
other (max |Δ logit diff|).

Run: .venv/bin/python bench/patching.py [--model gpt2s|smollm2|xl] [--runs 3] [--tl-python /work/tl-venv/bin/python]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import median_ms  # noqa: E402
from engine import Ablation, Engine  # noqa: E402
from engine.analyses.attribution import attribution_patching  # noqa: E402
from engine.hooks import hooks_attached  # noqa: E402
from engine.analyses.patching import activation_patching  # noqa: E402
from training.tiny_models import gpt2_small_shaped  # noqa: E402


def head_loop(engine: Engine, clean: np.ndarray, corrupt: np.ndarray, t: int, f: int) -> np.ndarray:
    """One hooked forward per head: the corrupted run with that head's clean z."""
    n_layers, n_heads, dh = engine.info.n_layers, engine.info.n_heads, engine.info.d_head
    names = [f"blocks.{l}.attn.hook_z" for l in range(n_layers)]
    model, adapter = engine.model, engine.adapter
    with torch.inference_mode(), hooks_attached(model, adapter, n_layers, names) as source:
        model(input_ids=torch.from_numpy(clean)[None], logits_to_keep=1)
    out = np.zeros((n_layers, n_heads))
    for l in range(n_layers):
        for h in range(n_heads):
            def edit(act, l=l, h=h):
                act = act.clone()
                act[..., h * dh:(h + 1) * dh] = source[names[l]][..., h * dh:(h + 1) * dh]
                return act
            with torch.inference_mode(), hooks_attached(model, adapter, n_layers, (), {names[l]: [edit]}):
                logits = model(input_ids=torch.from_numpy(corrupt)[None], logits_to_keep=1).logits[0, -1]
            out[l, h] = float(logits[t] - logits[f])
    return out


def transformer_lens(tl_python: str, folder: Path, clean, corrupt, t: int, f: int, repeats: int) -> dict | str:
    if not Path(tl_python).exists():
        return f"skipped: {tl_python} missing (run bench/tl_setup.sh)"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({"clean": clean.tolist(), "corrupted": corrupt.tolist(), "target": t, "foil": f,
                   "repeats": repeats}, fh)
    proc = subprocess.run([tl_python, str(ROOT / "bench" / "tl_sweep.py"), "--model", str(folder), "--ids-json", fh.name],
                          capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    os.unlink(fh.name)
    if proc.returncode != 0:
        return f"failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


IOI_16 = ("When Mary and John went to the big store, John gave a cold drink to",
          "When Mary and John went to the big store, Mary gave a cold drink to", " Mary", " John")


def random_pair(engine: Engine, n: int, where: str) -> tuple[np.ndarray, np.ndarray, str, str, int, int]:
    """Random tokens (a random-weights model), one of them changed in the corrupted copy."""
    rng = np.random.default_rng(n)
    body = engine.random_token_ids((n - 1,), rng)
    clean = np.concatenate([engine._special_prefix, body]).astype(np.int64)
    corrupt = clean.copy()
    corrupt[n // 2 if where == "mid" else n - 4] = engine.random_token_ids((1,), rng)[0]
    clean_s, corrupt_s = (" ".join(engine.decode_tokens(ids[len(engine._special_prefix):])) for ids in (clean, corrupt))
    assert np.array_equal(engine.tokenize(clean_s), clean) and np.array_equal(engine.tokenize(corrupt_s), corrupt)
    t, f = (int(x) for x in engine.random_token_ids((2,), rng))
    return clean, corrupt, clean_s, corrupt_s, t, f


def ioi_pair(engine: Engine) -> tuple[np.ndarray, np.ndarray, str, str, int, int]:
    """A real model: the IOI sentence (16 tokens on SmolLM2) with the second name swapped."""
    clean_s, corrupt_s, target, foil = IOI_16
    return (engine.tokenize(clean_s), engine.tokenize(corrupt_s), clean_s, corrupt_s, engine.token_id(target),
            engine.token_id(foil))


def bench_length(engine: Engine, folder: Path, n: int, where: str, runs: int, tl_python: str) -> list[tuple]:
    clean, corrupt, clean_s, corrupt_s, t, f = ioi_pair(engine) if where == "ioi" else random_pair(engine, n, where)
    n = len(clean)
    x = torch.from_numpy(clean)[None]

    def bare() -> None:
        with torch.inference_mode():
            engine.model(input_ids=x)
    bare_ms = median_ms(bare, max(runs, 10))
    rows = [("bare HF forward", bare_ms, 1.0, "")]

    resumed = activation_patching(engine, clean_s, corrupt_s, t, f, "head")
    ms = median_ms(lambda: activation_patching(engine, clean_s, corrupt_s, t, f, "head"), runs)
    n_heads = engine.info.n_layers * engine.info.n_heads
    rows.append((f"engine, resumed ({n_heads} variants)", ms, ms / bare_ms, "reference"))
    plain = activation_patching(engine, clean_s, corrupt_s, t, f, "head", resume=False)
    ms = median_ms(lambda: activation_patching(engine, clean_s, corrupt_s, t, f, "head", resume=False), 1)
    rows.append(("engine, plain batch", ms, ms / bare_ms, f"Δ {np.abs(plain.raw - resumed.raw).max():.1e}"))
    start = time.perf_counter()
    loop = head_loop(engine, clean, corrupt, t, f)
    ms = (time.perf_counter() - start) * 1e3
    rows.append((f"loop of {n_heads} hooked forwards", ms, ms / bare_ms, f"Δ {np.abs(loop - resumed.raw).max():.1e}"))
    tl = transformer_lens(tl_python, folder, clean, corrupt, t, f, repeats=max(1, runs // 2))
    if isinstance(tl, dict):
        tl_ratio = tl["sweep_ms"] / tl["hf_bare_forward_ms"]
        delta = np.abs(np.array(tl["values"]) - resumed.raw).max()
        rows.append((f"TransformerLens {tl['tl_version']}", tl["sweep_ms"], tl_ratio,
                     f"Δ {delta:.1e}; its bare fwd {tl['hf_bare_forward_ms']:.0f} ms"))
        ours = rows[1][2]
        rows.append(("  -> engine speed-up over TL", None, tl_ratio / ours, "ratio of ratios"))
    else:
        rows.append(("TransformerLens", None, None, tl))
    ms = median_ms(lambda: attribution_patching(engine, clean_s, corrupt_s, t, f, "head"), runs)
    rows.append(("attribution patching", ms, ms / bare_ms, ""))

    last = engine.info.n_layers - 1
    live = (Ablation(f"L{last}.H0"),)
    want = ("patterns", "dla")
    engine.run(clean_s, want=want, target=t, foil=f)  # the clean run the app always has
    ms = median_ms(lambda: engine.run(clean_s, live, want=want, target=t, foil=f), runs)
    rows.append((f"live: L{last}.H0 ablated, resumed", ms, ms / bare_ms, "patterns + DLA"))
    fresh = Engine(engine.loaded)
    ms = median_ms(lambda: fresh.run(clean_s, live, want=want, target=t, foil=f), runs)
    rows.append((f"live: L{last}.H0 ablated, from embeddings", ms, ms / bare_ms, "patterns + DLA"))
    return [(f"{n} {where}", *row) for row in rows]


MODELS = {"gpt2s": "GPT-2-small shape (12x12, d 768, vocab 50257, random)",
          "smollm2": "SmolLM2-135M (30x9, GQA 3 kv heads, real weights from make real-model)",
          "xl": "GPT-2-XL shape (48x25, d 1600, vocab 50257, random)"}


def model_folder(name: str, tmp: Path) -> Path:
    if name == "smollm2":
        from engine.paths import REAL_MODEL_FOLDER, real_model_cache

        folder = real_model_cache() / REAL_MODEL_FOLDER
        if not folder.is_dir():
            raise SystemExit("SmolLM2 is not fetched: run `make real-model`")
        return folder
    if name == "xl":
        from training.tiny_models import gpt2_xl_layout

        return gpt2_xl_layout(tmp / "xl", n_embd=1600, initializer_range=0.02)  # GPT-2-XL's full width
    return gpt2_small_shaped(tmp / "gpt2s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", choices=sorted(MODELS), default="gpt2s")
    parser.add_argument("--cases", default=None,
                        help="tokens:where pairs; where = mid or late (the corrupted position), or ioi (a real "
                             "model's name-swap pair; default for smollm2)")
    parser.add_argument("--tl-python", default=os.environ.get("TL_PYTHON", "/work/tl-venv/bin/python"))
    args = parser.parse_args()
    cases = args.cases or ("16:ioi" if args.model == "smollm2" else "16:mid,64:late" if args.model == "xl"
                           else "16:mid,128:mid,128:late")
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = model_folder(args.model, Path(tmp))
        engine = Engine(folder, device="cpu")
        rows = []
        for case in cases.split(","):
            n, where = case.split(":")
            rows += bench_length(engine, folder, int(n), where, args.runs, args.tl_python)
    print(f"\n{MODELS[args.model]}, CPU, {torch.get_num_threads()} threads, median of {args.runs}\n")
    print("| tokens, corrupted at | case | ms | x bare forward | check |\n|---|---|---|---|---|")
    for n, case, ms, ratio, note in rows:
        ms_text = "" if ms is None else f"{ms:.0f}"
        ratio_text = "" if ratio is None else f"{ratio:.1f}"
        print(f"| {n} | {case} | {ms_text} | {ratio_text} | {note} |")


if __name__ == "__main__":
    main()
