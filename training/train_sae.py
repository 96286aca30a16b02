"""Train a TopK sparse autoencoder (or MLP transcoder) on one site of any model Microtome opens.

    python -m training.train_sae MODEL --site L6.resid_post --corpus texts.jsonl --tokens 2000000 --out saes/L6
    python -m training.train_sae MODEL --site L6.mlp --corpus texts.jsonl --out saes/L6.mlp   # a transcoder

A site `L{n}.mlp` trains a transcoder: it reads the MLP's input (the normalised residual,
`blocks.n.ln2.hook_normalized`) and predicts the MLP's output (`blocks.n.hook_mlp_out`).

MODEL is a folder, a GGUF file or 'demo' (the bundled demo model, which trains on its own
data distribution when no --corpus is given: `make demo-sae`). The corpus is a .txt file (one
text per line) or .jsonl ({"text": ...} per line). The result is a SAELens-format folder
(cfg.json + sae_weights.safetensors) that Microtome and SAELens both open, with a README.md
card: explained variance, L0, dead-latent fraction and the model's loss with the
reconstruction spliced in, all measured on held-out windows. Seeded; progress on stdout."""

from __future__ import annotations

import argparse
import itertools
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
TRANSCODER_SITE = re.compile(r"^L(\d+)\.mlp$")


def sites(site: str) -> tuple[str, str]:
    """(where the dictionary reads, where it writes): equal for an SAE, the MLP's input and
    output for a transcoder ('L3.mlp')."""
    m = TRANSCODER_SITE.match(site)
    if m:
        return f"blocks.{m.group(1)}.ln2.hook_normalized", f"blocks.{m.group(1)}.hook_mlp_out"
    return hook_name(site), hook_name(site)


def hook_name(site: str) -> str:
    """'L6.resid_post' or a TransformerLens / HF name -> the engine's canonical hook name."""
    m = SITE_SHORT.match(site)
    if m:
        return f"blocks.{m.group(1)}.hook_{m.group(2)}"
    from engine.dictionaries import canonical_hook

    return canonical_hook(site)


def collect(engine, site: str | tuple[str, ...], windows, n_tokens: int | None, batch: int = 32, skip: int = 1,
            progress=print) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """[n_tokens, d] activations at `site` (the first `skip` positions of each row left out:
    BOS carries a huge, constant norm no dictionary should spend latents on). Given several
    sites (a transcoder's input and output), one such tensor per site, from the same forwards.
    n_tokens None: every window (a finite list), the last partial batch too."""
    wanted = (site,) if isinstance(site, str) else tuple(site)
    rows: list[list[torch.Tensor]] = [[] for _ in wanted]
    got, pending = 0, []
    for window in itertools.chain(windows, [None]):  # None: the end, where a partial batch still runs
        if window is not None:
            pending.append(window)
            if len(pending) < batch:
                continue
        if not pending:
            break
        ids = np.stack(pending)
        pending = []
        captured = engine.handle.forward(ids, capture=set(wanted), logits_to_keep=1)
        for into, name in zip(rows, wanted):
            acts = captured[name][:, skip:].float()
            into.append(acts.reshape(-1, acts.shape[-1]).cpu())
        got += rows[0][-1].shape[0]
        if n_tokens is None:
            continue
        progress(f"collected {min(got, n_tokens):,} / {n_tokens:,} activations")
        if got >= n_tokens:
            break
    if got < (n_tokens or 1):
        raise ValueError(f"the corpus gave only {got:,} tokens at {', '.join(wanted)}; ask for fewer (--tokens) "
                         "or give more text")
    out = tuple(torch.cat(r)[:n_tokens] for r in rows)
    return out[0] if isinstance(site, str) else out


def train(x: torch.Tensor, d_sae: int, k: int, epochs: int, lr: float, batch: int, seed: int, progress=print,
          y: torch.Tensor | None = None) -> TopKSAE:
    """An SAE reconstructing x, or (given targets y) a transcoder predicting y from x."""
    torch.manual_seed(seed)
    target = x if y is None else y
    sae = TopKSAE(x.shape[1], d_sae, k, mean=target.mean(0), d_out=None if y is None else y.shape[1])
    opt = torch.optim.Adam(sae.parameters(), lr=lr)
    scale = (target - target.mean(0)).pow(2).sum(-1).mean()  # normalised MSE: 1.0 = predicting the mean
    steps = epochs * (len(x) // batch)
    for step in range(steps):
        if step % (len(x) // batch) == 0:
            order = torch.randperm(len(x))
        chosen = order[(step % (len(x) // batch)) * batch:][:batch]
        recon, _ = sae(x[chosen])
        loss = (recon - target[chosen]).pow(2).sum(-1).mean() / scale
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sae.normalise_decoder()
        if (step + 1) % max(1, steps // 20) == 0 or step + 1 == steps:
            progress(f"step {step + 1}/{steps} normalised MSE {loss.item():.4f}")
    return sae


@torch.no_grad()
def measure(engine, sae: TopKSAE, site: str, held_out: list[np.ndarray], x_held: torch.Tensor, skip: int = 1,
            site_out: str | None = None, y_held: torch.Tensor | None = None) -> dict:
    """Explained variance, L0, dead fraction on held-out activations; the model's loss clean,
    with the reconstruction spliced in at `site` (positions after the first `skip`), and with
    the site replaced by its mean (the reference for 'loss recovered'). A transcoder's
    prediction of `site_out` (from the same forward's `site`) is spliced in its place."""
    site_out = site_out or site
    target = x_held if y_held is None else y_held
    recon, acts = sae(x_held)
    mean = target.mean(0)

    def replaced(fn):
        seen: dict[str, torch.Tensor] = {}

        def read(act: torch.Tensor) -> torch.Tensor:
            seen["x"] = act
            return act

        def edit(act: torch.Tensor) -> torch.Tensor:
            out = act.clone()
            source = seen["x"] if site_out != site else act
            out[:, skip:] = fn(source[:, skip:].float()).to(act.dtype)
            return out
        return {site_out: [edit]} if site_out == site else {site: [read], site_out: [edit]}

    def loss(edits=None) -> float:
        ids = np.stack(held_out)
        logits = engine.handle.forward(ids, edits).logits.float()
        logp = torch.log_softmax(logits[:, :-1], -1)
        goal = torch.as_tensor(ids[:, 1:])
        return float(-logp.gather(-1, goal[..., None]).mean())

    clean = loss()
    spliced = loss(replaced(lambda a: sae(a)[0]))
    mean_ablated = loss(replaced(lambda a: mean.expand(*a.shape[:-1], mean.shape[0])))
    return {"explained_variance": explained_variance(target, recon), "l0": float((acts > 0).sum(-1).float().mean()),
            "dead_fraction": float(((acts > 0).sum(0) == 0).float().mean()), "loss_clean": clean,
            "loss_spliced": spliced, "loss_mean_ablated": mean_ablated,
            "loss_recovered": 1 - (spliced - clean) / (mean_ablated - clean) if mean_ablated != clean else float("nan")}


def save(sae: TopKSAE, folder: Path, site: str, model_name: str, numbers: dict, args: dict,
         site_out: str | None = None) -> None:
    """A SAELens-format folder: cfg.json, sae_weights.safetensors, README.md (the card). A
    transcoder says 'topk_transcoder' and where it writes (metadata.hook_name_out)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    where = {"hook_name": site} | ({"hook_name_out": site_out} if sae.transcoder else {})
    cfg = {"architecture": "topk_transcoder" if sae.transcoder else "topk", "d_in": sae.W_enc.shape[0],
           "d_sae": sae.W_enc.shape[1], **({"d_out": sae.W_dec.shape[1]} if sae.transcoder else {}), "k": sae.k,
           "apply_b_dec_to_input": not sae.transcoder, "normalize_activations": "none", "dtype": "float32",
           "metadata": {**where, "model_name": model_name, "trained_with": "training/train_sae.py", **args}}
    (folder / "cfg.json").write_text(json.dumps(cfg, indent=1))
    save_file({name: p.detach().contiguous() for name, p in sae.named_parameters()}, str(folder / "sae_weights.safetensors"))
    (folder / "README.md").write_text(card(cfg, numbers))


def card(cfg: dict, n: dict) -> str:
    meta = cfg["metadata"]
    what = (f"TopK transcoder from {meta['hook_name']} to {meta['hook_name_out']}" if "hook_name_out" in meta
            else f"TopK SAE on {meta['hook_name']}")
    shape = f"d_in {cfg['d_in']}, d_sae {cfg['d_sae']}" + (f", d_out {cfg['d_out']}" if "d_out" in cfg else "")
    return (f"# {what} of {meta['model_name']}\n\n"
            f"{shape}, k {cfg['k']}; trained by `training/train_sae.py` "
            f"with {json.dumps({k: v for k, v in meta.items() if k not in ('hook_name', 'hook_name_out', 'model_name')})}.\n\n"
            "Measured on held-out windows (never trained on):\n\n"
            "| explained variance | L0 | dead latents | loss clean | loss spliced | loss mean-ablated | loss recovered |\n"
            "|---|---|---|---|---|---|---|\n"
            f"| {n['explained_variance']:.3f} | {n['l0']:.1f} | {100 * n['dead_fraction']:.1f}% | {n['loss_clean']:.3f} "
            f"| {n['loss_spliced']:.3f} | {n['loss_mean_ablated']:.3f} | {100 * n['loss_recovered']:.1f}% |\n\n"
            "Loss = mean next-token cross-entropy (nats); spliced = the site (a transcoder: the MLP's "
            "output) replaced by the dictionary's output at every position after BOS; explained variance "
            "is of that output; loss recovered = (mean-ablated − spliced) / (mean-ablated − clean).\n")


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="a model folder, a GGUF file, or 'demo'")
    ap.add_argument("--site", required=True, help="e.g. L1.resid_post, blocks.1.hook_resid_post; L1.mlp for a transcoder")
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
    site, site_out = sites(a.site)
    for name in {site, site_out}:
        if not engine.handle.has_hook(name):
            print(f"{name} is not a hook point of this model", file=sys.stderr)
            return 2
    transcoder = site_out != site
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
    x, y = collect(engine, (site, site_out), windows, a.tokens)
    held_rows = [row for _, row in zip(range(64), held)]
    if not held_rows:
        print("the corpus is too short to keep held-out windows: give more text", file=sys.stderr)
        return 2
    x_held, y_held = collect(engine, (site, site_out), held_rows, None)
    sae = train(x, a.d_sae, a.k, a.epochs, a.lr, a.batch, a.seed, y=y if transcoder else None)
    numbers = measure(engine, sae, site, held_rows, x_held, site_out=site_out, y_held=y_held if transcoder else None)
    args = {"tokens": a.tokens, "epochs": a.epochs, "lr": a.lr, "batch": a.batch, "seed": a.seed,
            "corpus": "the demo model's training distribution (training/demo_data.py)" if demo else Path(a.corpus).name}
    save(sae, Path(a.out), site, "microtome-demo" if demo else Path(a.model).name, numbers, args, site_out)
    if demo:  # the text feature cards read by default (held-out rows, never trained on)
        (Path(a.out) / "corpus.txt").write_text("\n".join(demo_corpus_lines(100, 20_000 + a.seed)) + "\n")
    print(f"done in {time.time() - start:.0f}s: " + ", ".join(f"{k} {v:.4f}" for k, v in numbers.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
