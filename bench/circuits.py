"""Edge attribution speed as ratios to a bare forward + backward of the same pair, measured
side by side in one run (issue 21 targets on the GPT-2-small shape at 16 tokens: EAP over
all edges within 3x, EAP-IG(5) within 12x; SmolLM2 recorded).

Columns:
  fwd+bwd      one HF forward of the clean prompt with the logit difference backpropagated to
               the embeddings (median of 5), ms
  EAP          scores for every edge: a clean and a corrupted forward recording every source,
               one forward + backward with every input's own copy of the residual stream
  EAP-IG(5)    the same with 5 gradient steps
  curve        the faithfulness curve: 11 circuits of MIB's sizes, each a patched forward
  meter        one circuit's faithfulness (the live meter while editing by hand)

Run: .venv/bin/python bench/circuits.py [--no-real]"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import Engine  # noqa: E402
from engine.analysis import PromptPair  # noqa: E402
from engine.paths import REAL_MODEL_FOLDER, real_model_cache  # noqa: E402
from training.tiny_models import gpt2_small_shaped  # noqa: E402


def median_s(fn, runs: int = 3) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_forward_backward(engine: Engine, pair: PromptPair) -> float:
    h = engine.handle
    ids = torch.as_tensor(h.tokenize(pair.clean))[None]
    t, f = h.token_id(pair.target), h.token_id(pair.foil)
    embed = h.model.get_input_embeddings()

    def run():
        x = embed(ids).detach().requires_grad_(True)
        logits = h.model(inputs_embeds=x).logits[0, -1]
        (logits[t] - logits[f]).backward()
    return median_s(run, 5)


def row(label: str, engine: Engine, pair: PromptPair) -> dict:
    n_tokens = len(engine.tokenize(pair.clean))
    bare = bare_forward_backward(engine, pair)
    eap = median_s(lambda: engine.analyse("circuit", pair, {"method": "eap", "curve": False}))
    ig = median_s(lambda: engine.analyse("circuit", pair, {"method": "eap_ig", "steps": 5, "curve": False}), 1)
    found = engine.analyse("circuit", pair, {"method": "eap_ig", "steps": 5, "curve": True})
    curve = median_s(lambda: engine.analyse("circuit_eval", pair, {"circuits": tuple(
        tuple(int(e) for e in np.flatnonzero(found.circuit(int(k)))) for k in found.sizes)}), 1)
    circuit = tuple(int(e) for e in np.flatnonzero(found.circuit(int(found.sizes[len(found.sizes) // 2]))))
    meter = median_s(lambda: engine.analyse("circuit_eval", pair, {"circuits": (circuit,)}))
    return {"model": label, "tokens": n_tokens, "edges": found.graph.n_edges, "bare": bare, "eap": eap, "ig": ig,
            "curve": curve, "meter": meter, "summary": found.summary}


def print_table(rows: list[dict]) -> None:
    print("| model | tokens | edges | fwd+bwd ms | EAP ms (x) | EAP-IG(5) ms (x) | curve, 11 circuits ms (x) | meter ms (x) |"
          " area (CPR) | CMD |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        b = r["bare"]
        cell = lambda t: f"{t * 1000:.0f} ({t / b:.1f})"  # noqa: E731
        s = r["summary"]
        print(f"| {r['model']} | {r['tokens']} | {r['edges']:,} | {b * 1000:.0f} | {cell(r['eap'])} | {cell(r['ig'])} | "
              f"{cell(r['curve'])} | {cell(r['meter'])} | {s.area:.3f} | {s.cmd:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-real", action="store_true", help="skip SmolLM2")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    rows = []
    demo = Engine(device="cpu")
    rows.append(row("demo model", demo, PromptPair("When Mary and John went to the store , John gave a drink to",
                                                   "When Mary and John went to the store , Mary gave a drink to",
                                                   "Mary", "John")))
    with tempfile.TemporaryDirectory() as tmp:
        small = Engine(gpt2_small_shaped(Path(tmp) / "small"), device="cpu")
        words = [f"t{i}" for i in range(1, 17)]
        corrupt = list(words)
        corrupt[9] = "t99"
        rows.append(row("GPT-2-small shape", small, PromptPair(" ".join(words), " ".join(corrupt), "t5", "t7")))
    real = real_model_cache() / REAL_MODEL_FOLDER
    if not args.no_real and real.exists():
        engine = Engine(str(real), device="cpu")
        rows.append(row("SmolLM2-135M", engine, PromptPair(
            "When Mary and John went to the store, John gave a drink to",
            "When Mary and John went to the store, Mary gave a drink to", " Mary", " John")))
    print_table(rows)


if __name__ == "__main__":
    main()
