"""Train Microtome's demo model (a tiny GPT-2 with real circuits) on CPU.

Usage: ``python -m training.train_demo_model --out resources/demo_model``

Seeded and deterministic for a given torch build and thread count (2 threads). The data
(see :mod:`training.demo_data`) is generated on the fly; every row is 128 tokens starting
with BOS. A short evaluation (copy loss on unseen repeat layouts, held-out IOI accuracy,
best previous-token / induction scores) is logged every ``--log-every`` steps.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

from training import demo_data
from training.evaluate_demo_model import copy_loss, head_scores, ioi_metrics

DEFAULTS = dict(
    n_layer=2, n_head=8, n_embd=192, steps=12000, batch=32, lr=2e-3, warmup=300, min_lr_frac=0.05,
    weight_decay=0.05, ioi_weight=5.0, seed=0, log_every=250,
)
# the training timeline: weights kept at these steps (before, during and after the induction
# phase change), float16 safetensors in <out>/checkpoints/step_NNNNN (~1 MB each)
CHECKPOINT_STEPS = (0, 1000, 2000, 3000, 3500, 4000, 5000, 8000, 12000)


def make_config(vocab_size: int, n_layer: int, n_head: int, n_embd: int):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=vocab_size, n_positions=demo_data.SEQ_LEN, n_embd=n_embd, n_layer=n_layer,
        n_head=n_head, n_inner=4 * n_embd, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        bos_token_id=demo_data.BOS_ID, eos_token_id=demo_data.BOS_ID, pad_token_id=demo_data.BOS_ID,
        tie_word_embeddings=True,
    )


def lr_at(step: int, total: int, peak: float, warmup: int, min_frac: float) -> float:
    """Linear warmup then cosine decay to ``min_frac * peak``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return peak * (min_frac + (1 - min_frac) * 0.5 * (1 + math.cos(math.pi * t)))


def _quick_eval(model, tok, eval_batches, ioi_ex) -> str:
    model.eval()
    try:
        model.set_attn_implementation("eager")
        s = head_scores(model, eval_batches)
        extra = f" prev {s['prev_token'][0].max():.2f} ind {s['induction'][1:].max():.2f}"
        model.set_attn_implementation("sdpa")
    except Exception as e:  # pragma: no cover - logging only
        extra = f" (scores unavailable: {e})"
    cl = copy_loss(model, (), eval_batches[:4])
    cl_all = copy_loss(model, (), eval_batches[4:])
    m = ioi_metrics(model, tok, ioi_ex[0])
    mt = ioi_metrics(model, tok, ioi_ex[1])
    model.train()
    return (f"copy {cl:.3f} copy(all tokens) {cl_all:.3f} ioi_acc held-out {m['acc']:.2f} train-tpl {mt['acc']:.2f} "
            f"ioi_ld {m['logit_diff']:.2f}{extra}")


def save_checkpoint(model, tok, out: str, step: int) -> None:
    """One point of the training timeline: a complete model folder (float16 weights, the
    config and tokenizer), so the app can open it like any model."""
    import copy

    folder = os.path.join(out, "checkpoints", f"step_{step:05d}")
    half = copy.deepcopy(model).half()
    half.config.torch_dtype = "float16"
    half.save_pretrained(folder)
    tok.save_pretrained(folder)


def train(out: str, **kw) -> None:
    from transformers import GPT2LMHeadModel

    a = {**DEFAULTS, **kw}
    torch.set_num_threads(2)
    torch.manual_seed(a["seed"])
    rng = np.random.default_rng(a["seed"])
    tok = demo_data.build_tokenizer()
    cfg = make_config(len(demo_data.VOCAB), a["n_layer"], a["n_head"], a["n_embd"])
    model = GPT2LMHeadModel(cfg)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": a["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=a["lr"], betas=(0.9, 0.98),
    )
    erng = np.random.default_rng(10_000 + a["seed"])
    eval_batches = [
        (seg, pre, torch.from_numpy(demo_data.repeated_sequences(16, seg, erng, prefix_len=pre)))
        for seg, pre in [(7, 13), (11, 5), (25, 0), (40, 3)]
    ] + [
        (seg, pre, torch.from_numpy(demo_data.repeated_sequences(16, seg, erng, prefix_len=pre, token_class="all")))
        for seg, pre in [(11, 5), (25, 0)]
    ]
    ioi_ex = (demo_data.ioi_examples(200, erng, held_out=True), demo_data.ioi_examples(200, erng, held_out=False))
    t0 = time.time()
    run_loss = 0.0
    print(f"params {sum(p.numel() for p in model.parameters())}, config {a}", flush=True)
    for step in range(a["steps"]):
        if step in CHECKPOINT_STEPS:
            save_checkpoint(model, tok, out, step)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, a["steps"], a["lr"], a["warmup"], a["min_lr_frac"])
        ids_np, w_np = demo_data.training_batch_with_weights(a["batch"], rng, ioi_weight=a["ioi_weight"])
        ids, w = torch.from_numpy(ids_np), torch.from_numpy(w_np)
        logits = model(input_ids=ids).logits[:, :-1]
        ce = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
        ).view_as(w[:, 1:])
        # weighted mean: IOI answer tokens count ``ioi_weight`` times (see demo_data)
        loss = (ce * w[:, 1:]).sum() / w[:, 1:].sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        run_loss += loss.item()
        if (step + 1) % a["log_every"] == 0 or step + 1 == a["steps"]:
            n = a["log_every"] if (step + 1) % a["log_every"] == 0 else (step + 1) % a["log_every"]
            msg = _quick_eval(model, tok, eval_batches, ioi_ex)
            print(f"step {step + 1:5d} t {time.time() - t0:6.0f}s lr {opt.param_groups[0]['lr']:.2e} "
                  f"train(weighted) {run_loss / n:.3f} {msg}", flush=True)
            run_loss = 0.0
    elapsed = time.time() - t0
    if a["steps"] in CHECKPOINT_STEPS:
        save_checkpoint(model, tok, out, a["steps"])
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    print(f"done in {elapsed:.0f}s; saved to {out}", flush=True)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description="Train the Microtome demo model.")
    ap.add_argument("--out", default="resources/demo_model")
    for k, v in DEFAULTS.items():
        ap.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    args = vars(ap.parse_args(argv))
    out = args.pop("out")
    train(out, **args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
