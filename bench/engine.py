"""Engine overhead vs a bare Hugging Face forward (issue: foundation benchmark).

For the demo model and a random GPT-2-small-shaped model (12 x 12, d_model 768), at 16
and 128 tokens, median of N runs each, all in one process so the ratios compare like
with like. Rows:
  bare HF forward         model(input_ids): what a notebook does (logits at every position)
  bare HF, last logits    the same with logits_to_keep=1 (what the engine asks for)
  engine: patterns+resid  Engine.run capturing every attention pattern and the residual stream
  engine: + 1 head ablated
  engine: + logit lens    top-5 of final norm + unembed at every layer x position

Run: .venv/bin/python bench/engine.py [--runs 20]"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import Ablation, Engine  # noqa: E402
from training.tiny_models import gpt2_small_shaped  # noqa: E402


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def prompt_of_length(engine: Engine, n_tokens: int, seed: int = 0) -> str:
    """A prompt of exactly n_tokens tokens (BOS included) from ordinary vocabulary words."""
    rng = np.random.default_rng(seed)
    ids = engine.random_token_ids((n_tokens - len(engine._special_prefix),), rng)
    prompt = " ".join(engine.decode_tokens(ids))
    assert len(engine.tokenize(prompt)) == n_tokens, "word-level vocab expected"
    return prompt


def bench_model(name: str, engine: Engine, lengths: list[int], runs: int) -> list[tuple]:
    rows = []
    model = engine.model
    for n in lengths:
        prompt = prompt_of_length(engine, n)
        ids = torch.from_numpy(engine.tokenize(prompt))[None]
        mask = torch.ones_like(ids)

        def bare(keep: int = 0) -> None:
            with torch.inference_mode():
                model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=keep)

        base = median_ms(bare, runs)
        cases = {
            "bare HF forward": base,
            "bare HF, last logits": median_ms(lambda: bare(1), runs),
            "engine: patterns+resid": median_ms(lambda: engine.run(prompt, want=["patterns", "resid"]), runs),
            "engine: + 1 head ablated": median_ms(
                lambda: engine.run(prompt, [Ablation("L1.H0")], want=["patterns", "resid"]), runs),
            "engine: + logit lens": median_ms(
                lambda: engine.run(prompt, [Ablation("L1.H0")], want=["patterns", "logit_lens"]), runs),
        }
        rows += [(name, n, case, ms, ms / base) for case, ms in cases.items()]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    rows = bench_model("demo model", Engine(device="cpu"), [16, 128], args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        big = Engine(gpt2_small_shaped(Path(tmp) / "gpt2-small-shaped"), device="cpu")
        rows += bench_model("GPT-2-small shape (random)", big, [16, 128], args.runs)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu, median of {args.runs} runs\n")
    print(f"| {'model':<27} | {'tokens':>6} | {'case':<25} | {'median ms':>9} | {'x bare':>6} |")
    print(f"|{'-' * 29}|{'-' * 8}|{'-' * 27}|{'-' * 11}|{'-' * 8}|")
    for model, n, case, ms, ratio in rows:
        print(f"| {model:<27} | {n:>6} | {case:<25} | {ms:>9.2f} | {ratio:>6.2f} |")


if __name__ == "__main__":
    main()
