"""Train a TopK sparse autoencoder on one site of any model Microtome opens.

    python -m training.train_sae MODEL --site L6.resid_post --corpus texts.jsonl --tokens 2000000 --out saes/L6

MODEL is a folder, a GGUF file or 'demo' (the bundled demo model, which trains on its own
data distribution when no --corpus is given: `make demo-sae`). The corpus is a .txt file (one
text per line) or .jsonl ({"text": ...} per line). The result is a SAELens-format folder
(cfg.json + sae_weights.safetensors) that Microtome and SAELens both open, with a README.md
card: explained variance, L0, dead-latent fraction and the model's loss with the
reconstruction spliced in, all measured on held-out windows. Seeded; progress on stdout."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

from training.sae.corpus import demo_corpus_lines, demo_windows, read_texts, windows_from_texts
from training.sae.topk import TopKSAE, explained_variance

SITE_SHORT = re.compile(r"^L(\d+)\.(resid_pre|resid_mid|resid_post|mlp_out|attn_out)$")


def hook_name(site: str) -> str:
    """'L6.resid_post' or a TransformerLens / HF name -> the engine's canonical hook name."""
    m = SITE_SHORT.match(site)
    if m:
        return f"blocks.{m.group(1)}.hook_{m.group(2)}"
    from engine.dictionaries import canonical_hook

    return canonical_hook(site)


def collect(engine, site: str, windows, n_tokens: int, batch: int = 32, skip: int = 1,
            progress=print) -> torch.Tensor:
    """[n_tokens, d] activations at `site` (the first `skip` positions of each row left out:
    BOS carries a huge, constant norm no dictionary should spend latents on)."""
    rows, got, pending = [], 0, []
    for window in windows:
        pending.append(window)
        if len(pending) < batch:
            continue
        ids = np.stack(pending)
        pending = []
        acts = engine.handle.forward(ids, capture={site}, logits_to_keep=1)[site][:, skip:].float()
        rows.append(acts.reshape(-1, acts.shape[-1]).cpu())
        got += rows[-1].shape[0]
        progress(f"collected {min(got, n_tokens):,} / {n_tokens:,} activations")
        if got >= n_tokens:
            break
    if got < n_tokens:
        raise ValueError(f"the corpus gave only {got:,} tokens at {site}; ask for fewer (--tokens) or give more text")
    return torch.cat(rows)[:n_tokens]


def train(x: torch.Tensor, d_sae: int, k: int, epochs: int, lr: float, batch: int, seed: int, progress=print) -> TopKSAE:
    torch.manual_seed(seed)
    sae = TopKSAE(x.shape[1], d_sae, k, mean=x.mean(0))
    opt = torch.optim.Adam(sae.parameters(), lr=lr)
    scale = (x - x.mean(0)).pow(2).sum(-1).mean()  # normalised MSE: 1.0 = predicting the mean
    steps = epochs * (len(x) // batch)
    for step in range(steps):
        if step % (len(x) // batch) == 0:
            order = torch.randperm(len(x))
        rows = x[order[(step % (len(x) // batch)) * batch:][:batch]]
        recon, _ = sae(rows)
        loss = (recon - rows).pow(2).sum(-1).mean() / scale
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sae.normalise_decoder()
        if (step + 1) % max(1, steps // 20) == 0 or step + 1 == steps:
            progress(f"step {step + 1}/{steps} normalised MSE {loss.item():.4f}")
    return sae


@torch.no_grad()
def measure(engine, sae: TopKSAE, site: str, held_out: list[np.ndarray], x_held: torch.Tensor, skip: int = 1) -> dict:
    """Explained variance, L0, dead fraction on held-out activations; the model's loss clean,
    with the reconstruction spliced in at `site` (positions after the first `skip`), and with
    the site replaced by its mean (the reference for 'loss recovered')."""
    recon, acts = sae(x_held)
    mean = x_held.mean(0)

    def replaced(fn):
        def edit(act: torch.Tensor) -> torch.Tensor:
            out = act.clone()
            out[:, skip:] = fn(act[:, skip:].float()).to(act.dtype)
            return out
        return {site: [edit]}

    def loss(edits=None) -> float:
        ids = np.stack(held_out)
        logits = engine.handle.forward(ids, edits).logits.float()
        logp = torch.log_softmax(logits[:, :-1], -1)
        target = torch.as_tensor(ids[:, 1:])
        return float(-logp.gather(-1, target[..., None]).mean())

    clean = loss()
    spliced = loss(replaced(lambda a: sae(a)[0]))
    mean_ablated = loss(replaced(lambda a: mean.expand_as(a)))
    return {"explained_variance": explained_variance(x_held, recon), "l0": float((acts > 0).sum(-1).float().mean()),
            "dead_fraction": float(((acts > 0).sum(0) == 0).float().mean()), "loss_clean": clean,
            "loss_spliced": spliced, "loss_mean_ablated": mean_ablated,
            "loss_recovered": 1 - (spliced - clean) / (mean_ablated - clean) if mean_ablated != clean else float("nan")}


def save(sae: TopKSAE, folder: Path, site: str, model_name: str, numbers: dict, args: dict) -> None:
    """A SAELens-format folder: cfg.json, sae_weights.safetensors, README.md (the card)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    cfg = {"architecture": "topk", "d_in": sae.W_enc.shape[0], "d_sae": sae.W_enc.shape[1], "k": sae.k,
           "apply_b_dec_to_input": True, "normalize_activations": "none", "dtype": "float32",
           "metadata": {"hook_name": site, "model_name": model_name, "trained_with": "training/train_sae.py", **args}}
    (folder / "cfg.json").write_text(json.dumps(cfg, indent=1))
    save_file({name: p.detach().contiguous() for name, p in sae.named_parameters()}, str(folder / "sae_weights.safetensors"))
    (folder / "README.md").write_text(card(cfg, numbers))


def card(cfg: dict, n: dict) -> str:
    return (f"# TopK SAE on {cfg['metadata']['hook_name']} of {cfg['metadata']['model_name']}\n\n"
            f"d_in {cfg['d_in']}, d_sae {cfg['d_sae']}, k {cfg['k']}; trained by `training/train_sae.py` "
            f"with {json.dumps({k: v for k, v in cfg['metadata'].items() if k not in ('hook_name', 'model_name')})}.\n\n"
            "Measured on held-out windows (never trained on):\n\n"
            "| explained variance | L0 | dead latents | loss clean | loss spliced | loss mean-ablated | loss recovered |\n"
            "|---|---|---|---|---|---|---|\n"
            f"| {n['explained_variance']:.3f} | {n['l0']:.1f} | {100 * n['dead_fraction']:.1f}% | {n['loss_clean']:.3f} "
            f"| {n['loss_spliced']:.3f} | {n['loss_mean_ablated']:.3f} | {100 * n['loss_recovered']:.1f}% |\n\n"
            "Loss = mean next-token cross-entropy (nats); spliced = the site replaced by the SAE's "
            "reconstruction at every position after BOS; loss recovered = (mean-ablated − spliced) / "
            "(mean-ablated − clean).\n")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a model folder, a GGUF file, or 'demo'")
    ap.add_argument("--site", required=True, help="e.g. L1.resid_post, blocks.1.hook_resid_post")
    ap.add_argument("--corpus", help="a .txt or .jsonl file (required unless the model is 'demo')")
    ap.add_argument("--tokens", type=int, default=262_144, help="activations to train on")
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--d-sae", type=int, default=1536)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    torch.manual_seed(a.seed)
    from engine import Engine

    demo = a.model == "demo"
    engine = Engine(None if demo else a.model, device="cpu")
    site = hook_name(a.site)
    if not engine.handle.has_hook(site):
        print(f"{site} is not a hook point of this model", file=sys.stderr)
        return 2
    if a.corpus:
        texts = read_texts(a.corpus)
        held_texts, train_texts = texts[: max(1, len(texts) // 20)], texts[max(1, len(texts) // 20):]
        windows, held = windows_from_texts(engine, train_texts, a.window), windows_from_texts(engine, held_texts, a.window)
    elif demo:
        windows, held = demo_windows(a.seed), demo_windows(10_000 + a.seed)
    else:
        print("--corpus is needed for a model other than the demo model", file=sys.stderr)
        return 2
    start = time.time()
    x = collect(engine, site, windows, a.tokens)
    held_rows = [row for _, row in zip(range(64), held)]
    if not held_rows:
        print("the corpus is too short to keep held-out windows: give more text", file=sys.stderr)
        return 2
    x_held = torch.cat([engine.handle.forward(np.stack(held_rows[i:i + 32]), capture={site}, logits_to_keep=1)[site][:, 1:]
                        .float().reshape(-1, x.shape[1]) for i in range(0, len(held_rows), 32)])
    sae = train(x, a.d_sae, a.k, a.epochs, a.lr, a.batch, a.seed)
    numbers = measure(engine, sae, site, held_rows, x_held)
    args = {"tokens": a.tokens, "epochs": a.epochs, "lr": a.lr, "batch": a.batch, "seed": a.seed,
            "corpus": "the demo model's training distribution (training/demo_data.py)" if demo else Path(a.corpus).name}
    save(sae, Path(a.out), site, "microtome-demo" if demo else Path(a.model).name, numbers, args)
    if demo:  # the text feature cards read by default (held-out rows, never trained on)
        (Path(a.out) / "corpus.txt").write_text("\n".join(demo_corpus_lines(100, 20_000 + a.seed)) + "\n")
    print(f"done in {time.time() - start:.0f}s: " + ", ".join(f"{k} {v:.4f}" for k, v in numbers.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
