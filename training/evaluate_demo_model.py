"""Measure the circuits of the demo model with plain transformers.

Usage: ``python -m training.evaluate_demo_model resources/demo_model [--json out.json]``

Definitions (all on data never used in training; a fixed seed makes them reproducible):

* **previous-token score** of head (l, h): mean attention weight from query position i to
  key i-1, over positions i >= 1 (BOS is never a query), on random repeated sequences.
* **induction score**: on BOS + random prefix + segment + the same segment, mean attention
  from each position i of the second copy to the position just after the earlier
  occurrence of token i (i.e. to ``i - seg_len + 1``).
* **duplicate-token score**: same sequences, attention from i in the second copy to the
  earlier occurrence of the same token (``i - seg_len``).
  Scores are averaged over segment lengths :data:`SEG_LENS` with prefixes :data:`PREFIXES`
  (training segments are 3-30 long with gaps 0-20; 40 is longer than any training segment).
* **copy loss**: mean cross-entropy (nats) of predicting tokens 2..seg_len of the second copy
  (its first token is unpredictable), clean and with heads zero-ablated. Chance is
  ln(400) = 5.99 nats for a uniform guess over the pool.
* **head ablation**: a forward pre-hook on ``transformer.h.{l}.attn.c_proj`` that zeroes the
  head's slice ``[h*d_head:(h+1)*d_head]`` of the c_proj input (the merged head outputs).
* **copy loss by token class** (:func:`copy_by_class`): the same layout with segments drawn
  from the filler pool, the 60 names, the template words and punctuation, the whole
  vocabulary, and the whole vocabulary with replacement (tokens repeated inside the segment),
  for segment lengths :data:`CLASS_SEG_LENS`; chance is ln(class size).
* **copy loss by layout** (:func:`copy_by_layout`), layouts never used in training: the
  segment right after a held-out IOI sentence, and the two copies separated by a plain
  sentence instead of random tokens; whole-vocabulary segments.
* **induction heads vs as many other heads**: copy loss on whole-vocabulary segments with the
  induction heads ablated, against the median over 5 random sets of the same number of other
  heads (neither induction nor previous-token heads).
* **IOI**: for prompts from :func:`training.demo_data.ioi_examples` (held-out name pairs and
  templates, and separately training templates with training pairs), accuracy = fraction
  with logit(IO) > logit(S) at the last position, logit diff = mean logit(IO) - logit(S).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator

import numpy as np
import torch

from training import demo_data

SEG_LENS = [7, 11, 19, 25, 40]
PREFIXES = [0, 5, 13]
N_PER_CONFIG = 48
CLASSES = [("pool", False), ("names", False), ("template", False), ("all", False), ("all", True)]
CLASS_SEG_LENS = [4, 8, 12, 20]


@contextlib.contextmanager
def ablate_heads(model, heads: Iterable[tuple[int, int]]) -> Iterator[None]:
    """Zero-ablate heads ``(layer, head)`` via pre-hooks on ``attn.c_proj``."""
    n_head = model.config.n_head
    d_head = model.config.n_embd // n_head
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)
    handles = []
    for layer, hs in by_layer.items():

        def pre_hook(module, args, hs=tuple(hs)):
            x = args[0].clone()
            for h in hs:
                x[..., h * d_head : (h + 1) * d_head] = 0.0
            return (x,) + tuple(args[1:])

        handles.append(model.transformer.h[layer].attn.c_proj.register_forward_pre_hook(pre_hook))
    try:
        yield
    finally:
        for hd in handles:
            hd.remove()


def _repeat_batches(seed: int = 1234) -> list[tuple[int, int, torch.Tensor]]:
    rng = np.random.default_rng(seed)
    out = []
    for seg in SEG_LENS:
        for pre in PREFIXES:
            ids = demo_data.repeated_sequences(N_PER_CONFIG, seg, rng, prefix_len=pre)
            out.append((seg, pre, torch.from_numpy(ids)))
    return out


@torch.no_grad()
def head_scores(model, batches=None) -> dict[str, np.ndarray]:
    """Previous-token, induction and duplicate-token scores, each ``[n_layer, n_head]``."""
    batches = batches if batches is not None else _repeat_batches()
    L, H = model.config.n_layer, model.config.n_head
    prev = np.zeros((L, H))
    ind = np.zeros((L, H))
    dup = np.zeros((L, H))
    for seg, pre, ids in batches:
        att = model(input_ids=ids, output_attentions=True).attentions  # L x [B,H,T,T]
        T = ids.shape[1]
        q = torch.arange(1, T)
        start2 = 1 + pre + seg
        q2 = torch.arange(start2, T)
        for layer in range(L):
            a = att[layer]
            prev[layer] += a[:, :, q, q - 1].mean(dim=(0, 2)).numpy()
            ind[layer] += a[:, :, q2, q2 - seg + 1].mean(dim=(0, 2)).numpy()
            dup[layer] += a[:, :, q2, q2 - seg].mean(dim=(0, 2)).numpy()
    n = len(batches)
    return {"prev_token": prev / n, "induction": ind / n, "duplicate": dup / n}


@torch.no_grad()
def copy_loss(model, heads: Iterable[tuple[int, int]] = (), batches=None) -> float:
    """Mean CE on tokens 2..seg_len of the second copy, with ``heads`` zero-ablated."""
    batches = batches if batches is not None else _repeat_batches()
    losses = []
    with ablate_heads(model, list(heads)):
        for seg, pre, ids in batches:
            logits = model(input_ids=ids).logits
            start2 = 1 + pre + seg
            # position p predicts token p+1; targets are second-copy tokens start2+1 .. end
            pos = torch.arange(start2, ids.shape[1] - 1)
            lp = torch.log_softmax(logits[:, pos], dim=-1)
            tgt = ids[:, pos + 1]
            losses.append(-lp.gather(-1, tgt[..., None]).mean().item())
    return float(np.mean(losses))


def _ioi_batch(tokenizer, examples):
    enc = [tokenizer(e.prompt)["input_ids"] for e in examples]
    T = max(len(x) for x in enc)
    ids = torch.full((len(enc), T), demo_data.BOS_ID, dtype=torch.long)
    mask = torch.zeros((len(enc), T), dtype=torch.long)
    for i, x in enumerate(enc):  # right padding; read logits at the last real token
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
    last = torch.tensor([len(x) - 1 for x in enc])
    io = torch.tensor([demo_data.VOCAB[e.io] for e in examples])
    s = torch.tensor([demo_data.VOCAB[e.s] for e in examples])
    return ids, mask, last, io, s


@torch.no_grad()
def ioi_metrics(model, tokenizer, examples, heads: Iterable[tuple[int, int]] = ()) -> dict[str, float]:
    """Accuracy (logit IO > logit S), mean logit diff and mean P(IO) at the last position."""
    ids, mask, last, io, s = _ioi_batch(tokenizer, examples)
    with ablate_heads(model, list(heads)):
        logits = model(input_ids=ids, attention_mask=mask).logits
    lg = logits[torch.arange(len(examples)), last]
    diff = lg.gather(-1, io[:, None])[:, 0] - lg.gather(-1, s[:, None])[:, 0]
    p_io = torch.softmax(lg, -1).gather(-1, io[:, None])[:, 0]
    return {
        "acc": float((diff > 0).float().mean()),
        "logit_diff": float(diff.mean()),
        "p_io": float(p_io.mean()),
    }


def class_label(token_class: str, inner_repeats: bool) -> str:
    return {"pool": "filler pool", "names": "names", "template": "template words + punctuation",
            "all": "whole vocabulary"}[token_class] + (" (with repeats inside)" if inner_repeats else "")


def copy_by_class(model, seed: int = 4321) -> dict[str, dict[int, float]]:
    """{class label: {segment length: copy loss}} (prefix 3, 48 rows each)."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[int, float]] = {}
    for token_class, repeats in CLASSES:
        out[class_label(token_class, repeats)] = {
            seg: copy_loss(model, (), [(seg, 3, torch.from_numpy(demo_data.repeated_sequences(
                N_PER_CONFIG, seg, rng, prefix_len=3, token_class=token_class, inner_repeats=repeats)))])
            for seg in CLASS_SEG_LENS}
    return out


def layout_batch(kind: str, seg: int, rng: np.random.Generator, n: int = N_PER_CONFIG) -> tuple[int, int, torch.Tensor]:
    """(seg, pre, ids) whose second copy starts at 1 + pre + seg and runs to the end:
    'after IOI': BOS, a held-out IOI sentence with its answer, segment, segment;
    'sentence between copies': BOS, segment, a plain sentence, segment. Whole-vocabulary segments."""
    rows, pre = [], None
    sentence = (demo_data.ioi_examples(1, rng, held_out=True)[0] if kind == "after IOI" else None)
    for _ in range(n):
        segment = demo_data.TOKEN_CLASSES["all"][rng.choice(len(demo_data.TOKEN_CLASSES["all"]), size=seg, replace=False)]
        if kind == "after IOI":
            words = (sentence.prompt + f" {sentence.io} .").split()
            head = demo_data.encode_words(words)
            rows.append([demo_data.BOS_ID, *head, *segment, *segment])
            pre = len(head)
        else:
            middle = demo_data._plain_sentence(np.random.default_rng(int(rng.integers(1 << 30))))
            middle = (middle * 3)[:6]  # a fixed 6-token gap keeps the rows one length
            rows.append([demo_data.BOS_ID, *segment, *middle, *segment])
            pre = len(middle)
    return seg, pre, torch.tensor(rows)


def copy_by_layout(model, seed: int = 777) -> dict[str, dict[int, float]]:
    rng = np.random.default_rng(seed)
    return {kind: {seg: copy_loss(model, (), [layout_batch(kind, seg, rng)]) for seg in CLASS_SEG_LENS}
            for kind in ("after IOI", "sentence between copies")}


def induction_vs_others(model, induction: list[tuple[int, int]], prev: list[tuple[int, int]], seed: int = 5) -> dict:
    """Whole-vocabulary copy loss: clean, induction heads ablated, and the median over 5 random
    sets of as many other heads."""
    rng = np.random.default_rng(seed)
    batches = [(seg, 3, torch.from_numpy(demo_data.repeated_sequences(N_PER_CONFIG, seg, rng, prefix_len=3,
                                                                          token_class="all"))) for seg in (8, 12, 20)]
    L, H = model.config.n_layer, model.config.n_head
    others = [(l, h) for l in range(L) for h in range(H) if (l, h) not in induction and (l, h) not in prev]
    draws = [[others[i] for i in rng.choice(len(others), size=len(induction), replace=False)] for _ in range(5)]
    random_losses = [copy_loss(model, d, batches) for d in draws]
    return {"clean": copy_loss(model, (), batches), "induction_ablated": copy_loss(model, induction, batches),
            "random_ablated_median": float(np.median(random_losses)),
            "random_sets": ["+".join(f"L{l}H{h}" for l, h in d) for d in draws]}


def load(folder: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    tok = AutoTokenizer.from_pretrained(folder)
    return model, tok


def evaluate(model, tokenizer) -> dict:
    """Compute every number the model card reports."""
    model.eval()
    L, H = model.config.n_layer, model.config.n_head
    batches = _repeat_batches()
    scores = head_scores(model, batches)
    res: dict = {"scores": {k: v.round(4).tolist() for k, v in scores.items()}}
    clean = copy_loss(model, (), batches)
    per_len = {}
    for seg in SEG_LENS:
        per_len[seg] = copy_loss(model, (), [b for b in batches if b[0] == seg])
    single = {f"L{l}H{h}": copy_loss(model, [(l, h)], batches) for l in range(L) for h in range(H)}
    sets: dict[str, list[tuple[int, int]]] = {f"all layer {l}": [(l, h) for h in range(H)] for l in range(L)}
    later = [(l, h) for l in range(1, L) for h in range(H)]
    ind_sorted = sorted(later, key=lambda lh: -scores["induction"][lh])
    top_ind = [lh for lh in ind_sorted if scores["induction"][lh] >= 0.2] or ind_sorted[:1]
    prev_sorted = sorted([(0, h) for h in range(H)], key=lambda lh: -scores["prev_token"][lh])
    top_prev = [lh for lh in prev_sorted if scores["prev_token"][lh] >= 0.3] or prev_sorted[:1]
    sets["induction heads " + "+".join(f"L{l}H{h}" for l, h in top_ind)] = top_ind
    sets["prev-token heads " + "+".join(f"L{l}H{h}" for l, h in top_prev)] = top_prev
    others = [lh for lh in later if lh not in top_ind]
    if others:
        sets["later-layer non-induction heads " + "+".join(f"L{l}H{h}" for l, h in others)] = others
    set_losses = {k: copy_loss(model, v, batches) for k, v in sets.items()}
    res["copy_loss"] = {"clean": clean, "clean_by_seg_len": per_len, "single": single, "sets": set_losses}
    res["induction_heads"] = [f"L{l}H{h}" for l, h in top_ind]
    res["prev_token_heads"] = [f"L{l}H{h}" for l, h in top_prev]

    res["copy_by_class"] = copy_by_class(model)
    res["copy_by_layout"] = copy_by_layout(model)
    res["induction_vs_others"] = induction_vs_others(model, top_ind, top_prev)

    rng = np.random.default_rng(99)
    ioi_ho = demo_data.ioi_examples(1000, rng, held_out=True)
    ioi_tr = demo_data.ioi_examples(1000, rng, held_out=False)
    res["ioi"] = {"held_out": ioi_metrics(model, tokenizer, ioi_ho), "train_templates": ioi_metrics(model, tokenizer, ioi_tr)}
    res["ioi"]["held_out_by_template"] = {
        t: ioi_metrics(model, tokenizer, [e for e in ioi_ho if e.template == t])
        for t in demo_data.IOI_HELDOUT_TEMPLATES
    }
    ioi_single = {
        f"L{l}H{h}": ioi_metrics(model, tokenizer, ioi_ho, [(l, h)])["logit_diff"] for l in range(L) for h in range(H)
    }
    res["ioi"]["ablate_single_logit_diff"] = ioi_single
    base = res["ioi"]["held_out"]["logit_diff"]
    important = sorted(ioi_single, key=lambda k: ioi_single[k] - base)
    res["ioi"]["heads_by_effect"] = [(k, round(ioi_single[k] - base, 3)) for k in important]
    res["ioi"]["ablate_sets"] = {k: ioi_metrics(model, tokenizer, ioi_ho, v) for k, v in sets.items() if k.startswith("all")}
    return res


def _fmt_table(scores: dict, L: int, H: int, single: dict, ioi_single: dict, ioi_base: float, clean: float) -> str:
    lines = ["head   prev-tok  induct  dup-tok  copy-loss-abl(Δ)  IOI-logit-diff-abl(Δ)"]
    for l in range(L):
        for h in range(H):
            k = f"L{l}H{h}"
            lines.append(
                f"{k:<6} {scores['prev_token'][l][h]:8.3f} {scores['induction'][l][h]:7.3f} "
                f"{scores['duplicate'][l][h]:8.3f}  {single[k]:6.3f} ({single[k]-clean:+.3f})"
                f"   {ioi_single[k]:6.3f} ({ioi_single[k]-ioi_base:+.3f})"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--json", help="also write the numbers to this file")
    ap.add_argument("--markdown", action="store_true", help="also print the model card's measured tables")
    args = ap.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, tok = load(args.folder)
    res = evaluate(model, tok)
    L, H = model.config.n_layer, model.config.n_head
    cl = res["copy_loss"]
    print(f"Model: {L} layers x {H} heads, d_model {model.config.n_embd}, vocab {model.config.vocab_size}")
    print(f"Repeated sequences: seg_len {SEG_LENS}, prefix {PREFIXES}, {N_PER_CONFIG} each")
    print(_fmt_table(res["scores"], L, H, cl["single"], res["ioi"]["ablate_single_logit_diff"],
                     res["ioi"]["held_out"]["logit_diff"], cl["clean"]))
    print(f"\ncopy loss clean: {cl['clean']:.3f} nats (uniform over pool: {math.log(len(demo_data.POOL)):.2f})")
    print("  by seg_len: " + ", ".join(f"{k}: {v:.3f}" for k, v in cl["clean_by_seg_len"].items()))
    for k, v in cl["sets"].items():
        print(f"  ablate {k}: {v:.3f} ({v - cl['clean']:+.3f})")
    print(f"induction heads: {res['induction_heads']}; previous-token heads: {res['prev_token_heads']}")
    print("copy loss by token class and segment length (nats):")
    for label, by_len in res["copy_by_class"].items():
        print(f"  {label}: " + ", ".join(f"{k}: {v:.3f}" for k, v in by_len.items()))
    print("copy loss by layout (whole-vocabulary segments, never used in training):")
    for label, by_len in res["copy_by_layout"].items():
        print(f"  {label}: " + ", ".join(f"{k}: {v:.3f}" for k, v in by_len.items()))
    iv = res["induction_vs_others"]
    print(f"whole-vocabulary copy loss {iv['clean']:.3f}; induction heads ablated {iv['induction_ablated']:.3f}; "
          f"as many other heads (median of 5 random sets) {iv['random_ablated_median']:.3f}")
    io = res["ioi"]
    for k in ("held_out", "train_templates"):
        m = io[k]
        print(f"IOI {k}: acc {m['acc']:.3f}, logit diff {m['logit_diff']:.3f}, P(IO) {m['p_io']:.3f}")
    for t, m in io["held_out_by_template"].items():
        print(f"  held-out template {t!r}: acc {m['acc']:.3f}, logit diff {m['logit_diff']:.3f}")
    print("IOI held-out, single-head ablation effect on logit diff (most harmful first): "
          + ", ".join(f"{k} {d:+.2f}" for k, d in io["heads_by_effect"][:6]))
    for k, m in io["ablate_sets"].items():
        print(f"  IOI ablate {k}: acc {m['acc']:.3f}, logit diff {m['logit_diff']:.3f}")
    if args.markdown:
        from training.demo_card import markdown

        print("\n" + markdown(res, L, H))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
