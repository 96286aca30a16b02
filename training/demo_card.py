"""The measured half of the demo model's card, as markdown, from evaluate_demo_model's numbers.

`python -m training.evaluate_demo_model resources/demo_model --markdown` prints it; the card
(resources/demo_model/README.md) pastes it, so every number there comes from one command."""

from __future__ import annotations

import math


def heads_table(res: dict, n_layers: int, n_heads: int, min_prev: float = 0.3, min_effect: float = 1.0) -> str:
    """One row per head that matters: a score above its line or a large ablation effect."""
    scores, single = res["scores"], res["copy_loss"]["single"]
    clean, ioi = res["copy_loss"]["clean"], res["ioi"]
    base, ioi_single = ioi["held_out"]["logit_diff"], ioi["ablate_single_logit_diff"]
    lines = [f"| head | prev-token | induction | duplicate | copy loss ablated (clean {clean:.3f}) "
             f"| IOI logit diff ablated (clean {base:.2f}) |", "|---|---|---|---|---|---|"]
    for layer in range(n_layers):
        for head in range(n_heads):
            key = f"L{layer}H{head}"
            p, i, d = (scores[k][layer][head] for k in ("prev_token", "induction", "duplicate"))
            copy_d, ioi_d = single[key] - clean, ioi_single[key] - base
            if max(p, i / 0.67, d / 0.67) < min_prev and abs(copy_d) < min_effect and abs(ioi_d) < min_effect:
                continue
            lines.append(f"| L{layer}.H{head} | {p:.3f} | {i:.3f} | {d:.3f} | {single[key]:.3f} ({copy_d:+.2f}) "
                         f"| {ioi_single[key]:.2f} ({ioi_d:+.2f}) |")
    return "\n".join(lines)


def copy_tables(res: dict) -> str:
    by_class, by_layout = res["copy_by_class"], res["copy_by_layout"]
    lengths = list(next(iter(by_class.values())))
    head = "| segment tokens from | " + " | ".join(f"{n} tokens" for n in lengths) + " |"
    rule = "|---|" + "---|" * len(lengths)
    rows = [f"| {label} | " + " | ".join(f"{v:.2f}" for v in by_len.values()) + " |" for label, by_len in by_class.items()]
    rows += [f"| whole vocabulary, {label} (layout never trained on) | " + " | ".join(f"{v:.2f}" for v in by_len.values()) + " |"
             for label, by_len in by_layout.items()]
    return "\n".join([head, rule, *rows])


def summary_lines(res: dict) -> str:
    iv, ioi, cl = res["induction_vs_others"], res["ioi"], res["copy_loss"]
    lines = [
        f"- Induction heads (score ≥ 0.2 in layer 1): {', '.join(h.replace('H', '.H') for h in res['induction_heads'])}; "
        f"previous-token heads (score ≥ 0.3 in layer 0): {', '.join(h.replace('H', '.H') for h in res['prev_token_heads'])}.",
        f"- Whole-vocabulary copy loss (segments of 8, 12 and 20): {iv['clean']:.2f} nats; the induction heads ablated: "
        f"{iv['induction_ablated']:.2f}; as many other heads ablated (median of 5 random sets): {iv['random_ablated_median']:.2f}.",
        f"- Filler-pool copy loss by segment length: " + ", ".join(f"{k}: {v:.2f}" for k, v in cl["clean_by_seg_len"].items())
        + f" (chance ln 400 = {math.log(400):.2f}).",
    ]
    for name, sets in cl["sets"].items():
        lines.append(f"- Copy loss with {name} ablated: {sets:.2f} (clean {cl['clean']:.2f}).")
    for key in ("held_out", "train_templates"):
        m = ioi[key]
        lines.append(f"- IOI {key.replace('_', ' ')} (1000 prompts): accuracy {m['acc']:.3f}, logit diff IO − S "
                     f"{m['logit_diff']:.2f}, P(IO) {m['p_io']:.3f}.")
    effects = ", ".join(f"{k.replace('H', '.H')} {d:+.1f}" for k, d in ioi["heads_by_effect"][:6])
    lines.append(f"- IOI, single-head ablations, change in logit diff (most harmful first): {effects}.")
    for name, m in ioi["ablate_sets"].items():
        lines.append(f"- IOI with {name} ablated: accuracy {m['acc']:.3f}, logit diff {m['logit_diff']:.2f}.")
    return "\n".join(lines)


def markdown(res: dict, n_layers: int, n_heads: int) -> str:
    return "\n\n".join([heads_table(res, n_layers, n_heads), copy_tables(res), summary_lines(res)])
