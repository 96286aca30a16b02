"""TransformerLens head-patching sweep, for comparison with the engine (standalone).

Runs transformer_lens.patching.get_act_patch_attn_head_out_all_pos (patch each head's
output z, all positions, from the clean run into the corrupted run; one forward per
layer x head) on a local Hugging Face model folder, with
metric = logit(target) - logit(foil) at the last position (raw, not normalised).
Prints ONE JSON line to stdout:

  {"tl_version", "transformers_version", "torch_version",
   "bare_forward_ms"      median of 10 plain TransformerBridge forwards on the corrupted ids,
   "hf_bare_forward_ms"   median of 10 plain Hugging Face forwards (default attention, full logits),
   "clean_cache_ms"       one run_with_cache on the clean ids (not part of sweep_ms),
   "sweep_ms"             median over `repeats` sweep calls (the clean cache is an input),
   "values"               [n_layers][n_heads] raw metric after patching that head,
   "clean_metric", "corrupted_metric",
   "load_max_logit_diff"  max |logit diff| bridge vs plain HF forward of the same folder}

Timings depend on the machine being otherwise idle: on 2 cores, torch's default 2 threads
slow down many-fold when anything else holds a core; --threads 1 is steadier there (use the
same thread count as the engine run it is compared with).

Input: --ids-json FILE holding {"clean": [...], "corrupted": [...], "target": int,
"foil": int, "repeats": int}. The id lists are used as given (no BOS is added: put it in).
Everything runs with gradients off (torch.set_grad_enabled(False), as TL's own demos do)
and offline (HF_HUB_OFFLINE=1 is set unless already set).

Run it with the separate TL venv, never with the project's .venv:
  /work/tl-venv/bin/python bench/tl_sweep.py --model /tmp/gpt2s --ids-json ids.json

Setting up the TL venv (bench/tl_setup.sh does exactly this, idempotently):
  python3 -m venv /work/tl-venv
  printf 'torch==2.13.0\\ntransformers==5.24.0\\n' > /tmp/tl-constraints.txt
  /work/tl-venv/bin/pip install torch==2.13.0          # first: the local CPU wheel
  /work/tl-venv/bin/pip install -c /tmp/tl-constraints.txt transformer-lens==4.3.0

Why a separate venv: TransformerLens 4.3.0 itself is compatible with our pins (it needs
transformers>=5.9 and torch>=2.6; here torch 2.13.0+cpu and transformers 5.24.0, the same
as the project's .venv), but it drags in ~70 packages the app does not need (wandb,
datasets, pyarrow, pandas, accelerate, opentelemetry, ...) and would upgrade shared ones
(numpy, huggingface-hub, ...). Keeping it apart leaves the project's environment and
bundle untouched. torch must stay pinned: unpinned, pip may fetch a multi-GB CUDA build.

TL 4.x loads a local folder directly: TransformerBridge.boot_transformers(FOLDER) (the
raw HF weights, no LayerNorm folding or weight centring, so logits match HF).
HookedTransformer was removed in TL 4.0."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")  # the sweep's per-patch progress bar
os.environ.setdefault("WANDB_MODE", "disabled")


def median_ms(fn, runs: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="local Hugging Face model folder")
    parser.add_argument("--ids-json", required=True, help='{"clean", "corrupted", "target", "foil", "repeats"}')
    parser.add_argument("--forward-runs", type=int, default=10, help="runs for the bare-forward medians")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch.set_num_threads (0: torch's default, one per core); match the engine's run")
    args = parser.parse_args()

    import importlib.metadata
    import logging
    import warnings

    import torch
    import transformers
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    from transformer_lens import patching
    from transformer_lens.model_bridge import TransformerBridge

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    logging.getLogger().setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    torch.set_grad_enabled(False)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    with open(args.ids_json) as f:
        spec = json.load(f)
    clean = torch.tensor([spec["clean"]], dtype=torch.long)
    corrupted = torch.tensor([spec["corrupted"]], dtype=torch.long)
    target, foil = int(spec["target"]), int(spec["foil"])
    repeats = max(1, int(spec.get("repeats", 3)))
    if clean.shape != corrupted.shape:
        sys.exit("clean and corrupted must have the same length")

    bridge = TransformerBridge.boot_transformers(args.model, device="cpu")
    bridge.eval()
    hf = AutoModelForCausalLM.from_pretrained(args.model).eval()  # plain HF, default attention

    def metric(logits: torch.Tensor) -> torch.Tensor:
        return logits[0, -1, target] - logits[0, -1, foil]

    tl_logits = bridge(clean)
    hf_logits = hf(input_ids=clean, use_cache=False).logits
    load_diff = (tl_logits - hf_logits).abs().max().item()

    bare_ms = median_ms(lambda: bridge(corrupted), args.forward_runs)
    hf_ms = median_ms(lambda: hf(input_ids=corrupted, use_cache=False), args.forward_runs)

    start = time.perf_counter()
    _, clean_cache = bridge.run_with_cache(clean)
    clean_cache_ms = (time.perf_counter() - start) * 1e3

    values = None
    sweep_times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = patching.get_act_patch_attn_head_out_all_pos(bridge, corrupted, clean_cache, metric)
        sweep_times.append((time.perf_counter() - start) * 1e3)
        if values is None:
            values = out

    print(json.dumps({
        "tl_version": importlib.metadata.version("transformer-lens"),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "n_tokens": int(clean.shape[1]),
        "threads": torch.get_num_threads(),
        "bare_forward_ms": bare_ms,
        "hf_bare_forward_ms": hf_ms,
        "clean_cache_ms": clean_cache_ms,
        "sweep_ms": statistics.median(sweep_times),
        "sweep_runs_ms": sweep_times,
        "values": values.tolist(),
        "clean_metric": metric(tl_logits).item(),
        "corrupted_metric": metric(bridge(corrupted)).item(),
        "load_max_logit_diff": load_diff,
    }))


if __name__ == "__main__":
    main()
