"""A short human-readable report of one prompt: what `python -m engine` prints."""

from __future__ import annotations

import numpy as np

from .engine import Engine
from .interventions import Intervention


def _heads_table(values: np.ndarray, n: int, fmt: str) -> list[str]:
    order = np.argsort(-values, axis=None)[:n]
    return [f"  L{l}.H{h}  {fmt.format(values[l, h])}" for l, h in zip(*np.unravel_index(order, values.shape))]


def report(engine: Engine, prompt: str, target: str | None = None, foil: str | None = None,
           interventions: tuple[Intervention, ...] = (), top_k: int = 5) -> str:
    """Top predictions, the logit lens of the last position, top heads by DLA and induction."""
    info = engine.info
    want = ["logit_lens"] + (["dla"] if target is not None and foil is not None else [])
    result = engine.run(prompt, interventions, want=want, target=target, foil=foil, top_k=top_k)
    lines = [f"Model: {info.source} ({info.family}, {info.n_layers} layers x {info.n_heads} heads, "
             f"d_model {info.d_model}) on {info.device}",
             f"Prompt ({len(result.tokens)} tokens): " + " | ".join(repr(t) for t in result.tokens)]
    if interventions:
        lines.append("Interventions: " + ", ".join(f"{i.kind} {i.component}" for i in interventions))
    lines.append("Top predictions:")
    lines += [f"  {i + 1}. {tok!r:<16} {p:.3f}" for i, (tok, p) in enumerate(zip(result.top_tokens, result.top_probs))]
    lens = result.logit_lens
    lines.append("Logit lens at the last position (top 3):")
    for r, label in enumerate(lens.layer_labels):
        cells = "  ".join(f"{str(t)!r} {p:.2f}" for t, p in zip(lens.top_tokens[r, -1, :3], lens.top_probs[r, -1, :3]))
        extra = (f"   target p={lens.target_probs[r, -1]:.3f} rank {lens.target_ranks[r, -1]}"
                 if lens.target_probs is not None else "")
        lines.append(f"  {label:<6} {cells}{extra}")
    if result.dla is not None:
        lines.append(f"Logit difference {target!r} - {foil!r}: {result.logit_diff:+.3f}")
        lines.append("Top heads by direct logit attribution:")
        lines += _heads_table(result.dla.heads, 5, "{:+.3f}")
    scores = engine.head_scores()
    lines.append(f"Top heads by induction score (random segments of {scores.seg_len}, repeated):")
    lines += _heads_table(scores.induction, 5, "{:.3f}")
    lines.append("Top heads by previous-token score:")
    lines += _heads_table(scores.previous_token, 3, "{:.3f}")
    lines.append(f"({result.elapsed_ms:.1f} ms for the run)")
    return "\n".join(lines)
